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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["RotationFit", "torso_frames", "fit_rotation", "judge_count", "model_frames", "body_turn"]

_SPIN_RANGE, _FLIP_RANGE = 1800.0, 1260.0
_STEPS = (30.0, 6.0, 1.5)  # degrees of total rotation: a coarse grid over everything, then two finer ones
_MIRROR_PENALTY = (0.0, 0.35, 0.35, 0.5)  # identity, left-right swap, depth mirror, both
_TRUNC_3D = 4 * (1 - np.cos(np.radians(70)))  # a reading further than 70 degrees off counts no worse
_TRUNC_2D = 0.45
_WEIGHT_2D = 1.5
_AGREE_DEG = 40.0
_ROLL_MARGIN = 0.85  # the roll family must cost under 85 % of the flip family's best to be chosen


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
    """

    spin_deg: float
    flip_deg: float
    heading_deg: float
    agreement: float
    frames: int
    roll_deg: float = 0.0
    start_s: float = 0.0
    end_s: float = 0.0


def judge_count(total_deg: float, step: float = 180.0) -> float:
    """An unsigned total rounded to the multiple of `step` a judge would call (a measured 520 is a 540)."""
    return float(step * round(abs(total_deg) / step))


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
    heading: float,
    spin: np.ndarray,
    flip: np.ndarray,
    roll: bool = False,
) -> np.ndarray:
    """Total robust cost for every (spin, flip) pair of the grids `spin` (S,) x `flip` (F,): shape (S, F).
    roll: the second grid is the roll about the front-back axis instead of the flip."""
    total = np.zeros((len(spin), len(flip)))
    penalty = np.array(_MIRROR_PENALTY)
    for i in range(len(u)):
        a = np.radians(heading + spin * u[i])[:, None]
        b = np.radians(flip * u[i])[None, :]
        ca, sa, cb, sb = np.cos(a), np.sin(a), np.cos(b), np.sin(b)
        if has3d[i] and roll:
            c = readings[i]
            # trace(C^T Ry(a) Rz(b)) for each mirror image.
            tr = (
                c[:, 0, 0, None, None] * ca * cb
                - c[:, 0, 1, None, None] * ca * sb
                + c[:, 0, 2, None, None] * sa
                + c[:, 1, 0, None, None] * sb
                + c[:, 1, 1, None, None] * cb
                - c[:, 2, 0, None, None] * sa * cb
                + c[:, 2, 1, None, None] * sa * sb
                + c[:, 2, 2, None, None] * ca
            )
            dist = np.minimum(2.0 * (3.0 - tr), _TRUNC_3D) + penalty[:, None, None]
            total += dist.min(axis=0)
        elif has3d[i]:
            c = readings[i]  # (4, 3, 3)
            # trace(C^T Ry(a) Rx(b)) for each mirror image, written out for speed.
            tr = (
                c[:, 0, 0, None, None] * ca
                + c[:, 0, 1, None, None] * sa * sb
                + c[:, 0, 2, None, None] * sa * cb
                + c[:, 1, 1, None, None] * cb
                - c[:, 1, 2, None, None] * sb
                - c[:, 2, 0, None, None] * sa
                + c[:, 2, 1, None, None] * ca * sb
                + c[:, 2, 2, None, None] * ca * cb
            )
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
) -> RotationFit:
    """Fit the steady rotation to the samples of one person around one flight.

    Pass the samples from a little before takeoff to a little after landing: the ground frames fix the heading
    at takeoff and the orientation the rider lands in, which a rotation must end in.

    slack_s: how much later the rotation may start, and earlier it may end, than the flight as measured (the
    hips' parabola can run on into the landing's absorb); the best fitting timing is used.
    """
    t = np.asarray(times_s, dtype=np.float64)
    frames = torso_frames(keypoints_3d)
    has3d = np.isfinite(frames).all(axis=(1, 2))
    readings = _mirrors(np.where(has3d[:, None, None], frames, 0.0))
    obs2d = _observed_2d(keypoints_2d, keypoints_3d, scale_px_per_m)
    has2d = np.isfinite(obs2d).all(axis=1)
    data = (readings, has3d, obs2d, has2d)

    ground = (t <= takeoff_s) & has3d
    fwd = frames[ground][:, :, 2] if ground.any() else frames[has3d][:1, :, 2]
    if len(fwd) == 0:
        return RotationFit(0.0, 0.0, 0.0, 0.0, 0)
    base = float(np.degrees(np.arctan2(np.median(fwd[:, 0]), np.median(fwd[:, 2]))))
    u = _progress(t, takeoff_s, landing_s)
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
    _, spin_deg, second_deg, heading = best
    air = (u > 0.0) & (u < 1.0)
    agreement = _agreement(u[air], readings[air], has3d[air], heading, spin_deg, second_deg, roll=roll)
    return RotationFit(
        spin_deg=spin_deg,
        flip_deg=0.0 if roll else second_deg,
        heading_deg=float((heading + 180.0) % 360.0 - 180.0),
        agreement=agreement,
        frames=int(has3d[air].sum()),
        roll_deg=second_deg if roll else 0.0,
        start_s=span[0],
        end_s=span[1],
    )


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
    u: np.ndarray, data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], heading: float, roll: bool = False
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
    zero = np.zeros_like(a)
    if roll:
        rows = [[ca * cb, -ca * sb, sa], [sb, cb, zero], [-sa * cb, sa * sb, ca]]
    else:
        rows = [[ca, sa * sb, sa * cb], [zero, cb, -sb], [-sa, ca * sb, ca * cb]]
    return np.stack([np.stack(r, -1) for r in rows], -2)


def _agreement(
    u: np.ndarray, readings: np.ndarray, has3d: np.ndarray, heading: float, spin: float, second: float,
    *, roll: bool = False,
) -> float:
    if not has3d.any():
        return 0.0
    model = model_frames(heading, spin * u[has3d], second * u[has3d], roll=roll)
    tr = np.einsum("nkij,nij->nk", readings[has3d], model)
    angle = np.degrees(np.arccos(np.clip((tr.max(axis=1) - 1) / 2, -1.0, 1.0)))
    return float(np.mean(angle < _AGREE_DEG))


def body_turn(
    times_s: np.ndarray, keypoints_3d: np.ndarray, fit: RotationFit, from_s: float, to_s: float, *, half_s: float = 0.05
) -> np.ndarray | None:
    """(3,) degrees the body turned from `from_s` to `to_s` about its own left (flip: + forward), up (spin: +
    left) and forward (roll: + head to the right) axes, from the readings there (samples within `half_s`, each
    under the mirror image nearest the fitted rotation at that moment). None when either end has no reading.

    Meant for short turns on the snow (the pre-rotation before takeoff, the rotation still going after landing),
    well under a half turn: the turn is the difference of the two readings' rotation vectors."""
    t = np.asarray(times_s, dtype=np.float64)
    frames = torso_frames(keypoints_3d)
    has = np.isfinite(frames).all(axis=(1, 2))
    mirrors = _mirrors(np.where(has[:, None, None], frames, 0.0))
    roll = fit.roll_deg != 0.0
    u = _progress(t, fit.start_s, fit.end_s) if fit.end_s > fit.start_s else np.zeros(len(t))
    second = fit.roll_deg if roll else fit.flip_deg
    model = model_frames(fit.heading_deg, fit.spin_deg * u, second * u, roll=roll)
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
