"""Global image motion between consecutive frames, so tracks move with a camera that pans after a rider.

Sparse optical flow (Shi-Tomasi corners followed by pyramidal Lucas-Kanade) on a small grey copy of the
frame, with the people masked out, fitted with a similarity transform (RANSAC). Cheap next to the pose
model: a few milliseconds per frame at 480 px.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["CameraMotion", "IDENTITY"]

IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


class CameraMotion:
    """Estimates, frame after frame, the 2x3 affine that carries the previous frame's pixels to this one's.

    work_side: the longer side of the grey copy the flow runs on, in pixels.
    max_corners: corners followed per frame.
    min_points: fewer surviving points than this and the motion is taken as none.
    """

    def __init__(self, *, work_side: int = 480, max_corners: int = 300, min_points: int = 12) -> None:
        if work_side < 64:
            raise ValueError(f"work_side must be at least 64 pixels, got {work_side}")
        if max_corners < min_points or min_points < 3:
            raise ValueError(f"need 3 <= min_points <= max_corners, got {min_points} and {max_corners}")
        self.work_side, self.max_corners, self.min_points = work_side, max_corners, min_points
        self._prev: np.ndarray | None = None
        self._prev_mask: np.ndarray | None = None
        self._prev_boxes: np.ndarray | None = None
        self._scale = 1.0

    def update(self, rgb: np.ndarray, people_boxes: np.ndarray) -> np.ndarray:
        """The previous-to-this-frame affine in full-resolution pixels; `people_boxes` (n, 4) are masked."""
        h, w = rgb.shape[:2]
        # Plain subsampling, not a filtered resize: ten times cheaper on 4K frames, and corners survive it.
        step = max(1, -(-max(h, w) // self.work_side))
        self._scale = 1.0 / step
        grey = cv2.cvtColor(np.ascontiguousarray(rgb[::step, ::step]), cv2.COLOR_RGB2GRAY)
        boxes = np.asarray(people_boxes, dtype=float).reshape(-1, 4) * self._scale
        mask = _masked(grey.shape, boxes)
        affine = IDENTITY.copy()
        if self._prev is not None and self._prev.shape == grey.shape:
            affine = self._estimate(self._prev, grey, self._prev_mask, self._prev_boxes)
        self._prev, self._prev_mask, self._prev_boxes = grey, mask, boxes
        return affine

    def _estimate(
        self, prev: np.ndarray, cur: np.ndarray, mask: np.ndarray | None, boxes: np.ndarray | None = None
    ) -> np.ndarray:
        found = self._fit(prev, cur, mask)
        if found is None:
            return IDENTITY.copy()
        m, fitted, points = found
        if boxes is not None and len(boxes):
            # Where the background is bare (a rendered sky and snow: 5-7 corners) the corners outside the people's
            # boxes are a snowboard reaching past its rider's: no one motion fits them and their median shift (a
            # blurred frame's best guess, right on the real follow-cams) is the board's, or a rigid board fits one
            # motion itself. The synthetic 45-degree front flip's still camera "moved" with the board, 20-40 px and
            # 3 degrees a frame, and the flight was lost. So where nothing fits, or what fits lies mostly within a
            # board's reach of the people, the motion is fitted again without that reach: the corner finder's
            # threshold (relative to the strongest corner) then falls to the faint snow, and where those corners
            # fit one motion, it is the camera's.
            wide_mask = _masked(prev.shape, boxes, reach=_BOARD_REACH)
            x, y = np.clip(points.astype(int).T, 0, np.array(prev.shape[::-1])[:, None] - 1)
            if not fitted or np.mean(wide_mask[y, x] == 0) > 0.5:
                wide = self._fit(prev, cur, wide_mask)
                if wide is not None and wide[1]:
                    m = wide[0]
        m = np.asarray(m, dtype=float)
        m[:, 2] /= self._scale  # translation back to full-resolution pixels; rotation and scale carry over
        return m

    def _fit(
        self, prev: np.ndarray, cur: np.ndarray, mask: np.ndarray | None
    ) -> tuple[np.ndarray, bool, np.ndarray] | None:
        """The motion of the corners outside `mask` (in the grey copy's pixels), whether one similarity fits
        `min_points` of them (False: their median shift, a blurred frame's best guess), and the corners it rests
        on (its inliers, or all followed); None with too few corners."""
        pts = cv2.goodFeaturesToTrack(prev, self.max_corners, 0.01, 8, mask=mask)
        if pts is None or len(pts) < self.min_points:
            return None
        nxt, status, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, np.empty_like(pts), winSize=(21, 21), maxLevel=3)
        ok = status.reshape(-1) == 1
        if ok.sum() < self.min_points:
            return None
        a, b = pts.reshape(-1, 2)[ok], nxt.reshape(-1, 2)[ok]
        m, inliers = cv2.estimateAffinePartial2D(a, b, method=cv2.RANSAC, ransacReprojThreshold=1.5)
        if m is None or inliers is None or int(inliers.sum()) < self.min_points:
            shift = np.median(b - a, axis=0)
            return np.array([[1.0, 0.0, shift[0]], [0.0, 1.0, shift[1]]]), False, a
        return np.asarray(m, dtype=float), True, a[inliers.reshape(-1) == 1]


_BOARD_REACH = 0.45  # of a person's box's longer side, either way: a board (1.5 m) reaches this far past a body


def _masked(shape: tuple[int, ...], boxes: np.ndarray, *, reach: float = 0.0) -> np.ndarray:
    """A mask (255: use) of `shape` with `boxes` (n, 4) blanked, widened by 15 % of their width and 10 % of their
    height (limbs reach past the keypoint box and motion blur smears them further), and by `reach` times their
    longer side."""
    mask = np.full(shape[:2], 255, dtype=np.uint8)
    for x0, y0, x1, y1 in boxes:
        longer = max(x1 - x0, y1 - y0)
        pw, ph = (x1 - x0) * 0.15 + reach * longer, (y1 - y0) * 0.1 + reach * longer
        mask[max(0, int(y0 - ph)) : max(0, int(y1 + ph)), max(0, int(x0 - pw)) : max(0, int(x1 + pw))] = 0
    return mask
