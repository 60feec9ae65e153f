"""The adaptive frame rate against the full rate (issue 17, item 2): frames posed, time, and the jumps' timing and
rotation, on the real clips, the speed clips and subsets of the synthetic trick and moving-camera suites.

Each clip is analysed twice in this process (`analyze --no-mesh --jobs 1`, `--frame-rate full` then `adaptive`);
the table gives the frames the pose model looked at, each run's whole and `decode+pose` time as a share of the
clip's duration (x real time: above 1 is faster than real time), the CPU seconds of all its threads (steadier
than wall time on a shared machine), and for every jump of the full run the one of the
adaptive run that overlaps it most: takeoff and landing frame differences and the judged spin / flip / roll.
Synthetic clips are rendered into --out (reused when there).

    .venv/bin/python bench/adaptive_rate.py                           # every suite's default subset
    .venv/bin/python bench/adaptive_rate.py --suites speed,real
    .venv/bin/python bench/adaptive_rate.py --suites tricks --clips fs360_goofy,backflip_regular --size 320
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from pose_service.config import Settings
from pose_service.pipeline import AnalyzeOptions, analyze
from pose_service.synth import moving_suite, parse_trick, render_clip

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
SUITES = ("speed", "real", "tricks", "moving")
DEFAULT = {
    "speed": ["phalp_vid", "sports2d_demo"],
    "real": ["snow_seg1", "snow_seg3", "snow_seg6", "snow_seg9"],
    "tricks": ["straight_regular", "fs360_goofy", "bs540_goofy", "backflip_regular", "frontflip_side",
               "cork720_goofy", "wildcat_regular", "ride"],
    "moving": ["follow-front_straight_front", "follow-front_360_front", "follow-behind_cork720_front",
               "follow-below_backflip_front", "pan_360_front", "roll_wildcat_front", "zoom_backflip_front",
               "fisheye_straight_front"],
}  # fmt: skip
AXES = ("spin", "flip", "roll")


def _clips(suite: str, names: list[str], out: Path, size: int, fps: float, settings: Settings) -> list[Path]:
    if suite == "speed":
        return [MEDIA / f"{n}.mp4" for n in names]
    if suite == "real":
        return [MEDIA / "real_snow" / f"{n}.mov" for n in names]
    if suite == "tricks":
        sys.path.insert(0, str(Path(__file__).parent))
        from trick_report import SUITE  # the trick suite's own table

        table = {c.name: (c.spec, c.view, c.seed) for c in SUITE}
    else:
        table = {c.name: (c.trick, c.view, 0) for c in moving_suite()}
        cameras = {c.name: c.camera for c in moving_suite()}
    paths = []
    for name in names:
        spec, view, seed = table[name]
        path = out / suite / f"{name}_{size}_{fps:g}.mp4"
        if not path.with_suffix(".truth.json").is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            extra = {"camera": cameras[name]} if suite == "moving" else {"seed": seed}
            render_clip(parse_trick(spec), path, width=size, height=size, fps=fps, view=view,
                        anny_cache_dir=settings.anny_cache_dir, **extra)  # fmt: skip
        paths.append(path)
    return paths


def _run(clip: Path, rate: str, out: Path, settings: Settings) -> dict[str, Any]:
    started, cpu = time.perf_counter(), time.process_time()
    outcome = analyze(clip, out_dir=out / "runs" / f"{clip.stem}_{rate}",
                      options=AnalyzeOptions(mesh=False, jobs=1, frame_rate=rate), settings=settings)  # fmt: skip
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    result = outcome.result
    return {"wall_s": wall, "cpu_s": cpu, "pose_s": outcome.stage_seconds.get("decode+pose", 0.0),
            "duration_s": result["video"]["duration_s"], "frame_rate": result["backend"]["frame_rate"],
            "jumps": result["analysis"]["jumps"]}  # fmt: skip


def _compare(full: list[dict[str, Any]], adaptive: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per jump of the full run: the adaptive run's jump overlapping it most, and how they differ."""
    rows = []
    for j in full:
        def overlap(k: dict[str, Any], j: dict[str, Any] = j) -> float:
            return min(k["landing_s"], j["landing_s"]) - max(k["takeoff_s"], j["takeoff_s"])

        k = max(adaptive, key=overlap, default=None)
        if k is None or overlap(k) <= 0:
            rows.append({"full": j, "adaptive": None})
            continue
        rows.append({"full": j, "adaptive": k, "d_takeoff": k["takeoff_frame"] - j["takeoff_frame"],
                     "d_landing": k["landing_frame"] - j["landing_frame"],
                     "same_rotation": all(_turn(j, a) == _turn(k, a) for a in AXES)})  # fmt: skip
    return rows


def _turn(jump: dict[str, Any], axis: str) -> tuple[int, str | None]:
    return int(round(float(jump.get(f"{axis}_deg") or 0))), jump.get(f"{axis}_direction")


def _rot(jump: dict[str, Any]) -> str:
    parts = [f"{axis[0]}{d}{(direction or '?')[0]}" for axis in AXES for d, direction in [_turn(jump, axis)] if d]
    return " ".join(parts) or "0"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suites", default=",".join(SUITES), help=f"comma-separated, of {', '.join(SUITES)}")
    parser.add_argument("--clips", default="", help="comma-separated clip names (default: each suite's subset)")
    parser.add_argument("--out", type=Path, default=Path("out/adaptive_rate"))
    parser.add_argument("--size", type=int, default=320, help="synthetic clips' square side (default 320)")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--json", type=Path, default=None, help="also write every row here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = Settings()
    from pose_service.pose.bundle import import_mediapipe

    import_mediapipe()  # its import is not the first run's time
    wanted = set(args.clips.split(",")) - {""}
    rows = []
    print("| suite | clip | frames posed | pose runs | x real time full / adaptive (pose stage); CPU s | jumps full / "
          "adaptive | takeoff, landing diff (frames) | rotation full -> adaptive |")
    print("|---|---|---|---|---|---|---|---|")
    for suite in args.suites.split(","):
        names = [n for n in DEFAULT[suite] if not wanted or n in wanted] if suite in DEFAULT else []
        for clip in _clips(suite, names, args.out, args.size, args.fps, settings):
            full, adaptive = (_run(clip, rate, args.out, settings) for rate in ("full", "adaptive"))
            pairs = _compare(full["jumps"], adaptive["jumps"])
            rate = adaptive["frame_rate"]
            duration = full["duration_s"]
            speed = (f"{duration / full['wall_s']:.2f} / {duration / adaptive['wall_s']:.2f} "
                     f"({duration / full['pose_s']:.2f} / {duration / adaptive['pose_s']:.2f}); CPU "
                     f"{full['cpu_s']:.1f} / {adaptive['cpu_s']:.1f} s")  # fmt: skip
            diffs = ", ".join(f"{p['d_takeoff']:+d} {p['d_landing']:+d}" if p["adaptive"] else "lost" for p in pairs)
            rots = ", ".join(f"{_rot(p['full'])} -> {_rot(p['adaptive']) if p['adaptive'] else '-'}" for p in pairs)
            print(f"| {suite} | {clip.stem} | {rate['frames_posed']}/{rate['frames']} | {rate['pose_runs']} | {speed} | "
                  f"{len(full['jumps'])} / {len(adaptive['jumps'])} | {diffs or '-'} | {rots or '-'} |", flush=True)  # fmt: skip
            rows.append({"suite": suite, "clip": clip.stem, "full": full, "adaptive": adaptive,
                         "pairs": [{k: v for k, v in p.items() if k not in ("full", "adaptive")} for p in pairs]})  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
