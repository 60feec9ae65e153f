"""Box-overlap tracking on keypoints built from plain numbers."""

from __future__ import annotations

import numpy as np
import pytest

from pose_service.skeleton import Poses
from pose_service.tracking import IouTracker, iou_matrix, pick_rider


def person(x: float, y: float, height: float = 100.0) -> np.ndarray:
    """33 keypoints spread over a box of `height` x `height / 2` whose top-left corner is (x, y)."""
    kp = np.zeros((33, 3), dtype=np.float32)
    kp[:, 0] = x + np.linspace(0, height / 2, 33)
    kp[:, 1] = y + np.linspace(0, height, 33)
    kp[:, 2] = 0.9
    return kp


def frame(*people: np.ndarray) -> Poses:
    if not people:
        return Poses.empty()
    kp2d = np.stack(people)
    return Poses(kp2d, np.zeros_like(kp2d), np.full(len(people), 0.9, dtype=np.float32))


def test_iou_matrix_values() -> None:
    a = np.array([[0, 0, 10, 10], [100, 100, 110, 110]], dtype=np.float32)
    b = np.array([[5, 0, 15, 10]], dtype=np.float32)
    assert iou_matrix(a, b)[:, 0] == pytest.approx([50 / 150, 0.0])
    assert iou_matrix(a, np.zeros((0, 4))).shape == (2, 0)


def test_two_people_keep_their_ids_in_any_detection_order() -> None:
    tracker = IouTracker(min_frames=3)
    for i in range(20):
        left, right = person(10 + 3 * i, 50), person(400 - 3 * i, 60)
        # The pose model lists people in no fixed order.
        tracker.update(i, frame(left, right) if i % 2 else frame(right, left))
    tracks = tracker.finish()
    assert [len(t) for t in tracks] == [20, 20]
    first_x = {t.id: t.keypoints_2d[:, 0, 0] for t in tracks}
    # Each track's x moves steadily one way: never swapped with the other person.
    directions = sorted(np.sign(np.diff(xs)).mean() for xs in first_x.values())
    assert directions == [-1.0, 1.0]


def test_short_gap_keeps_the_id_and_long_gap_starts_a_new_track() -> None:
    tracker = IouTracker(max_gap_frames=5, min_frames=3)
    seen = [i for i in range(40) if not (10 <= i < 14) and not (20 <= i < 30)]
    for i in range(40):
        tracker.update(i, frame(person(100 + i, 100)) if i in seen else frame())
    tracks = tracker.finish()
    # The 4-frame gap is bridged; the 10-frame gap (over max_gap_frames) is not.
    assert [t.frames[0] for t in tracks] == [0, 30]
    assert len(tracks[0]) == 16 and len(tracks[1]) == 10
    assert [t.id for t in tracks] == [1, 2]


def test_flicker_shorter_than_min_frames_is_dropped() -> None:
    tracker = IouTracker(min_frames=5)
    for i in range(30):
        people = [person(100, 100)] + ([person(600, 100, 40)] if i in (7, 8) else [])
        tracker.update(i, frame(*people))
    assert [len(t) for t in tracker.finish()] == [30]


def test_rider_is_the_person_on_screen_longest_and_largest() -> None:
    tracker = IouTracker(min_frames=3)
    for i in range(30):
        people = [person(50 + 5 * i, 100, 200)]
        if i < 10:
            people.append(person(600, 100, 220))  # bigger, but only a third of the time
        tracker.update(i, frame(*people))
    tracks = tracker.finish()
    rider = pick_rider(tracks)
    assert rider == next(t.id for t in tracks if len(t) == 30)
    assert [t.is_rider for t in tracks].count(True) == 1
    assert pick_rider([]) is None


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"min_iou": 0.0}, "min_iou"), ({"max_gap_frames": -1}, "max_gap_frames"), ({"min_frames": 0}, "min_frames")],
)
def test_bad_arguments_name_themselves(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        IouTracker(**kwargs)  # type: ignore[arg-type]
