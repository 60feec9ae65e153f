"""The synthetic tracking scenes: what the truth says matches what was rendered (the tracker's scores on
them, which need the pose model on every frame, are in `bench/tracking.py --scenes`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pose_service.config import Settings
from pose_service.errors import BadOption
from pose_service.synth.scenes import render_scene
from pose_service.video import VideoReader, probe


def test_unknown_scene_is_a_bad_option(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(BadOption, match="unknown scene 'dive'"):
        render_scene("dive", tmp_path / "x.mp4", anny_cache_dir=settings.anny_cache_dir)


def test_reentry_leaves_the_frame_for_less_than_two_seconds(tmp_path: Path, settings: Settings) -> None:
    clip = tmp_path / "reentry.mp4"
    truth_path = render_scene("reentry", clip, width=160, height=120, anny_cache_dir=settings.anny_cache_dir)
    truth = json.loads(truth_path.read_text())
    (person,) = truth["people"]
    kp = np.array(person["keypoints_2d"], dtype=float)
    info = probe(clip)
    frames = [f.rgb for f in VideoReader(info)]
    assert len(frames) == kp.shape[0] == truth["video"]["frame_count"]
    absent = ~np.isfinite(kp).all(axis=(1, 2))
    gone = np.flatnonzero(absent)
    # One stretch out of sight, with the rider on screen before and after it.
    assert len(gone) and np.all(np.diff(gone) == 1)
    assert gone[0] > 0 and gone[-1] < len(absent) - 1
    assert 0.5 <= len(gone) / info.fps < 2.0
    # The picture agrees: mid-way through the stretch the snow is empty (two frames alike, the camera
    # stands still), and a frame with the rider differs from it.
    mid = int(gone[len(gone) // 2])
    empty = frames[mid].astype(int)
    assert np.abs(frames[mid + 1].astype(int) - empty).max() < 40
    assert np.abs(frames[int(np.flatnonzero(~absent)[0])].astype(int) - empty).max() > 80
