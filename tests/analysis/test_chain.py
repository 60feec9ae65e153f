"""rider_chain: a rider the tracker split mid-flight is joined again; other people are not."""

from __future__ import annotations

import numpy as np

from pose_service.analysis import rider_chain
from pose_service.tracking.core import Track


def _track(track_id: int, frames: list[int], x: float) -> Track:
    n = len(frames)
    bbox = np.tile(np.array([x, 100.0, x + 60.0, 300.0], np.float32), (n, 1))
    kp = np.zeros((n, 33, 3), np.float32)
    return Track(id=track_id, frames=np.array(frames), bbox=bbox, keypoints_2d=kp, keypoints_3d=kp.copy())


def test_fragments_before_and_after_are_joined_overlap_left_out() -> None:
    before = _track(1, list(range(0, 45)), 100.0)  # runs 5 frames into the rider's own
    rider = _track(2, list(range(40, 60)), 110.0)
    after = _track(3, list(range(64, 90)), 120.0)  # picks up after a 4-frame gap
    chain = rider_chain([before, rider, after], 2, fps=30.0)
    assert chain.id == 2 and list(chain.frames) == list(range(0, 60)) + list(range(64, 90))


def test_someone_far_away_or_much_later_is_not_the_rider() -> None:
    rider = _track(1, list(range(0, 40)), 100.0)
    elsewhere = _track(2, list(range(41, 80)), 400.0)  # two body heights to the side
    later = _track(3, list(range(60, 90)), 100.0)  # 20 frames later: beyond half a second
    assert len(rider_chain([rider, elsewhere, later], 1, fps=30.0)) == 40


def test_a_stray_late_sample_of_the_rider_does_not_hide_the_track_that_took_over() -> None:
    # Seen in a double cork 1080: the rider's track lost the body at 59, picked a stray reading at 78; another
    # track followed the rider from 60 on. The chain keeps 60-79 from that one, not the stray sample.
    rider = _track(1, list(range(0, 60)) + [78], 100.0)
    took_over = _track(2, list(range(60, 106)), 105.0)
    chain = rider_chain([rider, took_over], 1, fps=30.0)
    assert list(chain.frames) == list(range(0, 106))
