"""Frames for a moving camera: the world cast per pixel, the rider's shadow, scenery and rider, and an action
camera's barrel distortion by remapping a wider pinhole picture."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from pose_service.synth.body import PosedBody
from pose_service.synth.camera_path import CameraPath
from pose_service.synth.motion import Timeline
from pose_service.synth.render import SUPERSAMPLE, downsample, draw_mesh, draw_shadow, part_colors
from pose_service.synth.world import World
from pose_service.video.encode import VideoWriter

__all__ = ["encode_moving", "undistort_radius"]


def undistort_radius(r_d: np.ndarray, k1: float) -> np.ndarray:
    """The normalised radius r_u with r_u (1 + k1 r_u²) = r_d (Newton's method; valid while 1 + 3 k1 r_u² > 0)."""
    r = np.asarray(r_d, dtype=np.float64).copy()
    target = r.copy()
    for _ in range(8):
        r -= (r * (1 + k1 * r * r) - target) / (1 + 3 * k1 * r * r)
    return r


def _distortion_maps(path: CameraPath, focal: float) -> tuple[tuple[int, int], np.ndarray, np.ndarray]:
    """The canvas margin (x, y) in output pixels and the supersampled maps output -> canvas for cv2.remap."""
    s = SUPERSAMPLE
    corners = np.array([[-path.cx, -path.cy], [path.width - path.cx, path.height - path.cy]]) / focal
    r_corner = float(np.hypot(*np.abs(corners).max(axis=0)))
    scale = float(undistort_radius(np.array([r_corner]), path.k1)[0]) / r_corner
    margin = (int(math.ceil(max(path.cx, path.width - path.cx) * (scale - 1))) + 2,
              int(math.ceil(max(path.cy, path.height - path.cy) * (scale - 1))) + 2)  # fmt: skip
    u = ((np.arange(path.width * s) - 0.5 * (s - 1)) / s - path.cx) / focal
    v = ((np.arange(path.height * s) - 0.5 * (s - 1)) / s - path.cy) / focal
    x, y = np.meshgrid(u, v)
    r_d = np.hypot(x, y)
    ratio = np.where(r_d > 1e-9, undistort_radius(r_d, path.k1) / np.maximum(r_d, 1e-9), 1.0)
    map_x = (x * ratio * focal + path.cx + margin[0]) * s + 0.5 * (s - 1)
    map_y = (y * ratio * focal + path.cy + margin[1]) * s + 0.5 * (s - 1)
    return margin, map_x.astype(np.float32), map_y.astype(np.float32)


def encode_moving(
    out: Path,
    path: CameraPath,
    body: PosedBody,
    timeline: Timeline,
    faces: np.ndarray,
    colours: tuple[np.ndarray, np.ndarray],
    world: World,
    progress: Callable[[int, int], None] | None,
    box: tuple[np.ndarray, np.ndarray, str] | None = None,
) -> None:
    """Render and encode every frame of the clip as `path` films it."""
    maps = _distortion_maps(path, float(path.focal_px[0])) if path.k1 else None
    margin = maps[0] if maps is not None else (0, 0)
    box_colours = part_colors([] if box is None else [box[2]] * len(box[1]))
    total = timeline.frame_count
    with VideoWriter(out, width=path.width, height=path.height, fps=timeline.fps) as writer:
        for i in range(total):
            camera = path.pinhole(i, margin)
            frame = world.background(camera)
            draw_shadow(frame, camera, body.root[i], max(float(body.board[i, :, 1].min()), 0.0))
            world.draw(frame, camera)
            if box is not None:
                draw_mesh(frame, camera, box[0], box[1], *box_colours)
            draw_mesh(frame, camera, np.concatenate([body.vertices[i], body.board[i]]), faces, *colours)
            if maps is not None:
                frame = cv2.remap(frame, maps[1], maps[2], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            writer.write(downsample(frame), float(timeline.times[i]))
            if progress is not None:
                progress(i + 1, total)
