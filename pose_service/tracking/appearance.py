"""A short appearance cue: the colour of a person's torso, as a hue-saturation histogram.

Computed on the quadrilateral spanned by the shoulders and hips in the frame itself, no learned model.
Hue and saturation, not brightness, so the cue survives the sun going behind a tree.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["hist_distance", "torso_histogram"]

_TORSO = (11, 12, 24, 23)  # left shoulder, right shoulder, right hip, left hip: a closed quadrilateral
_BINS = (12, 6)


def torso_histogram(rgb: np.ndarray, keypoints_2d: np.ndarray, *, min_visibility: float = 0.3) -> np.ndarray | None:
    """Normalised (12 x 6) hue-saturation histogram of the torso, flattened; None when it is not in view.

    keypoints_2d: (33, 3) pixels of `rgb` plus visibility.
    """
    quad = keypoints_2d[list(_TORSO)]
    if np.any(quad[:, 2] < min_visibility):
        return None
    h, w = rgb.shape[:2]
    x0, y0 = np.floor(quad[:, :2].min(axis=0)).astype(int)
    x1, y1 = np.ceil(quad[:, :2].max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    crop = rgb[y0:y1, x0:x1]
    # Large crops are subsampled: 64 px across is plenty for a colour histogram.
    step = max(1, max(crop.shape[:2]) // 64)
    crop = np.ascontiguousarray(crop[::step, ::step])
    mask = np.zeros(crop.shape[:2], dtype=np.uint8)
    poly = ((quad[:, :2] - (x0, y0)) / step).round().astype(np.int32)
    cv2.fillConvexPoly(mask, poly, (255,))
    if int(mask.sum()) // 255 < 16:
        return None
    hsv = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1], mask, list(_BINS), [0, 180, 0, 256]).reshape(-1)
    total = float(hist.sum())
    return (hist / total).astype(np.float32) if total > 0 else None


def hist_distance(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    """Bhattacharyya distance of two histograms, 0 (same colours) .. 1 (nothing in common); None if unknown."""
    if a is None or b is None:
        return None
    bc = float(np.sum(np.sqrt(np.maximum(a, 0) * np.maximum(b, 0))))
    return float(np.sqrt(max(0.0, 1.0 - min(bc, 1.0))))
