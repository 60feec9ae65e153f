"""What the camera did around a jump (`analysis/camera.py`), from camera paths built by hand."""

from __future__ import annotations

import numpy as np
import pytest

from pose_service.analysis.camera import camera_around

FPS = 30.0
SIZE = (640, 360)


def _path(n: int, *, dx_per_frame: float = 0.0, roll_deg_per_frame: float = 0.0, zoom_per_frame: float = 1.0,
          jitter_px: float = 0.0) -> np.ndarray:  # fmt: skip
    """(n, 3, 3) first-frame-to-frame-k similarities: the content sliding, turning about the centre and scaling."""
    rng = np.random.default_rng(0)
    centre = np.array([SIZE[0] / 2, SIZE[1] / 2])
    out = []
    for k in range(n):
        a, s = np.radians(roll_deg_per_frame * k), zoom_per_frame**k
        rot = s * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        shift = centre - rot @ centre + np.array([dx_per_frame * k, 0.0]) + rng.normal(0, jitter_px, 2)
        out.append(np.vstack([np.hstack([rot, shift[:, None]]), [0, 0, 1]]))
    return np.stack(out)


@pytest.mark.parametrize(
    ("kind", "path", "moving"),
    [
        ("a tripod, the flow's noise", _path(90, jitter_px=0.5), False),
        ("a slow drift (a shadow in the flow)", _path(90, dx_per_frame=1.0), False),
        ("a follow-cam's pan, 0.28 frame widths per second", _path(90, dx_per_frame=6.0), True),
        ("the horizon rolling 0.5° a frame", _path(90, roll_deg_per_frame=0.5), True),
        ("a zoom of 0.5 % a frame", _path(90, zoom_per_frame=1.005), True),
    ],
)
def test_a_moving_camera_is_told_from_a_still_one(kind: str, path: np.ndarray, moving: bool) -> None:
    times = np.arange(len(path)) / FPS
    cam = camera_around(path, times, takeoff_s=1.0, landing_s=2.0, frame_size=SIZE)
    assert cam is not None and cam.moving is moving, (kind, cam)
    assert (cam.reason is not None) is moving
    if moving:
        assert "the camera" in cam.reason and "around the jump" in cam.reason  # type: ignore[operator]


def test_the_numbers_are_the_cameras() -> None:
    times = np.arange(90) / FPS
    cam = camera_around(_path(90, dx_per_frame=6.4, roll_deg_per_frame=0.25), times, takeoff_s=1.0, landing_s=2.0,
                        frame_size=SIZE)  # fmt: skip
    assert cam is not None
    # The window runs 0.5 s either side: frames 15..75, 60 steps of 0.25° = 15°.
    assert cam.roll_deg == pytest.approx(15.0, abs=0.3)
    assert cam.speed == pytest.approx(6.4 * FPS / SIZE[0], rel=0.05)
    assert camera_around(None, times, takeoff_s=1.0, landing_s=2.0, frame_size=SIZE) is None
