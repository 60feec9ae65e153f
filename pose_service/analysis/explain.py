"""What a coach would say about a jump: every rule in this one file, each sentence backed by a measured number.

The rules, in the order their sentences appear:
1. What it was: air time, hip height (or the drop; with a moving camera the air time's height, g t^2 / 8), the
   trick's name (`trick.py`), and per rotated axis the
   nominal count against the measured total: "540 nominal, 505° measured: 35° short, finished on landing"
   (finished on landing: the rest turned on the snow; turned back on landing: past, and back on the snow); a spin
   whose total lay between two counts, counted by the stance ridden away in, says which ("landed switch").
1b. The grab (`grab.py`): its name, which hand held the board where, from when to when and for how long, and
   the tweak when the board was pulled out of line with the legs.
2. Takeoff extension: knees straighter than 155 deg at takeoff is a full pop; under 140 deg the legs were still
   bent when the board left the snow, which costs height.
3. Wind-up: on a spin, shoulders turned 20 deg or more against the hips (towards the spin) at takeoff powered
   it; under 10 deg the upper body was square and the spin had to come from the legs.
4. Tuck: on a flip or a spin of 360 or more, knees closed to under 110 deg in the air is a tight tuck (faster
   rotation); above 140 deg the rider stayed open.
   Arms: on a spin of 360 or more, arms raised over 60 deg from the body at the top slow it (a wider body
   turns slower); under 30 deg, held in close, they keep it fast.
5. Landing: knees straighter than 155 deg at touchdown land stiff; an absorb that bends them below 140 deg
   within 0.4 s is a soft landing.
6. Balance: the trunk leaning more than 30 deg from upright at touchdown.
7. Honesty: when under 60 % of the airborne frames agree with the fitted rotation, say the rotation is
   uncertain; when the stance ridden away from the landing does not fit the count from the approach's stance (an
   odd number of half turns lands switch), say the stance is uncertain; when the spin's total lies midway between
   two counts (`rotation.STANCE_DECIDES_DEG` or more from the one named) and no stance ridden away chose, say the
   count is uncertain; when the camera moved, rolled or zoomed
   around the jump (`camera.py`), say so and what it costs (the timing less sure, the height from the air time
   only, no lean and no landing grade).
8. Landing grade: stomped, sketchy or crash (`landing.py`), with the numbers that decided it; "not graded" with
   the reason when it cannot be read; an airbag landing says so, and why, instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pose_service.analysis.landing import AIRBAG, UNKNOWN
from pose_service.analysis.rotation import STANCE_DECIDES_DEG, judge_count

if TYPE_CHECKING:
    from pose_service.analysis.grab import Grab
    from pose_service.analysis.jumps import Jump

__all__ = [
    "explain_jump",
    "explain_sentences",
    "grab_sentence",
    "nominal_against_measured",
    "summarize",
    "trick_name",
    "RULES",
]

POP_FULL_KNEE_DEG = 155.0
POP_BENT_KNEE_DEG = 140.0
WINDUP_STRONG_DEG = 20.0
WINDUP_SQUARE_DEG = 10.0
TUCK_TIGHT_KNEE_DEG = 110.0
TUCK_OPEN_KNEE_DEG = 140.0
ARMS_WIDE_DEG = 60.0
ARMS_CLOSE_DEG = 30.0
LAND_STIFF_KNEE_DEG = 155.0
ABSORB_SOFT_KNEE_DEG = 140.0
LAND_LEAN_DEG = 30.0
AGREEMENT_MIN = 0.6

RULES = __doc__


def trick_name(spin_deg: float, spin_direction: str | None, flip_deg: float, flip_direction: str | None) -> str:
    """'straight air', 'a 360 to the left', 'a backflip', 'a backflip with a 360 to the left' (judge counts)."""
    parts = []
    if flip_deg:
        name = "frontflip" if flip_direction == "front" else "backflip"
        parts.append(f"a {'double ' if flip_deg >= 720 else ''}{name}")
    if spin_deg:
        parts.append(f"a {spin_deg:.0f} to the {spin_direction}")
    return " with ".join(parts) if parts else "straight air"


def _knees(values: dict[str, float]) -> float:
    knees = [values.get("left_knee", np.nan), values.get("right_knee", np.nan)]
    return float(np.nanmean(knees)) if np.isfinite(knees).any() else float("nan")


def explain_jump(jump: Jump) -> str:
    """Short sentences, each with its number, following the module's rules, as one paragraph."""
    return " ".join(explain_sentences(jump))


def explain_sentences(jump: Jump) -> list[str]:
    """The sentences of `explain_jump`: what it was first, then the coaching cues in rule order."""
    f, r = jump.flight, jump.rotation
    take, peak, land = (jump.moments[m] for m in ("takeoff", "peak", "landing"))
    rise = f"the hips rose {f.apex_m:.2f} m" if f.drop_m < 0.3 else f"dropped {f.drop_m:.1f} m"
    if jump.camera is not None and jump.camera.moving and jump.height is not None:
        # the stabilised picture rises and falls with the camera: its rise and drop are not the body's
        rise = f"about {jump.height.height_m:.1f} m high by the air time alone"
    measured = "; ".join(nominal_against_measured(jump)) or (
        f"measured {abs(r.spin_deg):.0f}° of spin and {abs(r.flip_deg):.0f}° of flip"
    )
    out = [f"{f.air_time_s:.2f} s in the air and {rise}: {jump.trick} ({measured})."]
    if jump.grab is not None:
        out.append(grab_sentence(jump.grab))

    knee = _knees(take)
    if np.isfinite(knee):
        if knee >= POP_FULL_KNEE_DEG:
            out.append(f"Knees at {knee:.0f}° at takeoff: a full extension, the pop was complete.")
        elif knee < POP_BENT_KNEE_DEG:
            out.append(f"Knees still bent at {knee:.0f}° at takeoff: extend fully through the lip for more height.")

    sep = take.get("shoulder_hip_separation", np.nan)
    if jump.spin_deg and np.isfinite(sep):
        toward = sep > 0 if jump.spin_direction == "left" else sep < 0
        if abs(sep) >= WINDUP_STRONG_DEG and toward:
            out.append(
                f"Shoulders led the hips by {abs(sep):.0f}° at takeoff: that wind-up powered the {jump.spin_deg:.0f}."
            )
        elif abs(sep) < WINDUP_SQUARE_DEG:
            out.append(
                f"Shoulders and hips were square ({abs(sep):.0f}° apart) at takeoff: winding the shoulders "
                "into the spin before the pop makes the rotation easier."
            )

    if jump.flip_deg or jump.spin_deg >= 360:
        tuck = _knees(peak)
        if np.isfinite(tuck) and tuck < TUCK_TIGHT_KNEE_DEG:
            out.append(f"Tucked tight, knees at {tuck:.0f}° at the top: a compact body rotates faster.")
        elif np.isfinite(tuck) and tuck > TUCK_OPEN_KNEE_DEG:
            out.append(f"Stayed open, knees at {tuck:.0f}° at the top: pull the knees in to rotate faster.")

    if jump.spin_deg >= 360:
        arms = [peak.get("left_shoulder", np.nan), peak.get("right_shoulder", np.nan)]
        arm = float(np.nanmean(arms)) if np.isfinite(arms).any() else float("nan")
        if np.isfinite(arm) and arm > ARMS_WIDE_DEG:
            out.append(f"Arms out at {arm:.0f}° from the body at the top: pulling them in speeds the spin up.")
        elif np.isfinite(arm) and arm < ARMS_CLOSE_DEG:
            out.append(f"Arms in close ({arm:.0f}° from the body) at the top: that keeps the spin fast.")

    knee = _knees(land)
    if np.isfinite(knee):
        absorb = jump.landing_knee_min_deg
        if knee >= LAND_STIFF_KNEE_DEG and not (np.isfinite(absorb) and absorb < ABSORB_SOFT_KNEE_DEG):
            out.append(
                f"Landed with knees at {knee:.0f}°, nearly straight: bend to about 120-140° to absorb the impact."
            )
        elif np.isfinite(absorb) and absorb < ABSORB_SOFT_KNEE_DEG:
            out.append(f"Landed with knees at {knee:.0f}° and absorbed down to {absorb:.0f}°: a soft landing.")

    lean = land.get("trunk_lean", np.nan)
    if np.isfinite(lean) and lean > LAND_LEAN_DEG:
        out.append(f"Upper body {lean:.0f}° off upright at touchdown: stack the shoulders over the board.")

    if r.agreement < AGREEMENT_MIN:
        out.append(
            f"The rotation is uncertain: only {100 * r.agreement:.0f}% of the {r.frames} airborne frames agree with it."
        )
    switched = jump.landed_switched
    spin = jump.turns.get("spin")
    if spin is not None and switched is None and abs(abs(spin.measured_deg) - spin.nominal_deg) >= STANCE_DECIDES_DEG:
        # a total midway between two counts that no stance ridden away settled (`rotation.spin_count`)
        low = 180.0 * np.floor(abs(spin.measured_deg) / 180.0)
        out.append(f"The spin's count is uncertain: {abs(spin.measured_deg):.0f}° measured lies between {low:.0f} and "
                   f"{low + 180:.0f}, and the stance ridden away from the landing, which would tell them apart, "
                   "was not read.")  # fmt: skip
    if switched is not None and switched != (round(jump.spin_deg / 180.0) % 2 == 1) and jump.landed is not None:
        # the count stood clear of the stances' reading (`rotation.spin_count`), and they disagree with it
        count = f"a {jump.spin_deg:.0f}" if jump.spin_deg else "no spin"
        out.append(f"The stance is uncertain: the rider rode away {jump.landed.stance}, which does not fit {count} "
                   f"from a {jump.riding_stance} approach: the side or the count is misread.")  # fmt: skip
    if jump.camera is not None and jump.camera.moving:
        out.append(f"Filmed by a moving camera ({jump.camera.reason}): the takeoff and landing frames are less sure, "
                   "the height comes from the air time alone, and the trunk's lean and grabs are not measured.")  # fmt: skip
    if jump.landing is not None:
        if jump.landing.grade == AIRBAG:
            out.append(f"Landed in an airbag (no grade): {'; '.join(jump.landing.reasons)}.")
        else:
            grade = "not graded" if jump.landing.grade == UNKNOWN else jump.landing.grade
            out.append(f"Landing {grade}: {'; '.join(jump.landing.reasons)}.")
    return out


def grab_sentence(grab: Grab) -> str:
    """The grab's sentence (rule 1b), e.g. "Grab: indy, the back hand on the toe edge between the bindings from
    1.40 s to 1.83 s (held 0.43 s)."."""
    where = {"middle": "between the bindings", "nose": "near the nose", "tail": "near the tail"}
    hands = " and ".join(
        f"the {h.hand} hand on the board {where[h.zone]}" if h.edge == "unsure" else
        f"the {h.hand} hand on the {h.edge} edge {where[h.zone]}" if h.zone == "middle" else
        f"the {h.hand} hand {where[h.zone]} ({h.edge} edge)"
        for h in grab.hands
    )  # fmt: skip
    text = f"Grab: {grab.name}, {hands} from {grab.start_s:.2f} s to {grab.end_s:.2f} s (held {grab.duration_s:.2f} s)"
    if grab.tweaked:
        text += f", tweaked: the board pulled {grab.tweak_deg:.0f}° back out of line with the legs"
    return text + "."


def nominal_against_measured(jump: Jump) -> list[str]:
    """Per rotated axis: "540 nominal, 505° measured: 35° short, finished on landing" (rule 1)."""
    out = []
    for axis, turn in jump.turns.items():
        if not turn.nominal_deg and abs(turn.measured_deg) < 45.0:
            continue
        text = f"{axis} {turn.nominal_deg:.0f} nominal, {abs(turn.measured_deg):.0f}° measured"
        if axis == "spin" and turn.nominal_deg != judge_count(turn.measured_deg, 180.0):
            # the total lay between two counts and the stance ridden away in chose (`rotation.spin_count`)
            text += ", landed switch" if jump.landed_switched else ", landed in the approach's stance"
        diff = turn.difference_deg
        if abs(diff) >= 5.0:
            text += f": {abs(diff):.0f}° {'short' if diff < 0 else 'past'}"
            after = turn.after_landing_deg
            if after is not None and abs(after) >= 15.0:
                text += ", finished on landing" if after > 0 else ", turned back on landing"
        out.append(text)
    return out


def summarize(jumps: list[Jump]) -> str:
    """One sentence over all of a rider's jumps: how many, the longest, the biggest rotation."""
    if not jumps:
        return "No jump found for the rider."
    longest = max(jumps, key=lambda j: j.flight.air_time_s)
    head = "1 jump" if len(jumps) == 1 else f"{len(jumps)} jumps"
    text = f"{head}; longest {longest.flight.air_time_s:.2f} s in the air at {longest.flight.takeoff_s:.1f} s"
    rotated = [j for j in jumps if (j.spin_deg or j.flip_deg or j.roll_deg) and not j.unscored]
    if rotated:
        best = max(rotated, key=lambda j: j.spin_deg + j.flip_deg + j.roll_deg)
        text += f"; biggest rotation {best.trick} at {best.flight.takeoff_s:.1f} s"
    return text + "."
