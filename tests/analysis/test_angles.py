"""Angle conventions on hand-built skeletons whose angles are known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from pose_service.analysis import ANGLE_NAMES, body_angles

L_SH, R_SH, L_EL, R_EL, L_WR, R_WR, L_HIP, R_HIP, L_KN, R_KN, L_AN, R_AN = (
    11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28,
)  # fmt: skip


def standing() -> np.ndarray:
    """A person standing straight, arms hanging, facing the camera (metres, y up)."""
    kp = np.zeros((33, 3))
    for side, x in ((0, 0.1), (1, -0.1)):
        kp[[L_HIP, R_HIP][side]] = (x, 0.0, 0.0)
        kp[[L_KN, R_KN][side]] = (x, -0.45, 0.0)
        kp[[L_AN, R_AN][side]] = (x, -0.9, 0.0)
        kp[[L_SH, R_SH][side]] = (x, 0.5, 0.0)
        kp[[L_EL, R_EL][side]] = (x, 0.2, 0.0)
        kp[[L_WR, R_WR][side]] = (x, -0.1, 0.0)
    return kp


def angle(kp: np.ndarray, name: str) -> float:
    return float(body_angles(kp[None])[0, ANGLE_NAMES.index(name)])


def test_standing_straight() -> None:
    kp = standing()
    for name, want in [("left_knee", 180), ("right_knee", 180), ("left_elbow", 180), ("left_shoulder", 0),
                       ("trunk_lean", 0)]:  # fmt: skip
        assert angle(kp, name) == pytest.approx(want, abs=1e-6), name


@pytest.mark.parametrize(
    ("change", "name", "want"),
    [
        # shin swung forward to horizontal: a right angle at the knee
        (lambda kp: kp.__setitem__(L_AN, kp[L_KN] + (0, 0, 0.45)), "left_knee", 90.0),
        # thigh raised forward to horizontal: a right angle at the hip
        (lambda kp: kp.__setitem__(R_KN, kp[R_HIP] + (0, 0, 0.45)), "right_hip", 90.0),
        # arm held straight out sideways: shoulder at 90
        (lambda kp: kp.__setitem__(L_EL, kp[L_SH] + (0.3, 0, 0)), "left_shoulder", 90.0),
        # arm straight up: shoulder at 180
        (lambda kp: kp.__setitem__(R_EL, kp[R_SH] + (0, 0.3, 0)), "right_shoulder", 180.0),
        # forearm folded up in front: elbow at 90
        (lambda kp: kp.__setitem__(R_WR, kp[R_EL] + (0, 0, 0.3)), "right_elbow", 90.0),
    ],
)
def test_one_joint_moved(change, name: str, want: float) -> None:  # type: ignore[no-untyped-def]
    kp = standing()
    change(kp)
    assert angle(kp, name) == pytest.approx(want, abs=1e-6)


@pytest.mark.parametrize(("pitch_deg", "want"), [(0, 0), (45, 45), (90, 90), (180, 180)])
def test_trunk_lean_follows_the_body_tipping_over(pitch_deg: float, want: float) -> None:
    t = np.radians(pitch_deg)
    rot = np.array([[1, 0, 0], [0, np.cos(t), -np.sin(t)], [0, np.sin(t), np.cos(t)]])
    kp = standing() @ rot.T
    assert angle(kp, "trunk_lean") == pytest.approx(want, abs=1e-6)
    # Rotating the whole body changes no joint angle.
    assert angle(kp, "left_knee") == pytest.approx(180, abs=1e-6)


def test_degenerate_segments_give_nan_not_an_error() -> None:
    kp = np.zeros((2, 33, 3))
    out = body_angles(kp)
    assert out.shape == (2, len(ANGLE_NAMES)) and np.isnan(out).all()
    with pytest.raises(ValueError, match="shape"):
        body_angles(np.zeros((2, 17, 3)))
