"""PoseTracker on keypoint sequences built from numbers: crossings, gaps, re-entry, swaps, states."""

from __future__ import annotations

import numpy as np
import pytest

from pose_service.tracking import PoseTracker, TrackerConfig, TrackState
from pose_service.tracking.distances import FLIP_INDEX
from tests.tracking.bodies import frame, person

FPS = 30.0


def run(frames: list, config: TrackerConfig | None = None):  # type: ignore[no-untyped-def]
    tracker = PoseTracker(FPS, config or TrackerConfig(smoothing=None))
    for i, poses in enumerate(frames):
        tracker.update(i, poses)
    return tracker.finish()


def test_flip_index_exchanges_every_left_right_pair() -> None:
    assert sorted(FLIP_INDEX) == list(range(33))
    assert np.array_equal(FLIP_INDEX[FLIP_INDEX], np.arange(33))
    assert FLIP_INDEX[11] == 12 and FLIP_INDEX[0] == 0 and FLIP_INDEX[7] == 8 and FLIP_INDEX[31] == 32


def test_two_people_crossing_keep_their_ids() -> None:
    # A walks right, B walks left, one passing in front of the other: in the 6 frames where they overlap
    # most, the pose model sees only the one in front (A).
    seq = []
    for i in range(60):
        a, b = person(100 + 8 * i, 300), person(572 - 8 * i, 310, 190)
        hidden = 26 <= i < 32
        seq.append(frame(a) if hidden else frame(b, a) if i % 2 else frame(a, b))
    tracks = run(seq)
    assert len(tracks) == 2
    for t in tracks:
        hip_x = t.keypoints_2d[:, 23, 0]
        steps = np.sign(np.diff(hip_x))
        # Each track moves one way all along: never handed over to the other person.
        assert abs(steps.mean()) == 1.0, steps
    b = next(t for t in tracks if t.keypoints_2d[0, 23, 0] > 300)
    assert len(b) == 60 and b.interpolated.sum() == 6


def test_short_gap_is_interpolated_and_marked() -> None:
    seq = [frame(person(100 + 4 * i, 300)) if not 20 <= i < 25 else frame() for i in range(50)]
    (t,) = run(seq)
    assert list(t.frames) == list(range(50))
    assert list(np.flatnonzero(t.interpolated)) == [20, 21, 22, 23, 24]
    # Filled on the straight line between the frames either side.
    assert t.keypoints_2d[22, 23, 0] == pytest.approx(100 + 4 * 22 + 0.11 * 200, abs=0.5)


@pytest.mark.parametrize(
    ("missing", "same_track", "interpolated"),
    [
        (9, True, 9),  # 0.3 s: re-found and filled in
        (10, True, 0),  # just over 0.3 s: re-found, the gap left empty
        (45, True, 0),  # 1.5 s: re-found within the 2 s default
        (75, False, 0),  # 2.5 s: the old track was removed; a new id
    ],
)
def test_gap_lengths(missing: int, same_track: bool, interpolated: int) -> None:
    seq = [frame(person(200 + i, 300)) for i in range(20)]
    seq += [frame()] * missing
    seq += [frame(person(220 + i, 300)) for i in range(20)]
    tracks = run(seq)
    assert len(tracks) == (1 if same_track else 2)
    assert sum(int(t.interpolated.sum()) for t in tracks) == interpolated
    assert sum(len(t) for t in tracks) == 40 + interpolated
    assert [t.id for t in tracks] == list(range(1, len(tracks) + 1))


def test_re_entry_time_is_configurable() -> None:
    seq = [frame(person(200, 300)) for _ in range(20)] + [frame()] * 45 + [frame(person(210, 300))] * 20
    assert len(run(seq, TrackerConfig(max_lost_s=1.0, smoothing=None))) == 2


def test_ids_are_never_reused_and_states_progress() -> None:
    tracker = PoseTracker(FPS, TrackerConfig(smoothing=None))
    seen_states: dict[int, list[TrackState]] = {}
    uids: list[int] = []
    for i in range(200):
        # One person on and off screen: 20 frames in, 80 frames out (past the 2 s re-find window).
        poses = frame(person(300, 300)) if i % 100 < 20 else frame()
        tracker.update(i, poses)
        for uid, state in tracker.states.items():
            seen_states.setdefault(uid, []).append(state)
            if uid not in uids:
                uids.append(uid)
    assert uids == sorted(uids) and len(uids) == 2
    first = seen_states[uids[0]]
    assert first[0] is TrackState.TENTATIVE and TrackState.CONFIRMED in first and first[-1] is TrackState.LOST
    assert uids[0] not in tracker.states  # removed for good
    tracks = tracker.finish()
    assert [t.id for t in tracks] == [1, 2]
    assert [t.extras["tracker_uid"] for t in tracks] == uids


def test_weak_and_fleeting_detections_open_no_track() -> None:
    seq = []
    for i in range(30):
        people = [person(100, 300)]
        if i in (7, 8):
            people.append(person(500, 300))  # two frames: never confirmed
        seq.append(frame(*people))
    seq += [frame(person(100, 300), person(400, 300))]
    assert len(run(seq)) == 1
    weak = [frame(person(100, 300), score=0.3) for _ in range(20)]
    assert run(weak) == []


def test_a_left_right_swap_inside_a_track_is_repaired() -> None:
    seq = []
    for i in range(40):
        kp = person(200 + 2 * i, 300)
        if 15 <= i < 20:
            kp = kp[FLIP_INDEX]  # the model read the body the wrong way round for 5 frames
        seq.append(frame(kp))
    (t,) = run(seq)
    assert t.extras["swaps_repaired"] == 5
    left_shoulder_x = t.keypoints_2d[:, 11, 0]
    assert np.all(np.diff(left_shoulder_x) == pytest.approx(2.0, abs=0.01))
    (raw,) = run(seq, TrackerConfig(fix_swaps=False, smoothing=None))
    assert raw.extras["swaps_repaired"] == 0 and np.ptp(np.diff(raw.keypoints_2d[:, 11, 0])) > 50


def test_a_person_turning_round_is_not_swapped() -> None:
    # The shoulders narrow to nothing and widen the other way round: a real turn, continuous.
    seq = []
    for i in range(60):
        kp = person(300, 300)
        kp[11:33, 0] = 300 + (kp[11:33, 0] - 300) * np.cos(np.pi * i / 59)
        seq.append(frame(kp))
    (t,) = run(seq)
    assert t.extras["swaps_repaired"] == 0


def test_smoothing_removes_jitter_without_delay() -> None:
    rng = np.random.default_rng(0)
    n = 90
    # Hips rise and fall once (a jump), plus 3 px of jitter.
    lift = 150 * np.exp(-(((np.arange(n) - 45) / 8.0) ** 2))
    seq = []
    for i in range(n):
        kp = person(300, 400 - lift[i])
        kp[:, :2] += rng.normal(0, 3, size=(33, 2))
        seq.append(frame(kp))
    (smooth,) = run(seq, TrackerConfig())
    (raw,) = run(seq)
    truth = 400 - lift + 0.0
    err_raw = np.abs(raw.keypoints_2d[:, 23, 1] - truth).mean()
    err_smooth = np.abs(smooth.keypoints_2d[:, 23, 1] - truth).mean()
    assert err_smooth < 0.7 * err_raw
    assert abs(int(np.argmin(smooth.keypoints_2d[:, 23, 1])) - 45) <= 1


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_init": 0}, "n_init"),
        ({"max_lost_s": -1.0}, "max_lost_s"),
        ({"gate_base": 0.0}, "gate_base"),
        ({"colour_gate": 1.5}, "colour_gate"),
        ({"max_interp_s": 3.0}, "max_interp_s"),
    ],
)
def test_bad_config_names_the_argument(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        TrackerConfig(**kwargs)  # type: ignore[arg-type]


def test_frames_must_increase() -> None:
    tracker = PoseTracker(FPS)
    tracker.update(3, frame())
    with pytest.raises(ValueError, match="increase"):
        tracker.update(3, frame())
    with pytest.raises(ValueError, match="fps"):
        PoseTracker(0.0)


def test_tracks_carry_the_cameras_path_for_every_frame() -> None:
    """A camera panning right at 4 px per frame over a textured slope, following the rider (who stays at the
    picture's centre): the tracks' camera path reads the content moving left by 4 px per frame, so the rider's
    travel over the ground (image x minus the path) is recovered."""
    import cv2

    rng = np.random.default_rng(1)
    n, w, h, step = 40, 320, 240, 4
    slope = cv2.GaussianBlur(rng.integers(0, 255, (h, w + step * n), dtype=np.uint8), (5, 5), 0)
    tracker = PoseTracker(FPS, TrackerConfig(smoothing=None))
    for i in range(n):
        rgb = np.repeat(slope[:, step * i : step * i + w, None], 3, axis=2)
        tracker.update(i, frame(person(160, 200, 120)), rgb=np.ascontiguousarray(rgb))
    (track,) = tracker.finish()
    path = track.extras["camera_path_x"]
    assert isinstance(path, np.ndarray) and path.shape == (n,)
    assert path[0] == pytest.approx(0.0, abs=0.5)
    assert np.allclose(path, -step * np.arange(n), atol=0.5 + 0.02 * step * np.arange(n)), path
    hip_x = track.keypoints_2d[:, 23, 0] - path[track.frames]
    assert np.polyfit(np.arange(n), hip_x, 1)[0] == pytest.approx(step, rel=0.05)  # the rider goes right


def test_the_cameras_path_holds_its_tilt_and_roll() -> None:
    """The content turning about the picture's centre by 0.5° a frame and sliding down 2 px a frame (a follow-cam
    that rolls and tilts): the path's similarity carries the first frame's pixels onto each frame's."""
    import cv2

    rng = np.random.default_rng(2)
    n, w, h = 20, 320, 240
    slope = cv2.GaussianBlur(rng.integers(0, 255, (3 * h, 3 * w), dtype=np.uint8), (5, 5), 0)
    tracker = PoseTracker(FPS, TrackerConfig(smoothing=None))
    for i in range(n):
        m = cv2.getRotationMatrix2D((1.5 * w, 1.5 * h), 0.5 * i, 1.0)
        m[1, 2] += 2.0 * i
        turned = cv2.warpAffine(slope, m, (3 * w, 3 * h))[h : 2 * h, w : 2 * w]
        rgb = np.ascontiguousarray(np.repeat(turned[:, :, None], 3, axis=2))
        tracker.update(i, frame(person(160, 200, 60)), rgb=rgb)
    (track,) = tracker.finish()
    path = track.extras["camera_path"]
    assert isinstance(path, np.ndarray) and path.shape == (n, 3, 3)
    roll = np.degrees(np.arctan2(path[:, 1, 0], path[:, 0, 0]))
    # cv2's positive angle turns the content counter-clockwise on screen, which is clockwise in y-down pixels.
    assert np.allclose(np.abs(roll), 0.5 * np.arange(n), atol=0.3), roll
    centre = path @ np.array([w / 2, h / 2, 1.0])
    assert np.allclose(centre[:, 1] - h / 2, 2.0 * np.arange(n), atol=1.0 + 0.05 * np.arange(n)), centre


def test_no_frame_pixels_no_camera_path() -> None:
    (track,) = run([frame(person(100 + 4 * i, 300)) for i in range(20)])
    assert "camera_path_x" not in track.extras and "camera_path" not in track.extras
