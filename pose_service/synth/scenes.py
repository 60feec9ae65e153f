"""Scenes for measuring tracking, beside `render_crossing`: one rider who leaves the frame and comes back,
a camera panning to follow a fast rider, and a spin rendered with motion blur.

    reentry  a straight jump; 0.8 s in, the rider is carried out past the right edge (0.5 s), stays out,
             and comes back 0.5 s later on the same line: out of sight for about a second (< 2 s).
    pan      a straight jump at three times the speed that fits the frame; the camera slides sideways
             with the rider, so the rider stays near the middle and the snow and hills move behind.
    blur     a 360 rendered at `BLUR_SUBFRAMES` times the frame rate, each frame the average of its
             sub-frames (a shutter open the whole frame): limbs smear during the spin.

The truth file beside the clip has the crossing's layout (`kind`, `video`, `timestamps_s`, `joint_names`,
`people[k].keypoints_2d`); a person's keypoints are NaN (null in JSON) in frames where fewer than half of
the joints are inside the picture, so a rider out of frame is not counted as missed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from pose_service.errors import BadOption
from pose_service.synth.body import BOARD_FACES, BOARD_PARTS, JOINT_NAMES, load_rider, pose_body
from pose_service.synth.clip import _check
from pose_service.synth.motion import apex_height, make_motion, make_timeline
from pose_service.synth.render import (
    SUPERSAMPLE,
    Backdrop,
    Camera,
    downsample,
    draw_mesh,
    draw_shadow,
    layout_camera,
    part_colors,
)
from pose_service.synth.spec import parse_trick
from pose_service.synth.truth import truth_path_for
from pose_service.video.encode import VideoWriter

__all__ = ["BLUR_SUBFRAMES", "SCENES", "render_scene"]

SCENES = ("reentry", "pan", "blur")
BLUR_SUBFRAMES = 4
_PAN_SPEED_FACTOR = 3.0


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _moved(camera: Camera, dx: float) -> Camera:
    """The same camera slid `dx` metres along world x."""
    centre = -camera.R.T @ camera.t + np.array([dx, 0.0, 0.0])
    return Camera(camera.width, camera.height, camera.fx, camera.fy, camera.cx, camera.cy, camera.R, -camera.R @ centre)


def render_scene(
    kind: str,
    out: Path,
    *,
    width: int = 320,
    height: int = 240,
    fps: float = 30.0,
    anny_cache_dir: Path,
    seed: int = 0,
) -> Path:
    """Render scene `kind` (one of `SCENES`) to the video `out`, write its truth beside it, return its path."""
    if kind not in SCENES:
        raise BadOption(f"unknown scene {kind!r}", hint=f"choose one of: {', '.join(SCENES)}")
    out = Path(out)
    trick = parse_trick("360" if kind == "blur" else "straight")
    view = "front" if kind == "blur" else "side"
    _check(trick, out, width, height, fps, view)
    sub = BLUR_SUBFRAMES if kind == "blur" else 1
    rider = load_rider(Path(anny_cache_dir), seed)
    timeline = make_timeline(trick, float(fps) * sub)
    stand_root = float(-rider.rest_vertices[:, 2].min())
    run_s = max(timeline.takeoff_s + 0.5 * trick.air_time_s, timeline.times[-1] - timeline.takeoff_s)
    camera, speed = layout_camera(
        width, height, rider_height_m=rider.height_m, root_height_m=stand_root,
        apex_m=apex_height(trick.air_time_s), run_s=run_s,
    )  # fmt: skip
    if kind == "pan":
        speed *= _PAN_SPEED_FACTOR
    motion = make_motion(
        trick, timeline, bone_labels=rider.bone_labels, rest_heads=rider.rest_heads, view=view, speed_m_s=speed
    )
    body = pose_body(rider, motion)
    n_sub = len(timeline.times)
    distance = float((-camera.R.T @ camera.t)[2])
    shift_x = np.zeros(n_sub)  # the rider's extra travel along x (reentry)
    pan_x = np.zeros(n_sub)  # the camera's travel along x (pan)
    if kind == "reentry":
        half_w = (width / 2) / camera.fx * distance
        away = half_w + 1.2 - float(body.root[:, 0].min())
        t = timeline.times
        shift_x = away * (_smoothstep((t - 0.8) / 0.5) - _smoothstep((t - 1.9) / 0.5))
    elif kind == "pan":
        # The camera operator follows the rider with a little delay (a smoothed copy of the path).
        x = body.root[:, 0]
        pan_x = np.convolve(np.pad(x, 4, mode="edge"), np.ones(9) / 9, mode="valid")
    shift = np.array([1.0, 0.0, 0.0])
    faces = np.concatenate([rider.faces, BOARD_FACES + rider.rest_vertices.shape[0]])
    colours = part_colors(rider.face_parts + BOARD_PARTS)
    # The backdrop is drawn once, wide enough for the pan, and cropped where the camera looks.
    margin = int(math.ceil(camera.fx * float(np.abs(pan_x).max()) / distance)) + 2
    wide = Camera(width + 2 * margin, height, camera.fx, camera.fy, camera.cx + margin, camera.cy, camera.R, camera.t)
    backdrop = Backdrop(wide, seed).image
    s = SUPERSAMPLE
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.stem}.partial{out.suffix}")
    joints_2d = np.zeros((n_sub // sub, len(JOINT_NAMES), 2))
    try:
        with VideoWriter(partial, width=width, height=height, fps=float(fps)) as writer:
            for i in range(n_sub // sub):
                acc = np.zeros((height, width, 3), np.float64)
                for k in range(i * sub, (i + 1) * sub):
                    cam = _moved(camera, float(pan_x[k]))
                    left = int(round((margin + camera.fx * pan_x[k] / distance) * s))
                    frame = np.ascontiguousarray(backdrop[:, left : left + width * s])
                    offset = shift_x[k] * shift
                    draw_shadow(frame, cam, body.root[k] + offset, max(float(body.board[k, :, 1].min()), 0.0))
                    verts = np.concatenate([body.vertices[k], body.board[k]]) + offset
                    draw_mesh(frame, cam, verts, faces, *colours)
                    acc += downsample(frame)
                    joints_2d[i] += cam.project(body.joints[k] + offset) / sub
                writer.write(np.clip(np.round(acc / sub), 0, 255).astype(np.uint8), float(timeline.times[i * sub]))
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    inside = (joints_2d[..., 0] >= 0) & (joints_2d[..., 0] < width) & (joints_2d[..., 1] >= 0)
    inside &= joints_2d[..., 1] < height
    absent = inside.mean(axis=1) < 0.5
    joints_2d[absent] = np.nan
    truth = {
        "kind": kind,
        "video": {"name": out.name, "width": width, "height": height, "fps": fps, "frame_count": n_sub // sub},
        "timestamps_s": [round(float(t), 6) for t in timeline.times[: n_sub // sub * sub : sub]],
        "joint_names": list(JOINT_NAMES),
        "people": [
            {
                "id": 0,
                "keypoints_2d": [
                    [[None, None]] * len(JOINT_NAMES) if a else np.round(p, 2).tolist()
                    for p, a in zip(joints_2d, absent, strict=True)
                ],
            }
        ],
    }
    path = truth_path_for(out)
    path.write_text(json.dumps(truth))
    return path
