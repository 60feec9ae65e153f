"""Synthetic tricks rendered small and analysed end to end, once per session and shared by the tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pose_service.config import Settings

SIZE = 256  # measured: at 256x256 spins, flips and flights come out as at 480x480 (bench/analysis_accuracy.py)


@pytest.fixture(scope="session")
def analyzed_trick(
    session_dir: Path, settings: Settings
) -> Callable[[str, str], tuple[dict[str, Any], dict[str, Any]]]:
    """analyzed_trick(spec, view) -> (result.json, truth.json) of a 256x256, 30 fps clip, made once."""
    from pose_service.pipeline import AnalyzeOptions, analyze
    from pose_service.synth import parse_trick, render_clip

    cache: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {}

    def make(spec: str, view: str) -> tuple[dict[str, Any], dict[str, Any]]:
        if (spec, view) not in cache:
            name = f"trick_{spec.replace('+', '_')}_{view}"
            clip = session_dir / f"{name}.mp4"
            truth = render_clip(
                parse_trick(spec), clip, width=SIZE, height=SIZE, fps=30.0, view=view,
                anny_cache_dir=settings.anny_cache_dir,
            )  # fmt: skip
            outcome = analyze(clip, out_dir=session_dir / f"{name}_pose", options=AnalyzeOptions(mesh=False),
                              settings=settings)  # fmt: skip
            cache[spec, view] = (outcome.result, json.loads(Path(truth).read_text()))
        return cache[spec, view]

    return make


# BlazePose index of each COCO joint of the synthetic body's truth (the points BlazePose has and COCO has not
# take the nearest COCO joint: mouth from the nose, inner and outer eyes from the eye, hands from the wrist,
# heels and toes from the ankle).
_BLAZEPOSE_FROM_COCO = {
    0: "nose", 1: "left_eye", 2: "left_eye", 3: "left_eye", 4: "right_eye", 5: "right_eye", 6: "right_eye",
    7: "left_ear", 8: "right_ear", 9: "nose", 10: "nose", 11: "left_shoulder", 12: "right_shoulder",
    13: "left_elbow", 14: "right_elbow", 15: "left_wrist", 16: "right_wrist", 17: "left_wrist", 18: "right_wrist",
    19: "left_wrist", 20: "right_wrist", 21: "left_wrist", 22: "right_wrist", 23: "left_hip", 24: "right_hip",
    25: "left_knee", 26: "right_knee", 27: "left_ankle", 28: "right_ankle", 29: "left_ankle", 30: "right_ankle",
    31: "left_ankle", 32: "right_ankle",
}  # fmt: skip
TRUTH_PX_PER_M = 100.0


@pytest.fixture(scope="session")
def truth_body(settings: Settings) -> Callable[..., dict[str, Any]]:
    """truth_body(spec, view) -> {"times", "keypoints_2d", "keypoints_3d", "trick", "timeline"}: the synthetic
    generator's Anny body posed for the trick (no video rendered), its joints in BlazePose's layout: 3D in metres
    about the mid-hip (x right, y up, z towards the camera, as the pose model gives them), 2D seen orthographically
    at 100 px per metre in a 480x480 picture with visibility 1. Made once per (spec, view)."""
    from pose_service.synth import parse_trick
    from pose_service.synth.body import JOINT_NAMES, load_rider, pose_body
    from pose_service.synth.motion import make_motion, make_timeline

    cache: dict[tuple[str, str], dict[str, Any]] = {}
    riders: list[Any] = []

    def make(spec: str, view: str = "front") -> dict[str, Any]:
        if (spec, view) not in cache:
            if not riders:
                riders.append(load_rider(settings.anny_cache_dir, 0))
            rider = riders[0]
            trick = parse_trick(spec)
            timeline = make_timeline(trick, 30.0)
            motion = make_motion(trick, timeline, bone_labels=rider.bone_labels, rest_heads=rider.rest_heads,
                                 view=view, speed_m_s=2.0)  # fmt: skip
            joints = pose_body(rider, motion).joints
            index = [JOINT_NAMES.index(_BLAZEPOSE_FROM_COCO[k]) for k in range(33)]
            world = joints[:, index]
            mid_hip = (world[:, 23] + world[:, 24]) / 2
            kp3d = world - mid_hip[:, None]
            x = 240.0 + TRUTH_PX_PER_M * (world[..., 0] - mid_hip[:, None, 0].mean())
            y = 420.0 - TRUTH_PX_PER_M * world[..., 1]
            kp2d = np.stack([x, y, np.ones_like(x)], axis=-1)
            cache[spec, view] = {"times": timeline.times, "keypoints_2d": kp2d, "keypoints_3d": kp3d, "trick": trick,
                                 "timeline": timeline}  # fmt: skip
        return cache[spec, view]

    return make
