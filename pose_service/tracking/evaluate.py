"""Tracking metrics against known people: ID switches, IDF1 (Ristani et al., 2016) and MOTA (CLEAR MOT,
Bernardin and Stiefelhagen, 2008).

A track and a true person correspond in a frame when, after a one-to-one assignment, the track's
keypoints lie within `max_distance` body scales of the person's (mean over the joints both name).
MOTA = 1 - (misses + false positives + ID switches) / true person-frames: a miss is a true person-frame
with no track matched, a false positive a track-frame matched to nobody (interpolated frames count as the
track's output). It can be negative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from pose_service.skeleton import KEYPOINT_NAMES
from pose_service.tracking.core import Track

__all__ = ["IdentityScores", "identity_scores"]


@dataclass(frozen=True)
class IdentityScores:
    """id_switches: times a person's matched track changed; idf1: identity F1 (0..1);
    matched: share of true person-frames matched to some track; mota: CLEAR MOT accuracy (<= 1);
    misses, false_positives: the person-frames and track-frames left unmatched."""

    id_switches: int
    idf1: float
    matched: float
    mota: float = 1.0
    misses: int = 0
    false_positives: int = 0


def identity_scores(
    truth: list[np.ndarray], joint_names: list[str], tracks: list[Track], *, max_distance: float = 0.5
) -> IdentityScores:
    """Score `tracks` against `truth`: one (n_frames, J, 2) pixel array per person (NaN where absent),
    joints named by `joint_names` (those also in BlazePose's names are compared)."""
    shared = [n for n in joint_names if n in KEYPOINT_NAMES]
    ti = [joint_names.index(n) for n in shared]
    ki = [KEYPOINT_NAMES.index(n) for n in shared]
    n_frames = truth[0].shape[0] if truth else 0
    per_frame: dict[int, dict[int, int]] = {}  # frame -> person -> track id
    for f in range(n_frames):
        people = [p for p in range(len(truth)) if np.isfinite(truth[p][f, ti]).all()]
        present = [(t, int(np.flatnonzero(t.frames == f)[0])) for t in tracks if f in set(t.frames.tolist())]
        if not people or not present:
            continue
        cost = np.full((len(people), len(present)), np.inf)
        for a, p in enumerate(people):
            pts = truth[p][f, ti]
            scale = float(np.sqrt(np.prod(np.maximum(np.ptp(pts, axis=0), 1.0))))
            for b, (t, k) in enumerate(present):
                cost[a, b] = float(np.linalg.norm(t.keypoints_2d[k, ki, :2] - pts, axis=1).mean()) / scale
        rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e9))
        per_frame[f] = {
            people[r]: present[c][0].id for r, c in zip(rows, cols, strict=True) if cost[r, c] <= max_distance
        }
    switches = 0
    for p in range(len(truth)):
        ids = [per_frame[f][p] for f in sorted(per_frame) if p in per_frame[f]]
        switches += sum(1 for a, b in zip(ids, ids[1:], strict=False) if a != b)
    # IDF1: the best one-to-one pairing of people with tracks by frames matched together.
    track_ids = [t.id for t in tracks]
    together = np.zeros((len(truth), len(track_ids)))
    for matches in per_frame.values():
        for p, tid in matches.items():
            together[p, track_ids.index(tid)] += 1
    idtp = 0.0
    if together.size:
        rows, cols = linear_sum_assignment(-together)
        idtp = float(together[rows, cols].sum())
    truth_frames = sum(int(np.isfinite(t[:, ti]).all(axis=(1, 2)).sum()) for t in truth)
    track_frames = sum(int(((t.frames >= 0) & (t.frames < n_frames)).sum()) for t in tracks)
    idf1 = 2 * idtp / (truth_frames + track_frames) if truth_frames + track_frames else 1.0
    n_matched = sum(len(m) for m in per_frame.values())
    matched = n_matched / truth_frames if truth_frames else 1.0
    misses, false_positives = truth_frames - n_matched, track_frames - n_matched
    mota = 1.0 - (misses + false_positives + switches) / truth_frames if truth_frames else 1.0
    return IdentityScores(
        id_switches=switches,
        idf1=idf1,
        matched=matched,
        mota=mota,
        misses=misses,
        false_positives=false_positives,
    )
