"""What the tracked motion means: body angles, jumps (flight, spin, flip, key moments) and their explanation."""

from pose_service.analysis.airborne import Airborne, find_airborne
from pose_service.analysis.angles import ANGLE_NAMES, body_angles, shoulder_hip_separation, stance_width_m
from pose_service.analysis.explain import explain_jump, summarize, trick_name
from pose_service.analysis.jumps import MOMENT_NAMES, Jump, find_jumps, rider_chain
from pose_service.analysis.rotation import RotationFit, fit_rotation, judge_count, torso_frames

__all__ = [
    "ANGLE_NAMES",
    "MOMENT_NAMES",
    "Airborne",
    "Jump",
    "RotationFit",
    "body_angles",
    "explain_jump",
    "find_airborne",
    "find_jumps",
    "fit_rotation",
    "judge_count",
    "rider_chain",
    "shoulder_hip_separation",
    "stance_width_m",
    "summarize",
    "torso_frames",
    "trick_name",
]
