"""Following people across frames."""

from pose_service.tracking.core import Track
from pose_service.tracking.iou import IouTracker, iou_matrix, pick_rider

__all__ = ["IouTracker", "Track", "iou_matrix", "pick_rider"]
