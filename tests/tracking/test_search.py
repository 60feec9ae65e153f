"""The second look for lost tracks: where the tracker asks to look, and what joins the detections."""

from __future__ import annotations

import numpy as np

from pose_service.skeleton import Poses
from pose_service.tracking import PoseTracker, TrackerConfig
from pose_service.tracking.search import merge_found, paint_out
from tests.tracking.bodies import frame, person

FPS = 30.0


def test_a_lost_track_is_searched_ahead_on_its_way_for_search_s() -> None:
    tracker = PoseTracker(FPS, TrackerConfig(smoothing=None, search_s=0.5))
    for i in range(10):
        tracker.update(i, frame(person(100 + 6 * i, 300)))
    assert tracker.search_regions(640, 480) == []  # seen in the last frame: nothing to look for
    tracker.update(10, frame())
    (region,) = tracker.search_regions(640, 480)
    # Centred where a person walking 6 px a frame would be in frame 11, not where the filter's slowing
    # prediction leaves them; 1.6 body heights across.
    centre = (region[:2] + region[2:]) / 2
    box = frame(person(100 + 6 * 11, 300)).bboxes()[0]
    assert np.allclose(centre, (box[:2] + box[2:]) / 2, atol=3.0)
    assert abs((region[2] - region[0]) - 1.6 * (box[3] - box[1])) < 2.0
    for i in range(11, 11 + 15):  # 0.5 s later the search stops
        tracker.update(i, frame())
    assert tracker.search_regions(640, 480) == []
    # Centred off the picture: not searched.
    tracker = PoseTracker(FPS, TrackerConfig(smoothing=None))
    for i in range(10):
        tracker.update(i, frame(person(560 + 10 * i, 300)))
    tracker.update(10, frame())
    assert tracker.search_regions(640, 480) == []


def test_only_new_people_inside_the_region_are_added() -> None:
    seen = frame(person(200, 300))
    region = np.array([260.0, 100.0, 600.0, 480.0])
    found = frame(person(203, 301), person(400, 310, 150), person(900, 300))
    merged = merge_found(seen, found, region)
    # The one already detected is not added again, the one outside the region is left out.
    assert len(merged) == 2
    assert np.allclose(merged.keypoints_2d[1], person(400, 310, 150))
    assert len(merge_found(seen, Poses.empty(), region)) == 1


def test_paint_out_covers_the_people_found_and_nothing_else() -> None:
    rgb = np.full((480, 640, 3), 200, np.uint8)
    rgb[:, 300:] = 90  # the region's border is half of each: its median is one of the two
    a, b = person(200, 300), person(520, 300)
    rgb[100:400, 180:220] = (10, 20, 30)  # a's body
    region = np.array([100.0, 50.0, 400.0, 470.0])
    out = paint_out(rgb, frame(a, b), region)
    assert out is not rgb and np.array_equal(rgb[0, 0], [200, 200, 200])  # the input is left as it was
    # a's spine (mid-shoulders to mid-hips) is painted in a background colour; b, outside the region, is not.
    spine = np.round((a[[11, 12, 23, 24], :2]).mean(axis=0)).astype(int)
    assert tuple(out[spine[1], spine[0]]) in {(200, 200, 200), (90, 90, 90)}
    assert np.array_equal(out[:, 400:], rgb[:, 400:])
    # With nobody reaching into the region, the frame itself comes back.
    assert paint_out(rgb, frame(b), region) is rgb
