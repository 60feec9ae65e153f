"""The rotation fit on riders who rotate as riders do (issue 16, item 7): a rate that varies in the air (tucked
faster, opened slower) and a spin about a tilted axis (a cork), fed the synthetic generator's own clean joints
(no video). The generator's rate is a sine or a raised cosine in time and its tilted turn a fixed axis in the
body; the fit's progress is piecewise linear, so the two agree only through the data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from pose_service.analysis import fit_rotation, judge_count
from pose_service.analysis.rotation import RotationFit
from pose_service.analysis.trick import name_trick, roll_direction
from pose_service.synth.truth import trick_name

# As find_jumps passes them (pose_service/analysis/jumps.py): ground frames each side and the timing slack.
_BEFORE_S, _AFTER_S, _SLACK_S = 0.15, 0.25, 0.14


def _fit(body: dict[str, Any]) -> RotationFit:
    t, line = body["times"], body["timeline"]
    near = (t >= line.takeoff_s - _BEFORE_S) & (t <= line.landing_s + _AFTER_S)
    scale = np.full(int(near.sum()), 100.0)  # truth_body's 2D: 100 px per metre
    return fit_rotation(t[near], body["keypoints_2d"][near], body["keypoints_3d"][near], scale,
                        takeoff_s=line.takeoff_s, landing_s=line.landing_s, slack_s=_SLACK_S)  # fmt: skip


def _name(fit: RotationFit, stance: str | None) -> str:
    """The trick's name from the fit, as the trick report gives it (jumps.py's directions, trick.py's table)."""
    roll_to = "right" if fit.roll_deg > 0 else "left"
    return name_trick(
        stance=stance, switch=False, spin_deg=judge_count(fit.spin_deg), spin_direction="left" if fit.spin_deg > 0
        else "right", flip_deg=judge_count(fit.flip_deg, 360.0), flip_direction="front" if fit.flip_deg > 0 else
        "back", roll_deg=judge_count(fit.roll_deg, 360.0), roll_direction=roll_direction(stance, roll_to),
    )  # fmt: skip


CASES = [
    # a 1080 whose rate runs 30 % above the mean early (tucked) and 30 % below late (opened to spot the landing)
    ("1080,rate=vary30", "front"),
    # the same to the right, seen from behind
    ("right1080,rate=vary30", "back"),
    # a 540 from rest at takeoff, twice the mean rate mid-air, to rest at landing
    ("540,rate=smooth", "front"),
    # the same to the right, seen side-on: the spin turns in depth half the time
    ("right540,rate=smooth", "side"),
    # a 720 about an axis 20 degrees off vertical towards the rider's front: a plain 720
    ("720,axis=20", "front"),
    # 35 degrees off, to the right, from behind: the head never drops below the hips, a plain 720
    ("right720,axis=35", "back"),
    # 35 degrees towards the rider's left, with the rate varying too
    ("720,axis=35left,rate=vary20", "front"),
    # 50 degrees towards the front: each turn takes the head below the hips, two rolls: a double cork 720
    ("720,axis=50", "front"),
    # 50 degrees towards the rider's left, to the right: two flips, a double cork 720
    ("right720,axis=50left", "front"),
    # 50 degrees towards the back, from behind, the rate smooth: a double cork 720
    ("720,axis=50back,rate=smooth", "back"),
]


@pytest.mark.parametrize(("spec", "view"), CASES)
def test_rotation_as_riders_rotate_is_counted(truth_body: Callable[..., dict[str, Any]], spec: str, view: str) -> None:
    body = truth_body(spec, view)
    trick = body["trick"]
    fit = _fit(body)
    assert abs(abs(fit.spin_deg) - trick.spin_deg) <= 30.0, fit  # measured within 30 degrees of the truth
    assert judge_count(fit.spin_deg) == trick.spin_deg and (fit.spin_deg > 0) == (trick.spin_direction == "left")
    flip, flip_dir = trick.counted_flip()
    roll, roll_dir = trick.counted_roll(view)
    assert judge_count(fit.flip_deg, 360.0) == flip and judge_count(fit.roll_deg, 360.0) == roll, fit
    if flip:
        assert (fit.flip_deg > 0) == (flip_dir == "front")
    stance = trick.riding_stance(view)
    if roll:
        assert roll_direction(stance, "right" if fit.roll_deg > 0 else "left") == roll_dir
    if stance is not None:  # the side view shows no stance: no frontside or backside to name
        assert _name(fit, stance) == trick_name(trick, view)
    assert fit.agreement >= 0.9


@pytest.mark.parametrize(
    ("spec", "view", "model"),
    [
        ("1080,rate=vary30", "front", "flip"),  # a varying rate about the vertical: the upright family, not tilted
        ("720,axis=35", "front", "tilted"),  # the tilted axis is found, and its tilt measured
        ("720,axis=50back", "back", "tilted"),  # likewise leaning back
    ],
)
def test_the_fit_says_which_model_and_how_tilted(
    truth_body: Callable[..., dict[str, Any]], spec: str, view: str, model: str
) -> None:
    body = truth_body(spec, view)
    fit = _fit(body)
    assert fit.model == model
    assert fit.axis_tilt_deg == pytest.approx(body["trick"].axis_tilt_deg, abs=5.0)
    if model != "tilted":
        assert len(fit.progress) > 2 and np.all(np.diff(fit.progress) > 0)  # a varying, monotone progress


def _table() -> None:
    """Print the cases' table (spec, truth, measured, counted, name): `python -m tests.analysis.test_rotation_rates`."""
    from pose_service.config import Settings
    from pose_service.synth import parse_trick
    from pose_service.synth.body import JOINT_NAMES, load_rider, pose_body
    from pose_service.synth.motion import make_motion, make_timeline
    from tests.analysis.conftest import _BLAZEPOSE_FROM_COCO, TRUTH_PX_PER_M

    rider = load_rider(Settings().anny_cache_dir, 0)
    print("| spec | view | truth (spin / flip / roll) | measured | counted | model, tilt | name (truth) |")
    print("|---|---|---|---|---|---|---|")
    for spec, view in CASES:  # as the truth_body fixture poses them
        trick = parse_trick(spec)
        line = make_timeline(trick, 30.0)
        motion = make_motion(trick, line, bone_labels=rider.bone_labels, rest_heads=rider.rest_heads, view=view,
                             speed_m_s=2.0)  # fmt: skip
        world = pose_body(rider, motion).joints[:, [JOINT_NAMES.index(_BLAZEPOSE_FROM_COCO[k]) for k in range(33)]]
        mid = (world[:, 23] + world[:, 24]) / 2
        x = 240.0 + TRUTH_PX_PER_M * (world[..., 0] - mid[:, None, 0].mean())
        kp2d = np.stack([x, 420.0 - TRUTH_PX_PER_M * world[..., 1], np.ones_like(x)], axis=-1)
        fit = _fit({"times": line.times, "keypoints_2d": kp2d, "keypoints_3d": world - mid[:, None], "timeline": line})
        flip, roll = trick.counted_flip()[0], trick.counted_roll(view)[0]
        sign = "" if trick.spin_direction == "left" else "-"
        print(f"| `{spec}` | {view} | {sign}{trick.spin_deg:.0f} / {flip:.0f} / {roll:.0f} | {fit.spin_deg:.1f} / "
              f"{fit.flip_deg:.1f} / {fit.roll_deg:.1f} | {judge_count(fit.spin_deg):.0f} / "
              f"{judge_count(fit.flip_deg, 360):.0f} / {judge_count(fit.roll_deg, 360):.0f} | {fit.model}, "
              f"{fit.axis_tilt_deg:.1f}° | {_name(fit, trick.riding_stance(view))} ({trick_name(trick, view)}) |",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    _table()
