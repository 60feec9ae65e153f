"""The ground truth written beside a synthetic clip (`clip.truth.json`, schema_version 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from pose_service.synth.body import JOINT_NAMES, PosedBody
from pose_service.synth.motion import Timeline
from pose_service.synth.render import Camera
from pose_service.synth.spec import TrickSpec

__all__ = ["build_truth", "write_truth", "truth_path_for", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1
_DECIMALS = 5


def truth_path_for(video: Path) -> Path:
    """clip.mp4 -> clip.truth.json, beside it."""
    return video.with_suffix(".truth.json")


def _r(values: Any) -> Any:
    """Plain nested lists of floats rounded to 1e-5."""
    return np.round(np.asarray(values, dtype=np.float64), _DECIMALS).tolist()


def build_truth(
    *,
    video: Path,
    trick: TrickSpec,
    timeline: Timeline,
    camera: Camera,
    body: PosedBody,
    view: str,
    seed: int,
) -> dict[str, Any]:
    """The truth document: video block, the jump, joints in 3D (world) and 2D (pixels), the camera."""
    n = timeline.frame_count
    fps = round(float(timeline.fps), _DECIMALS)
    keypoints_2d = camera.project(body.joints)
    pose = {"R": _r(camera.R), "t": _r(camera.t)}
    jump = {
        "takeoff_s": round(timeline.takeoff_s, _DECIMALS),
        "landing_s": round(timeline.landing_s, _DECIMALS),
        "air_time_s": round(trick.air_time_s, _DECIMALS),
        "spin_deg": trick.spin_deg,
        "spin_direction": trick.spin_direction,
        "flip_deg": trick.flip_deg,
        "flip_direction": trick.flip_direction,
        "takeoff_frame": timeline.takeoff_frame,
        "landing_frame": timeline.landing_frame,
        "explanation": trick.explanation(),
        "drop_m": trick.drop_m,
    }
    return {
        "schema_version": SCHEMA_VERSION,
        "video": {
            "name": video.name,
            "width": camera.width,
            "height": camera.height,
            "fps": fps,
            "frame_count": n,
            "duration_s": round(timeline.duration_s, _DECIMALS),
            "rotation_deg": 0,
            "codec": "h264",
        },
        "fps": fps,
        "trick": trick.to_dict(),
        "view": view,
        "seed": seed,
        "jumps": [jump] if trick.jumps else [],  # the no-jump clips (ride, crouch) have none
        "timestamps_s": _r(timeline.times),
        "joint_names": list(JOINT_NAMES),
        "joints_3d": _r(body.joints),
        "keypoints_2d": _r(keypoints_2d),
        "root_3d": _r(body.root),
        "camera": {
            "intrinsics": camera.intrinsics(),
            "world_to_camera": [pose] * n,
        },
        "conventions": (
            "world: metres, y up, right-handed, the rider travels along +x, the camera looks along -z; "
            "camera: OpenCV (x right, y down, z forward), p_cam = R p_world + t; "
            "pixels: OpenCV, pixel centres at integer coordinates; "
            "spin: about +y, left = counter-clockwise seen from above; "
            "flip: about the rider's left-right axis, front = head forward first"
        ),
    }


def write_truth(path: Path, truth: dict[str, Any]) -> Path:
    """Write the document atomically (a reader never sees half a file)."""
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(truth, separators=(",", ":")))
    tmp.replace(path)
    return path
