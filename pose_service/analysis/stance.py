"""The riding stance on the approach: which foot leads along the direction of travel (regular: the left).

A snowboarder stands sideways to the travel. Over the riding phase before takeoff (about 1 s, ending a little
before the pop) the hips' image motion gives the travel direction across the picture (plus the camera's own
motion when the track carries it: a panning camera keeps the rider still in the picture); the rider's left
axis (right hip, shoulder and ankle to the left ones) gives which side of the body points that way. The 3D
keypoints (x to the image's right) and the 2D ones are read together: each frame votes with the sum of both,
so a frame whose 2D labels wobble does not decide alone.

A rider carving before the kicker crosses the picture one way and comes back, turning the other side of the body to
the camera as the travel turns: the window is cut to its last stretch travelling one way (`_one_way`), the line into
the kicker. Read over the whole second, the real seg6's first kicker, its takeoff found a few frames earlier on
perturbed runs, took in a carve and read no stance (or the wrong one) on 3 of 4 such runs; on the stretch, goofy on
all 4, as on the clip itself.

No answer (None) when the rider moves too little across the picture (travelling towards or away from the
camera), the body is seen edge-on (its left axis points at the camera), or the frames disagree.

The same reading over the ride away from the landing (`landing_stance`) says whether the rider landed in the
approach's stance or switch: a spin of an odd number of half turns lands switch, an even one does not, whatever
the pose model made of the body in the air (`rotation.spin_count`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pose_service.analysis.rotation import torso_frames

__all__ = ["StanceReading", "landing_stance", "riding_stance"]

WINDOW_S = 1.0  # the riding phase read before takeoff (and after landing)
_POP_S = 0.15  # the last moments before takeoff (the pop, a pre-turn) are left out
_SETTLE_S = 0.15  # ... and the first after landing (the touch-down, a spin finished on the snow)
_MIN_RUN_OUT_S = 0.5  # the ride away read for at least this long: the real seg6's second kicker, seen for 0.27 s
# before the clip ends, carving away from the camera, read the approach's stance from 8 samples (travel 0.3 m/s),
# where by eye the stance cannot be told
_MIN_SPEED_M_S = 0.2  # across the picture: slower, the travel direction is not visible (a walking pace is 1.4)
_TRAVEL_HALF_S = 0.15  # ... read at each sample over this long either side of it (`_one_way`)
_MIN_SIDEWAYS = 0.3  # |x| of the unit left axis in the camera frame: less is a body seen edge-on
_MIN_AGREE = 0.85  # share of frames that must vote the same way. Read right, the real clips' readings agreed 0.94-1.0
# and every rendered still clip's 0.85 or more; seg3's approach, the rider coming at the camera, read regular at 0.75
# (9 of 12 frames) where the rider rides goofy, and with the goofy ride away that made its straight air a 180
_MIN_FRAMES = 5


@dataclass(frozen=True)
class StanceReading:
    """stance: 'regular', 'goofy' or None; travel: +1 the rider moves to the image's right, -1 left, 0 unknown;
    agree: share of the window's frames that vote for the answer; frames: how many frames were read;
    reason: why there is no answer (empty when there is one)."""

    stance: str | None
    travel: int
    agree: float
    frames: int
    reason: str = ""


def riding_stance(
    times_s: np.ndarray,
    keypoints_2d: np.ndarray,
    keypoints_3d: np.ndarray,
    scale_px_per_m: np.ndarray,
    *,
    takeoff_s: float,
    camera_dx_px: np.ndarray | None = None,
) -> StanceReading:
    """Read the stance over the window before `takeoff_s` (arrays are one tracked person's samples).

    scale_px_per_m: (m,) image scale per sample; camera_dx_px: (m,) the camera's own horizontal motion since
    the first sample, in pixels (content moving left when the camera pans right), if known.
    """
    t = np.asarray(times_s, dtype=np.float64)
    window = (t >= takeoff_s - WINDOW_S) & (t <= takeoff_s - _POP_S)
    return _read(t, keypoints_2d, keypoints_3d, scale_px_per_m, window, camera_dx_px, "approach", last=True)


def landing_stance(
    times_s: np.ndarray,
    keypoints_2d: np.ndarray,
    keypoints_3d: np.ndarray,
    scale_px_per_m: np.ndarray,
    *,
    landing_s: float,
    next_takeoff_s: float = np.inf,
    camera_dx_px: np.ndarray | None = None,
) -> StanceReading:
    """The stance the rider rides away from a landing in: as `riding_stance`, over the window after `landing_s`
    (`_SETTLE_S` to `WINDOW_S` after it, and ending as the approach to the next takeoff's window does), read for
    `_MIN_RUN_OUT_S` or more."""
    t = np.asarray(times_s, dtype=np.float64)
    window = (t >= landing_s + _SETTLE_S) & (t <= min(landing_s + WINDOW_S, next_takeoff_s - _POP_S))
    return _read(t, keypoints_2d, keypoints_3d, scale_px_per_m, window, camera_dx_px, "run-out", last=False,
                 least_s=_MIN_RUN_OUT_S)


def _one_way(
    t: np.ndarray,
    keypoints_2d: np.ndarray,
    scale_px_per_m: np.ndarray,
    window: np.ndarray,
    camera_dx_px: np.ndarray | None,
    *,
    last: bool,
) -> np.ndarray:
    """`window` cut to its last (else first) stretch of samples travelling one way across the picture: where the
    hips' motion (less the camera's), a line through it over `_TRAVEL_HALF_S` either side of each sample, turns the
    other way at `_MIN_SPEED_M_S` or more, the stretch before (after) it is left out. A rider carving before a kicker
    crosses the picture and comes back, and turns the other side of the body to the camera as the travel turns; the
    stance is read on the line into the kicker (and out of the landing)."""
    index = np.flatnonzero(window)
    if len(index) < _MIN_FRAMES:
        return window
    k2 = np.asarray(keypoints_2d, dtype=np.float64)[index]
    hip_x = (k2[:, 23, 0] + k2[:, 24, 0]) / 2
    if camera_dx_px is not None:
        hip_x = hip_x - np.asarray(camera_dx_px, dtype=np.float64)[index]
    scale = float(np.nanmedian(np.asarray(scale_px_per_m, dtype=np.float64)[index]))
    if not np.isfinite(scale) or scale <= 0:
        return window
    speed = _local_speed(t[index], hip_x) / scale
    with np.errstate(invalid="ignore"):
        way = np.where(np.abs(speed) >= _MIN_SPEED_M_S, np.sign(speed), 0.0)
    order = range(len(index) - 1, -1, -1) if last else range(len(index))
    first_way = 0.0
    for i in order:
        if way[i] == 0.0:
            continue
        if first_way == 0.0:
            first_way = way[i]
        elif way[i] != first_way:  # the travel turned: keep the stretch nearer the jump
            out = window.copy()
            if last:
                out[index[: i + 1]] = False
            else:
                out[index[i:]] = False
            return out
    return window


def _local_speed(t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(m,) the slope of a line through x's finite samples within `_TRAVEL_HALF_S` of each sample (nan where fewer
    than 3)."""
    out = np.full(len(t), np.nan)
    ok = np.isfinite(x)
    for i in range(len(t)):
        near = ok & (np.abs(t - t[i]) <= _TRAVEL_HALF_S)
        if near.sum() >= 3:
            out[i] = np.polyfit(t[near], x[near], 1)[0]
    return out


def _read(
    t: np.ndarray,
    keypoints_2d: np.ndarray,
    keypoints_3d: np.ndarray,
    scale_px_per_m: np.ndarray,
    window: np.ndarray,
    camera_dx_px: np.ndarray | None,
    phase: str,
    *,
    last: bool,
    least_s: float = 0.0,
) -> StanceReading:
    """The stance over the samples of `window`, a ride in one stance (`phase` names it in the reasons): over its
    `last` (else first) stretch travelling one way across the picture, where the rider carved across it and back,
    that stretch spanning `least_s` or more."""
    window = _one_way(t, keypoints_2d, scale_px_per_m, window, camera_dx_px, last=last)
    seen = t[window]
    if least_s and (len(seen) < 2 or seen[-1] - seen[0] < least_s):
        return StanceReading(None, 0, 0.0, len(seen), f"the {phase} is in view for under {least_s:g} s")
    if window.sum() < _MIN_FRAMES:
        return StanceReading(None, 0, 0.0, int(window.sum()), f"the {phase} is not in view")
    k2 = np.asarray(keypoints_2d, dtype=np.float64)[window]
    k3 = np.asarray(keypoints_3d, dtype=np.float64)[window]
    tw = t[window]
    hip_x = (k2[:, 23, 0] + k2[:, 24, 0]) / 2
    if camera_dx_px is not None:
        hip_x = hip_x - np.asarray(camera_dx_px, dtype=np.float64)[window]
    ok = np.isfinite(hip_x)
    if ok.sum() < _MIN_FRAMES:
        return StanceReading(None, 0, 0.0, int(ok.sum()), f"the hips are not seen on the {phase}")
    speed_px = float(np.polyfit(tw[ok], hip_x[ok], 1)[0])
    scale = float(np.nanmedian(np.asarray(scale_px_per_m, dtype=np.float64)[window]))
    if not np.isfinite(scale) or scale <= 0 or abs(speed_px) / scale < _MIN_SPEED_M_S:
        return StanceReading(None, 0, 0.0, int(ok.sum()), "the rider does not move across the picture")
    travel = 1 if speed_px > 0 else -1
    left3 = torso_frames(k3)[:, 0, 0]  # x of the unit left axis (camera x = image right)
    ankles3 = k3[:, 27, 0] - k3[:, 28, 0]
    side2 = (k2[:, 23, 0] - k2[:, 24, 0]) + (k2[:, 11, 0] - k2[:, 12, 0]) + (k2[:, 27, 0] - k2[:, 28, 0])
    width2 = np.abs(side2) / (3 * scale)  # metres across the picture, per body part
    sideways = np.nanmedian(np.abs(left3))
    if not np.isfinite(sideways) or sideways < _MIN_SIDEWAYS:
        return StanceReading(None, travel, 0.0, int(ok.sum()), f"the rider is seen edge-on on the {phase}")
    # Each frame: the 3D left axis, the 3D ankles and the 2D left-right extent, each as a sign, summed.
    votes = np.sign(np.nan_to_num(left3)) + np.sign(np.nan_to_num(ankles3)) + np.sign(np.nan_to_num(side2)) * (
        width2 > 0.05
    )
    votes = votes[votes != 0] * travel
    if len(votes) < _MIN_FRAMES:
        return StanceReading(None, travel, 0.0, len(votes), f"too few readings of the body on the {phase}")
    leads_left = float(np.mean(votes > 0))
    agree = max(leads_left, 1.0 - leads_left)
    if agree < _MIN_AGREE:
        return StanceReading(None, travel, agree, len(votes), f"the {phase} frames disagree on the leading foot")
    return StanceReading("regular" if leads_left > 0.5 else "goofy", travel, round(agree, 3), len(votes))
