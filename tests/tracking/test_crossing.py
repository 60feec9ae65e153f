"""Two riders crossing (`render_crossing`, its default scene: two different people), through the real pose
model and the tracker, scored against the rendered truth. About a minute here (render 40 s, pose model)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from pose_service.config import Settings
from pose_service.pose import PoseLandmarkerBackend, ensure_bundle
from pose_service.synth.crossing import SECOND_RIDER_RGB, render_crossing
from pose_service.synth.render import PART_RGB
from pose_service.tracking import PoseTracker, Track, TrackerConfig
from pose_service.tracking.evaluate import identity_scores
from pose_service.video import VideoReader, probe


@pytest.fixture(scope="session")
def crossing(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> tuple[dict[str, Any], list[Track], list]:  # type: ignore[type-arg]
    """(truth, tracks, frames) of the crossing at its default 480x480."""
    clip = tmp_path_factory.mktemp("crossing") / "crossing.mp4"
    truth = json.loads(render_crossing(clip, anny_cache_dir=settings.anny_cache_dir).read_text())
    info = probe(clip)
    tracker = PoseTracker(info.fps, TrackerConfig(min_frames=max(3, round(info.fps * 0.15))))
    frames = []
    with PoseLandmarkerBackend(ensure_bundle(settings.models_dir), num_poses=4) as backend, VideoReader(info) as r:
        for frame in r:
            tracker.update(frame.index, backend.detect(frame.rgb, frame.time_s), rgb=frame.rgb, time_s=frame.time_s)
            frames.append(frame.rgb)
    return truth, tracker.finish(), frames


def _torso_colour(rgb: np.ndarray, kp: np.ndarray, names: list[str]) -> np.ndarray:
    """Median colour of a small patch between the shoulders and the hips."""
    idx = [names.index(n) for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")]
    x, y = np.round(kp[idx].mean(axis=0)).astype(int)
    return np.median(rgb[y - 3 : y + 4, x - 3 : x + 4].reshape(-1, 3), axis=0)


def test_the_two_riders_are_different_people(crossing) -> None:  # type: ignore[no-untyped-def]
    truth, _, frames = crossing
    names = truth["joint_names"]
    near, far = (np.array(p["keypoints_2d"], dtype=float) for p in truth["people"])
    # In the first frame they are apart: each wears its own jacket (lit or shaded, the hue tells them apart).
    for person, jacket in ((near, PART_RGB["jacket"]), (far, SECOND_RIDER_RGB["jacket"])):
        colour = _torso_colour(frames[0], person[0], names)
        hue = colour / max(colour.sum(), 1.0)
        assert np.abs(hue - np.array(jacket) / sum(jacket)).max() < 0.08, (colour, jacket)
    # They ride opposite ways and cross: the near one starts on the left, the far one on the right.
    assert near[0, :, 0].mean() < far[0, :, 0].mean() and near[-1, :, 0].mean() > far[-1, :, 0].mean()


def test_each_rider_keeps_one_id_through_the_crossing(crossing) -> None:  # type: ignore[no-untyped-def]
    truth, tracks, _ = crossing
    people = [np.array(p["keypoints_2d"], dtype=float) for p in truth["people"]]
    scores = identity_scores(people, truth["joint_names"], tracks)
    assert scores.id_switches == 0
    assert len([t for t in tracks if len(t) >= 10]) == 2, [len(t) for t in tracks]
    # The pose model loses the far rider while the two overlap (about 1.3 s at 480x480; BlazePose reports
    # one person there, see bench/tracking.py --scenes): that gap, longer than interpolation may fill, is
    # what keeps IDF1 below 1. Measured 0.877.
    assert scores.idf1 >= 0.85, scores
