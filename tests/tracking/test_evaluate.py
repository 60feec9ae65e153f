"""The identity metrics themselves, on hand-made tracks."""

from __future__ import annotations

import numpy as np
import pytest

from pose_service.skeleton import KEYPOINT_NAMES
from pose_service.tracking import Track
from pose_service.tracking.evaluate import identity_scores
from tests.tracking.bodies import person

N = 20
NAMES = ["left_shoulder", "right_shoulder", "left_hip", "right_hip", "left_knee", "right_knee"]
# Person A walks right along y = 300, B walks left along y = 700 (they never meet).
PATH_A = [(100.0 + 10 * f, 300.0) for f in range(N)]
PATH_B = [(400.0 - 10 * f, 700.0) for f in range(N)]


def _truth(path: list[tuple[float, float]]) -> np.ndarray:
    return np.stack([person(x, y)[[KEYPOINT_NAMES.index(n) for n in NAMES], :2] for x, y in path])


def _track(tid: int, frames: list[int], path: list[tuple[float, float]]) -> Track:
    kp = np.stack([person(x, y) for x, y in path])
    return Track(tid, np.array(frames), np.zeros((len(frames), 4), np.float32), kp, np.zeros_like(kp))


TRUTH = [_truth(PATH_A), _truth(PATH_B)]


def test_perfect_tracks_score_one() -> None:
    tracks = [_track(1, list(range(N)), PATH_A), _track(2, list(range(N)), PATH_B)]
    s = identity_scores(TRUTH, NAMES, tracks)
    assert (s.id_switches, s.idf1, s.matched) == (0, pytest.approx(1.0), pytest.approx(1.0))
    assert (s.mota, s.misses, s.false_positives) == (pytest.approx(1.0), 0, 0)


def test_ids_exchanged_halfway_count_two_switches() -> None:
    half = N // 2
    tracks = [
        _track(1, list(range(N)), PATH_A[:half] + PATH_B[half:]),
        _track(2, list(range(N)), PATH_B[:half] + PATH_A[half:]),
    ]
    s = identity_scores(TRUTH, NAMES, tracks)
    assert s.id_switches == 2
    assert s.idf1 == pytest.approx(0.5)
    # Every frame is covered, so MOTA only loses the two switches over 40 person-frames.
    assert (s.misses, s.false_positives) == (0, 0)
    assert s.mota == pytest.approx(1 - 2 / 40)


def test_a_person_missed_half_the_time() -> None:
    tracks = [_track(1, list(range(N // 2)), PATH_A[: N // 2])]
    s = identity_scores(TRUTH[:1], NAMES, tracks)
    assert s.id_switches == 0 and s.matched == pytest.approx(0.5)
    assert s.idf1 == pytest.approx(2 * 10 / (20 + 10))
    assert (s.misses, s.false_positives, s.mota) == (10, 0, pytest.approx(0.5))


def test_a_ghost_track_and_a_miss_lower_mota() -> None:
    # Both people tracked throughout, plus a ghost for 8 frames where nobody is, and B missed for 4 frames.
    ghost_path = [(900.0, 300.0)] * 8
    b_frames = [f for f in range(N) if not 5 <= f < 9]
    tracks = [
        _track(1, list(range(N)), PATH_A),
        _track(2, b_frames, [PATH_B[f] for f in b_frames]),
        _track(3, list(range(8)), ghost_path),
    ]
    s = identity_scores(TRUTH, NAMES, tracks)
    assert (s.id_switches, s.misses, s.false_positives) == (0, 4, 8)
    assert s.mota == pytest.approx(1 - (4 + 8) / 40)
    assert s.idf1 == pytest.approx(2 * 36 / (40 + 44))
