"""What the camera did around a jump, from the tracker's camera path, and whether gravity's up can be read.

The tracker follows the background (people masked out) from frame to frame and composes a similarity per
frame (`Track.extras['camera_path']`: the 3x3 carrying the first frame's pixels to each frame's). Around a jump
(`WINDOW_S` either side of the flight) that gives:

- speed: the median frame-to-frame motion of the picture's centre, in frame widths per second: a follow-cam or
  a handheld that pans with the rider moves the picture by a quarter to half a frame width per second (measured on
  the real snowboard clips: 0.28-0.47), a camera on a tripod by next to nothing (the flow's noise, and a rider's
  shadow the people mask does not cover: under 0.1 on the synthetic still camera);
- roll_deg: how far the picture turned about its centre over the window (the real follow-cams: 16-39°);
- zoom: the largest over the smallest picture scale over the window.

The pose model's "up" is the picture's up. With a camera that stands still and level, that is gravity's up; with
a camera that moves (`moving`), it is not known: the trunk's lean from upright, the hips' and the hands' height
above the snow, and every rule built on them (the landing grade) are then withheld, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "CameraAround", "FOCAL_PER_DIAGONAL", "MOVING_SPEED", "MOVING_ROLL_DEG", "MOVING_ZOOM", "WINDOW_S", "camera_around",
    "camera_pan", "camera_roll", "stabilise", "unrolled",
]  # fmt: skip

WINDOW_S = 0.5
MOVING_SPEED = 0.15  # frame widths per second
MOVING_ROLL_DEG = 8.0
MOVING_ZOOM = 1.15
# A phone's main camera filming video: about 30 mm in 35 mm terms (26 mm for a photo, the sensor cropped a little
# for stabilisation), a focal length of 0.69 times the picture's diagonal in pixels (72 degrees across it). The clip
# does not say; a zoomed-in or wide (action) camera is off by its factor, and the turn read by as much: on the
# rendered camera beside the lip (0.69 itself) a factor of 0.6 over-read its turn by 14 degrees, and its wildcat
# was fitted as a cork 360 instead.
FOCAL_PER_DIAGONAL = 0.69


@dataclass(frozen=True)
class CameraAround:
    """The camera around one jump (see the module's docstring for each number)."""

    speed: float
    roll_deg: float
    zoom: float

    @property
    def moving(self) -> bool:
        return self.speed > MOVING_SPEED or self.roll_deg > MOVING_ROLL_DEG or self.zoom > MOVING_ZOOM

    @property
    def reason(self) -> str | None:
        """Why gravity's up is not known here, as a phrase with its numbers; None for a still, level camera."""
        parts = []
        if self.speed > MOVING_SPEED:
            parts.append(f"moved {self.speed:.2f} frame widths per second")
        if self.roll_deg > MOVING_ROLL_DEG:
            parts.append(f"rolled {self.roll_deg:.0f}°")
        if self.zoom > MOVING_ZOOM:
            parts.append(f"zoomed {self.zoom:.2f}x")
        return "the camera " + " and ".join(parts) + " around the jump" if parts else None

    def to_result(self) -> dict[str, float]:
        return {"speed_frame_widths_per_s": round(self.speed, 3), "roll_deg": round(self.roll_deg, 1),
                "zoom": round(self.zoom, 3), "moving": self.moving}  # fmt: skip


def camera_around(
    path: np.ndarray | None, times_s: np.ndarray, *, takeoff_s: float, landing_s: float, frame_size: tuple[int, int]
) -> CameraAround | None:
    """The camera from `WINDOW_S` before takeoff to `WINDOW_S` after landing.

    path: (n_frames, 3, 3) the tracker's camera path (None: not measured, and None is returned); times_s: (n_frames,)
    every frame's time; frame_size: (width, height) pixels.
    """
    if path is None or len(path) < 2:
        return None
    times = np.asarray(times_s, dtype=np.float64)[: len(path)]
    near = np.flatnonzero((times >= takeoff_s - WINDOW_S) & (times <= landing_s + WINDOW_S))
    if len(near) < 2:
        return None
    mats = np.asarray(path, dtype=np.float64)[near]
    width, height = frame_size
    centre = np.array([width / 2.0, height / 2.0, 1.0])
    # Where the first frame's centre lies in each frame, and how it moved from one frame to the next.
    moved = np.einsum("nij,j->ni", mats, centre)[:, :2]
    steps = np.linalg.norm(np.diff(moved, axis=0), axis=1) / np.maximum(np.diff(times[near]), 1e-6)
    speed = float(np.median(steps)) / max(width, 1)
    roll = _turned_deg(mats)
    scale = np.sqrt(np.abs(np.linalg.det(mats[:, :2, :2])))
    zoom = float(scale.max() / max(scale.min(), 1e-9))
    return CameraAround(speed=speed, roll_deg=float(np.ptp(roll)), zoom=zoom)


def stabilise(keypoints_2d: np.ndarray, frames: np.ndarray, path: np.ndarray) -> np.ndarray:
    """(m, K, C) the keypoints carried into the first frame's pixels: each sample's x, y through the inverse of
    its frame's camera matrix (`path`: (n_frames, 3, 3), first frame to that frame); other channels kept.

    With the camera's pan, tilt, roll and zoom taken out, a rider in the air follows gravity's parabola again,
    as far as one similarity describes the background (a follow-cam that travels adds parallax).
    """
    out = np.array(keypoints_2d, dtype=np.float32, copy=True)
    mats = np.asarray(path, dtype=np.float64)[np.clip(np.asarray(frames), 0, len(path) - 1)]
    inverse = np.linalg.inv(mats)  # (m, 3, 3)
    xy = np.asarray(keypoints_2d[..., :2], dtype=np.float64)
    homogeneous = np.concatenate([xy, np.ones(xy.shape[:-1] + (1,))], axis=-1)  # (m, K, 3)
    carried = np.einsum("mij,mkj->mki", inverse, homogeneous)
    out[..., :2] = carried[..., :2] / carried[..., 2:3]
    return out


def camera_pan(path: np.ndarray, frames: np.ndarray, *, frame_size: tuple[int, int]) -> np.ndarray:
    """(m,) degrees the camera turned about the picture's vertical axis from the path's first frame to each of
    `frames` (positive: the picture moved left, the camera turned to the right), from the picture's centre moving
    across it frame by frame: a turn of a radians moves it by f tan(a), f the focal length (`FOCAL_PER_DIAGONAL`).

    path: (n_frames, 3, 3) the tracker's camera path. A camera that travels moves the picture as well without
    turning (the background's parallax); on the rendered suite the turn read this way was within 12 degrees of the
    truth over a flight where the camera turned (a handheld beside the lip following the rider over it: 93
    against 83; a pan: 27 against 26 at the render's focal length) and up to 24 degrees off where it travelled (a
    drone following the rider: 18 against -6)."""
    mats = np.asarray(path, dtype=np.float64)
    width, height = frame_size
    centre = np.array([width / 2.0, height / 2.0, 1.0])
    # each frame's step at the picture's centre: frame k-1's centre carried into frame k (where the first frame's
    # centre went has drifted off the centre, where a turn moves the picture faster)
    steps = np.einsum("nij,njk,k->ni", mats[1:], np.linalg.inv(mats[:-1]), centre) if len(mats) > 1 else np.zeros((0, 3))
    dx = steps[:, 0] / steps[:, 2] - centre[0]
    focal = FOCAL_PER_DIAGONAL * float(np.hypot(width, height))
    turned = np.degrees(np.cumsum(np.r_[0.0, np.arctan(-dx / focal)]))
    return turned[np.clip(np.asarray(frames), 0, len(turned) - 1)]


def camera_roll(path: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """(m,) degrees the picture turned about its centre from the path's first frame to each of `frames`, clockwise
    as seen (the similarity's own angle in the picture's coordinates, y down): a camera rolled anticlockwise turns
    the scene clockwise in its picture. path: (n_frames, 3, 3) the tracker's camera path."""
    turned = _turned_deg(np.asarray(path, dtype=np.float64))
    return turned[np.clip(np.asarray(frames), 0, len(turned) - 1)]


def _turned_deg(mats: np.ndarray) -> np.ndarray:
    """(n,) the similarities' angles (n, 3, 3), degrees, clockwise as seen, unwrapped from one to the next."""
    return np.degrees(np.unwrap(np.arctan2(mats[:, 1, 0], mats[:, 0, 0])))


def unrolled(
    keypoints_2d: np.ndarray, keypoints_3d: np.ndarray, roll_deg: np.ndarray, frame_size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The keypoints as a camera that kept its roll would have seen them: each sample's 2D keypoints (pixels, y
    down) turned back by `roll_deg` (m,) (`camera_roll`, since the moment they are compared with) about the
    picture's centre, and its 3D keypoints (the pose model's camera-aligned metres, y up) about the camera's axis by
    as much; other channels kept. The pose model reads the body against the camera, so a camera that rolls through
    a flight turns every reading with it: the follow-cams of the real snowboard clips rolled 10-27 degrees between
    takeoff and landing, which a body seen from the front reads as a roll, and one seen side-on as a flip."""
    a = np.radians(np.nan_to_num(np.asarray(roll_deg, dtype=np.float64)))
    c, s = np.cos(a)[:, None], np.sin(a)[:, None]
    k2 = np.array(keypoints_2d, dtype=np.float64, copy=True)
    width, height = frame_size
    x, y = k2[..., 0] - width / 2.0, k2[..., 1] - height / 2.0
    # turned back: by -roll in the picture's coordinates (y down)
    k2[..., 0], k2[..., 1] = c * x + s * y + width / 2.0, -s * x + c * y + height / 2.0
    k3 = np.array(keypoints_3d, dtype=np.float64, copy=True)
    x3, y3 = k3[..., 0].copy(), k3[..., 1].copy()
    # the same turn with y up is +roll
    k3[..., 0], k3[..., 1] = c * x3 - s * y3, s * x3 + c * y3
    return k2, k3
