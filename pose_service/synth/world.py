"""The scenery a moving camera films: textured snow, sky with clouds and hills, trees, marker poles and a kicker.

A still camera keeps `render.Backdrop` (a picture drawn once). A moving camera needs the world itself, with
texture its motion can be measured from, so each frame is cast per pixel: a ray below the horizon meets the snow
(y = 0), a world-fixed texture of grain, board tracks and scattered bits, hazier with distance; a ray above it reads
a panorama of sky, clouds and two ridges of hills fixed to the world's directions. Trees, poles and the kicker
(beside the rider's line: the rider's own path stays on the flat snow, so the jump's truth is unchanged) are
triangle meshes drawn over that, far to near.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from pose_service.synth.render import SUPERSAMPLE, Camera, draw_mesh

__all__ = ["World"]

_TEXEL_M = 0.05  # the snow texture's resolution
_GROUND_HALF_M = 60.0  # it covers x and z in [-60, 60] m, mirrored beyond
_PANO_W, _PANO_H = 4096, 1024
_EL_MAX, _EL_MIN = math.radians(90.0), math.radians(-2.0)
_HAZE_RGB = np.array([226, 232, 242], np.float32)
_SKY_TOP, _SKY_LOW = np.array([92, 146, 212], np.float32), np.array([196, 218, 240], np.float32)
# Scenery colours (RGB), indices into the table handed to `draw_mesh`.
_RGB = np.array([(36, 74, 50), (84, 62, 44), (236, 112, 32), (40, 72, 162), (250, 252, 255)], np.float64)
_TREE, _TRUNK, _ORANGE, _BLUE, _SNOW = range(5)


class World:
    """The scene around one jump: built once per clip from a seed.

    lip_x: the takeoff along x; travel: +1 when the rider travels along +x. The rider's line is z = 0; the kicker
    stands beside it on the far side (z from -4.6 to -2 m), the marker poles further back (z = -6.5 m).
    """

    def __init__(self, seed: int, *, lip_x: float, travel: float) -> None:
        rng = np.random.default_rng([seed, 16])
        self.ground, self.ground_soft = _snow_texture(rng)
        self.panorama = _panorama(rng)
        self.vertices, self.faces, self.colour = _scenery(rng, lip_x, travel)

    def background(self, camera: Camera) -> np.ndarray:
        """The supersampled frame's sky, hills and snow as `camera` (a pinhole, above the snow) sees them."""
        s = SUPERSAMPLE
        w, h = camera.width * s, camera.height * s
        x = ((np.arange(w, dtype=np.float32) - 0.5 * (s - 1)) / s - camera.cx) / camera.fx
        y = ((np.arange(h, dtype=np.float32) - 0.5 * (s - 1)) / s - camera.cy) / camera.fy
        R = camera.R.astype(np.float32)
        d = [x[None, :] * R[0, k] + y[:, None] * R[1, k] + R[2, k] for k in range(3)]  # world ray directions
        centre = -camera.R.T @ camera.t
        flat = np.hypot(d[0], d[2])
        norm = np.sqrt(flat * flat + d[1] * d[1])
        # The sky: the panorama by azimuth and elevation (columns padded by 8 on each side for the wrap).
        az = np.arctan2(d[0], -d[2])
        el = np.arctan2(d[1], flat)
        col = (az + np.float32(math.pi)) * np.float32(_PANO_W / (2 * math.pi)) - 0.5 + 8
        row = (np.float32(_EL_MAX) - el) * np.float32(_PANO_H / (_EL_MAX - _EL_MIN)) - 0.5
        img = cv2.remap(self.panorama, col, row, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # The snow: where each ray below the horizon meets y = 0.
        below = d[1] < -1e-5
        reach = np.where(below, np.float32(-centre[1]) / np.minimum(d[1], -1e-5), 0).astype(np.float32)
        reach = np.minimum(reach, 4000.0)
        gx = (np.float32(centre[0]) + reach * d[0] + _GROUND_HALF_M) / _TEXEL_M - 0.5
        gz = (np.float32(centre[2]) + reach * d[2] + _GROUND_HALF_M) / _TEXEL_M - 0.5
        limit = 2e4
        gx, gz = np.clip(gx, -limit, limit), np.clip(gz, -limit, limit)
        sharp = cv2.remap(self.ground, gx, gz, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        soft = cv2.remap(self.ground_soft, gx, gz, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        dist = reach * norm
        # A pixel covering several texels reads the blurred texture (no shimmering), and far snow fades to haze.
        footprint = dist / (camera.fy * s) / np.maximum(-d[1] / norm, 0.02) / _TEXEL_M
        blur = np.clip(footprint - 1.0, 0.0, 1.0)[..., None]
        haze = (1.0 - np.exp(-np.maximum(dist - 10.0, 0.0) / 70.0))[..., None]
        snow = sharp.astype(np.float32) * (1 - blur) + soft.astype(np.float32) * blur
        snow = snow * (1 - haze) + _HAZE_RGB * haze
        out = np.where(below[..., None], snow, img.astype(np.float32))
        return np.clip(out, 0, 255).astype(np.uint8)

    def draw(self, img: np.ndarray, camera: Camera) -> None:
        """Trees, poles and the kicker, drawn onto the supersampled frame (before the rider and after the shadow)."""
        draw_mesh(img, camera, self.vertices, self.faces, self.colour, _RGB)


def _blurred_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian noise smoothed over `sigma` pixels, unit spread (smoothed at a lower resolution when wide)."""
    step = max(1, int(sigma // 4))
    small = rng.normal(0, 1, (shape[0] // step + 1, shape[1] // step + 1)).astype(np.float32)
    small = np.asarray(cv2.GaussianBlur(small, (0, 0), sigma / step), dtype=np.float32)
    out = cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR) if step > 1 else small
    out = out[: shape[0], : shape[1]]
    return out / (out.std() + 1e-6)


def _snow_texture(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The snow seen from above (rows along z, columns along x): grain, undulations, board tracks, bits."""
    n = int(round(2 * _GROUND_HALF_M / _TEXEL_M))
    shape = (n, n)
    base = np.array([246, 248, 252], np.float32)
    tone = 4.5 * _blurred_noise(rng, shape, 40.0) + 3.0 * _blurred_noise(rng, shape, 6.0)
    tone += 6.0 * _blurred_noise(rng, shape, 1.0)
    img = base[None, None, :] + tone[..., None] * np.array([1.0, 1.0, 0.7], np.float32)
    px = 1.0 / _TEXEL_M

    def to_px(x: np.ndarray, z: np.ndarray) -> np.ndarray:
        return np.stack([(x + _GROUND_HALF_M) * px, (z + _GROUND_HALF_M) * px], -1).round().astype(np.int32)

    marks = np.zeros(shape, np.float32)
    xs = np.linspace(-_GROUND_HALF_M, _GROUND_HALF_M, 400)
    for _ in range(40):  # other riders' tracks, mostly along the fall line (x), wandering
        z = rng.uniform(-_GROUND_HALF_M, _GROUND_HALF_M) + rng.uniform(1, 6) * np.sin(
            xs / rng.uniform(4, 15) + rng.uniform(0, 6)
        )
        cv2.polylines(marks, [to_px(xs, z)], False, (rng.uniform(0.5, 1.0),), int(rng.integers(2, 5)), cv2.LINE_AA)
    for _ in range(12):  # cross tracks
        zs = np.linspace(-_GROUND_HALF_M, _GROUND_HALF_M, 200)
        x = rng.uniform(-_GROUND_HALF_M, _GROUND_HALF_M) + rng.uniform(2, 10) * np.sin(zs / rng.uniform(5, 20))
        cv2.polylines(marks, [to_px(x, zs)], False, (0.7,), 3, cv2.LINE_AA)
    marks = np.asarray(cv2.GaussianBlur(marks, (0, 0), 1.0), dtype=np.float32)
    img -= marks[..., None] * np.array([44, 36, 18], np.float32)
    # Bits: twigs and stones (small, dark), lumps with a shaded side (bigger, blue-grey), a few orange flags.
    for _ in range(1500):
        c = tuple(int(v) for v in rng.integers(0, n, 2))
        grey = float(rng.uniform(60, 140))
        cv2.circle(img, c, int(rng.integers(1, 4)), (grey, grey * 0.95, grey * 0.9), -1, cv2.LINE_AA)
    lumps = np.zeros(shape, np.float32)
    for _ in range(2500):
        c = tuple(int(v) for v in rng.integers(0, n, 2))
        r = int(rng.integers(4, 14))
        cv2.ellipse(lumps, c, (r, int(r * rng.uniform(0.4, 1.0))), float(rng.uniform(0, 180)), 0, 360, (1.0,), -1)
    lumps = np.asarray(cv2.GaussianBlur(lumps, (0, 0), 2.0), dtype=np.float32)
    img -= lumps[..., None] * np.array([28, 22, 10], np.float32)
    for _ in range(60):
        c = tuple(int(v) for v in rng.integers(0, n, 2))
        cv2.circle(img, c, int(rng.integers(3, 6)), (235.0, 110.0, 40.0), -1, cv2.LINE_AA)
    sharp = np.clip(img, 0, 255).astype(np.uint8)
    soft = cv2.GaussianBlur(sharp, (0, 0), 2.0)
    return sharp, soft


def _panorama(rng: np.random.Generator) -> np.ndarray:
    """Sky, clouds and hills by (elevation row, azimuth column): rows from 90 degrees up to 2 below the horizon,
    columns from -180 to 180 degrees of azimuth (padded by 8 columns each side, wrapped)."""
    w, h = _PANO_W // 4, _PANO_H // 4  # drawn small, smooth anyway, then enlarged
    az = (np.arange(w, dtype=np.float32) + 0.5) / w * 2 * np.pi - np.pi
    el = _EL_MAX - (np.arange(h, dtype=np.float32) + 0.5) / h * (_EL_MAX - _EL_MIN)
    a = np.clip(el / math.radians(30.0), 0, 1)[:, None, None]
    img = np.broadcast_to(_SKY_TOP * a + _SKY_LOW * (1 - a), (h, w, 3)).astype(np.float32)
    # Clouds: periodic in azimuth (whole numbers of waves around), thinning towards the zenith.
    cloud = np.zeros((h, w), np.float32)
    for _ in range(40):
        m = int(rng.integers(2, 30))
        k = float(rng.uniform(2, 30))
        cloud += (
            rng.uniform(0.3, 1.0) / math.sqrt(m) * np.cos(m * az[None, :] + k * el[:, None] + rng.uniform(0, 2 * np.pi))
        )
    cloud /= cloud.std() + 1e-6
    cover = np.clip(cloud - 0.6, 0, 1) * np.clip(1.2 - el / 1.2, 0, 1)[:, None]
    img = img * (1 - cover[..., None]) + np.array([250, 251, 253], np.float32) * cover[..., None]
    img = cv2.resize(img, (_PANO_W, _PANO_H), interpolation=cv2.INTER_CUBIC)
    az = (np.arange(_PANO_W, dtype=np.float32) + 0.5) / _PANO_W * 2 * np.pi - np.pi
    el = _EL_MAX - (np.arange(_PANO_H, dtype=np.float32) + 0.5) / _PANO_H * (_EL_MAX - _EL_MIN)
    for low, high, rgb in ((2.5, 10.0, (184, 196, 216)), (0.8, 4.5, (150, 166, 190))):  # far ridge, then near
        ridge = np.zeros(_PANO_W, np.float32)
        for m in range(1, 16):
            ridge += rng.uniform(0.2, 1.0) / m**0.9 * np.cos(m * az + rng.uniform(0, 2 * np.pi))
        ridge = (ridge - ridge.min()) / (ridge.max() - ridge.min() + 1e-6)
        ridge = np.radians(low + (high - low) * ridge)
        hill = el[:, None] < ridge[None, :]
        # Streaks down the slopes (forest and rock) give the hills texture of their own.
        streak = np.zeros(_PANO_W, np.float32)
        for m in (60, 97, 151, 233):
            streak += np.cos(m * az + rng.uniform(0, 2 * np.pi))
        shade = 1.0 - 0.04 * streak[None, :] - 0.08 * np.clip((ridge[None, :] - el[:, None]) / 0.05, 0, 1)
        colour = np.array(rgb, np.float32)[None, None, :] * shade[..., None]
        img = np.where(hill[..., None], colour, img)
    img[el < 0] = _HAZE_RGB
    img = np.clip(img, 0, 255).astype(np.uint8)
    return np.concatenate([img[:, -8:], img, img[:, :8]], axis=1)


def _convex(points: np.ndarray, triangles: list[tuple[int, int, int]]) -> np.ndarray:
    """Faces of a convex solid wound counter-clockwise seen from outside (as `draw_mesh` culls)."""
    centre = points.mean(axis=0)
    out = []
    for tri in triangles:
        p = points[list(tri)]
        outward = np.dot(np.cross(p[1] - p[0], p[2] - p[0]), p.mean(axis=0) - centre) > 0
        out.append(tri if outward else tri[::-1])
    return np.array(out, dtype=np.int64)


def _box(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    return corners, _convex(corners, [t for a, b, c, d in quads for t in ((a, b, c), (a, c, d))])


def _cone(base: np.ndarray, radius: float, height: float, sides: int = 8) -> tuple[np.ndarray, np.ndarray]:
    angles = np.linspace(0, 2 * np.pi, sides, endpoint=False)
    ring = base + np.stack([radius * np.cos(angles), np.zeros(sides), radius * np.sin(angles)], -1)
    points = np.concatenate([ring, [base + [0, height, 0]], [base]])
    tris = [(i, (i + 1) % sides, sides) for i in range(sides)] + [(i, (i + 1) % sides, sides + 1) for i in range(sides)]
    return points, _convex(points, tris)


def _wedge(x0: float, x1: float, z0: float, z1: float, height: float, steps: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """A kicker rising from 0 at x0 to `height` at x1, cut into `steps` slices (small triangles survive the
    renderer's near-plane cull when the camera is close)."""
    points, faces = [], []
    for k in range(steps):
        a, b = x0 + (x1 - x0) * k / steps, x0 + (x1 - x0) * (k + 1) / steps
        ha, hb = height * k / steps, height * (k + 1) / steps
        p = np.array([[a, 0, z0], [a, 0, z1], [b, 0, z0], [b, 0, z1], [a, ha, z0], [a, ha, z1], [b, hb, z0],
                      [b, hb, z1]], np.float64)  # fmt: skip
        quads = [(4, 5, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)] + ([(2, 3, 7, 6)] if k == steps - 1 else [])
        tris = [t for q in quads for t in ((q[0], q[1], q[2]), (q[0], q[2], q[3]))]
        # Outward: judged against a point inside the whole kicker (low, in the middle across).
        inside = np.array([0.5 * (a + b), 0.25 * min(ha, hb) + 1e-3, 0.5 * (z0 + z1)])
        for tri in tris:
            q = p[list(tri)]
            if np.dot(np.cross(q[1] - q[0], q[2] - q[0]), q.mean(axis=0) - inside) < 0:
                tri = tri[::-1]
            faces.append(np.array(tri) + 8 * k)
        points.append(p)
    return np.concatenate(points), np.array(faces, dtype=np.int64)


def _scenery(rng: np.random.Generator, lip_x: float, travel: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parts: list[tuple[np.ndarray, np.ndarray, int]] = []
    # A forest edge behind the run and a few trees on the near side, clear of where the cameras go.
    for _ in range(90):
        z = rng.uniform(-45, -11) if rng.uniform() < 0.8 else rng.uniform(15, 40)
        x = lip_x + rng.uniform(-70, 70)
        tall = rng.uniform(4.0, 9.0)
        base = np.array([x, 0.0, z])
        parts.append((*_box(base + [-0.15, 0, -0.15], base + [0.15, 0.25 * tall, 0.15]), _TRUNK))
        parts.append((*_cone(base + [0, 0.2 * tall, 0], 0.22 * tall, 0.8 * tall), _TREE))
    for k, x in enumerate(np.arange(lip_x - 44.0, lip_x + 44.0, 4.0)):  # marker poles along the run
        base = np.array([x, 0.0, -6.5])
        parts.append((*_box(base + [-0.04, 0, -0.04], base + [0.04, 1.8, 0.04]), _ORANGE if k % 2 else _BLUE))
    x0, x1 = (lip_x - 4.5, lip_x) if travel > 0 else (lip_x + 4.5, lip_x)
    parts.append((*_wedge(x0, x1, -4.6, -2.0, 1.1), _SNOW))
    vertices, faces, colour, offset = [], [], [], 0
    for v, f, c in parts:
        vertices.append(v)
        faces.append(f + offset)
        colour.append(np.full(len(f), c, dtype=np.int64))
        offset += len(v)
    return np.concatenate(vertices), np.concatenate(faces), np.concatenate(colour)
