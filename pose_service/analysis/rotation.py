"""Spin and flip over a flight: one steady rotation fitted to every frame's torso, not frame-to-frame unwrapping.

Why a fit. The pose model reads the torso's orientation well most of the time, but mid-rotation it sometimes
answers with a mirror image of the truth: left and right swapped (the torso read as facing the other way), or
the depth reversed (a chest turned away read as turned towards the camera), or both. Unwrapping angles frame
to frame turns each such answer into a lost or extra half turn. In the air, though, angular momentum is
conserved: the body turns at a nearly steady rate. So the whole flight is explained by four numbers, the
heading at takeoff, the spin rate and the flip rate (and the time), and the reading of every frame is
compared with the model under each of its mirror images, the best one counting. The 2D keypoints add what
they measure without ambiguity: the torso and the shoulder line projected on the picture (a flip seen side-on
turns the torso round in the picture; a spin seen from the front narrows and widens the shoulders).

Model of the orientation (columns: the rider's left, up and forward axes; camera axes x right, y up, z towards
the camera): R(u) = Ry(heading + spin * u) @ Rx(flip * u), u = 0 at takeoff, 1 at landing, held outside.
`spin` turns about the vertical (positive: to the rider's left, counter-clockwise seen from above); `flip`
about the rider's own left-right axis (positive: head forward, a front flip). The camera is assumed level.

Rolls. A wildcat or tamedog turns about the rider's front-back axis instead: R(u) = Ry(heading + spin * u) @
Rz(roll * u) (`roll` positive: the head goes to the rider's right). Both families are searched; the roll family
replaces the flip family only when it explains the frames clearly better (`_ROLL_MARGIN`), so spins and flips
fit as before.

Riders as they rotate. Angular momentum is conserved, the rate is not: a rider tucks (turns faster) and opens to
spot the landing (slower), so the rotation's progress w(u), 0 at takeoff and 1 at landing, need not be u. The fit
also tries a progress that is piecewise linear in time (`_KNOTS` segments, each rate between `_RATE_RANGE` times
the mean: monotone), R(u) = Ry(heading + spin * w(u)) @ Rx(flip * w(u)) (or Rz(roll * w(u))), searched over a
set of coarse shapes with every total (per-frame cost tables over the orientation's two angles) and refined
locally. And a cork turns about a tilted axis: angular momentum fixes the axis in the world, and with the body's
shape steady in the body too, so R(u) = Ry(heading) @ Rot(axis, turn * w(u)), the axis tilted `tilt` off the
body's up axis towards `toward` (0: its front, 90: its left). Each replaces the steady fit only when it explains
the frames clearly better (`_VARY_MARGIN`, `_TILT_MARGIN`). The judge counts of a tilted turn: the spin is the
turn about the axis; the body's up axis sweeps a cone about it, reaching twice the tilt from vertical half a turn
in, so past 45 degrees every turn takes the head below the hips once, a cork: the turn also counts as a flip
(tilt towards the rider's left or right) or a roll (front or back) of the same degrees (`_INVERTED_TILT_DEG`).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np

__all__ = ["RotationFit", "torso_frames", "fit_rotation", "fitted_frames", "judge_count", "model_frames", "body_turn",
           "spin_count"]

_SPIN_RANGE, _FLIP_RANGE = 1800.0, 1260.0
_STEPS = (30.0, 6.0, 1.5)  # degrees of total rotation: a coarse grid over everything, then two finer ones
_MIRROR_PENALTY = (0.0, 0.35, 0.35, 0.5)  # identity, left-right swap, depth mirror, both
_PENALTY_NKC = np.array(_MIRROR_PENALTY)[None, :, None]  # shaped for (frames, mirrors, candidates)
_PENALTY_NKC.flags.writeable = False
_TRUNC_3D = 4 * (1 - np.cos(np.radians(70)))  # a reading further than 70 degrees off counts no worse
_TRUNC_2D = 0.45
_WEIGHT_2D = 1.5
_AGREE_DEG = 40.0
_ROLL_MARGIN = 0.85  # the roll family must cost under 85 % of the flip family's best to be chosen
_KNOTS = 4  # segments of the piecewise-linear progress w(u) of a rotation whose rate varies
_RATE_RANGE = (0.25, 2.2)  # each segment's rate against the mean: what a rider's tuck and opening allow
_VARY_MARGIN = 0.5  # a varying rate must cost under half the steady fit's to be kept (a spin landed short and
# finished on the snow, fitted as one speeding up at the end, costs 72 %; a 1080 varying by 30 %, 10 %)
_TILT_MARGIN = 0.5  # likewise a tilted axis against the best upright fit
_INVERTED_TILT_DEG = 45.0  # an axis tilted past this takes the head below the hips once a turn
_TABLE_STEP = 3.0  # degrees: the per-frame cost tables of the varying-rate search
_TILT_GRID = (np.arange(10.0, 71.0, 5.0), np.arange(0.0, 360.0, 30.0), 6.0)  # tilt, toward, turn step (degrees)
STANCE_DECIDES_DEG = 45.0  # a spin total this far from its nearest count: the landing's stance picks it (`spin_count`)
_MIN_AIR_FRAMES = 6  # fewer airborne readings: only the steady fit
_MIN_TILT_DEG = 10.0  # a tilted fit nearer upright than this is an upright spin: the upright fit is kept
_MAX_TILT_DEG = 70.0  # an axis tilted further is nearer a flip or roll than a spin: the upright families' (a
# backflip is a turn about the horizontal left-right axis, never a 360 spin tilted 90 degrees); a tilted fit pinned
# to this bound is one whose axis lies beyond it, and is not kept (the rendered wildcat under the camera beside the
# lip, its turn taken out as read: tilted 70 degrees towards the front, under half the roll's cost, a "cork 360")
_MAX_LEAN_DEG = 40.0  # the torso's forward lean from the turning body (trunk over the hips) a tilted fit allows


@dataclass(frozen=True)
class RotationFit:
    """The steady rotation that best explains a flight.

    spin_deg, flip_deg: signed totals from takeoff to landing (spin positive to the left, flip positive
        forward); heading_deg: the facing direction at takeoff about the vertical (0 facing the camera,
        positive turned to the rider's left).
    agreement: share of the airborne frames whose reading (under its best mirror image) lies within 40
        degrees of the fitted orientation; frames: how many airborne frames had a reading.
    roll_deg: signed total about the rider's front-back axis (positive: the head to the rider's right); a fit
        has a flip or a roll, not both. start_s, end_s: when the fitted rotation starts and ends (the flight,
        or inside it by the timing that fitted best).
    progress: the share of the rotation done at each of `_KNOTS` + 1 evenly spaced moments from start_s to end_s
        (0 ... 1), linear between; () for a steady rate.
    axis_tilt_deg, axis_toward_deg: a rotation about a tilted axis (0: upright): its tilt off the body's up axis
        and towards where (0 the body's front, 90 its left, as at takeoff). spin_deg is then the turn about that
        axis, and past 45 degrees of tilt the same turn is the flip (towards left or right) or roll (front or
        back) a judge counts, with the sign of the turn's part about that axis. lean_deg: how far the torso
        leans forward from the turning body (its trunk bent over the hips), a tilted fit's too.
    """

    spin_deg: float
    flip_deg: float
    heading_deg: float
    agreement: float
    frames: int
    roll_deg: float = 0.0
    start_s: float = 0.0
    end_s: float = 0.0
    progress: tuple[float, ...] = ()
    axis_tilt_deg: float = 0.0
    axis_toward_deg: float = 0.0
    lean_deg: float = 0.0

    @property
    def model(self) -> str:
        """The kind of rotation fitted: "flip" or "roll" (the upright families; "flip" also a plain spin) or "tilted"."""
        if self.axis_tilt_deg:
            return "tilted"
        return "roll" if self.roll_deg != 0.0 else "flip"


def judge_count(total_deg: float, step: float = 180.0) -> float:
    """An unsigned total rounded to the multiple of `step` a judge would call (a measured 520 is a 540)."""
    return float(step * round(abs(total_deg) / step))


def spin_count(total_deg: float, landed_switched: bool | None = None) -> float:
    """A spin's judge count: the nearest 180 (`judge_count`), or, where the measured total lies `STANCE_DECIDES_DEG`
    or more from it and the stances before takeoff and after landing are known, the count either side of the total
    that lands as the rider did. An odd number of half turns lands switch (a 180, a 540), an even one in the
    approach's stance (a 360): the stance is read off a rider riding on the snow, where the pose model sees the
    body whole, and a total read midway between two counts comes from the air, where it reads the back as the
    front (the real seg6's first kicker, a backside 360 by its yaw readings, measured 249-320° over its variants)."""
    nearest = judge_count(total_deg, 180.0)
    total = abs(total_deg)
    if landed_switched is None or abs(total - nearest) < STANCE_DECIDES_DEG:
        return nearest
    below = 180.0 * float(np.floor(total / 180.0))
    odd = round(below / 180.0) % 2 == 1
    return below if odd == landed_switched else below + 180.0


def torso_frames(keypoints_3d: np.ndarray) -> np.ndarray:
    """(m, 3, 3) torso orientations, columns left, up, forward; NaN where the torso has no extent.

    left: from the right shoulder and hip to the left ones; up: mid-hip to mid-shoulder, made perpendicular to
    left; forward = left x up (out of the chest).
    """
    k = np.asarray(keypoints_3d, dtype=np.float64)
    left = (k[:, 11] - k[:, 12]) + (k[:, 23] - k[:, 24])
    up = (k[:, 11] + k[:, 12]) / 2 - (k[:, 23] + k[:, 24]) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        left = left / np.linalg.norm(left, axis=1, keepdims=True)
        up = up - np.einsum("ij,ij->i", up, left)[:, None] * left
        up = up / np.linalg.norm(up, axis=1, keepdims=True)
    fwd = np.cross(left, up)
    return np.stack([left, up, fwd], axis=2)


def _mirrors(r: np.ndarray) -> np.ndarray:
    """(m, 4, 3, 3): each reading and the three readings the pose model confuses it with."""
    swap = r * np.array([-1.0, 1.0, -1.0])  # left-right swapped: left and forward reversed
    depth = r * np.array([1.0, 1.0, -1.0])[:, None]  # z of every axis reversed...
    depth = depth * np.array([1.0, 1.0, -1.0])  # ...and forward re-derived as left x up
    both = depth * np.array([-1.0, 1.0, -1.0])
    return np.stack([r, swap, depth, both], axis=1)


def _cost(
    u: np.ndarray,
    readings: np.ndarray,
    has3d: np.ndarray,
    obs2d: np.ndarray,
    has2d: np.ndarray,
    pan: np.ndarray,
    heading: float,
    spin: np.ndarray,
    flip: np.ndarray,
    roll: bool = False,
) -> np.ndarray:
    """Total robust cost for every (spin, flip) pair of the grids `spin` (S,) x `flip` (F,): shape (S, F).
    roll: the second grid is the roll about the front-back axis instead of the flip. pan: (m,) radians the camera
    turned about its vertical axis (the model's heading as the camera sees it: Ry(pan) Ry(a) = Ry(pan + a))."""
    total = np.zeros((len(spin), len(flip)))
    penalty = np.array(_MIRROR_PENALTY)
    for i in range(len(u)):
        a = (np.radians(heading + spin * u[i]) + pan[i])[:, None]
        b = np.radians(flip * u[i])[None, :]
        ca, sa, cb, sb = np.cos(a), np.sin(a), np.cos(b), np.sin(b)
        if has3d[i]:
            # trace(C^T Ry(a) Rx(b)) (or Rz(b)) for each mirror image C: a bilinear form in (cos a, sin a, 1) and
            # (1, sin b, cos b), so one product of (S, 3) x (3, 3) x (3, F) per mirror instead of eight (S, F) terms
            c = readings[i]  # (4, 3, 3)
            zero = np.zeros(len(c))
            if roll:
                m = np.stack([np.stack([c[:, 2, 2], -c[:, 0, 1], c[:, 0, 0]], axis=1),
                              np.stack([c[:, 0, 2], c[:, 2, 1], -c[:, 2, 0]], axis=1),
                              np.stack([zero, c[:, 1, 0], c[:, 1, 1]], axis=1)], axis=1)  # fmt: skip
            else:
                m = np.stack([np.stack([c[:, 0, 0], c[:, 2, 1], c[:, 2, 2]], axis=1),
                              np.stack([-c[:, 2, 0], c[:, 0, 1], c[:, 0, 2]], axis=1),
                              np.stack([zero, -c[:, 1, 2], c[:, 1, 1]], axis=1)], axis=1)  # fmt: skip
            rows = np.stack([ca[:, 0], sa[:, 0], np.ones(len(ca))], axis=1)  # (S, 3)
            cols = np.stack([np.ones(b.shape[1]), sb[0], cb[0]], axis=0)  # (3, F)
            tr = (rows @ m) @ cols  # (4, S, F)
            dist = np.minimum(2.0 * (3.0 - tr), _TRUNC_3D) + penalty[:, None, None]
            total += dist.min(axis=0)
        if has2d[i] and roll:
            lx, ly, ux, uy = obs2d[i]
            # Projected left axis (cos a cos b, sin b) and up axis (-cos a sin b, cos b); left up to its sign.
            px, py = ca * cb, sb * np.ones_like(ca)
            el = np.minimum((lx - px) ** 2 + (ly - py) ** 2, (lx + px) ** 2 + (ly + py) ** 2)
            eu = (ux + ca * sb) ** 2 + (uy - cb) ** 2
            total += _WEIGHT_2D * (np.minimum(el, _TRUNC_2D) + np.minimum(eu, _TRUNC_2D))
        elif has2d[i]:
            lx, ly, ux, uy = obs2d[i]
            # Projected left axis (cos a, 0) and up axis (sin a sin b, cos b); the left axis up to its sign.
            el = np.minimum((lx - ca) ** 2, (lx + ca) ** 2) + ly**2
            eu = (ux - sa * sb) ** 2 + (uy - cb) ** 2
            total += _WEIGHT_2D * (np.minimum(el, _TRUNC_2D) + np.minimum(eu, _TRUNC_2D))
    return total


def _observed_2d(keypoints_2d: np.ndarray, keypoints_3d: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(m, 4): the picture's view of the left axis (x, y) and the up axis (x, y), each divided by its 3D length
    (y up), so a segment parallel to the picture has length 1."""
    k2 = np.asarray(keypoints_2d, dtype=np.float64)[..., :2] * np.array([1.0, -1.0])
    k3 = np.asarray(keypoints_3d, dtype=np.float64)
    left2 = ((k2[:, 11] - k2[:, 12]) + (k2[:, 23] - k2[:, 24])) / 2
    up2 = (k2[:, 11] + k2[:, 12]) / 2 - (k2[:, 23] + k2[:, 24]) / 2
    left3 = np.nanmedian(np.linalg.norm(((k3[:, 11] - k3[:, 12]) + (k3[:, 23] - k3[:, 24])) / 2, axis=1))
    up3 = np.nanmedian(np.linalg.norm((k3[:, 11] + k3[:, 12]) / 2 - (k3[:, 23] + k3[:, 24]) / 2, axis=1))
    s = np.asarray(scale, dtype=np.float64)[:, None]
    return np.concatenate([left2 / (s * left3), up2 / (s * up3)], axis=1)


def fit_rotation(
    times_s: np.ndarray,
    keypoints_2d: np.ndarray,
    keypoints_3d: np.ndarray,
    scale_px_per_m: np.ndarray,
    *,
    takeoff_s: float,
    landing_s: float,
    slack_s: float = 0.0,
    pan_deg: np.ndarray | None = None,
) -> RotationFit:
    """Fit the steady rotation to the samples of one person around one flight.

    Pass the samples from a little before takeoff to a little after landing: the ground frames fix the heading
    at takeoff and the orientation the rider lands in, which a rotation must end in.

    slack_s: how much later the rotation may start, and earlier it may end, than the flight as measured (the
    hips' parabola can run on into the landing's absorb); the best fitting timing is used.
    pan_deg: (m,) how far the camera has turned about the picture's vertical axis at each sample since takeoff
    (`analysis.camera.camera_pan`; None: it stood still). The pose model reads the body's orientation against the
    camera, so a camera that pans with the rider adds its own turn to the spin; the fitted rotation is the
    world's, seen through the camera turned by `pan_deg` (on the rendered camera beside the lip, which turns 83
    degrees to follow the rider over it, a 360 read 453 without it).
    """
    t = np.asarray(times_s, dtype=np.float64)
    frames = torso_frames(keypoints_3d)
    has3d = np.isfinite(frames).all(axis=(1, 2))
    readings = _mirrors(np.where(has3d[:, None, None], frames, 0.0))
    obs2d = _observed_2d(keypoints_2d, keypoints_3d, scale_px_per_m)
    has2d = np.isfinite(obs2d).all(axis=1)
    pan = np.zeros(len(t)) if pan_deg is None else np.radians(np.nan_to_num(np.asarray(pan_deg, dtype=np.float64)))
    data = (readings, has3d, obs2d, has2d, pan)

    ground = (t <= takeoff_s) & has3d
    fwd = frames[ground][:, :, 2] if ground.any() else frames[has3d][:1, :, 2]
    if len(fwd) == 0:
        return RotationFit(0.0, 0.0, 0.0, 0.0, 0)
    base = float(np.degrees(np.arctan2(np.median(fwd[:, 0]), np.median(fwd[:, 2]))))
    u = _progress(t, takeoff_s, landing_s)
    if not has3d[(u > 0.0) & (u < 1.0)].any():  # nothing read in the air: the ends fix no count of turns
        return RotationFit(0.0, 0.0, base, 0.0, 0, start_s=takeoff_s, end_s=landing_s)
    headings = (base, -base, base + 180.0, 180.0 - base)
    best = min(_search(u, data, heading) for heading in headings)
    rolled = min(_search(u, data, heading, roll=True) for heading in headings)
    roll = rolled[0] < _ROLL_MARGIN * best[0] and judge_count(rolled[2], 360.0) > 0
    if roll:
        best = rolled
    span = (takeoff_s, landing_s)
    step = float(np.median(np.diff(t))) if len(t) > 1 else slack_s
    for late, early in _timings(slack_s, step):
        if landing_s - early - (takeoff_s + late) < 0.5 * (landing_s - takeoff_s):
            continue
        u_alt = _progress(t, takeoff_s + late, landing_s - early)
        trial = _search(u_alt, data, best[3], roll=roll)
        if trial[0] < best[0]:
            best, u, span = trial, u_alt, (takeoff_s + late, landing_s - early)
    cost, spin_deg, second_deg, heading = best
    model = _Model("roll" if roll else "flip", heading, spin_deg, second_deg)
    if int(has3d[(u > 0.0) & (u < 1.0)].sum()) >= _MIN_AIR_FRAMES:
        # A varying rate, then a tilted axis, each over the steady fit's timing and the flight's as measured.
        spans = [span] + ([(takeoff_s, landing_s)] if span != (takeoff_s, landing_s) else [])
        upright = (cost, model, span)
        for sp in spans:
            varied = _search_varying(_progress(t, *sp), data, model, headings)
            if varied[0] < _VARY_MARGIN * cost and varied[0] < upright[0]:
                upright = (varied[0], varied[1], sp)
        chosen = upright
        for sp in spans:
            tilted = _search_tilted(_progress(t, *sp), data, headings)
            inside = _MIN_TILT_DEG <= tilted[1].tilt < _MAX_TILT_DEG - 1.0  # not pinned to the bound
            if tilted[0] < _TILT_MARGIN * upright[0] and tilted[0] < chosen[0] and inside:
                chosen = (tilted[0], tilted[1], sp)
        _, model, span = chosen
        u = _progress(t, *span)
    air = (u > 0.0) & (u < 1.0)
    frames_fit = model.frames(u[air])
    agreement = _agreement_of(_panned(frames_fit[:, None], pan[air])[:, 0], readings[air], has3d[air])
    return model.result(agreement, int(has3d[air].sum()), span)


@dataclass(frozen=True)
class _Model:
    """One candidate rotation: kind "flip" or "roll" (Ry(heading + first w) @ Rx or Rz(second w)) or "tilted"
    (Ry(heading) @ Rot(axis, first w), the axis tilted `tilt` towards `toward`); w the progress through `knots`
    (() steady)."""

    kind: str
    heading: float
    first: float
    second: float = 0.0
    knots: tuple[float, ...] = ()
    tilt: float = 0.0
    toward: float = 0.0
    lean: float = 0.0

    def frames(self, u: np.ndarray) -> np.ndarray:
        """(n, 3, 3) the orientations at rotation fractions `u`."""
        w = _warp(u, self.knots)
        if self.kind == "tilted":
            start = model_frames(self.heading, np.zeros(1), np.zeros(1))[0]
            lean = model_frames(0.0, np.zeros(1), np.full(1, self.lean))[0]
            return start @ _turns(_tilt_axis(self.tilt, self.toward), self.first * w) @ lean
        return model_frames(self.heading, self.first * w, self.second * w, roll=self.kind == "roll")

    def result(self, agreement: float, frames: int, span: tuple[float, float]) -> RotationFit:
        flip = self.second if self.kind == "flip" else 0.0
        roll = self.second if self.kind == "roll" else 0.0
        if self.kind == "tilted" and self.tilt > _INVERTED_TILT_DEG:  # a cork: each turn once upside down
            axis = _tilt_axis(self.tilt, self.toward)
            if abs(axis[0]) > abs(axis[2]):  # towards the left or right: about the left-right axis
                flip = self.first * float(np.sign(axis[0]))
            else:
                roll = self.first * float(np.sign(axis[2]))
        return RotationFit(
            spin_deg=self.first,
            flip_deg=flip,
            heading_deg=float((self.heading + 180.0) % 360.0 - 180.0),
            agreement=agreement,
            frames=frames,
            roll_deg=roll,
            start_s=span[0],
            end_s=span[1],
            progress=tuple(float(k) for k in self.knots),
            axis_tilt_deg=self.tilt if self.kind == "tilted" else 0.0,
            axis_toward_deg=self.toward if self.kind == "tilted" else 0.0,
            lean_deg=self.lean if self.kind == "tilted" else 0.0,
        )


def _model_of(fit: RotationFit) -> _Model:
    if fit.axis_tilt_deg:
        return _Model("tilted", fit.heading_deg, fit.spin_deg, 0.0, fit.progress, fit.axis_tilt_deg,
                      fit.axis_toward_deg, fit.lean_deg)  # fmt: skip
    roll = fit.roll_deg != 0.0
    return _Model("roll" if roll else "flip", fit.heading_deg, fit.spin_deg, fit.roll_deg if roll else fit.flip_deg,
                  fit.progress)  # fmt: skip


def fitted_frames(fit: RotationFit, times_s: np.ndarray, pan_deg: np.ndarray | None = None) -> np.ndarray:
    """(n, 3, 3) the fitted orientation at `times_s` (columns left, up, forward), held outside the rotation; as the
    camera sees it when it turned by `pan_deg` (n,) degrees there (`fit_rotation`)."""
    t = np.asarray(times_s, dtype=np.float64)
    u = _progress(t, fit.start_s, fit.end_s) if fit.end_s > fit.start_s else np.zeros(len(t))
    frames = _model_of(fit).frames(u)
    if pan_deg is None:
        return frames
    return _panned(frames[:, None], np.radians(np.nan_to_num(np.asarray(pan_deg, dtype=np.float64))))[:, 0]


def _warp(u: np.ndarray, knots: tuple[float, ...] | np.ndarray) -> np.ndarray:
    """The progress w(u): u for a steady rate, else linear between `knots` at evenly spaced u."""
    if len(knots) == 0:
        return np.asarray(u, dtype=np.float64)
    return np.interp(u, _even(len(knots)), np.asarray(knots, dtype=np.float64))


@functools.lru_cache(maxsize=8)
def _even(count: int) -> np.ndarray:
    """`count` evenly spaced points from 0 to 1 (read only: shared between calls)."""
    points = np.linspace(0.0, 1.0, count)
    points.flags.writeable = False
    return points


def _tilt_axis(tilt_deg: float, toward_deg: float) -> np.ndarray:
    """(3,) the unit axis in the body's frame (left, up, forward), `tilt_deg` off up towards `toward_deg` (0 the
    front, 90 the left)."""
    a, b = np.radians(tilt_deg), np.radians(toward_deg)
    return np.array([np.sin(a) * np.sin(b), np.cos(a), np.sin(a) * np.cos(b)])


def _turns(axis: np.ndarray, deg: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotations about unit `axis` (..., 3) by `deg` (...) degrees (Rodrigues)."""
    k = np.asarray(axis, dtype=np.float64)
    a = np.radians(np.asarray(deg, dtype=np.float64))
    k, a = np.broadcast_arrays(k, a[..., None])
    a = a[..., 0]
    kx = np.zeros(k.shape + (3,))
    kx[..., 0, 1], kx[..., 0, 2], kx[..., 1, 2] = -k[..., 2], k[..., 1], -k[..., 0]
    kx[..., 1, 0], kx[..., 2, 0], kx[..., 2, 1] = k[..., 2], -k[..., 1], k[..., 0]
    eye = np.eye(3)
    return eye + np.sin(a)[..., None, None] * kx + (1 - np.cos(a))[..., None, None] * (kx @ kx)


def _frame_cost(
    models: np.ndarray, readings: np.ndarray, has3d: np.ndarray, obs2d: np.ndarray, has2d: np.ndarray, pan: np.ndarray
) -> np.ndarray:
    """(n, C): each frame's robust cost (as `_cost`) against candidate orientations `models` (n or 1, C, 3, 3) in the
    world, seen through the camera turned by `pan` (n,) radians."""
    n = len(readings)
    m = _panned(np.broadcast_to(models, (n,) + models.shape[1:]), pan)
    tr = np.einsum("nkij,ncij->nkc", readings, m)
    d3 = (np.minimum(2.0 * (3.0 - tr), _TRUNC_3D) + _PENALTY_NKC).min(axis=1)
    obs = np.where(has2d[:, None], obs2d, 0.0)
    lx, ly, ux, uy = (obs[:, k, None] for k in range(4))
    px, py, qx, qy = m[..., 0, 0], m[..., 1, 0], m[..., 0, 1], m[..., 1, 1]
    el = np.minimum((lx - px) ** 2 + (ly - py) ** 2, (lx + px) ** 2 + (ly + py) ** 2)
    eu = (ux - qx) ** 2 + (uy - qy) ** 2
    d2 = _WEIGHT_2D * (np.minimum(el, _TRUNC_2D) + np.minimum(eu, _TRUNC_2D))
    return np.where(has3d[:, None], d3, 0.0) + np.where(has2d[:, None], d2, 0.0)


def _panned(models: np.ndarray, pan: np.ndarray) -> np.ndarray:
    """Ry(pan) @ models, frame by frame: models (n, C, 3, 3), pan (n,) radians; `models` itself where the camera
    did not turn."""
    if not np.any(pan):
        return models
    c, s = np.cos(pan)[:, None, None], np.sin(pan)[:, None, None]
    out = np.array(models, dtype=np.float64)
    out[:, :, 0] = c * models[:, :, 0] + s * models[:, :, 2]
    out[:, :, 2] = c * models[:, :, 2] - s * models[:, :, 0]
    return out


def _shapes() -> list[tuple[float, ...]]:
    """The coarse progress shapes tried: every combination of segment rates 0.4, 0.8, 1.2, 1.6 (times the mean)
    that averages 1, and the steady one."""
    rates = (0.4, 0.8, 1.2, 1.6)
    out = [tuple(np.linspace(0.0, 1.0, _KNOTS + 1))]
    for combo in np.array(np.meshgrid(*[rates] * _KNOTS, indexing="ij")).reshape(_KNOTS, -1).T:
        if abs(combo.sum() - _KNOTS) < 1e-9:
            out.append(tuple(np.concatenate([[0.0], np.cumsum(combo) / _KNOTS])))
    return out


_TILT_SHAPES = 6  # of `_shapes()`, the tilted search's coarse stage tries the steady one and these many evenly picked


def _refine(objective: object, starts: list[np.ndarray], scale: np.ndarray) -> tuple[float, np.ndarray]:
    """Nelder-Mead from each start (the first entries a model's angles, the last `_KNOTS` - 1 its inner knots)."""
    from scipy.optimize import minimize

    best: tuple[float, np.ndarray] = (np.inf, starts[0])
    for x0 in starts:
        simplex = np.vstack([x0, x0 + np.diag(scale)])
        res = minimize(objective, x0, method="Nelder-Mead",  # type: ignore[call-overload]
                       options={"initial_simplex": simplex, "xatol": 0.2, "fatol": 1e-4, "maxfev": 600})  # fmt: skip
        if float(res.fun) < best[0]:
            best = (float(res.fun), np.asarray(res.x))
    return best


def _knot_penalty(inner: np.ndarray) -> tuple[tuple[float, ...], float]:
    """The knots (0, inner..., 1) and how far their segment rates stray outside `_RATE_RANGE` (0 inside)."""
    knots = (0.0, *(float(k) for k in inner), 1.0)  # plain floats: a handful of values, numpy's overhead was its cost
    rates = [(b - a) * _KNOTS for a, b in itertools.pairwise(knots)]
    lo, hi = _RATE_RANGE
    stray = sum(max(lo - r, 0.0) for r in rates) + sum(max(r - hi, 0.0) for r in rates)
    return knots, float(stray)


def _search_varying(
    u: np.ndarray,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    steady: _Model,
    headings: tuple[float, ...],
) -> tuple[float, _Model]:
    """(cost, model): the best rotation of the steady fit's family whose rate varies (piecewise-linear progress):
    every heading and total on the coarse grid with every coarse shape, by per-frame cost tables over the two
    angles, then refined from the best few."""
    roll = steady.kind == "roll"
    grid = np.arange(0.0, 360.0, _TABLE_STEP)
    g = len(grid)
    a, b = np.meshgrid(grid, grid, indexing="ij")
    table = _frame_cost(model_frames(0.0, a, b, roll=roll).reshape(1, -1, 3, 3), *data)
    table = table.reshape(len(u), g, g)
    spins = np.arange(-_SPIN_RANGE, _SPIN_RANGE + 1e-9, _STEPS[0])
    seconds = np.arange(-_FLIP_RANGE, _FLIP_RANGE + 1e-9, _STEPS[0])
    flat = table.reshape(-1)
    rows = np.arange(len(u)) * (g * g)
    found = []
    for knots in _shapes():
        w = _warp(u, knots)
        ib = np.rint(seconds[:, None] * w / _TABLE_STEP).astype(np.int64) % g + rows
        for heading in headings:
            ia = np.rint((heading + spins[:, None] * w) / _TABLE_STEP).astype(np.int64) % g * g
            # table[frame, ia, ib] summed over the frames, looked up through one flat index (the same values, summed
            # in the same order, at half the cost of indexing with three arrays)
            cost = flat.take(ia[:, None, :] + ib[None, :, :]).sum(axis=-1)
            i, j = np.unravel_index(np.argmin(cost), cost.shape)
            found.append((float(cost[i, j]), float(spins[i]), float(seconds[j]), knots, heading))
    found.sort(key=lambda c: c[0])
    best: tuple[float, _Model] = (np.inf, steady)
    for c in found[:3]:
        heading = c[4]

        def objective(x: np.ndarray, heading: float = heading) -> float:
            knots, stray = _knot_penalty(x[2:])
            model = _Model(steady.kind, heading, float(x[0]), float(x[1]), knots)
            return float(_frame_cost(model.frames(u)[:, None], *data).sum()) + 100.0 * stray

        start = np.array([c[1], c[2], *c[3][1:-1]])
        cost, x = _refine(objective, [start], np.array([15.0, 15.0] + [0.04] * (_KNOTS - 1)))
        if cost < best[0]:
            knots, _ = _knot_penalty(x[2:])
            best = (cost, _Model(steady.kind, heading, float(x[0]), float(x[1]), knots))
    return best


def _search_tilted(
    u: np.ndarray, data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], headings: tuple[float, ...]
) -> tuple[float, _Model]:
    """(cost, model): the best rotation about an axis tilted off the body's up axis (coarse: each heading, tilt,
    towards and turn of `_TILT_GRID` by per-frame cost tables, with a few progress shapes), then refined from the
    best few."""
    tilts, towards, step = _TILT_GRID
    turn_grid = np.arange(0.0, 360.0, step)
    axes = np.stack([_tilt_axis(a, b) for a in tilts for b in towards])  # (A, 3)
    turned = _turns(axes[:, None, :], turn_grid[None, :])  # (A, T, 3, 3)
    totals = np.arange(-_SPIN_RANGE, _SPIN_RANGE + 1e-9, _STEPS[0])
    shapes = _shapes()
    picks = [shapes[0]] + [shapes[k] for k in np.linspace(1, len(shapes) - 1, _TILT_SHAPES).astype(int)]
    t_count = len(turn_grid)
    # table[frame, axis, turn] through one flat index (`_search_varying`): the same values summed in the same order
    base = (np.arange(len(u)) * (len(axes) * t_count))[None, :, None] + (np.arange(len(axes)) * t_count)[None, None, :]
    found = []
    for heading in headings:
        frames = model_frames(heading, np.zeros(1), np.zeros(1))[0] @ turned
        flat = _frame_cost(frames.reshape(1, -1, 3, 3), *data).reshape(-1)
        for knots in picks:
            w = _warp(u, knots)
            it = np.rint(totals[:, None] * w / step).astype(np.int64) % t_count  # (S, n)
            cost = flat.take(base + it[:, :, None]).sum(axis=1)  # (S, A)
            i, j = np.unravel_index(np.argmin(cost), cost.shape)
            found.append((float(cost[i, j]), float(totals[i]), int(j), knots, heading))
    found.sort(key=lambda c: c[0])
    best: tuple[float, _Model] = (np.inf, _Model("tilted", headings[0], 0.0))
    for c in found[:3]:
        heading = c[4]

        def objective(x: np.ndarray, heading: float = heading) -> float:
            knots, stray = _knot_penalty(x[4:])
            tilt, lean = float(x[1]), float(x[3])
            stray += max(0.0, -tilt) + max(0.0, tilt - _MAX_TILT_DEG) + max(0.0, abs(lean) - _MAX_LEAN_DEG)
            model = _Model("tilted", heading, float(x[0]), 0.0, knots, float(np.clip(tilt, 0.0, _MAX_TILT_DEG)), float(x[2]),
                           float(np.clip(lean, -_MAX_LEAN_DEG, _MAX_LEAN_DEG)))  # fmt: skip
            return float(_frame_cost(model.frames(u)[:, None], *data).sum()) + 100.0 * stray

        start = np.array([c[1], tilts[c[2] // len(towards)], towards[c[2] % len(towards)], 0.0, *c[3][1:-1]])
        cost, x = _refine(objective, [start], np.array([15.0, 4.0, 10.0, 5.0] + [0.04] * (_KNOTS - 1)))
        if cost < best[0]:
            knots, _ = _knot_penalty(x[4:])
            tilt, toward = float(np.clip(x[1], 0.0, _MAX_TILT_DEG)), float(x[2] % 360.0)
            lean = float(np.clip(x[3], -_MAX_LEAN_DEG, _MAX_LEAN_DEG))
            best = (cost, _Model("tilted", heading, float(x[0]), 0.0, knots, tilt, toward, lean))
    return best


def _agreement_of(model: np.ndarray, readings: np.ndarray, has3d: np.ndarray) -> float:
    """Share of the frames with a reading (under its best mirror image) within 40 degrees of the model."""
    if not has3d.any():
        return 0.0
    tr = np.einsum("nkij,nij->nk", readings[has3d], model[has3d])
    angle = np.degrees(np.arccos(np.clip((tr.max(axis=1) - 1) / 2, -1.0, 1.0)))
    return float(np.mean(angle < _AGREE_DEG))


def _progress(t: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    """u: 0 until the rotation starts, rising steadily to 1 when it ends, 1 after."""
    return np.clip((t - start_s) / max(end_s - start_s, 1e-6), 0.0, 1.0)


def _timings(slack_s: float, step_s: float) -> list[tuple[float, float]]:
    """(later start, earlier end) pairs to try besides the measured flight, in steps of two samples."""
    if slack_s <= 0 or step_s <= 0:
        return []
    shifts = [k * 2 * step_s for k in range(int(slack_s / (2 * step_s) + 1e-9) + 1)]
    return [(a, b) for a in shifts for b in shifts if (a, b) != (0.0, 0.0)]


def _search(
    u: np.ndarray, data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], heading: float, roll: bool = False
) -> tuple[float, float, float, float]:
    """(cost, spin, flip or roll, heading): the best steady rotation for this heading, coarse grid to fine."""
    spin_c, flip_c = 0.0, 0.0
    reach: tuple[float, float] = (_SPIN_RANGE, _FLIP_RANGE)
    lowest = np.inf
    for step in _STEPS:  # coarse to fine, each grid around the best of the one before
        spin = spin_c + np.arange(-reach[0], reach[0] + 1e-9, step)
        flip = flip_c + np.arange(-reach[1], reach[1] + 1e-9, step)
        cost = _cost(u, *data, heading, spin, flip, roll)
        i, j = np.unravel_index(np.argmin(cost), cost.shape)
        spin_c, flip_c, reach, lowest = float(spin[i]), float(flip[j]), (step, step), float(cost[i, j])
    return lowest, spin_c, flip_c, heading


def model_frames(heading_deg: float, spin_deg: np.ndarray, second_deg: np.ndarray, *, roll: bool = False) -> np.ndarray:
    """(n, 3, 3) the model's orientations Ry(heading + spin) @ Rx(flip) (or @ Rz(roll)), columns left, up, forward."""
    a = np.radians(heading_deg + np.asarray(spin_deg, dtype=np.float64))
    b = np.radians(np.asarray(second_deg, dtype=np.float64))
    ca, sa, cb, sb = np.cos(a), np.sin(a), np.cos(b), np.sin(b)
    ca, sa, cb, sb = np.broadcast_arrays(ca, sa, cb, sb)
    out = np.zeros(ca.shape + (3, 3))  # filled in place: the search builds these thousands of times
    if roll:
        out[..., 0, 0], out[..., 0, 1], out[..., 0, 2] = ca * cb, -ca * sb, sa
        out[..., 1, 0], out[..., 1, 1] = sb, cb
        out[..., 2, 0], out[..., 2, 1], out[..., 2, 2] = -sa * cb, sa * sb, ca
    else:
        out[..., 0, 0], out[..., 0, 1], out[..., 0, 2] = ca, sa * sb, sa * cb
        out[..., 1, 1], out[..., 1, 2] = cb, -sb
        out[..., 2, 0], out[..., 2, 1], out[..., 2, 2] = -sa, ca * sb, ca * cb
    return out


def body_turn(
    times_s: np.ndarray,
    keypoints_3d: np.ndarray,
    fit: RotationFit,
    from_s: float,
    to_s: float,
    *,
    half_s: float = 0.05,
    pan_deg: np.ndarray | None = None,
) -> np.ndarray | None:
    """(3,) degrees the body turned from `from_s` to `to_s` about its own left (flip: + forward), up (spin: +
    left) and forward (roll: + head to the right) axes, from the readings there (samples within `half_s`, each
    under the mirror image nearest the fitted rotation at that moment). None when either end has no reading.

    Meant for short turns on the snow (the pre-rotation before takeoff, the rotation still going after landing),
    well under a half turn: the turn is the difference of the two readings' rotation vectors. pan_deg: (m,) the
    camera's turn at each sample (`fit_rotation`)."""
    t = np.asarray(times_s, dtype=np.float64)
    frames = torso_frames(keypoints_3d)
    has = np.isfinite(frames).all(axis=(1, 2))
    mirrors = _mirrors(np.where(has[:, None, None], frames, 0.0))
    model = fitted_frames(fit, t, pan_deg)
    vectors: list[np.ndarray] = []
    ref = np.eye(3)
    for at in (from_s, to_s):
        near = np.flatnonzero(has & (np.abs(t - at) <= half_s))
        if len(near) == 0:
            return None
        if not vectors:  # both readings relative to the model at the first end, so they compare in one frame
            ref = model[near[0]]
        rv = []
        for i in near:
            tr = np.einsum("kij,ij->k", mirrors[i], ref)
            rel = ref.T @ mirrors[i][int(np.argmax(tr))]
            rv.append(_rotation_vector(rel))
        vectors.append(np.median(np.array(rv), axis=0))
    return np.degrees(vectors[1] - vectors[0])


def _rotation_vector(r: np.ndarray) -> np.ndarray:
    """The axis-angle vector (radians) of a rotation matrix."""
    angle = float(np.arccos(np.clip((np.trace(r) - 1.0) / 2.0, -1.0, 1.0)))
    if angle < 1e-6:
        return np.zeros(3)
    axis = np.array([r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]]) / (2.0 * np.sin(angle))
    return axis * angle
