"""Keypoints of a plain standing person built from numbers, for tracker tests."""

from __future__ import annotations

import numpy as np

from pose_service.skeleton import Poses

# (x, y) per BlazePose keypoint in body heights, origin mid-hip, y down, facing the camera (the person's
# left on the image's right, as a front view shows it).
_HALF = {  # left-side x, y; the right side mirrors x
    "eye_inner": (0.02, -0.92), "eye": (0.035, -0.92), "eye_outer": (0.05, -0.92), "ear": (0.07, -0.9),
    "mouth": (0.025, -0.85), "shoulder": (0.2, -0.72), "elbow": (0.24, -0.45), "wrist": (0.26, -0.2),
    "pinky": (0.27, -0.15), "index": (0.26, -0.14), "thumb": (0.24, -0.16), "hip": (0.11, 0.0),
    "knee": (0.12, 0.45), "ankle": (0.12, 0.9), "heel": (0.11, 0.95), "foot_index": (0.15, 0.98),
}  # fmt: skip
_ORDER = ["eye_inner", "eye", "eye_outer"]


def template() -> np.ndarray:
    """(33, 2) body-height units."""
    kp = np.zeros((33, 2))
    kp[0] = (0.0, -0.95)
    for i, name in enumerate(_ORDER):
        kp[1 + i] = (_HALF[name][0], _HALF[name][1])
        kp[4 + i] = (-_HALF[name][0], _HALF[name][1])
    kp[7], kp[8] = _HALF["ear"], (-_HALF["ear"][0], _HALF["ear"][1])
    kp[9], kp[10] = _HALF["mouth"], (-_HALF["mouth"][0], _HALF["mouth"][1])
    limbs = ["shoulder", "elbow", "wrist", "pinky", "index", "thumb", "hip", "knee", "ankle", "heel", "foot_index"]
    for n, name in enumerate(limbs):
        kp[11 + 2 * n] = _HALF[name]
        kp[12 + 2 * n] = (-_HALF[name][0], _HALF[name][1])
    return kp


def person(cx: float, cy: float, height: float = 200.0, *, visibility: float = 0.9) -> np.ndarray:
    """(33, 3) pixel keypoints of a person whose mid-hip is at (cx, cy)."""
    kp = np.zeros((33, 3), dtype=np.float32)
    kp[:, :2] = template() * height + (cx, cy)
    kp[:, 2] = visibility
    return kp


def frame(*people: np.ndarray, score: float = 0.9) -> Poses:
    """The pose model's answer for one frame holding `people` ((33, 3) pixel keypoints each)."""
    if not people:
        return Poses.empty()
    kp2d = np.stack(people).astype(np.float32)
    kp3d = np.zeros_like(kp2d)
    kp3d[..., :2] = (kp2d[..., :2] - kp2d[:, [23, 24], :2].mean(axis=1, keepdims=True)) / 200.0 * [1, -1]
    return Poses(kp2d, kp3d, np.full(len(people), score, dtype=np.float32))
