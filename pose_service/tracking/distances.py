"""How far apart a track's prediction and a detection are: box overlap, keypoints, body scale.

Keypoint distances are divided by the body's scale (geometric mean of box width and height), so the same
thresholds hold for a rider filling the frame and one far down the slope, standing, crouched or inverted.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FLIP_INDEX", "box_scale", "centre_distance", "pose_distance"]

# BlazePose keypoint order with left and right exchanged (nose stays; eyes, ears, mouth, limbs swap).
FLIP_INDEX = np.array(
    [0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9] + [i + 1 if i % 2 else i - 1 for i in range(11, 33)], dtype=np.int64
)


def box_scale(box: np.ndarray) -> float:
    """Geometric mean of a box's width and height, in pixels (at least 1)."""
    return float(np.sqrt(max(float(box[2] - box[0]), 1.0) * max(float(box[3] - box[1]), 1.0)))


def centre_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Distance between the centres of boxes `a` and `b`, in pixels."""
    return float(np.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2))


def pose_distance(a: np.ndarray, b: np.ndarray, scale: float, *, min_visibility: float = 0.3) -> float:
    """Median keypoint distance of poses `a` and `b` ((33, 3) px + visibility) over `scale`, whichever of
    the two left/right readings of `b` is closer (the pose model swaps sides on back views); inf when they
    share fewer than 4 visible keypoints."""
    best = np.inf
    for order in (slice(None), FLIP_INDEX):
        bb = b[order]
        seen = (a[:, 2] >= min_visibility) & (bb[:, 2] >= min_visibility)
        if seen.sum() < 4:
            continue
        d = np.linalg.norm(a[seen, :2] - bb[seen, :2], axis=1)
        best = min(best, float(np.median(d)) / max(scale, 1.0))
    return best
