"""The jump analysis under a moving camera (issue 16, item 5): renders `moving_suite()` (follow-cams, a low camera
under the kicker, a panning handheld, a rolled horizon, a zoom, a fisheye, a drone), runs the whole `analyze`
pipeline on each clip (no mesh) and prints a Markdown table against the truth: takeoff and landing frames, their
errors, the spin, flip and roll counts and directions, and the landing's grade; then the shares found right and the
false jumps (any jump found besides the one that overlaps the true flight).
`--suite airbag` runs `airbag_suite()` instead: jumps into an airbag, whose grade must say so.

    .venv/bin/python bench/moving_camera.py                        # all 24 clips, 480x480, 30 fps, in out/moving_camera
    .venv/bin/python bench/moving_camera.py --only follow-front_360_front,pan_360_front --size 320
    .venv/bin/python bench/moving_camera.py --camera drone,roll     # the clips of some camera kinds
    .venv/bin/python bench/moving_camera.py --suite airbag          # 12 jumps into an airbag
    .venv/bin/python bench/moving_camera.py --processes 1           # one clip at a time (default: one per core)

Clips already rendered in --out are reused (the truth file beside the clip marks one complete).
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from pathlib import Path
from typing import Any

from pose_service.config import Settings
from pose_service.pipeline import AnalyzeOptions, analyze
from pose_service.synth import MovingClip, airbag_suite, moving_suite, parse_trick, render_clip

AXES = ("spin", "flip", "roll")
NEAR_FRAMES = 3


def _true_rotation(truth: dict[str, Any]) -> dict[str, tuple[int, str | None]]:
    rotation = truth["expected"]["rotation"]
    return {a: (int(rotation[a]["nominal_deg"]), rotation[a]["direction"]) for a in AXES}


def _found_rotation(jump: dict[str, Any]) -> dict[str, tuple[int, str | None]]:
    return {a: (int(round(float(jump.get(f"{a}_deg") or 0))), jump.get(f"{a}_direction")) for a in AXES}


def _best(jumps: list[dict[str, Any]], truth: dict[str, Any]) -> dict[str, Any] | None:
    """The found jump overlapping the true flight most (None when none overlaps)."""

    def overlap(j: dict[str, Any]) -> float:
        return min(j["landing_s"], truth["landing_s"]) - max(j["takeoff_s"], truth["takeoff_s"])

    best = max(jumps, key=overlap, default=None)
    return best if best is not None and overlap(best) > 0 else None


def run_clip(
    clip: MovingClip, out: Path, size: int, fps: float, settings: Settings, frame_rate: str = "full"
) -> dict[str, Any]:
    video = out / f"{clip.name}_{size}_{fps:g}.mp4"
    truth_path = video.with_suffix(".truth.json")
    render_s = None
    if not truth_path.exists():
        started = time.perf_counter()
        render_clip(parse_trick(clip.trick), video, width=size, height=size, fps=fps, view=clip.view,
                    camera=clip.camera, anny_cache_dir=settings.anny_cache_dir)  # fmt: skip
        render_s = time.perf_counter() - started
    truth = json.loads(truth_path.read_text())
    row: dict[str, Any] = {"clip": clip, "truth": truth["jumps"][0] if truth["jumps"] else None,
                           "rotation": _true_rotation(truth), "render_s": render_s, "got": None, "error": None,
                           "landing": truth["expected"]["landing_shown"]}  # fmt: skip
    started = time.perf_counter()
    try:
        result = analyze(video, out_dir=out / f"{video.stem}_pose", options=AnalyzeOptions(mesh=False, frame_rate=frame_rate),
                         settings=settings)  # fmt: skip
        jumps = result.result["analysis"]["jumps"]
        row["n_jumps"] = len(jumps)
        row["got"] = _best(jumps, row["truth"]) if row["truth"] else None
    except Exception as exc:  # noqa: BLE001 - a bench reports a clip the pipeline refuses and goes on
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["n_jumps"] = 0
    row["analyze_s"] = time.perf_counter() - started
    return row


def _counts(rotation: dict[str, tuple[int, str | None]]) -> str:
    return " ".join(f"{rotation[a][0]}{(rotation[a][1] or '')[:1]}" for a in AXES)


def _grade(jump: dict[str, Any]) -> str:
    return str((jump.get("landing") or {}).get("grade") or "-")


def score(row: dict[str, Any]) -> dict[str, bool]:
    """Whether the takeoff and landing lie within `NEAR_FRAMES`, the counts match on every axis, the
    directions match on every axis that turns, and an airbag landing is graded so."""
    t, g = row["truth"], row["got"]
    if t is None or g is None:
        return {"timing": False, "counts": False, "directions": False, "airbag": False}
    want, got = row["rotation"], _found_rotation(g)
    near = abs(g["takeoff_frame"] - t["takeoff_frame"]) <= NEAR_FRAMES
    near &= abs(g["landing_frame"] - t["landing_frame"]) <= NEAR_FRAMES
    counts = all(want[a][0] == got[a][0] for a in AXES)
    directions = all(want[a][1] == got[a][1] for a in AXES if want[a][0])
    airbag = (_grade(g) == "airbag") == (row.get("landing") == "airbag")
    return {"timing": near, "counts": counts, "directions": directions, "airbag": airbag}


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| clip | camera | truth takeoff/landing | found takeoff/landing | abs error (frames) | truth spin flip roll "
        "| found spin flip roll | counts | directions | landing |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        t, g, clip = row["truth"], row["got"], row["clip"]
        truth = f"{t['takeoff_frame']}/{t['landing_frame']}" if t else "no jump"
        if g is None:
            note = "none" if row["error"] is None else f"none ({row['error'][:60]})"
            lines.append(
                f"| {clip.name} | {clip.camera} | {truth} | {note} | - | {_counts(row['rotation'])} | - | - | - | - |"
            )
            continue
        s = score(row)
        err = f"{abs(g['takeoff_frame'] - t['takeoff_frame'])}/{abs(g['landing_frame'] - t['landing_frame'])}"
        lines.append(
            f"| {clip.name} | {clip.camera} | {truth} | {g['takeoff_frame']}/{g['landing_frame']} | {err} "
            f"| {_counts(row['rotation'])} | {_counts(_found_rotation(g))} | {'yes' if s['counts'] else 'no'} "
            f"| {'yes' if s['directions'] else 'no'} | {_grade(g)} |"
        )
    return "\n".join(lines)


def summary(rows: list[dict[str, Any]]) -> str:
    jumps = [r for r in rows if r["truth"] is not None]
    n = len(jumps)
    if not n:
        return "no clips with a jump"
    scores = [score(r) for r in jumps]

    def share(key: str) -> str:
        k = sum(s[key] for s in scores)
        return f"{k}/{n} ({100 * k / n:.0f}%)"

    found = sum(r["got"] is not None for r in jumps)
    false = {r["clip"].name: r["n_jumps"] - (r["got"] is not None) for r in rows}
    false = {name: k for name, k in false.items() if k > 0}
    return "\n".join([
        f"- jumps found: {found}/{n}",
        f"- false jumps (found beside the true one, or in a clip without one): {sum(false.values())}"
        + "".join(f"; {name}: {k}" for name, k in false.items()),
        f"- takeoff and landing both within {NEAR_FRAMES} frames: {share('timing')}",
        f"- spin, flip and roll counts right: {share('counts')}",
        f"- directions right: {share('directions')}",
        f"- airbag landings graded airbag, and no other: {share('airbag')}",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("out/moving_camera"))
    parser.add_argument("--size", type=int, default=480, help="square frame side in pixels (default 480)")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--only", default="", help="comma-separated clip names (see --list)")
    parser.add_argument("--camera", default="", help="comma-separated camera kinds")
    parser.add_argument("--list", action="store_true", help="print the suite's clip names and exit")
    parser.add_argument("--suite", default="moving", choices=["moving", "airbag"],
                        help="moving (default): moving_suite(); airbag: airbag_suite(), jumps into an airbag")
    parser.add_argument("--frame-rate", default="full", choices=["full", "adaptive"],
                        help="analyze --frame-rate (default full; bench/adaptive_rate.py compares the two)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="clips rendered and analysed at once, each in its own process (default: one per core)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    clips = moving_suite() if args.suite == "moving" else airbag_suite()
    if args.list:
        print("\n".join(f"{c.name}  ({c.trick}, {c.camera}, {c.view})" for c in clips))
        return 0
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {c.name for c in clips}
        if unknown:
            print(f"unknown clips {sorted(unknown)}; see --list", file=sys.stderr)
            return 2
        clips = [c for c in clips if c.name in wanted]
    if args.camera:
        clips = [c for c in clips if c.camera in set(args.camera.split(","))]
    args.out.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    rows = []
    # one clip per process at a time ("spawn": the pose model's threads do not survive a fork); each is rendered
    # and analysed on one core, into its own files
    with ProcessPoolExecutor(max(1, args.processes), mp_context=multiprocessing.get_context("spawn")) as pool:
        done = pool.map(run_clip, clips, repeat(args.out), repeat(args.size), repeat(args.fps), repeat(settings),
                        repeat(args.frame_rate))  # fmt: skip
        for clip, row in zip(clips, done, strict=True):
            rendered = "cached" if row["render_s"] is None else f"rendered in {row['render_s']:.1f} s"
            print(f"{clip.name}: {rendered}, analysed in {row['analyze_s']:.1f} s", file=sys.stderr, flush=True)
            rows.append(row)
    print(table(rows))
    print()
    print(summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
