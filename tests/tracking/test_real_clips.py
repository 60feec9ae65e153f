"""The tracker inside the whole pipeline, on the synthetic spin (real pose model, real encoded video)."""

from __future__ import annotations

import numpy as np


def _labelling_agreement(track: dict, truth: dict) -> float:
    """Share of frames whose left/right labels of shoulders, hips, knees and ankles match the truth's."""
    names = ("shoulder", "hip", "knee", "ankle")
    ours = np.array(track["keypoints_2d"])
    true = np.array(truth["keypoints_2d"])[track["frames"]]
    kp_names = ["left_" + n for n in names] + ["right_" + n for n in names]
    ours_idx = [_KEYPOINTS.index(n) for n in kp_names]
    true_idx = [truth["joint_names"].index(n) for n in kp_names]
    a, b = ours[:, ours_idx, :2], true[:, true_idx]
    straight = np.linalg.norm(a - b, axis=2).mean(axis=1)
    swapped = np.linalg.norm(a - np.concatenate([b[:, 4:], b[:, :4]], axis=1), axis=2).mean(axis=1)
    # Frames where the two labellings lie equally close (a side view) say nothing either way.
    decided = np.abs(straight - swapped) > 0.1 * np.maximum(straight, swapped)
    return float((straight[decided] < swapped[decided]).mean()) if decided.any() else 1.0


_KEYPOINTS: list[str] = []


def test_one_track_through_the_whole_spin(spin_analysis, spin_truth) -> None:  # type: ignore[no-untyped-def]
    result = spin_analysis.result
    _KEYPOINTS[:] = result["keypoint_names"]
    long_tracks = [t for t in result["tracks"] if len(t["frames"]) >= 10]
    assert len(long_tracks) == 1, [len(t["frames"]) for t in result["tracks"]]
    (rider,) = long_tracks
    assert rider["is_rider"] and result["analysis"]["rider_track"] == rider["id"]
    jump = spin_truth["jumps"][0]
    frames = set(rider["frames"])
    # Every frame of the jump is in the track, seen or (for short misses) interpolated.
    assert set(range(jump["takeoff_frame"], jump["landing_frame"] + 1)) <= frames
    assert len(rider["interpolated"]) == len(rider["frames"])
    assert sum(rider["interpolated"]) <= 0.1 * len(rider["frames"])


def test_left_and_right_agree_with_the_rendered_body(spin_analysis, spin_truth) -> None:  # type: ignore[no-untyped-def]
    result = spin_analysis.result
    _KEYPOINTS[:] = result["keypoint_names"]
    rider = next(t for t in result["tracks"] if t["is_rider"])
    agreement = _labelling_agreement(rider, spin_truth)
    assert agreement >= 0.9, f"left/right right in {agreement:.0%} of decided frames"
