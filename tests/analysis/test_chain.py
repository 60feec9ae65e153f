"""rider_chain: a rider the tracker split mid-flight is joined again; other people are not."""

from __future__ import annotations

import numpy as np
import pytest

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


@pytest.mark.parametrize("stray", [64, 70, 74, 75])
def test_a_stray_sample_within_half_a_second_does_not_hide_the_track_that_took_over(stray: int) -> None:
    # The same double cork 1080 rendered again: the stray reading came 15 frames after the loss (74), within the
    # half second that keeps a track's samples one run, so the chain reached over the new track's start (60) and
    # the new track's frames up to the stray sample were left out: the flight ended at the gap, a cork 540.
    whole = (100.0, 100.0, 160.0, 220.0)
    rider = _body(1, list(range(0, 60)) + [stray], whole)
    took_over = _body(2, list(range(60, 106)), (104.0, 102.0, 166.0, 224.0))
    chain = rider_chain([rider, took_over], 1, fps=30.0)
    assert list(chain.frames) == list(range(0, 106))
    assert np.allclose(chain.bbox[60:], took_over.bbox)


def test_the_riders_own_track_lost_through_a_flight_joins_back() -> None:
    # The real seg6's first kicker: the small rider is lost from the lip for 0.8 s; the tracker picks them up
    # again under the same id (another track had them for a few frames first). The run before the gap is the
    # takeoff: it stays in the chain. Another person's track that late would not join (above: 20 frames).
    rider = _track(1, list(range(0, 46)) + list(range(70, 120)), 100.0)
    shred = _track(2, list(range(66, 80)), 110.0)
    chain = rider_chain([rider, shred], 1, fps=30.0)
    assert list(chain.frames) == list(range(0, 46)) + list(range(66, 120))


def _body(track_id: int, frames: list[int], box: tuple[float, float, float, float], *, hips_y: float | None = None,
          filled: bool = False) -> Track:
    """A track whose hips lie at the box's middle (or at `hips_y`)."""
    track = _track(track_id, frames, box[0])
    track.bbox[:] = box
    track.keypoints_2d[:, [23, 24], 0] = (box[0] + box[2]) / 2
    track.keypoints_2d[:, [23, 24], 1] = (box[1] + box[3]) / 2 if hips_y is None else hips_y
    track.interpolated = np.full(len(frames), filled)
    return track


def _then(first: Track, second: Track) -> Track:
    """One track: `first`'s samples, then `second`'s."""
    return Track(id=first.id, frames=np.r_[first.frames, second.frames], bbox=np.r_[first.bbox, second.bbox],
                 keypoints_2d=np.r_[first.keypoints_2d, second.keypoints_2d],
                 keypoints_3d=np.r_[first.keypoints_3d, second.keypoints_3d],
                 interpolated=np.r_[first.interpolated, second.interpolated])  # fmt: skip


def test_a_track_that_picks_the_whole_body_up_takes_over_from_a_shred() -> None:
    # Seen on a real follow-cam clip (snow_seg6, the second kicker): the camera passes under the rider, the
    # rider's own track keeps a shred of the body (a third of its size, hips above the frame, mostly gap-filled)
    # while a second track holds the whole body from frame 50 to the landing and after.
    whole = (100.0, 100.0, 160.0, 220.0)
    rider = _body(1, list(range(0, 50)), whole)
    shred = _body(1, list(range(50, 62)), (110.0, 90.0, 140.0, 130.0), hips_y=-20.0, filled=True)
    rider = _then(rider, shred)
    picked_up = _body(2, list(range(50, 90)), (105.0, 110.0, 165.0, 235.0))
    chain = rider_chain([rider, picked_up], 1, fps=30.0)
    assert list(chain.frames) == list(range(0, 90))
    assert np.allclose(chain.bbox[50:], picked_up.bbox) and not chain.interpolated[50:].any()


@pytest.mark.parametrize("tail", [1, 2])
def test_a_track_that_holds_the_landing_takes_over_though_the_riders_own_outlasts_it_by_a_sample(tail: int) -> None:
    # Seen on the real seg6 at 1920x1080: the rider's track lost the rider on landing (217), went on gap-filled
    # with a detected sample here and there and a gap of 9 frames, and held the clip's last frame (239), 1 frame
    # after the track that had held the whole landing (217-238) ended. Not taken over, the flight had no snow
    # after it to land on and the second kicker went unfound.
    whole = (100.0, 100.0, 160.0, 220.0)
    rider = _body(1, list(range(0, 50)), whole)
    lost = _body(1, [50, 51, 52, 55, 58] + list(range(68, 72 + tail)), (90.0, 40.0, 170.0, 160.0), filled=True)
    lost.interpolated[[2, 4]] = False  # a stray detection or two in the gap-filled stretch
    lost.interpolated[-tail:] = False  # and the last frame(s) detected again
    rider = _then(rider, lost)
    landing = _body(2, list(range(50, 72)), (105.0, 110.0, 165.0, 235.0))
    chain = rider_chain([rider, landing], 1, fps=30.0)
    assert list(chain.frames) == list(range(0, 72))
    assert np.allclose(chain.bbox[50:], landing.bbox)


def test_a_track_that_outlasts_the_riders_own_by_more_than_a_stray_sample_or_two_does_not_take_over() -> None:
    whole = (100.0, 100.0, 160.0, 220.0)
    rider = _body(1, list(range(0, 80)), whole)
    rider.interpolated[50:60] = True
    neighbour = _body(2, list(range(50, 72)), (105.0, 110.0, 165.0, 235.0))
    chain = rider_chain([rider, neighbour], 1, fps=30.0)
    assert np.allclose(chain.bbox, rider.bbox) and list(chain.frames) == list(range(80))


def test_a_neighbour_beside_a_rider_still_seen_whole_does_not_take_over() -> None:
    # Another rider starting beside the rider (within a body height) while the rider's own track still holds
    # the whole body: the rider keeps their track.
    whole = (100.0, 100.0, 160.0, 220.0)
    rider = _body(1, list(range(0, 62)), whole)
    neighbour = _body(2, list(range(50, 90)), (150.0, 105.0, 210.0, 225.0))
    chain = rider_chain([rider, neighbour], 1, fps=30.0)
    assert np.allclose(chain.bbox[:62], rider.bbox) and list(chain.frames[:62]) == list(range(62))


def test_a_body_lying_across_the_picture_mid_flip_is_picked_up_a_body_length_away() -> None:
    # sports2d_demo chunked on an Intel Xeon: the flipper's track ended inverted in a box 333 px wide and 103 tall,
    # and the next piece (185 px tall) started 194 px away: over one box height, under the body's length.
    rider = _track(1, list(range(0, 40)), 100.0)
    rider.bbox[-1] = [566.0, 196.0, 899.0, 299.0]
    after = _track(2, list(range(41, 70)), 875.0)
    after.bbox[:] = [875.0, 141.0, 978.0, 326.0]
    assert list(rider_chain([rider, after], 1, fps=30.0).frames) == list(range(0, 40)) + list(range(41, 70))
    # a person that far from an upright rider (60 px wide, 200 tall) is someone else
    upright = _track(3, list(range(0, 40)), 566.0)
    assert len(rider_chain([upright, after], 3, fps=30.0)) == 40


def test_a_neighbours_stray_late_sample_does_not_hide_the_next_tracks_frames() -> None:
    """The real seg6 cut to start 25 frames in: as the camera passes under the rider on the second kicker, the
    rider's track ends (183), a second track holds 182-197 and a stray sample at 212, a third 190-214. The chain
    took the second whole, reached 212, and left out the third's 198-211, the landing: the jump went unfound. Only
    the second's run next to the chain joins; the third continues it."""
    rider = _track(1, list(range(100, 184)), 100.0)
    second = _track(2, list(range(182, 198)) + [212], 105.0)
    third = _track(3, list(range(190, 215)), 110.0)
    chain = rider_chain([rider, second, third], 1, fps=30.0)
    assert list(chain.frames) == list(range(100, 215))
    assert np.allclose(chain.bbox[list(chain.frames).index(198):], third.bbox[8:])
