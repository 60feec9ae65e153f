"""A small software renderer: pinhole camera, snowy backdrop, flat-shaded triangles drawn far to near.

Pixels follow OpenCV: pixel (i, j) has its centre at x = j, y = i. Frames are drawn at `SUPERSAMPLE`
times the output size and reduced by area averaging, which smooths the edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = [
    "Camera",
    "layout_camera",
    "Backdrop",
    "draw_mesh",
    "draw_shadow",
    "downsample",
    "part_colors",
    "SUPERSAMPLE",
]

SUPERSAMPLE = 2
_SHIFT = 2  # fixed-point bits for cv2 polygon vertices: quarter-pixel precision
VERTICAL_FOV_DEG = 40.0
_REACH_M = 0.95

# Colours (RGB) by body part: a skin-coloured face and hands, a jacket, darker trousers, dark boots.
PART_RGB = {
    "skin": (222, 170, 138),
    "hat": (38, 44, 60),
    "eye": (45, 35, 30),
    "jacket": (206, 62, 44),
    "trousers": (44, 52, 82),
    "boots": (34, 30, 30),
    "board_top": (236, 196, 40),
    "board_side": (60, 60, 66),
    "box": (120, 96, 72),
    "banner": (28, 92, 178),
    "airbag": (30, 84, 200),
}
_LIGHT_DIR = np.array([-0.35, 0.8, 0.55])  # towards the sun: high, in front, a little to the left
_AMBIENT, _DIFFUSE = 0.5, 0.55


@dataclass(frozen=True)
class Camera:
    """A static pinhole camera. R, t map world points to camera coordinates (OpenCV: x right, y down,
    z forward): p_cam = R @ p_world + t. Intrinsics are for the output frame size."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    R: np.ndarray
    t: np.ndarray

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        return points @ self.R.T + self.t

    def project(self, points: np.ndarray) -> np.ndarray:
        """Pixels (..., 2) of world points (..., 3)."""
        c = self.to_camera(points)
        z = np.maximum(c[..., 2], 1e-6)
        return np.stack([self.fx * c[..., 0] / z + self.cx, self.fy * c[..., 1] / z + self.cy], -1)

    def intrinsics(self) -> dict[str, float]:
        return {"fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy, "width": self.width, "height": self.height}


def layout_camera(
    width: int, height: int, *, rider_height_m: float, root_height_m: float, apex_m: float, run_s: float
) -> tuple[Camera, float]:
    """The camera beside the run and the rider's horizontal speed, so that the whole jump stays in frame.

    The camera looks horizontally along -z at the plane z = 0 the rider moves in. The visible height there
    is twice the standing rider (rider about half the frame) unless the top of the jump needs more; the
    snow line sits a tenth of the frame above the bottom edge. `run_s` is the longest time the rider
    spends on one side of the middle of the jump; the speed makes that stretch fit the frame's width.
    """
    top = root_height_m + apex_m + 1.05  # the head (or the board, upside down) above the root at the apex
    # A body turning upside down, or the board, reaches _REACH_M either side of the root; a narrow
    # (portrait) frame needs that much width plus some travel, and gets a smaller rider.
    min_visible_w = 2 * _REACH_M + 0.6
    visible_h = max(rider_height_m / 0.5, top / 0.85, min_visible_w * height / width)
    distance = visible_h / 2 / math.tan(math.radians(VERTICAL_FOV_DEG) / 2)
    cam_height = 0.4 * visible_h
    f = (height / 2) / math.tan(math.radians(VERTICAL_FOV_DEG) / 2)
    R = np.diag([1.0, -1.0, -1.0])
    centre = np.array([0.0, cam_height, distance])
    camera = Camera(width, height, f, f, width / 2, height / 2, R, -R @ centre)
    visible_w = visible_h * width / height
    room = visible_w / 2 - _REACH_M
    return camera, room / run_s


def part_colors(
    parts: list[str], overrides: dict[str, tuple[int, int, int]] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-face part names as (colour index per face (F,), unlit RGB table (K, 3)) for `draw_mesh`.

    overrides: RGB for some parts instead of `PART_RGB` (another rider's clothes).
    """
    names = list(PART_RGB)
    unknown = sorted(set(overrides or {}) - set(names))
    if unknown:
        raise ValueError(f"unknown body parts {unknown}; known: {names}")
    table = {**PART_RGB, **(overrides or {})}
    index = np.array([names.index(p) for p in parts], dtype=np.int64)
    return index, np.array([table[n] for n in names], dtype=np.float64)


class Backdrop:
    """A sky gradient with distant hills above the horizon, textured snow below; drawn once per clip."""

    def __init__(self, camera: Camera, seed: int) -> None:
        s = SUPERSAMPLE
        w, h = camera.width * s, camera.height * s
        rng = np.random.default_rng(seed)
        rows = np.arange(h, dtype=np.float32)[:, None]
        # The horizon: where points far away at the camera's height project (the camera looks level).
        horizon = (camera.cy * s) + 0.5 * (s - 1)
        sky_top, sky_low = np.array([96, 150, 214], np.float32), np.array([196, 218, 240], np.float32)
        a = np.clip(rows / max(horizon, 1.0), 0, 1)[..., None]
        img = np.broadcast_to(sky_top * (1 - a) + sky_low * a, (h, w, 3)).copy()
        # Hills: a smooth random ridge a little above the horizon, pale blue-grey and hazy.
        xs = np.arange(w, dtype=np.float32)
        ridge = np.zeros(w, np.float32)
        for k in range(1, 5):
            ridge += rng.uniform(0.3, 1.0) / k * np.sin(2 * np.pi * (k * xs / w * 1.3 + rng.uniform()))
        ridge = horizon - (0.04 + 0.02 * ridge) * h
        hill = rows >= ridge[None, :]
        img[hill & (rows < horizon)] = np.array([168, 182, 204], np.float32)
        # Snow: bright, a faint blue-grey towards the horizon, with soft grain.
        b = np.clip((rows - horizon) / max(h - horizon, 1.0), 0, 1)[..., None]
        snow_far, snow_near = np.array([226, 232, 242], np.float32), np.array([248, 249, 252], np.float32)
        snow = np.broadcast_to(snow_far * (1 - b) + snow_near * b, (h, w, 3))
        grain = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.2 * s)
        grain = grain / (grain.std() + 1e-6) * 3.0
        below = (rows >= horizon)[:, :, None]
        img = np.where(below, snow + grain[..., None], img)
        self.image = np.clip(img, 0, 255).astype(np.uint8)
        self.camera = camera


def draw_shadow(img: np.ndarray, camera: Camera, centre: np.ndarray, height_m: float) -> None:
    """Darken an ellipse on the snow under the rider; smaller and fainter the higher the rider is."""
    s = SUPERSAMPLE
    angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    spread = 1.0 + 0.4 * height_m
    ring = np.stack(
        [centre[0] + 0.55 * spread * np.cos(angles), np.zeros_like(angles), centre[2] + 0.3 * spread * np.sin(angles)],
        -1,
    )
    uv = camera.project(ring) * s + 0.5 * (s - 1)
    x0, y0 = np.floor(uv.min(0)).astype(int) - 8 * s
    x1, y1 = np.ceil(uv.max(0)).astype(int) + 8 * s
    h, w = img.shape[:2]
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.float32)
    pts = np.round((uv - [x0, y0]) * (1 << _SHIFT)).astype(np.int32)
    cv2.fillConvexPoly(mask, pts, (1.0,), cv2.LINE_AA, _SHIFT)
    mask = np.asarray(cv2.GaussianBlur(mask, (0, 0), 3.0 * s), dtype=np.float32)
    strength = 0.35 / (1.0 + 1.5 * height_m)
    patch = img[y0:y1, x0:x1].astype(np.float32)
    patch *= (1.0 - strength * mask)[..., None]
    img[y0:y1, x0:x1] = patch.astype(np.uint8)


def draw_mesh(
    img: np.ndarray, camera: Camera, vertices: np.ndarray, faces: np.ndarray, face_colour: np.ndarray, rgb: np.ndarray
) -> None:
    """Draw a triangle mesh onto the supersampled frame: back faces culled, Lambert shading under a sun
    plus ambient light, far triangles first.

    vertices: (V, 3) world; faces: (F, 3); face_colour: (F,) index into rgb (K, 3), the unlit colours.
    """
    s = SUPERSAMPLE
    cam = camera.to_camera(vertices)
    tri = cam[faces]  # (F, 3, 3)
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    # Anny's faces wind counter-clockwise seen from outside: a face turned to the camera has its normal
    # pointing back at it.
    front = (np.einsum("fi,fi->f", normal, tri[:, 0]) < 0) & (tri[:, :, 2].min(1) > 0.05)
    tri, normal, colour = tri[front], normal[front], face_colour[front]
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
    light = camera.R @ (_LIGHT_DIR / np.linalg.norm(_LIGHT_DIR))
    lambert = np.clip(normal @ light, 0.0, None)
    order = np.argsort(-tri[:, :, 2].mean(1), kind="stable")
    z = tri[order, :, 2]
    uv = np.stack([camera.fx * tri[order, :, 0] / z + camera.cx, camera.fy * tri[order, :, 1] / z + camera.cy], -1)
    pts = np.round((uv * s + 0.5 * (s - 1)) * (1 << _SHIFT)).astype(np.int32)
    # Colours come from a small palette of shared tuples: making thousands of fresh Python objects per
    # frame wakes the garbage collector, which then walks the whole torch heap (half the frame time).
    palette, index = _shade_palette(rgb, colour[order], lambert[order])
    fill = cv2.fillConvexPoly
    for i, p in enumerate(pts):
        fill(img, p, palette[index[i]], cv2.LINE_8, _SHIFT)


_SHADE_LEVELS = 64


def _shade_palette(
    bases: np.ndarray, base_index: np.ndarray, lambert: np.ndarray
) -> tuple[list[tuple[int, int, int]], list[int]]:
    """Shaded colours quantised to `_SHADE_LEVELS` per base colour: (palette, palette index per face)."""
    level = np.minimum((lambert * _SHADE_LEVELS).astype(np.int64), _SHADE_LEVELS - 1)
    shade = _AMBIENT + _DIFFUSE * (np.arange(_SHADE_LEVELS) + 0.5) / _SHADE_LEVELS
    table = np.clip(bases[:, None, :] * shade[None, :, None], 0, 255).astype(np.int64).reshape(-1, 3)
    palette = [tuple(c) for c in table.tolist()]
    return palette, (base_index.reshape(-1) * _SHADE_LEVELS + level).tolist()


def downsample(img: np.ndarray) -> np.ndarray:
    """The supersampled frame reduced to the output size."""
    if SUPERSAMPLE == 1:
        return img
    h, w = img.shape[0] // SUPERSAMPLE, img.shape[1] // SUPERSAMPLE
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
