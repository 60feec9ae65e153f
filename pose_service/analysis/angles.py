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
- shoulder_hip_separation: how far the shoulder line is turned against the hip line about the trunk's own
  axis; 0 square, positive when the shoulders are turned to the rider's left of the hips (wound up for a
  spin to the left), negative to the right.

`stance_width_m` gives the distance between the ankles in metres (not an angle, so not in the series).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ANGLE_NAMES", "body_angles", "shoulder_hip_separation", "stance_width_m"]

ANGLE_NAMES: tuple[str, ...] = (
    "left_knee", "right_knee", "left_hip", "right_hip", "left_elbow", "right_elbow",
    "left_shoulder", "right_shoulder", "trunk_lean", "shoulder_hip_separation",
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
    for col, name in enumerate(ANGLE_NAMES):
        if name in _JOINT_ANGLES:
            a, v, b = _JOINT_ANGLES[name]
            out[:, col] = _angle_between(kp[:, a] - kp[:, v], kp[:, b] - kp[:, v])
    trunk = (kp[:, 11] + kp[:, 12]) / 2 - (kp[:, 23] + kp[:, 24]) / 2
    out[:, ANGLE_NAMES.index("trunk_lean")] = _angle_between(trunk, np.broadcast_to(_UP, trunk.shape))
    out[:, ANGLE_NAMES.index("shoulder_hip_separation")] = shoulder_hip_separation(kp)
    return out


def shoulder_hip_separation(keypoints_3d: np.ndarray) -> np.ndarray:
    """(m,) signed degrees the shoulder line is turned against the hip line about the trunk (see the module)."""
    kp = np.asarray(keypoints_3d, dtype=np.float64)
    up = (kp[:, 11] + kp[:, 12]) / 2 - (kp[:, 23] + kp[:, 24]) / 2
    norm = np.linalg.norm(up, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        up = np.where(norm > 1e-9, up / norm, np.nan)
    shoulders = kp[:, 11] - kp[:, 12]
    hips = kp[:, 23] - kp[:, 24]
    # Both lines flattened onto the plane across the trunk, then the signed angle between them about `up`.
    shoulders = shoulders - np.einsum("ij,ij->i", shoulders, up)[:, None] * up
    hips = hips - np.einsum("ij,ij->i", hips, up)[:, None] * up
    sin = np.einsum("ij,ij->i", np.cross(hips, shoulders), up)
    cos = np.einsum("ij,ij->i", hips, shoulders)
    return np.degrees(np.arctan2(sin, cos))


def stance_width_m(keypoints_3d: np.ndarray) -> np.ndarray:
    """(m,) distance between the ankles, metres."""
    kp = np.asarray(keypoints_3d, dtype=np.float64)
    return np.linalg.norm(kp[:, 27] - kp[:, 28], axis=-1)
