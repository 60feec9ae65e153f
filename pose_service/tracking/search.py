"""A second look for people the tracker has just lost: the pose model again on a crop around each one.

BlazePose's person detector, on the whole frame, often reports one person where a smaller one rides
beside or just behind a bigger one; in a crop around where the smaller one should be it finds them. The
tracker says where to look (`PoseTracker.search_regions`, only for confirmed tracks lost for at most
`TrackerConfig.search_s`), the backend looks (`detect_region`) with the people already found painted
over (`paint_out`: otherwise the nearer, bigger one draws the detector again), and what it finds that is
not somebody already detected joins the frame's detections before `PoseTracker.update`. A clip where nobody is lost
costs nothing more.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from pose_service.skeleton import Poses
from pose_service.tracking.iou import iou_matrix
from pose_service.tracking.tracker import PoseTracker

__all__ = ["RegionDetector", "look_again", "merge_found", "paint_out"]


class RegionDetector(Protocol):
    def detect_region(self, rgb: np.ndarray, box: np.ndarray) -> Poses: ...


def look_again(backend: RegionDetector, tracker: PoseTracker, rgb: np.ndarray, poses: Poses) -> Poses:
    """`poses` (the frame's detections) plus the people found in crops around the tracker's lost tracks.

    Call with the frame about to be given to `tracker.update` (the tracker having seen the frame before).
    """
    height, width = rgb.shape[:2]
    for region in tracker.search_regions(width, height):
        poses = merge_found(poses, backend.detect_region(paint_out(rgb, poses, region), region), region)
    return poses


# Limbs, torso and neck of BlazePose's 33 keypoints, painted over to hide a person already found.
_STROKES = ((11, 13), (13, 15), (12, 14), (14, 16), (11, 12), (23, 24), (11, 23), (12, 24),
            (23, 25), (25, 27), (24, 26), (26, 28), (27, 31), (28, 32), (0, 11), (0, 12))  # fmt: skip


def paint_out(rgb: np.ndarray, poses: Poses, region: np.ndarray, *, width: float = 0.12) -> np.ndarray:
    """A copy of `rgb` with the people of `poses` that reach into `region` painted over, limbs as strokes
    `width` of their height thick, the torso filled and the head as a disc, in the median colour of the region's border: the
    person in front no longer draws the detector, the one behind keeps what of them is in sight."""
    boxes = poses.bboxes()
    near = [
        i
        for i, b in enumerate(boxes)
        if b[0] < region[2] and b[2] > region[0] and b[1] < region[3] and b[3] > region[1]
    ]
    if not near:
        return rgb
    h, w = rgb.shape[:2]
    x0, y0 = int(np.clip(region[0], 0, w - 1)), int(np.clip(region[1], 0, h - 1))
    x1, y1 = int(np.clip(region[2], x0 + 1, w)), int(np.clip(region[3], y0 + 1, h))
    crop = rgb[y0:y1, x0:x1]
    border = np.concatenate([crop[0], crop[-1], crop[:, 0], crop[:, -1]])
    colour = tuple(int(v) for v in np.median(border, axis=0))
    out = rgb.copy()
    for i in near:
        kp = poses.keypoints_2d[i, :, :2]
        tall = float(max(boxes[i, 3] - boxes[i, 1], boxes[i, 2] - boxes[i, 0], 1.0))
        thick = max(int(round(width * tall)), 1)
        for a, b in _STROKES:
            cv2.line(out, _pixel(kp[a]), _pixel(kp[b]), colour, thick)
        cv2.fillConvexPoly(out, np.array([_pixel(kp[k]) for k in (11, 12, 24, 23)], np.int32), colour)
        cv2.circle(out, _pixel(kp[0]), max(int(round(0.08 * tall)), 1), colour, -1)
    return out


def _pixel(p: np.ndarray) -> tuple[int, int]:
    return int(round(float(np.clip(p[0], -1e5, 1e5)))), int(round(float(np.clip(p[1], -1e5, 1e5))))


def merge_found(poses: Poses, found: Poses, region: np.ndarray, *, same_distance: float = 0.35) -> Poses:
    """`poses` with those of `found` whose box centre lies in `region` and who are nobody in `poses` (box
    overlap over 0.5, or keypoints at the median closer than `same_distance` of the larger box side)."""
    if not len(found):
        return poses
    keep = []
    old_boxes = poses.bboxes()
    for i, box in enumerate(found.bboxes()):
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        if not (region[0] <= cx <= region[2] and region[1] <= cy <= region[3]):
            continue
        same = False
        for j, other in enumerate(old_boxes):
            side = float(max(box[2] - box[0], box[3] - box[1], other[2] - other[0], other[3] - other[1], 1.0))
            gap = np.median(np.linalg.norm(found.keypoints_2d[i, :, :2] - poses.keypoints_2d[j, :, :2], axis=1))
            if iou_matrix(box[None], other[None])[0, 0] > 0.5 or gap < same_distance * side:
                same = True
                break
        if not same:
            keep.append(i)
    if not keep:
        return poses
    extra = found[np.array(keep)]
    return Poses(
        np.concatenate([poses.keypoints_2d, extra.keypoints_2d]),
        np.concatenate([poses.keypoints_3d, extra.keypoints_3d]),
        np.concatenate([poses.score, extra.score]),
    )
