"""Following people across frames: `PoseTracker` (motion, pose and colour cues), the rider's choice."""

from pose_service.tracking.core import Track
from pose_service.tracking.iou import IouTracker, iou_matrix
from pose_service.tracking.rider import pick_rider, rider_scores
from pose_service.tracking.smoothing import OneEuro
from pose_service.tracking.tracker import PoseTracker, TrackerConfig, TrackState

__all__ = [
    "IouTracker",
    "OneEuro",
    "PoseTracker",
    "Track",
    "TrackState",
    "TrackerConfig",
    "iou_matrix",
    "pick_rider",
    "rider_scores",
]
