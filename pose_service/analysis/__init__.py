"""What the tracked motion means: body angles now; jumps, spins and flips next."""

from pose_service.analysis.angles import ANGLE_NAMES, body_angles

__all__ = ["ANGLE_NAMES", "body_angles"]
