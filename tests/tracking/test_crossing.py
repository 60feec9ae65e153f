"""Two riders crossing (`render_crossing`, its default scene: two different people), through the real pose
model and the tracker, scored against the rendered truth. About a minute here (render 40 s, pose model)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from pose_service.config import Settings
from pose_service.pose import PoseLandmarkerBackend, ensure_bundle
from pose_service.skeleton import KEYPOINT_NAMES, Poses
from pose_service.synth.crossing import SECOND_RIDER_RGB, render_crossing
from pose_service.synth.render import PART_RGB
from pose_service.tracking import PoseTracker, Track, TrackerConfig
from pose_service.tracking.evaluate import identity_scores
from pose_service.tracking.search import look_again
from pose_service.video import VideoReader, probe


@pytest.fixture(scope="session")
def crossing(
    tmp_path_factory: pytest.TempPathFactory, settings: Settings
) -> tuple[dict[str, Any], list[Track], list, Any, list[Poses]]:  # type: ignore[type-arg]
    """(truth, tracks, frames, probe, given) of the crossing at its default 480x480, tracked as `analyze` does:
    the pose model on each frame and again on a crop around each lost track (`look_again`). The probe: at
    frame 60, (people the whole frame's detector reports, people a crop around the far rider holds). `given`:
    the detections the tracker was given, per frame."""
    clip = tmp_path_factory.mktemp("crossing") / "crossing.mp4"
    truth = json.loads(render_crossing(clip, anny_cache_dir=settings.anny_cache_dir).read_text())
    info = probe(clip)
    tracker = PoseTracker(info.fps, _config(info.fps))
    frames, whole, given = [], {}, []
    with PoseLandmarkerBackend(ensure_bundle(settings.models_dir), num_poses=4) as backend, VideoReader(info) as r:
        for frame in r:
            detected = backend.detect(frame.rgb, frame.time_s)
            whole[frame.index] = detected
            given.append(look_again(backend, tracker, frame.rgb, detected))
            tracker.update(frame.index, given[-1], rgb=frame.rgb, time_s=frame.time_s)
            frames.append(frame.rgb)
        far = np.array(truth["people"][1]["keypoints_2d"], dtype=float)[60]
        centre, side = far.mean(axis=0), 1.6 * float(np.ptp(far[:, 1]))
        found = backend.detect_region(frames[60], np.r_[centre - side / 2, centre + side / 2])
    return truth, tracker.finish(), frames, (whole[60], found), given


def _config(fps: float) -> TrackerConfig:
    return TrackerConfig(min_frames=max(3, round(fps * 0.15)))


def _torso_colour(rgb: np.ndarray, kp: np.ndarray, names: list[str]) -> np.ndarray:
    """Median colour of a small patch between the shoulders and the hips."""
    idx = [names.index(n) for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")]
    x, y = np.round(kp[idx].mean(axis=0)).astype(int)
    return np.median(rgb[y - 3 : y + 4, x - 3 : x + 4].reshape(-1, 3), axis=0)


def test_the_two_riders_are_different_people(crossing) -> None:  # type: ignore[no-untyped-def]
    truth, _, frames, _, _ = crossing
    names = truth["joint_names"]
    near, far = (np.array(p["keypoints_2d"], dtype=float) for p in truth["people"])
    # In the first frame they are apart: each wears its own jacket (lit or shaded, the hue tells them apart).
    for person, jacket in ((near, PART_RGB["jacket"]), (far, SECOND_RIDER_RGB["jacket"])):
        colour = _torso_colour(frames[0], person[0], names)
        hue = colour / max(colour.sum(), 1.0)
        assert np.abs(hue - np.array(jacket) / sum(jacket)).max() < 0.08, (colour, jacket)
    # Where the near rider covers more than half of the far one's joints, the far one is out of the truth.
    hidden = truth["people"][1]["hidden_frames"]
    assert 0 < len(hidden) < 10 and not np.isfinite(far[hidden]).any() and np.isfinite(far[0]).all()
    assert truth["people"][0]["hidden_frames"] == [] and np.isfinite(near).all()
    # They ride opposite ways and cross: the near one starts on the left, the far one on the right.
    assert near[0, :, 0].mean() < far[0, :, 0].mean() and near[-1, :, 0].mean() > far[-1, :, 0].mean()
    assert np.ptp(near[0, :, 1]) > 1.2 * np.ptp(far[0, :, 1])  # the far one is further and smaller


def test_each_rider_keeps_one_id_through_the_crossing(crossing) -> None:  # type: ignore[no-untyped-def]
    truth, tracks, _, _, _ = crossing
    people = [np.array(p["keypoints_2d"], dtype=float) for p in truth["people"]]
    scores = identity_scores(people, truth["joint_names"], tracks)
    assert scores.id_switches == 0
    assert len([t for t in tracks if len(t) >= 10]) == 2, [len(t) for t in tracks]
    # With the second look (a crop around the lost far rider, the near one painted over) the far rider is
    # missed for 12 frames while mostly behind the near one (2 of them hidden, out of the truth), longer than
    # interpolation may fill. Measured IDF1 0.971 (0.877 with no second look, 0.939 without painting over).
    assert scores.idf1 >= 0.95, scores
    assert scores.mota >= 0.9, scores


def test_a_crop_finds_the_rider_the_whole_frame_missed(crossing) -> None:  # type: ignore[no-untyped-def]
    truth, _, _, (whole, found), _ = crossing
    names = truth["joint_names"]
    far = np.array(truth["people"][1]["keypoints_2d"], dtype=float)[60]
    ours = [KEYPOINT_NAMES.index(n) for n in names[:17]]

    def near_far(poses) -> bool:  # type: ignore[no-untyped-def]
        gaps = np.linalg.norm(poses.keypoints_2d[:, ours, :2] - far[None, :17], axis=2).mean(axis=1)
        return bool((gaps < 0.3 * np.ptp(far[:, 1])).any())

    # In whole-frame pixels, on the far rider; the whole frame's detector passed over them (BlazePose finds
    # the bigger near rider only).
    assert near_far(found)
    assert not near_far(whole)


def _who(truth: dict[str, Any], poses: Poses, frame: int) -> list[int]:
    """Which true person (0 near, 1 far, -1 nobody in sight) each detection of `frame` is, by keypoint distance."""
    names = truth["joint_names"]
    ours = [KEYPOINT_NAMES.index(n) for n in names[:17]]
    out = []
    for kp in poses.keypoints_2d:
        gaps = [float(np.linalg.norm(kp[ours, :2] - np.array(p["keypoints_2d"], dtype=float)[frame, :17], axis=1).mean())
                for p in truth["people"]]  # fmt: skip
        gaps = [g if np.isfinite(g) else np.inf for g in gaps]
        out.append(int(np.argmin(gaps)) if np.isfinite(min(gaps)) else -1)
    return out


def _perturbed(truth: dict[str, Any], given: list[Poses], how: str) -> list[Poses]:
    """The detections the tracker was given, changed a little, as another CPU or another clip would change them."""
    rng = np.random.default_rng(3)
    hidden = truth["people"][1]["hidden_frames"]
    out = []
    for f, poses in enumerate(given):
        kp2, kp3, score = poses.keypoints_2d.copy(), poses.keypoints_3d.copy(), poses.score.copy()
        who = _who(truth, poses, f)
        keep = np.ones(len(poses), dtype=bool)
        if how == "noise":  # every keypoint moved by 2 % of the person's height, the scores shaken
            for i in range(len(poses)):
                kp2[i, :, :2] += rng.normal(0.0, 0.02 * float(np.ptp(kp2[i, :, 1])), (33, 2))
            score = np.clip(score + rng.normal(0.0, 0.05, len(score)), 0.0, 1.0).astype(np.float32)
        elif how == "near missed before the crossing":  # the detector misses the near rider for 4 frames
            keep &= ~((np.array(who) == 0) & (min(hidden) - 20 <= f < min(hidden) - 16))
        elif how == "dropped frames":  # a frame with nobody, every tenth frame
            keep &= f % 10 != 5
        elif how == "merged box" and min(hidden) - 6 <= f < min(hidden) and 0 in who and 1 in who:
            # As they meet, one detection spans both: the near one's hand on the far one, the far one not found.
            near, far = who.index(0), who.index(1)
            kp2[near, [15, 17, 19, 21]] = kp2[far, [15, 17, 19, 21]]
            keep[far] = False
        out.append(Poses(kp2[keep], kp3[keep], score[keep]))
    return out


@pytest.mark.parametrize(
    "how",
    [
        "noise",  # 2 % of the body height on every keypoint
        "near missed before the crossing",  # what one CPU's numerics did: the tracker of the far one took it
        "dropped frames",  # a frame without anybody every third of a second
        "merged box",  # one detection covering both riders as they meet
    ],
)
def test_ids_hold_when_the_detections_change_a_little(crossing, how: str) -> None:  # type: ignore[no-untyped-def]
    truth, _, frames, _, given = crossing
    tracker = PoseTracker(30.0, _config(30.0))
    for f, poses in enumerate(_perturbed(truth, given, how)):
        tracker.update(f, poses, rgb=frames[f], time_s=f / 30.0)
    tracks = tracker.finish()
    people = [np.array(p["keypoints_2d"], dtype=float) for p in truth["people"]]
    scores = identity_scores(people, truth["joint_names"], tracks)
    assert scores.id_switches == 0, (how, scores)
    assert len([t for t in tracks if len(t) >= 10]) == 2, [len(t) for t in tracks]
    assert scores.idf1 >= 0.85, scores
