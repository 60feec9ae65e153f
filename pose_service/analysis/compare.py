"""Two jumps side by side: every metric of both, the difference (B minus A), and the one difference that matters.

Input is two `analysis.jumps[]` entries of result.json (plain dicts), so jumps from any two jobs compare.
Each metric has a scale: the difference a coach starts to care about (0.1 s of air, 15 degrees of knee bend,
half a turn of spin). The most important difference is the largest in units of its scale; its sentence names
both values. Differences under one scale count as the same.

The landing grade (0 to 10) is `landing.py`'s grade (stomped, sketchy, crash) as a number (`landing_score`:
stomped 7-10, sketchy 4-6.9, crash 0-3). Results written before the grade existed are scored on the older rules
of `explain.py`: a stiff landing without an absorb costs 3 points, an upper body leaning past 30 degrees up to 4
(one per 7.5 degrees past it), a rotation the airborne frames barely agree with 2; a missing reading costs nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pose_service.analysis.explain import (
    ABSORB_SOFT_KNEE_DEG,
    AGREEMENT_MIN,
    LAND_LEAN_DEG,
    LAND_STIFF_KNEE_DEG,
    trick_name,
)
from pose_service.analysis.landing import landing_score

__all__ = ["METRICS", "Metric", "compare_jumps", "jump_metrics", "landing_grade", "jump_trick"]


@dataclass(frozen=True)
class Metric:
    """One compared number: key, label for a person, unit, the difference that matters, and which way is better."""

    key: str
    label: str
    unit: str
    scale: float
    higher_is_better: bool | None  # None: neither (a style choice, or depends on the trick)


METRICS = (
    Metric("air_time_s", "air time", "s", 0.1, True),
    Metric("height_m", "hip height", "m", 0.25, True),  # follows the air time (h = g t² / 8): ranks after it
    Metric("spin_deg", "spin", "°", 180.0, None),
    Metric("flip_deg", "flip", "°", 180.0, None),
    Metric("spin_measured_deg", "measured spin", "°", 45.0, None),
    Metric("takeoff_knee_deg", "knees at takeoff", "°", 15.0, True),
    Metric("takeoff_separation_deg", "shoulder-hip wind-up at takeoff", "°", 15.0, None),
    Metric("peak_knee_deg", "knees at the top", "°", 20.0, None),
    Metric("landing_knee_deg", "knees at touchdown", "°", 15.0, None),
    Metric("landing_absorb_deg", "deepest knee bend after landing", "°", 15.0, False),
    Metric("landing_lean_deg", "upper-body lean at touchdown", "°", 10.0, False),
    Metric("landing_grade", "landing grade", "/10", 2.0, True),
)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _knees(values: dict[str, Any]) -> float | None:
    knees = [v for v in (_num(values.get("left_knee")), _num(values.get("right_knee"))) if v is not None]
    return sum(knees) / len(knees) if knees else None


def landing_grade(jump: dict[str, Any]) -> float | None:
    """0 to 10 for the touchdown (see the module docstring); None when nothing of the landing was seen."""
    graded = jump.get("landing")
    if isinstance(graded, dict) and graded.get("grade"):
        return landing_score(graded)
    if jump.get("unscored"):
        return None
    land = (jump.get("angles") or {}).get("landing") or {}
    knee, lean, absorb = _knees(land), _num(land.get("trunk_lean")), _num(jump.get("landing_knee_min_deg"))
    if knee is None and lean is None:
        return None
    score = 10.0
    if knee is not None and knee >= LAND_STIFF_KNEE_DEG and not (absorb is not None and absorb < ABSORB_SOFT_KNEE_DEG):
        score -= 3.0
    if lean is not None and lean > LAND_LEAN_DEG:
        score -= min(4.0, 1.0 + (lean - LAND_LEAN_DEG) / 7.5)
    agreement = _num(jump.get("rotation_agreement"))
    if agreement is not None and agreement < AGREEMENT_MIN and (jump.get("spin_deg") or jump.get("flip_deg")):
        score -= 2.0
    return round(max(0.0, score), 1)


def jump_trick(jump: dict[str, Any]) -> str:
    """'backside 540', 'straight air', ... (`trick.py`'s name; older results: 'a 360 to the left')."""
    if isinstance(jump.get("trick"), str):
        return str(jump["trick"])
    if jump.get("unscored"):
        return "not scored"
    return trick_name(float(jump.get("spin_deg") or 0), jump.get("spin_direction"),
                      float(jump.get("flip_deg") or 0), jump.get("flip_direction"))


def jump_metrics(jump: dict[str, Any]) -> dict[str, float | None]:
    """The numbers of `METRICS` for one result.json jump (None where not measured)."""
    angles = jump.get("angles") or {}
    take, peak, land = (angles.get(m) or {} for m in ("takeoff", "peak", "landing"))
    return {
        "air_time_s": _num(jump.get("air_time_s")),
        "height_m": _num(jump.get("height_m")),
        "spin_deg": _num(jump.get("spin_deg")),
        "flip_deg": _num(jump.get("flip_deg")),
        "spin_measured_deg": _num(jump.get("spin_measured_deg")),
        "takeoff_knee_deg": _knees(take),
        "takeoff_separation_deg": _num(take.get("shoulder_hip_separation")),
        "peak_knee_deg": _knees(peak),
        "landing_knee_deg": _knees(land),
        "landing_absorb_deg": _num(jump.get("landing_knee_min_deg")),
        "landing_lean_deg": _num(land.get("trunk_lean")),
        "landing_grade": landing_grade(jump),
    }


def _fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "m":
        return f"{value:.2f} m"
    if unit == "/10":
        return f"{value:.1f}/10"
    return f"{value:.0f}°"


def _sentence(m: Metric, a: float, b: float, trick_a: str, trick_b: str) -> str:
    if m.key in ("spin_deg", "flip_deg"):
        return f"The rotation differs most: B was {trick_b} where A was {trick_a}."
    more = b > a
    word = {
        "air_time_s": ("longer", "shorter"), "height_m": ("higher", "lower"),
        "landing_grade": ("better", "worse"),
    }.get(m.key, ("more", "less"))[0 if more else 1]
    diff = _fmt(abs(b - a), m.unit)
    if m.key == "air_time_s":
        head = f"B was in the air {diff} {word} than A"
    elif m.key == "height_m":
        head = f"B's hips rose {diff} {word} than A's"
    elif m.key == "landing_grade":
        head = f"B's landing graded {diff.removesuffix('/10')} points {word} than A's"
    elif m.key.endswith("knee_deg") or m.key == "landing_absorb_deg":
        state = "straighter" if more else "more bent"
        head = f"B's {m.label} were {diff} {state} than A's"
    else:
        head = f"B's {m.label} was {diff} {word} than A's"
    return f"{head} ({_fmt(b, m.unit)} against {_fmt(a, m.unit)})."


def compare_jumps(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Both jumps' metrics, differences (B - A), the most important one, and the takeoff alignment.

    Returns {"metrics": [{key, label, unit, a, b, diff, better}], "most_important": key or None,
    "explanation": str, "align": {"a_takeoff_s", "b_takeoff_s", "offset_s"}, "a": {...}, "b": {...}}.
    `better` is "a", "b", "same" or None (no preferred direction, or a value missing).
    """
    ma, mb = jump_metrics(a), jump_metrics(b)
    trick_a, trick_b = jump_trick(a), jump_trick(b)
    rows, best, best_score = [], None, 1.0
    for m in METRICS:
        va, vb = ma[m.key], mb[m.key]
        diff = None if va is None or vb is None else round(vb - va, 4)
        better: str | None = None
        if diff is not None:
            score = abs(diff) / m.scale
            if m.key in ("spin_deg", "flip_deg"):  # a different trick outranks every body angle
                score *= 4.0
            if m.key == "spin_deg" and (a.get("spin_direction") != b.get("spin_direction")) and (va or vb):
                score = max(score, 4.0)
            if score >= best_score and (best is None or score > best[1]):
                best, best_score = (m, score), score
            if m.higher_is_better is not None:
                better = "same" if score < 1.0 else ("b" if (diff > 0) == m.higher_is_better else "a")
        rows.append({"key": m.key, "label": m.label, "unit": m.unit, "a": va, "b": vb, "diff": diff,
                     "better": better})
    if best is None:
        explanation = "No difference that matters: every measure is within its noise of the other attempt."
        key = None
    else:
        m = best[0]
        va, vb = ma[m.key], mb[m.key]
        assert va is not None and vb is not None
        explanation, key = _sentence(m, va, vb, trick_a, trick_b), m.key
    ta, tb = float(a.get("takeoff_s") or 0.0), float(b.get("takeoff_s") or 0.0)
    return {
        "metrics": rows,
        "most_important": key,
        "explanation": explanation,
        "align": {"a_takeoff_s": ta, "b_takeoff_s": tb, "offset_s": round(tb - ta, 4)},
        "a": {"trick": trick_a, "spin_direction": a.get("spin_direction"), "flip_direction": a.get("flip_direction")},
        "b": {"trick": trick_b, "spin_direction": b.get("spin_direction"), "flip_direction": b.get("flip_direction")},
    }
