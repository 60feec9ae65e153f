"""A second look for people the tracker has just lost: the pose model again on a crop around each one.

BlazePose's person detector, on the whole frame, often reports one person where a smaller one rides
beside or just behind a bigger one; in a crop around where the smaller one should be it finds them. The
tracker says where to look (`PoseTracker.search_regions`, only for confirmed tracks lost for at most
`TrackerConfig.search_s`), the backend looks (`detect_region`), and what it finds that is not somebody
already detected joins the frame's detections before `PoseTracker.update`. A clip where nobody is lost
costs nothing more.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from pose_service.pose.core import Poses
from pose_service.tracking.iou import iou_matrix
from pose_service.tracking.tracker import PoseTracker

__all__ = ["RegionDetector", "look_again", "merge_found"]


class RegionDetector(Protocol):
    def detect_region(self, rgb: np.ndarray, box: np.ndarray) -> Poses: ...


def look_again(backend: RegionDetector, tracker: PoseTracker, rgb: np.ndarray, poses: Poses) -> Poses:
    """`poses` (the frame's detections) plus the people found in crops around the tracker's lost tracks.

    Call with the frame about to be given to `tracker.update` (the tracker having seen the frame before).
    """
    height, width = rgb.shape[:2]
    for region in tracker.search_regions(width, height):
        poses = merge_found(poses, backend.detect_region(rgb, region), region)
    return poses


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
