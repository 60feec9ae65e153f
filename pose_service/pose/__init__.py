"""The pose stage: people and their 2D + 3D BlazePose keypoints, frame by frame."""

from pose_service.pose.bundle import BUNDLE_NAME, bundle_status, ensure_bundle
from pose_service.pose.landmarker import PoseLandmarkerBackend, suppress_duplicates
from pose_service.skeleton import KEYPOINT_NAMES, SKELETON_EDGES, Poses

__all__ = [
    "BUNDLE_NAME",
    "KEYPOINT_NAMES",
    "SKELETON_EDGES",
    "PoseLandmarkerBackend",
    "Poses",
    "bundle_status",
    "ensure_bundle",
    "suppress_duplicates",
]
