"""The camera's motion read from the background (`CameraMotion`, composed frame to frame as the tracker does)
against the truth of rendered moving-camera clips (`render_clip(camera=...)`): the roll the picture makes, and the
moving-camera verdict of `analysis.camera` (a still camera is still, a rolling or panning follow-cam moves)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pose_service.analysis.camera import camera_around
from pose_service.config import Settings
from pose_service.synth import parse_trick, render_clip
from pose_service.tracking.camera_motion import CameraMotion
from pose_service.video import VideoReader, probe


@pytest.fixture(scope="session")
def camera_clips(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> dict[str, tuple[Path, dict[str, Any]]]:
    """kind -> (clip, truth) of a 256x256, 15 fps straight air, for a still, a rolling and a panning camera."""
    folder = tmp_path_factory.mktemp("camera_truth")
    out = {}
    for kind in ("still", "roll", "pan"):
        clip = folder / f"{kind}.mp4"
        truth = render_clip(parse_trick("straight"), clip, width=256, height=256, fps=15.0, camera=kind,
                            anny_cache_dir=settings.anny_cache_dir)  # fmt: skip
        out[kind] = (clip, json.loads(Path(truth).read_text()))
    return out


def _path(clip: Path, truth: dict[str, Any]) -> np.ndarray:
    """(n, 3, 3) the first frame's pixels carried to each frame's, the rider masked by the truth's box."""
    keypoints = np.array(truth["keypoints_2d"], dtype=float)[..., :2]
    motion, now, out, boxes = CameraMotion(), np.eye(3), [], np.zeros((0, 4))
    with VideoReader(probe(clip)) as reader:
        for frame in reader:
            now = np.vstack([motion.update(frame.rgb, boxes), [0.0, 0.0, 1.0]]) @ now
            out.append(now)
            kp = keypoints[frame.index]
            boxes = np.array([[*np.nanmin(kp, axis=0), *np.nanmax(kp, axis=0)]])
    return np.stack(out)


@pytest.mark.parametrize("kind", ["roll", "pan"])
def test_the_pictures_roll_follows_the_cameras(camera_clips, kind: str) -> None:  # type: ignore[no-untyped-def]
    clip, truth = camera_clips[kind]
    path = _path(clip, truth)
    read = np.degrees(np.arctan2(path[:, 1, 0], path[:, 0, 0]))  # clockwise positive in y-down pixels
    want = np.asarray(truth["camera_path"]["gravity_up_deg"], dtype=float)
    want = want - want[0]  # the truth's up turns with the picture (clockwise positive too)
    assert np.ptp(want) > 3.0  # the camera really rolls (measured 13.8° and 5.1°)
    assert np.max(np.abs(read - want)) < 2.5, (np.round(read, 1), np.round(want, 1))  # measured under 0.5°


def test_a_moving_camera_is_told_from_a_still_one(camera_clips) -> None:  # type: ignore[no-untyped-def]
    verdicts = {}
    for kind, (clip, truth) in camera_clips.items():
        jump = truth["jumps"][0]
        cam = camera_around(_path(clip, truth), np.asarray(truth["timestamps_s"]), takeoff_s=jump["takeoff_s"],
                            landing_s=jump["landing_s"], frame_size=(256, 256))  # fmt: skip
        assert cam is not None
        verdicts[kind] = cam.moving
    assert verdicts == {"still": False, "roll": True, "pan": True}, verdicts
