"""What the tracked motion means: body angles, jumps (flight, spin, flip, roll, key moments), the trick's name,
the landing grade, confidence and the scoreability gate, and their explanation."""

from pose_service.analysis.airborne import Airborne, find_airborne
from pose_service.analysis.angles import ANGLE_NAMES, body_angles, shoulder_hip_separation, stance_width_m
from pose_service.analysis.explain import explain_jump, summarize, trick_name
from pose_service.analysis.jumps import MOMENT_NAMES, Jump, find_jumps, gate_jumps, rider_chain
from pose_service.analysis.landing import LandingGrade, grade_landing, landing_score
from pose_service.analysis.rotation import RotationFit, fit_rotation, judge_count, torso_frames
from pose_service.analysis.stance import StanceReading, riding_stance
from pose_service.analysis.trick import NAMING_TABLE, name_trick, spin_side

__all__ = [
    "ANGLE_NAMES",
    "MOMENT_NAMES",
    "Airborne",
    "Jump",
    "LandingGrade",
    "NAMING_TABLE",
    "RotationFit",
    "StanceReading",
    "body_angles",
    "explain_jump",
    "find_airborne",
    "find_jumps",
    "fit_rotation",
    "gate_jumps",
    "grade_landing",
    "judge_count",
    "landing_score",
    "name_trick",
    "riding_stance",
    "rider_chain",
    "shoulder_hip_separation",
    "spin_side",
    "stance_width_m",
    "summarize",
    "torso_frames",
    "trick_name",
]
