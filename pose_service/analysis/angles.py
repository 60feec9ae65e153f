"""Body angles from 3D keypoints, in degrees, with the conventions a coach reads them in.

Conventions (also in the README):
- knee: angle at the knee between thigh and shin; 180 straight leg, smaller when bent.
- hip: angle at the hip between trunk and thigh; 180 standing tall, about 90 sitting, less when tucked.
- elbow: angle at the elbow between upper arm and forearm; 180 straight arm.
- shoulder: angle at the shoulder between the trunk (towards the hip) and the upper arm; 0 arm
  hanging by the side, 90 arm held out level, 180 arm straight overhead.
- trunk_lean: angle between the trunk (mid-hip to mid-shoulder) and the keypoints' up axis; 0 upright,
  90 horizontal, 180 upside down. The pose model's up axis follows the camera, not gravity: on a
  level camera the two agree.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ANGLE_NAMES", "body_angles"]

ANGLE_NAMES: tuple[str, ...] = (
    "left_knee", "right_knee", "left_hip", "right_hip", "left_elbow", "right_elbow",
    "left_shoulder", "right_shoulder", "trunk_lean",
)  # fmt: skip

# (a, vertex, b): the angle at `vertex` between the segments to `a` and to `b`, BlazePose indices.
_JOINT_ANGLES: dict[str, tuple[int, int, int]] = {
    "left_knee": (23, 25, 27),
    "right_knee": (24, 26, 28),
    "left_hip": (11, 23, 25),
    "right_hip": (12, 24, 26),
    "left_elbow": (11, 13, 15),
    "right_elbow": (12, 14, 16),
    "left_shoulder": (23, 11, 13),
    "right_shoulder": (24, 12, 14),
}
_UP = np.array([0.0, 1.0, 0.0])


def _angle_between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Angle in degrees between vectors along the last axis; NaN where either has no length."""
    nu = np.linalg.norm(u, axis=-1)
    nv = np.linalg.norm(v, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.einsum("...i,...i->...", u, v) / (nu * nv)
    cos = np.where((nu > 1e-9) & (nv > 1e-9), cos, np.nan)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def body_angles(keypoints_3d: np.ndarray) -> np.ndarray:
    """Angles for each frame: (m, 33, 3) metres, y up -> (m, len(ANGLE_NAMES)) degrees."""
    kp = np.asarray(keypoints_3d, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[1:] != (33, 3):
        raise ValueError(f"keypoints_3d must have shape (m, 33, 3), got {kp.shape}")
    out = np.empty((len(kp), len(ANGLE_NAMES)), dtype=np.float64)
    for col, name in enumerate(ANGLE_NAMES[:-1]):
        a, v, b = _JOINT_ANGLES[name]
        out[:, col] = _angle_between(kp[:, a] - kp[:, v], kp[:, b] - kp[:, v])
    trunk = (kp[:, 11] + kp[:, 12]) / 2 - (kp[:, 23] + kp[:, 24]) / 2
    out[:, -1] = _angle_between(trunk, np.broadcast_to(_UP, trunk.shape))
    return out
