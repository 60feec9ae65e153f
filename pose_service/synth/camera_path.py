"""Moving cameras for synthetic clips: a camera path per frame (focal length, pose, barrel distortion) that films
the rider as real filmers do, and its projection of world points.

Kinds (`CAMERA_KINDS`; none of them keeps the analysis' still-camera assumptions):
    still          the static, level camera beside the run (`layout_camera`): today's clips, unchanged
    follow-front   a follower riding ahead of the rider and off to the chest side, looking back at them; the
                   distance breathes, the camera bobs, and the follower jumps the same kicker a little earlier,
                   so the camera rises and falls with the rider during the flight
    follow-behind  the same from behind: the follower takes the kicker a little later
    follow-below   a handheld low on the snow beside the kicker's lip looking up: the rider flies over, sky behind
    pan            a handheld standing still beside the run, panning and tilting to keep the rider centred, with
                   a lag and shake
    roll           follow-front with the horizon rolled 12 to 35 degrees, rocking (up to 20 degrees within a second)
    zoom           the still camera zooming in and out smoothly (never so far that the rider leaves the frame)
    fisheye        follow-front, closer, through an action camera's barrel distortion (k1 = `FISHEYE_K1`)
    drone          high above and to the side, looking down, following the rider and climbing late over the jump

Conventions: world metres, y up (`WORLD_UP`); camera axes OpenCV (x right, y down, z forward), p_cam = R p_world +
t with t = -R position. Distortion, one radial term on normalised coordinates (OpenCV's k1 alone): x = X/Z, y = Y/Z,
r² = x² + y², u = fx x (1 + k1 r²) + cx, v = fy y (1 + k1 r²) + cy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from pose_service.errors import BadOption
from pose_service.synth.motion import Timeline
from pose_service.synth.render import Camera

__all__ = [
    "CAMERA_KINDS",
    "CameraPath",
    "FISHEYE_K1",
    "MOVING_SPEED_M_S",
    "WORLD_UP",
    "check_camera_kind",
    "make_camera_path",
]

CAMERA_KINDS = ("still", "follow-front", "follow-behind", "follow-below", "pan", "roll", "zoom", "fisheye", "drone")
WORLD_UP = (0.0, 1.0, 0.0)
FISHEYE_K1 = -0.25
MOVING_SPEED_M_S = 6.0  # the rider's speed under a moving camera (the still and zoom cameras fit it to the frame)
_NOISE_HZ = 100.0  # noise is drawn on this fixed time grid, so a path does not depend on the frame rate


def check_camera_kind(kind: str) -> None:
    if kind not in CAMERA_KINDS:
        raise BadOption(f"camera must be one of {', '.join(CAMERA_KINDS)}, got {kind!r}")


@dataclass(frozen=True)
class CameraPath:
    """One camera per frame, as parallel arrays.

    focal_px: (N,) fx = fy in output pixels; cx, cy: principal point (pixels, fixed); k1: radial distortion (0 for a
    pinhole); rotation: (N, 3, 3) world -> camera; position: (N, 3) the camera centre in the world (metres, y up).
    """

    kind: str
    width: int
    height: int
    focal_px: np.ndarray
    cx: float
    cy: float
    k1: float
    rotation: np.ndarray
    position: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.focal_px)
        if self.rotation.shape != (n, 3, 3) or self.position.shape != (n, 3):
            raise ValueError(
                f"rotation must be ({n}, 3, 3) and position ({n}, 3), got {self.rotation.shape} and "
                f"{self.position.shape}"
            )
        if not -0.3 <= self.k1 <= 0.3:
            raise ValueError(f"k1 must be between -0.3 and 0.3, got {self.k1!r}")

    @classmethod
    def still(cls, camera: Camera, frame_count: int) -> CameraPath:
        """The static camera repeated for every frame."""
        position = -camera.R.T @ camera.t
        return cls("still", camera.width, camera.height, np.full(frame_count, camera.fx), camera.cx, camera.cy, 0.0,
                   np.repeat(camera.R[None], frame_count, 0), np.repeat(position[None], frame_count, 0))  # fmt: skip

    @property
    def frame_count(self) -> int:
        return len(self.focal_px)

    @property
    def translation(self) -> np.ndarray:
        """(N, 3) t = -R position."""
        return -np.einsum("nij,nj->ni", self.rotation, self.position)

    def pinhole(self, i: int, margin: tuple[int, int] = (0, 0)) -> Camera:
        """Frame i's camera without distortion, on a canvas `margin` (x, y) pixels wider on each side."""
        mx, my = margin
        f = float(self.focal_px[i])
        return Camera(self.width + 2 * mx, self.height + 2 * my, f, f, self.cx + mx, self.cy + my,
                      self.rotation[i], self.translation[i])  # fmt: skip

    def project(self, points: np.ndarray) -> np.ndarray:
        """Pixels (N, ..., 2) of world points (N, ..., 3), frame by frame, distortion included. With k1 < 0 the
        model holds for normalised radii under 1/sqrt(-3 k1) (1.15 at k1 = -0.25; the picture's corners are at 0.88):
        a point much further off-axis folds back and is not where the picture shows it."""
        pts = np.asarray(points, dtype=np.float64)
        extra = pts.ndim - 2
        shape = (self.frame_count,) + (1,) * extra
        R = self.rotation.reshape(shape + (3, 3))
        t = self.translation.reshape(shape + (3,))
        cam = np.einsum("...ij,...j->...i", R, pts) + t
        z = np.maximum(cam[..., 2], 1e-6)
        x, y = cam[..., 0] / z, cam[..., 1] / z
        d = 1.0 + self.k1 * (x * x + y * y)
        f = self.focal_px.reshape(shape)
        return np.stack([f * x * d + self.cx, f * y * d + self.cy], -1)

    def gravity_up_deg(self) -> np.ndarray:
        """(N,) the direction world-up points in the picture at its centre, degrees clockwise from the image's up
        (-v): 0 for a level camera; the horizon is turned by the same angle (clockwise positive)."""
        up = self.rotation @ np.asarray(WORLD_UP)
        return np.degrees(np.arctan2(up[:, 0], -up[:, 1]))

    def to_truth(self, decimals: int = 5) -> dict[str, Any]:
        """The truth's `camera_path` block (see the module for the model)."""

        def r(values: Any) -> Any:
            return np.round(np.asarray(values, dtype=np.float64), decimals).tolist()

        return {
            "kind": self.kind,
            "world_up": list(WORLD_UP),
            "model": "OpenCV pinhole with one radial term: x = X/Z, y = Y/Z (camera coordinates), r2 = x^2 + y^2, "
                     "u = f x (1 + k1 r2) + cx, v = f y (1 + k1 r2) + cy; p_cam = R p_world + t, t = -R position",
            "width": self.width,
            "height": self.height,
            "k1": self.k1,
            "principal_point_px": r([self.cx, self.cy]),
            "focal_px": r(self.focal_px),
            "R_world_to_camera": r(self.rotation),
            "t_world_to_camera": r(self.translation),
            "position_m": r(self.position),
            "gravity_up_deg": r(self.gravity_up_deg()),
        }  # fmt: skip


def make_camera_path(
    kind: str,
    *,
    still: Camera,
    root: np.ndarray,
    joints: np.ndarray,
    timeline: Timeline,
    travel: float,
    lip_x: float,
    seed: int,
) -> CameraPath:
    """The path of camera `kind` filming a rider whose root (N, 3) and joints (N, J, 3) are given (world metres).

    still: the static layout camera (the still and zoom kinds start from it; the others share its frame size).
    travel: +1 when the rider travels along +x; lip_x: the kicker's lip (the takeoff) along x.
    """
    check_camera_kind(kind)
    n = timeline.frame_count
    if kind == "still":
        return CameraPath.still(still, n)
    t = timeline.times
    rng = np.random.default_rng([seed, CAMERA_KINDS.index(kind)])
    noise = _Noise(rng, float(t[-1]))
    level = float(root[timeline.takeoff_frame, 1])
    lift = np.clip(root[:, 1] - level, 0.0, None)  # the rider's height above the take-off level (the flight)
    w, h = still.width, still.height
    target = _delayed(t, root, 0.08) + np.array([0.0, 0.1, 0.0])
    roll = 1.5 * noise(t, 0.4)
    k1 = 0.0
    if kind == "zoom":
        return _zoom_path(still, joints, t, noise)
    if kind in ("follow-front", "follow-behind", "roll", "fisheye"):
        ahead = -1.0 if kind == "follow-behind" else 1.0
        distance = {"fisheye": 3.4}.get(kind, 5.2) * (1.0 + 0.1 * np.sin(2 * np.pi * t / 2.3 + rng.uniform(0, 6)))
        distance = distance + 0.15 * noise(t, 0.3)
        side = np.radians(38.0 + 8.0 * np.sin(2 * np.pi * t / 3.1 + rng.uniform(0, 6)))
        # The follower takes the kicker about 0.3 s before (ahead) or after (behind) the rider, and flies a little
        # lower; while riding they bob with the snow and their legs.
        lag = -0.3 if ahead > 0 else 0.35
        follower_lift = 0.85 * np.interp(t - lag, t, lift)
        height = 1.35 + follower_lift + 0.06 * np.sin(2 * np.pi * 1.7 * t) + 0.04 * noise(t, 0.15)
        rider_x = _delayed(t, root, 0.05)[:, 0]
        position = np.stack([rider_x + travel * ahead * distance * np.cos(side), height, distance * np.sin(side)], -1)
        vfov = 70.0 if kind == "fisheye" else 60.0
        if kind == "roll":
            sign = 1.0 if rng.uniform() < 0.5 else -1.0
            # rocking as a hand does: the real follow-cams' pictures turned 10-27 degrees between takeoff and landing
            roll = roll + sign * (22.0 + 10.0 * np.sin(2 * np.pi * t / 1.6 + rng.uniform(0, 6)))
        if kind == "fisheye":
            k1 = FISHEYE_K1
    elif kind == "follow-below":
        position = np.tile([lip_x + 0.6 * travel, 0.35, 2.8], (n, 1)) + 0.02 * np.stack(
            [noise(t, 0.3), noise(t, 0.25), noise(t, 0.35)], -1
        )
        vfov = 54.0
    elif kind == "pan":
        middle = float(root[(timeline.takeoff_frame + timeline.landing_frame) // 2, 0])
        position = np.tile([middle + 1.5 * travel, 1.65, 10.5], (n, 1)) + 0.015 * np.stack(
            [noise(t, 0.2), noise(t, 0.2), noise(t, 0.2)], -1
        )
        target = _delayed(t, root, 0.15) + np.array([0.0, 0.15, 0.0])
        vfov = 36.0
    else:  # drone
        rider = _delayed(t, root, 0.35)
        climb = 0.6 * np.interp(t - 0.5, t, lift) + 0.2 * np.sin(2 * np.pi * t / 4.0 + rng.uniform(0, 6))
        drift = 0.8 * np.sin(2 * np.pi * t / 5.0 + rng.uniform(0, 6))
        position = np.stack([rider[:, 0] - travel * (2.5 + drift), 4.8 + climb, 4.2 + 0.3 * noise(t, 0.8)], -1)
        vfov = 52.0
    # A hand (or a gimbal) aims: small errors on the target, more for a handheld standing still.
    shake = 0.12 if kind in ("pan", "follow-below") else 0.05
    target = target + shake * np.stack([noise(t, 0.15), noise(t, 0.15), noise(t, 0.15)], -1)
    rotation = _look_at(position, target, roll)
    f = (h / 2) / math.tan(math.radians(vfov) / 2)
    if k1:
        # Keep the picture's corners inside the distortion model's valid range: normalised half-width 0.5.
        f = (w / 2) / 0.5
    return CameraPath(kind, w, h, np.full(n, f), w / 2, h / 2, k1, rotation, position)


def _zoom_path(still: Camera, joints: np.ndarray, t: np.ndarray, noise: _Noise) -> CameraPath:
    """The still camera with its focal length breathing between 0.7 and 1.4 times, never cutting the rider."""
    n = len(t)
    schedule = 1.0 + 0.3 * np.sin(2 * np.pi * t / 2.2 + 1.0) + 0.1 * np.sin(2 * np.pi * t / 0.9) + 0.02 * noise(t, 0.3)
    cam = joints @ still.R.T + still.t
    x = np.abs(cam[..., 0] / cam[..., 2]).max(axis=1) * still.fx + 0.35 * still.fx / cam[..., 2].min(axis=1)
    y = np.abs(cam[..., 1] / cam[..., 2]).max(axis=1) * still.fy + 0.35 * still.fy / cam[..., 2].min(axis=1)
    allowed = 0.95 * np.minimum(still.cx / x, still.cy / y)
    fps = (n - 1) / max(float(t[-1]), 1e-6)
    half = max(1, round(0.25 * fps))
    padded = np.pad(allowed, half, mode="edge")
    eroded = np.array([padded[i : i + 2 * half + 1].min() for i in range(n)])
    zoom = np.clip(np.minimum(schedule, eroded), 0.7, None)
    # Smoothing within the erosion's window keeps every frame under what it allows.
    kernel = np.hanning(2 * half + 3)[1:-1]
    zoom = np.convolve(np.pad(zoom, half, mode="edge"), kernel / kernel.sum(), mode="valid")
    position = -still.R.T @ still.t
    return CameraPath("zoom", still.width, still.height, still.fx * zoom, still.cx, still.cy, 0.0,
                      np.repeat(still.R[None], n, 0), np.repeat(position[None], n, 0))  # fmt: skip


class _Noise:
    """Smooth random signals of unit spread, drawn on a fixed time grid and read at any times."""

    def __init__(self, rng: np.random.Generator, duration_s: float) -> None:
        self.rng = rng
        self.grid = np.arange(-1.0, duration_s + 1.0, 1.0 / _NOISE_HZ)

    def __call__(self, times: np.ndarray, scale_s: float) -> np.ndarray:
        """(len(times),) noise varying over about `scale_s` seconds."""
        sigma = scale_s * _NOISE_HZ
        half = int(3 * sigma) + 1
        kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
        raw = self.rng.normal(0.0, 1.0, len(self.grid) + 2 * half)
        smooth = np.convolve(raw, kernel / kernel.sum(), mode="valid")
        smooth /= smooth.std() + 1e-12
        return np.interp(times, self.grid, smooth)


def _delayed(t: np.ndarray, values: np.ndarray, delay_s: float) -> np.ndarray:
    """values (N, D) read delay_s earlier (held at the first frame before the clip)."""
    return np.stack([np.interp(t - delay_s, t, values[:, k]) for k in range(values.shape[1])], -1)


def _look_at(position: np.ndarray, target: np.ndarray, roll_deg: np.ndarray) -> np.ndarray:
    """(N, 3, 3) world -> camera rotations looking from position at target, world-up kept up, then rolled about
    the view axis by roll_deg (positive: the picture's content turns clockwise)."""
    forward = target - position
    forward /= np.linalg.norm(forward, axis=1, keepdims=True)
    right = np.cross(forward, np.asarray(WORLD_UP))
    right /= np.linalg.norm(right, axis=1, keepdims=True)
    down = np.cross(forward, right)
    base = np.stack([right, down, forward], axis=1)
    a = np.radians(roll_deg)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    spin = np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)
    return spin @ base
