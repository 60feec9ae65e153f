"""Keypoint sequences of a stick figure, built in code, for testing the analysis without rendering."""

from __future__ import annotations

import numpy as np

from pose_service.synth.motion import rot_x, rot_y

# An upright figure facing the camera (+z), metres, origin mid-hip, y up; the person's left on +x.
_POINTS = {
    0: (0.0, 0.72, 0.08), 7: (0.07, 0.70, 0.0), 8: (-0.07, 0.70, 0.0),
    11: (0.19, 0.50, 0.0), 12: (-0.19, 0.50, 0.0), 13: (0.24, 0.22, 0.0), 14: (-0.24, 0.22, 0.0),
    15: (0.26, -0.05, 0.0), 16: (-0.26, -0.05, 0.0), 23: (0.10, 0.0, 0.0), 24: (-0.10, 0.0, 0.0),
    25: (0.11, -0.45, 0.03), 26: (-0.11, -0.45, 0.03), 27: (0.12, -0.88, 0.0), 28: (-0.12, -0.88, 0.0),
    29: (0.12, -0.93, -0.05), 30: (-0.12, -0.93, -0.05), 31: (0.12, -0.95, 0.12), 32: (-0.12, -0.95, 0.12),
}  # fmt: skip
SWAP = [0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19, 22, 21, 24, 23, 26, 25, 28, 27,
        30, 29, 32, 31]  # fmt: skip


def template() -> np.ndarray:
    """(33, 3) the upright figure; points not listed sit at the nearest listed joint."""
    kp = np.zeros((33, 3))
    for i, p in _POINTS.items():
        kp[i] = p
    for i in range(1, 7):
        kp[i] = kp[0]
    kp[9], kp[10] = kp[0], kp[0]
    for i in (17, 19, 21):
        kp[i] = kp[15]
    for i in (18, 20, 22):
        kp[i] = kp[16]
    return kp


def orient(spin_deg: np.ndarray, flip_deg: np.ndarray, heading_deg: float = 0.0) -> np.ndarray:
    """(n, 33, 3) the figure turned by Ry(heading + spin) @ Rx(flip), per frame."""
    rot = rot_y(heading_deg + np.asarray(spin_deg)) @ rot_x(np.asarray(flip_deg))
    return np.einsum("nij,kj->nki", rot, template())


def project(
    kp3d: np.ndarray, hip_height_m: np.ndarray, *, scale: float | np.ndarray = 100.0, size: int = 480
) -> np.ndarray:
    """(n, 33, 3) pixels (and visibility 1) of the figures with the mid-hip at `hip_height_m` above the
    image centre, seen orthographically at `scale` pixels per metre."""
    s = np.broadcast_to(np.asarray(scale, dtype=np.float64), (len(kp3d),))[:, None]
    x = size / 2 + s * kp3d[..., 0]
    y = size / 2 - s * (kp3d[..., 1] + np.asarray(hip_height_m)[:, None])
    return np.stack([x, y, np.ones_like(x)], axis=-1)
