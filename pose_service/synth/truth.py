"""The ground truth written beside a synthetic clip (`clip.truth.json`, schema_version 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from pose_service.synth.body import JOINT_NAMES, PosedBody
from pose_service.synth.camera_path import CameraPath
from pose_service.synth.grab import display_name
from pose_service.synth.motion import Timeline, travel_sign
from pose_service.synth.render import Camera
from pose_service.synth.spec import TrickSpec

__all__ = ["build_truth", "write_truth", "truth_path_for", "expected_block", "trick_name", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1
_DECIMALS = 5
BIG_OFFSET_DEG = 60.0  # a spin landed more than this short or past (finished on the snow) counts as sketchy
MIN_RIDER_PX = 60.0  # the scoring gate: a rider smaller than this (median height) cannot be scored


def _judge(total: float, step: float) -> int:
    return int(step * round(abs(total) / step))


def trick_name(trick: TrickSpec, view: str) -> str | None:
    """The name riders give the trick in the clip, from the spec (this module's own reading of issue 11's naming
    table; the analysis names what it measures with its own code). None for a clip with no jump.

    spin only: "{frontside|backside} N"; ridden switch: "cab N" (frontside), "switch backside N".
    flip only: "backflip", "double frontflip"; roll only: "wildcat", "double tamedog".
    a flip or roll with a spin of 180 or more: backflip -> "{side} rodeo N", else "{side} cork N"; two flips or
    rolls: "{side} double cork N"; ridden switch: "switch {side} cork N". No rotation: "straight air". A spin about
    an axis tilted past 45 degrees counts its turns as flips or rolls too (`TrickSpec.counted_flip`, `counted_roll`).
    Frontside: the spin to the left (counter-clockwise from above) with the left foot leading, to the right with
    the right foot leading.
    """
    if not trick.jumps:
        return None
    (flip_deg, flip_direction), (roll_deg, roll_direction) = trick.counted_flip(), trick.counted_roll(view)
    spin, flip, roll = _judge(trick.spin_deg, 180.0), _judge(flip_deg, 360.0), _judge(roll_deg, 360.0)
    left_leads = trick.riding_stance(view) != "goofy"
    side = "frontside" if (trick.spin_direction == "left") == left_leads else "backside"
    turns = max(flip, roll) // 360
    double = "double " if turns == 2 else ("triple " if turns == 3 else "")
    if spin >= 180 and turns:
        shape = "rodeo" if flip and flip_direction == "back" and turns == 1 else "cork"
        name = f"{side} {double}{shape} {spin}"
        return f"switch {name}" if trick.switch else name
    if turns:
        kind = (flip_direction or "") + "flip" if flip else (roll_direction or "")
        return f"{double}{kind}"
    if spin < 90:
        return "straight air"
    if trick.switch:
        return f"cab {spin}" if side == "frontside" else f"switch backside {spin}"
    return f"{side} {spin}"


def expected_block(
    trick: TrickSpec, view: str, trick_override: str | None = None, *, rider_px: float | None = None
) -> dict[str, Any]:
    """What the trick report should say about the clip (issue 11's contract): name, stance, switch, landing grade,
    whether it can be scored (and why not), and the true rotation per axis. `trick_override`: the name written
    by hand in a suite's table (used instead of `trick_name`). rider_px: the rendered rider's median height in
    pixels; under `MIN_RIDER_PX` the clip cannot be scored (a small frame makes a tiny rider too)."""
    name = trick_override if trick_override is not None else trick_name(trick, view)
    reason = None
    if not trick.jumps:
        reason = "no jump"
    elif trick.visibility == "tiny" or (rider_px is not None and rider_px < MIN_RIDER_PX):
        reason = "rider too small"
    elif trick.visibility == "hidden":
        reason = "rider hidden"
    landing = None
    if trick.jumps:
        landing = trick.landing
        if landing == "stomped" and abs(trick.spin_offset_deg) > BIG_OFFSET_DEG:
            landing = "sketchy"
    (flip_deg, flip_direction), (roll_deg, roll_direction) = trick.counted_flip(), trick.counted_roll(view)
    # an off-axis spin's inversions count as its flips or rolls (`TrickSpec.off_axis_turns`)
    # after_landing_deg: the spin still turning on the snow, positive the same way as in the air (a spin landed
    # short and finished), negative turning back (landed past)
    rotation = {
        "spin": {"nominal_deg": _judge(trick.spin_deg, 180.0), "measured_deg": trick.spin_in_air_deg,
                 "direction": trick.spin_direction, "after_landing_deg": -trick.spin_offset_deg + 0.0},
        "flip": {"nominal_deg": _judge(flip_deg, 360.0), "measured_deg": flip_deg, "direction": flip_direction},
        "roll": {"nominal_deg": _judge(roll_deg, 360.0), "measured_deg": roll_deg, "direction": roll_direction},
    }  # fmt: skip
    return {
        "trick": name if reason is None else None,
        "trick_shown": name,  # what the rider does, also when the clip cannot be scored
        "stance": trick.riding_stance(view),
        "natural_stance": trick.natural_stance(view),
        "switch": trick.switch if trick.riding_stance(view) is not None else None,
        "landing": landing if reason is None else None,
        "landing_shown": landing,
        "scoreable": reason is None,
        "reason": reason,
        "rotation": rotation,
        "grab": display_name(trick.grab) if trick.grab else None,
    }


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
    expected_trick: str | None = None,
    hidden_share: np.ndarray | None = None,
    camera_path: CameraPath | None = None,
    grab: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The truth document: video block, the jump, joints in 3D (world) and 2D (pixels), the camera, and what the
    trick report should say (`expected`). hidden_share: (N,) share of the joints behind an occluder per frame.
    camera_path: the camera per frame (a moving camera; None or kind "still": `camera` throughout). The keypoints
    are projected by it, and `camera.world_to_camera` holds its pose per frame; `camera_path` holds it all.
    grab: the grab's truth (`synth.grab.grab_truth`), written as the jump's "grab" (null: no grab)."""
    n = timeline.frame_count
    fps = round(float(timeline.fps), _DECIMALS)
    path = camera_path if camera_path is not None else CameraPath.still(camera, n)
    moving = path.kind != "still"
    keypoints_2d = path.project(body.joints) if moving else camera.project(body.joints)
    pose = {"R": _r(camera.R), "t": _r(camera.t)}
    intrinsics: dict[str, float] = camera.intrinsics()
    world_to_camera = [pose] * n
    if moving:
        intrinsics = {"fx": float(path.focal_px[0]), "fy": float(path.focal_px[0]), "cx": path.cx, "cy": path.cy,
                      "width": path.width, "height": path.height, "k1": path.k1}  # fmt: skip
        world_to_camera = [{"R": _r(R), "t": _r(t)} for R, t in zip(path.rotation, path.translation, strict=True)]
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
        "roll_deg": trick.roll_deg,
        "roll_direction": trick.roll_direction,
        "spin_in_air_deg": trick.spin_in_air_deg,
        "spin_offset_deg": trick.spin_offset_deg,
        "landing": trick.landing,
        "grab": grab,
    }
    # The rider's height in the picture per frame: the projected body's vertical extent (hat to soles, no board).
    rows = (path.project(body.vertices) if moving else camera.project(body.vertices))[..., 1]
    height_px = rows.max(axis=1) - rows.min(axis=1)
    seen: dict[str, Any] = {
        "rider_height_px": {"median": round(float(np.median(height_px)), 1), "min": round(float(height_px.min()), 1),
                            "max": round(float(height_px.max()), 1)},
        "min_rider_px": MIN_RIDER_PX,
    }  # fmt: skip
    air = (timeline.times > timeline.takeoff_s) & (timeline.times < timeline.landing_s) & trick.jumps
    if hidden_share is not None:
        hidden = np.asarray(hidden_share) > 0.5
        seen["hidden_frames"] = np.flatnonzero(hidden).tolist()
        seen["air_frames_hidden"] = round(float(hidden[air].mean()), 3) if air.any() else 0.0
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
        "stance": trick.riding_stance(view),  # the riding stance on the approach (None: side view)
        "switch": trick.switch,
        "travel": "+x" if _travels_plus_x(trick, view) else "-x",
        "expected": expected_block(trick, view, expected_trick, rider_px=float(np.median(height_px))),
        "seen": seen,
        "jumps": [jump] if trick.jumps else [],  # the no-jump clips (ride, crouch) have none
        "timestamps_s": _r(timeline.times),
        "joint_names": list(JOINT_NAMES),
        "joints_3d": _r(body.joints),
        "keypoints_2d": _r(keypoints_2d),
        "root_3d": _r(body.root),
        "camera": {
            "intrinsics": intrinsics,  # frame 0's for a moving camera (zoom changes the focal length: camera_path)
            "world_to_camera": world_to_camera,
        },
        "camera_path": path.to_truth(_DECIMALS),
        "conventions": (
            "world: metres, y up, right-handed, the rider travels along x (see travel), the camera looks along -z; "
            "camera: OpenCV (x right, y down, z forward), p_cam = R p_world + t; "
            "pixels: OpenCV, pixel centres at integer coordinates; "
            "camera_path: per frame focal_px, R_world_to_camera, t_world_to_camera, position_m (world, metres), "
            "gravity_up_deg (world-up in the picture at its centre, degrees clockwise from the image's up), "
            "radial distortion k1 (see camera_path.model); "
            "spin: about +y, left = counter-clockwise seen from above; "
            "flip: about the rider's left-right axis, front = head forward first; "
            "roll: about the rider's front-back axis, wildcat = head towards the trailing foot first; "
            "stance: regular = left foot leads, goofy = right foot leads"
        ),
    }


def _travels_plus_x(trick: TrickSpec, view: str) -> bool:
    return travel_sign(trick, view) > 0


def write_truth(path: Path, truth: dict[str, Any]) -> Path:
    """Write the document atomically (a reader never sees half a file)."""
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(truth, separators=(",", ":")))
    tmp.replace(path)
    return path
