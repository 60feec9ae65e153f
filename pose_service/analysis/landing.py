"""The landing grade: stomped, sketchy or crash, from the pose through the landing window, with its numbers.

Read from the 3D keypoints (metres, origin mid-hip, y up) over the landing window (touch-down to 1.5 s after,
or the clip's end): the hips' height above the lowest foot point (the snow under the board), the knees' and
hips' flexion (180 minus the joint angle: 0 straight, 90 a right angle), the trunk's lean from upright, a hand
near the snow, the residual rotation (how far the spin was off its count at touch-down, finished or turned back
on the snow; from the rotation stage) and the time until the rider rides stable again.

Stable riding: hips at least `STABLE_HIP_M` above the feet, trunk within `STABLE_LEAN_DEG` of upright, no hand
down; the time to stable is from touch-down to the moment from which that holds to the end of the window.

Rules, first that matches wins:

    | grade   | when                                                                                     |
    |---------|------------------------------------------------------------------------------------------|
    | crash   | the body goes down and stays: hips under CRASH_HIP_M above the feet (sitting or lying on  |
    |         | the snow) for CRASH_HOLD_S or more, or still down when the clip ends                     |
    | sketchy | a hand down: a wrist within HAND_SNOW_M of the snow level                                |
    | sketchy | the trunk folded or thrown: leaning over SKETCHY_LEAN_DEG                                 |
    | sketchy | the hips dropped to under SKETCHY_HIP_M above the feet                                   |
    | sketchy | not riding stable within SKETCHY_STABLE_S (or never, in a window of 1 s or more)         |
    | sketchy | a residual rotation over SKETCHY_RESIDUAL_DEG (the board pivoted that much on the snow)  |
    | stomped | none of the above                                                                        |

A landing in an airbag is graded `airbag` (`landed_in_airbag`): not ridden away, and the rider going down into
the bag is no crash. Read from what lies under the feet (`analysis.contact`): snow on the run-in, then from
touch-down on a coloured surface, no snow, for `AIRBAG_S`. The rider's own body is read as for any landing.

The grade is `unknown` (its gravity-bound numbers withheld, the reason given) when gravity's up cannot be read
(a camera that moves or rolls around the jump, `camera.py`: the pose model's up is the picture's, so a trunk
"leaning 128°" or a wrist "under the snow" would be the camera's tilt) or when fewer than `MIN_LANDING_SAMPLES`
samples of the landing are in view: it is never guessed as stomped.

`landing_score` turns the grade and its numbers into the 0-10 landing grade the comparison and the rider
history show (stomped 7-10, sketchy 4-6.9, crash 0-3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pose_service.analysis.angles import ANGLE_NAMES, body_angles

__all__ = ["AIRBAG", "GRADES", "LandingGrade", "UNKNOWN", "airbag_under", "grade_landing", "landed_in_airbag",
           "landing_score", "ran_in_on_snow", "took_off_in_airbag"]

GRADES = ("stomped", "sketchy", "crash")
UNKNOWN = "unknown"
AIRBAG = "airbag"
MIN_LANDING_SAMPLES = 3
WINDOW_S = 1.5
CRASH_HIP_M = 0.2  # the synthetic rider's truth: lying 0 to -0.1 m, a sketchy fold's deepest 0.27 m
CRASH_HOLD_S = 0.4
HAND_SNOW_M = 0.15
SKETCHY_LEAN_DEG = 50.0
SKETCHY_HIP_M = 0.42
SKETCHY_STABLE_S = 1.0
SKETCHY_RESIDUAL_DEG = 55.0  # truth: over 60 is sketchy; this reading comes out about 10 % under it (53 for 60)
STABLE_HIP_M = 0.55
STABLE_LEAN_DEG = 35.0
STABLE_HOLD_S = 0.3
# An airbag (`landed_in_airbag`): over `AIRBAG_S` from touch-down, the band under the feet was read in
# `AIRBAG_SEEN` of the samples or more, `AIRBAG_OFF` of those show `AIRBAG_NO_SNOW` snow or less, and the band's
# median colourfulness (`contact._colourfulness`) is `AIRBAG_COLOUR` or more: the real clips' riders flew against a
# blue sky at 0.3-0.49 and landed on snow at 0.01-0.1 (the synthetic bag's fabric: 0.85); the run-in read snow
# (`AIRBAG_RUN_IN` or more, median over `AIRBAG_S` before the takeoff). `AIRBAG_OFF` 0.7, not 0.8: one rendering of
# the pan clip's straight air into the bag read snow under the feet in 4 of its 16 frames after touch-down (the
# feet drawn past the bag's foot as the rider fell back), 0.75 off, and its landing went ungraded; the colour,
# 0.86 there against a snow landing's 0.1 or less, is what tells a bag from snow.
AIRBAG_S = 0.5
AIRBAG_SEEN = 0.5
AIRBAG_OFF = 0.7
AIRBAG_NO_SNOW = 0.1
AIRBAG_COLOUR = 0.55
AIRBAG_RUN_IN = 0.5
_FEET = [27, 28, 29, 30, 31, 32]
_WRISTS = [15, 16]
_KNEES = (ANGLE_NAMES.index("left_knee"), ANGLE_NAMES.index("right_knee"))
_HIPS = (ANGLE_NAMES.index("left_hip"), ANGLE_NAMES.index("right_hip"))
_LEAN = ANGLE_NAMES.index("trunk_lean")


@dataclass(frozen=True)
class LandingGrade:
    """The grade and the numbers behind it (NaN where not seen). knee_flexion_deg, hip_flexion_deg: the deepest
    bend of the two knees (hips) in the window, 180 minus the joint angle; trunk_lean_deg: the largest lean;
    hip_height_min_m: the lowest hip height above the feet; time_to_stable_s: None if never stable in view.
    hands_down: None where not read (gravity's up unknown, or nothing in view)."""

    grade: str
    knee_flexion_deg: float
    hip_flexion_deg: float
    trunk_lean_deg: float
    hands_down: bool | None
    hip_height_min_m: float
    time_to_stable_s: float | None
    residual_rotation_deg: float
    reasons: tuple[str, ...] = field(default=())

    def to_result(self) -> dict[str, Any]:
        return {
            "grade": self.grade,
            "knee_flexion_deg": _num(self.knee_flexion_deg),
            "hip_flexion_deg": _num(self.hip_flexion_deg),
            "trunk_lean_deg": _num(self.trunk_lean_deg),
            "hands_down": self.hands_down,
            "hip_height_min_m": _num(self.hip_height_min_m, 3),
            "time_to_stable_s": None if self.time_to_stable_s is None else round(self.time_to_stable_s, 3),
            "residual_rotation_deg": _num(self.residual_rotation_deg),
            "reasons": list(self.reasons),
        }


def _num(x: float, digits: int = 1) -> float | None:
    return round(float(x), digits) if np.isfinite(x) else None


def _longest_run_s(mask: np.ndarray, t: np.ndarray) -> float:
    """The longest time span over which `mask` holds on consecutive samples."""
    best, start = 0.0, None
    for i, on in enumerate(mask):
        if on and start is None:
            start = i
        if start is not None and (not on or i == len(mask) - 1):
            end = i if on else i - 1
            best = max(best, float(t[end] - t[start]))
            start = None
    return best


def grade_landing(
    times_s: np.ndarray,
    keypoints_3d: np.ndarray,
    *,
    landing_s: float,
    residual_rotation_deg: float = 0.0,
    up_unknown: str | None = None,
    cut: np.ndarray | None = None,
) -> LandingGrade:
    """Grade one landing from a tracked person's samples (times (m,), 3D keypoints (m, 33, 3)).

    up_unknown: why gravity's up cannot be read around this landing (a phrase, e.g. "the camera rolled 30°
    around the jump"), or None when the picture's up is gravity's.
    cut: (m,) True where the picture's edge cuts the body (`quality.cut_by_edge`): those samples are not read (the
    pose model squeezes such a body into the part in view; a rendered frontside 360 riding out of the picture after
    a clean landing read "not riding stable"), and the window is what is seen whole.
    """
    t = np.asarray(times_s, dtype=np.float64)
    window = (t >= landing_s) & (t <= landing_s + WINDOW_S)
    edge = 0
    if cut is not None:
        cut = np.asarray(cut, dtype=bool)
        edge = int((window & cut).sum())
        window &= ~cut
    k3 = np.asarray(keypoints_3d, dtype=np.float64)[window]
    tw = t[window]
    residual = abs(float(residual_rotation_deg)) if np.isfinite(residual_rotation_deg) else float("nan")
    if len(tw) < MIN_LANDING_SAMPLES:
        seen = (f"the picture's edge cuts the rider in {edge} of the landing's {edge + len(tw)} frames, leaving "
                f"{len(tw)} seen whole" if edge else f"the landing is seen in {len(tw)} frames")  # fmt: skip
        return LandingGrade(UNKNOWN, *(float("nan"),) * 3, None, float("nan"), None, residual,
                            (f"{seen}: too few to grade",))  # fmt: skip
    angles = body_angles(k3)
    if up_unknown is not None:
        # The body's own angles hold in any camera; heights and lean need gravity's up.
        with np.errstate(all="ignore"):
            knee = float(np.nanmax(180.0 - np.nanmin(angles[:, list(_KNEES)], axis=1)))
            hip = float(np.nanmax(180.0 - np.nanmin(angles[:, list(_HIPS)], axis=1)))
        return LandingGrade(UNKNOWN, knee, hip, float("nan"), None, float("nan"), None, residual,
                            (f"{up_unknown}, so gravity's up is not known and the trunk's lean and the hips' and "
                             "hands' height above the snow are withheld",))  # fmt: skip
    with np.errstate(all="ignore"):
        feet_y = np.nanmin(k3[:, _FEET, 1], axis=1)
        hip_h = 0.0 - feet_y  # the mid-hip is the origin
        wrist_h = np.nanmin(k3[:, _WRISTS, 1], axis=1) - feet_y
        knee_flex = 180.0 - np.nanmin(angles[:, list(_KNEES)], axis=1)
        hip_flex = 180.0 - np.nanmin(angles[:, list(_HIPS)], axis=1)
    lean = angles[:, _LEAN]
    seen = np.isfinite(hip_h)
    hand = np.isfinite(wrist_h) & (wrist_h < HAND_SNOW_M) & seen
    stable = seen & (hip_h >= STABLE_HIP_M) & (np.nan_to_num(lean, nan=90.0) <= STABLE_LEAN_DEG) & ~hand
    time_to_stable = _time_to_stable(stable, tw, landing_s)
    hip_min = float(np.nanmin(hip_h)) if seen.any() else float("nan")
    lean_max = float(np.nanmax(lean)) if np.isfinite(lean).any() else float("nan")
    knee_max = float(np.nanmax(knee_flex)) if np.isfinite(knee_flex).any() else float("nan")
    hip_flex_max = float(np.nanmax(hip_flex)) if np.isfinite(hip_flex).any() else float("nan")
    span = float(tw[-1] - tw[0])

    low = seen & (hip_h < CRASH_HIP_M)
    low_s = _longest_run_s(low, tw)
    crash, sketchy = [], []
    if low_s >= CRASH_HOLD_S or (low.any() and low[seen][-1]):
        crash.append(f"hips down at {hip_min:.2f} m above the feet for {low_s:.1f} s" +
                     (" and still down when the clip ends" if low[seen][-1] else ""))  # fmt: skip
    if hand.any():
        sketchy.append(f"a hand down: a wrist {float(np.nanmin(wrist_h[hand])):.2f} m above the snow")
    if lean_max > SKETCHY_LEAN_DEG:
        sketchy.append(f"trunk leaning {lean_max:.0f}° from upright")
    if hip_min < SKETCHY_HIP_M:
        sketchy.append(f"hips dropped to {hip_min:.2f} m above the feet")
    if time_to_stable is None and span >= 1.0:
        sketchy.append(f"not riding stable within the {span:.1f} s seen after touch-down")
    elif time_to_stable is not None and time_to_stable > SKETCHY_STABLE_S:
        sketchy.append(f"riding stable only {time_to_stable:.2f} s after touch-down")
    if np.isfinite(residual) and residual > SKETCHY_RESIDUAL_DEG:
        sketchy.append(f"{residual:.0f}° of rotation still going on the snow")
    grade = "crash" if crash else "sketchy" if sketchy else "stomped"
    reasons = tuple(crash or sketchy) or (_stomped_reason(knee_max, lean_max, time_to_stable),)
    return LandingGrade(grade, knee_max, hip_flex_max, lean_max, bool(hand.any()), hip_min, time_to_stable,
                        residual, reasons)  # fmt: skip


def ran_in_on_snow(times_s: np.ndarray, snow: np.ndarray, *, takeoff_s: float) -> bool:
    """Whether the run-in to the takeoff at `takeoff_s` read snow under the feet: the median share over the
    `AIRBAG_S` before it at least `AIRBAG_RUN_IN` (snow: per sample of the track, nan where not read)."""
    t = np.asarray(times_s, dtype=np.float64)
    run_in = np.asarray(snow, dtype=np.float64)[(t >= takeoff_s - AIRBAG_S) & (t <= takeoff_s)]
    run_in = run_in[np.isfinite(run_in)]
    return bool(run_in.size) and float(np.median(run_in)) >= AIRBAG_RUN_IN


def airbag_under(
    times_s: np.ndarray, snow: np.ndarray, colour: np.ndarray, *, start_s: float, end_s: float
) -> tuple[float, float] | None:
    """(share of the samples with no snow under the feet, their median colourfulness) where the band under the
    feet between `start_s` and `end_s` shows an airbag (`AIRBAG_OFF` or more with `AIRBAG_NO_SNOW` snow or less,
    `AIRBAG_COLOUR` or more, read in `AIRBAG_SEEN` of the samples); None where it does not or too little was read.
    snow, colour: per sample of the track (`contact.Ground`; nan where not read)."""
    t = np.asarray(times_s, dtype=np.float64)
    snow, colour = np.asarray(snow, dtype=np.float64), np.asarray(colour, dtype=np.float64)
    within = (t >= start_s) & (t <= end_s)
    read = within & np.isfinite(snow) & np.isfinite(colour)
    if read.sum() < max(2, AIRBAG_SEEN * within.sum()):
        return None
    off = float(np.mean(snow[read] <= AIRBAG_NO_SNOW))
    dyed = float(np.median(colour[read]))
    return (off, dyed) if off >= AIRBAG_OFF and dyed >= AIRBAG_COLOUR else None


def landed_in_airbag(
    times_s: np.ndarray, snow: np.ndarray | None, colour: np.ndarray | None, *, takeoff_s: float, landing_s: float
) -> str | None:
    """Why the landing at `landing_s` went into an airbag (a phrase), or None where it did not or the ground
    under the feet was not read. snow, colour: per sample of the track (`contact.Ground`; nan where not read)."""
    if snow is None or colour is None or not ran_in_on_snow(times_s, snow, takeoff_s=takeoff_s):
        return None
    bag = airbag_under(times_s, snow, colour, start_s=landing_s, end_s=landing_s + AIRBAG_S)
    if bag is None:
        return None
    off, dyed = bag
    return (f"from touch-down no snow under the board in {off:.0%} of the frames seen in {AIRBAG_S:.1f} s, a "
            f"coloured surface (colourfulness {dyed:.2f}) after a run-in on snow")


def took_off_in_airbag(times_s: np.ndarray, snow: np.ndarray, colour: np.ndarray, *, takeoff_s: float) -> bool:
    """Whether the `AIRBAG_S` before the takeoff at `takeoff_s` was spent in an airbag (`airbag_under`). After a
    landing in one, no rider takes off from it: they sink in, roll and are thrown about, and a camera following
    from below draws their stabilised hips a parabola there (the rendered follow-below 360 into a bag: a 0.37 s
    "straight air" 0.7 s after the landing, the band under the feet coloured 0.86 with no snow throughout). Asked
    only after an airbag landing (`jumps.find_jumps`): a coloured floor with no snow is no airbag by itself."""
    return airbag_under(times_s, snow, colour, start_s=takeoff_s - AIRBAG_S, end_s=takeoff_s) is not None


def _time_to_stable(stable: np.ndarray, t: np.ndarray, landing_s: float) -> float | None:
    """Seconds from touch-down to the moment from which the rider stays stable through the rest of the window
    (at least `STABLE_HOLD_S` of it); None if that never happens in view."""
    if not stable.any() or not stable[-1]:
        return None
    unstable = np.flatnonzero(~stable)
    first = 0 if len(unstable) == 0 else int(unstable[-1]) + 1
    if t[-1] - t[first] < STABLE_HOLD_S - 1e-9:
        return None
    return float(t[first] - landing_s)


def _stomped_reason(knee: float, lean: float, stable: float | None) -> str:
    parts = []
    if np.isfinite(knee):
        parts.append(f"knees absorbed to {knee:.0f}° of flexion")
    if np.isfinite(lean):
        parts.append(f"trunk within {lean:.0f}° of upright")
    if stable is not None:
        parts.append(f"riding stable {stable:.2f} s after touch-down")
    return ", ".join(parts) or "nothing against it was seen"


def landing_score(landing: dict[str, Any]) -> float | None:
    """0 to 10 for a result.json `landing` block: stomped 7-10, sketchy 4-6.9, crash 0-3 (less for each number
    that tells against it within the grade); None without a grade."""
    grade = landing.get("grade")
    if grade not in GRADES:
        return None
    base, floor = {"stomped": (10.0, 7.0), "sketchy": (6.9, 4.0), "crash": (3.0, 0.0)}[grade]
    lean = landing.get("trunk_lean_deg")
    stable = landing.get("time_to_stable_s")
    residual = landing.get("residual_rotation_deg")
    score = base
    if isinstance(lean, int | float):
        score -= max(0.0, lean - 20.0) / 10.0
    if isinstance(stable, int | float):
        score -= max(0.0, stable - 0.5)
    elif grade != "crash":
        score -= 1.0
    if isinstance(residual, int | float):
        score -= max(0.0, residual - 20.0) / 20.0
    if landing.get("hands_down"):
        score -= 1.0
    return round(min(base, max(floor, score)), 1)
