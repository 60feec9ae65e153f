"""Accuracy of the jump analysis against the synthetic renderer's exact truth.

Renders every trick in every view (cached in --out: a second run re-analyses without re-rendering), runs the
whole `analyze` pipeline on each clip (no mesh) and prints one row per clip: true and measured takeoff and
landing frames, air time, spin and flip (judge count, direction, and the measured total), then the mean
absolute errors and how many judge counts and directions came out right.

    .venv/bin/python bench/analysis_accuracy.py       # 11 tricks (a drop, riding, a crouch) x 3 views, 480x480, 30 fps
    .venv/bin/python bench/analysis_accuracy.py --size 256 --views side --tricks 360,backflip
    .venv/bin/python bench/analysis_accuracy.py --tricks 'right1080,air=1.2;backflip720,air=1.2'
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from pose_service.config import Settings
from pose_service.pipeline import AnalyzeOptions, analyze
from pose_service.synth import parse_trick, render_clip

TRICKS = ("straight", "right180", "360", "left540", "right720", "backflip", "frontflip", "backflip+360", "drop",
          "ride", "crouch")  # fmt: skip
VIEWS = ("front", "side", "back")


def _signed(jump: dict[str, Any], kind: str, measured: bool) -> float:
    total = float(jump[f"{kind}_measured_deg" if measured else f"{kind}_deg"])
    negative = jump[f"{kind}_direction"] in ("right", "back")
    return -total if negative else total


def run(
    tricks: list[str], views: list[str], size: int, fps: float, out: Path, redetect_every: int = 0
) -> list[dict[str, Any]]:
    settings = Settings()
    rows = []
    for trick in tricks:
        for view in views:
            name = f"{trick.replace('+', '_')}_{view}_{size}_{fps:g}"
            clip = out / f"{name}.mp4"
            truth_path = clip.with_suffix(".truth.json")
            if not truth_path.exists():
                render_clip(parse_trick(trick), clip, width=size, height=size, fps=fps, view=view,
                            anny_cache_dir=settings.anny_cache_dir)  # fmt: skip
            true_jumps = json.loads(truth_path.read_text())["jumps"]
            truth = true_jumps[0] if true_jumps else None  # None: a clip with no jump (ride, crouch)
            started = time.perf_counter()
            options = AnalyzeOptions(mesh=False, redetect_every=redetect_every)
            result = analyze(clip, out_dir=out / f"{name}_pose", options=options, settings=settings)
            jumps = result.result["analysis"]["jumps"]
            # The measured jump is the one overlapping the true flight most (all of them are listed).
            best = (
                max(
                    jumps,
                    key=lambda j: min(j["landing_s"], truth["landing_s"]) - max(j["takeoff_s"], truth["takeoff_s"]),
                    default=None,
                )
                if truth is not None
                else None
            )
            rows.append({"trick": trick, "view": view, "truth": truth, "got": best, "n_jumps": len(jumps),
                         "seconds": time.perf_counter() - started,
                         "angle_errors": _angle_errors(result.result, json.loads(truth_path.read_text()))
                         if truth is not None else {}})  # fmt: skip
            _print_row(rows[-1])
    return rows


_COCO_TO_BLAZEPOSE = {"left_shoulder": 11, "right_shoulder": 12, "left_elbow": 13, "right_elbow": 14,
                      "left_wrist": 15, "right_wrist": 16, "left_hip": 23, "right_hip": 24, "left_knee": 25,
                      "right_knee": 26, "left_ankle": 27, "right_ankle": 28}  # fmt: skip
_MOMENT_ANGLES = ("left_knee", "right_knee", "left_hip", "right_hip", "trunk_lean", "shoulder_hip_separation")


def _angle_errors(result: dict[str, Any], truth: dict[str, Any]) -> dict[str, list[float]]:
    """|measured - true| of some angles at the true takeoff, apex and landing frames (truth from the rendered
    body's joints; its hip joints are the body model's, not BlazePose's, so a few degrees differ by definition)."""
    from pose_service.analysis import ANGLE_NAMES, body_angles

    rider = next((t for t in result["tracks"] if t["is_rider"]), None)
    if rider is None:
        return {}
    index = {name: i for i, name in enumerate(truth["joint_names"])}
    joints = np.asarray(truth["joints_3d"])
    true_kp = np.zeros((len(joints), 33, 3))
    for name, k in _COCO_TO_BLAZEPOSE.items():
        true_kp[:, k] = joints[:, index[name]]
    jump = truth["jumps"][0]
    moments = (jump["takeoff_frame"], (jump["takeoff_frame"] + jump["landing_frame"]) // 2, jump["landing_frame"])
    frames = list(rider["frames"])
    errors: dict[str, list[float]] = {name: [] for name in _MOMENT_ANGLES}
    for frame in moments:
        if frame not in frames:
            continue
        got = body_angles(np.asarray(rider["keypoints_3d"][frames.index(frame)])[None])[0]
        want = body_angles(true_kp[frame][None])[0]
        for name in _MOMENT_ANGLES:
            k = ANGLE_NAMES.index(name)
            if name == "trunk_lean" and truth["jumps"][0]["flip_deg"]:
                continue  # mid-flip the trunk is upside down: lean is not what a coach reads there
            errors[name].append(float(abs(got[k] - want[k])))
    return errors


def _print_row(row: dict[str, Any]) -> None:
    t, g = row["truth"], row["got"]
    if t is None:
        print(f"{row['trick']:>13} {row['view']:>5} | no jump | jumps reported: {row['n_jumps']}", flush=True)
        return
    head = (
        f"{row['trick']:>13} {row['view']:>5} | {t['takeoff_frame']:3d} {t['landing_frame']:3d} {t['air_time_s']:.2f}"
    )
    truth_rot = f"{_signed(t, 'spin', False):+6.0f} {_signed(t, 'flip', False):+6.0f}"
    if g is None:
        print(f"{head} {truth_rot} | no jump found", flush=True)
        return
    got = (
        f"{g['takeoff_frame']:3d} {g['landing_frame']:3d} {g['air_time_s']:.2f} "
        f"{_signed(g, 'spin', False):+6.0f} {_signed(g, 'flip', False):+6.0f} "
        f"({_signed(g, 'spin', True):+6.0f} {_signed(g, 'flip', True):+6.0f}) agree {g['rotation_agreement']:.2f}"
    )
    extra = f" +{row['n_jumps'] - 1} more" if row["n_jumps"] > 1 else ""
    print(f"{head} {truth_rot} | {got}{extra}", flush=True)


def summarize(rows: list[dict[str, Any]]) -> str:
    quiet = [r for r in rows if r["truth"] is None]
    rows = [r for r in rows if r["truth"] is not None]
    found = [r for r in rows if r["got"] is not None]
    lines = [
        f"clips {len(rows)}, a jump found in {len(found)}, extra jumps {sum(max(0, r['n_jumps'] - 1) for r in rows)}"
    ]
    if quiet:
        wrong = sum(r["n_jumps"] > 0 for r in quiet)
        lines.append(f"clips with no jump {len(quiet)}, a jump reported on {wrong}")
    if not found:
        return "\n".join(lines)

    def mae(f: Any) -> float:
        return float(np.mean([abs(f(r["got"]) - f(r["truth"])) for r in found]))

    lines.append(
        f"mean abs error: takeoff {mae(lambda j: j['takeoff_frame']):.2f} frames, landing "
        f"{mae(lambda j: j['landing_frame']):.2f} frames, air time {mae(lambda j: j['air_time_s']):.3f} s"
    )
    spin_err = [abs(_signed(r["got"], "spin", True) - _signed(r["truth"], "spin", False)) for r in found]
    flip_err = [abs(_signed(r["got"], "flip", True) - _signed(r["truth"], "flip", False)) for r in found]
    lines.append(
        f"measured rotation mean abs error: spin {np.mean(spin_err):.1f} deg (max {max(spin_err):.0f}), "
        f"flip {np.mean(flip_err):.1f} deg (max {max(flip_err):.0f})"
    )
    right = sum(
        r["got"][f"{k}_deg"] == r["truth"][f"{k}_deg"] and r["got"][f"{k}_direction"] == r["truth"][f"{k}_direction"]
        for r in found
        for k in ("spin", "flip")
    )
    lines.append(f"judge count and direction right: {right} of {2 * len(found)} (spin and flip of each found jump)")
    within = sum(
        abs(r["got"]["takeoff_frame"] - r["truth"]["takeoff_frame"]) <= 3
        and abs(r["got"]["landing_frame"] - r["truth"]["landing_frame"]) <= 3
        and abs(r["got"]["air_time_s"] - r["truth"]["air_time_s"]) <= 0.1
        for r in found
    )
    lines.append(f"takeoff and landing within 3 frames and air time within 0.1 s: {within} of {len(found)}")
    for view in sorted({r["view"] for r in rows}):
        per = {n: [e for r in rows if r["view"] == view for e in r["angle_errors"].get(n, [])] for n in _MOMENT_ANGLES}
        text = ", ".join(f"{n} {np.mean(v):.0f}" for n, v in per.items() if v)
        lines.append(f"angle mean abs error at takeoff/apex/landing, {view} view (deg): {text}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tricks", default=",".join(TRICKS), help="trick specs separated by ',' (or ';')")
    parser.add_argument("--views", default=",".join(VIEWS), help="comma-separated views: front, side, back")
    parser.add_argument("--size", type=int, default=480, help="square frame size in pixels")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=Path("out/bench/analysis"), help="clip cache and results")
    parser.add_argument("--redetect-every", type=int, default=0, help="AnalyzeOptions.redetect_every (0: off)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    print("         trick  view | truth: takeoff landing air  spin   flip | measured: takeoff landing air  spin  flip "
          "(measured totals) agreement")  # fmt: skip
    # Specs with options hold commas themselves ("right1080,air=1.2"): then separate the tricks with ";".
    tricks = args.tricks.split(";") if ";" in args.tricks else args.tricks.split(",")
    rows = run(tricks, args.views.split(","), args.size, args.fps, args.out, args.redetect_every)
    print(summarize(rows))
    (args.out / f"accuracy_{args.size}_{args.fps:g}_r{args.redetect_every}.json").write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
