"""Evaluation against synthetic ground truth: code that may import both a stage and the synthetic generator.

Kept out of the stages so that none of them imports `pose_service.synth`; used by tests and `bench/`.
"""

from pose_service.evaluation.body_fit import (
    fit_errors,
    mpjpe,
    pa_mpjpe,
    synthetic_truth,
    track_from_truth,
    truth_view_joints,
)

__all__ = ["fit_errors", "mpjpe", "pa_mpjpe", "synthetic_truth", "track_from_truth", "truth_view_joints"]
