"""The real snowboard clips under each of `bench/real_snow.py`'s variants, one line per variant, and what moved.

One clip's timing can flip on a frame: seg6's first takeoff reads 46, 47 or 49 (truth 41, tolerance 5) as the
pose model's readings of a few frames change, so a change judged on the plain clips alone is judged on a coin.
This runs the plain clips and eleven variants of them (mirrored, written again, darker, tinted, upscaled, 15
frames/s, rocked, three with the pose model's outputs moved by seeded noise of a twentieth of a pixel, a
stress test of every threshold the readings meet, and cut 0.6 s around the jumps; see `bench/real_snow.py`), prints
per variant the figures against the issue's targets and the totals, and, given a saved run (`--against`), every
annotated jump whose found frames, recall or trick moved.

    .venv/bin/python bench/real_snow_variants.py --save /tmp/rs-before                  # about 7 minutes on 2 cores
    .venv/bin/python bench/real_snow_variants.py --save /tmp/rs-after --against /tmp/rs-before
    .venv/bin/python bench/real_snow_variants.py --only plain,mirror --save /tmp/rs-two
    .venv/bin/python bench/real_snow_variants.py --processes 1 --save /tmp/rs-serial      # one variant at a time

Each variant's scores go to SAVE/<variant>.json and its table to SAVE/<variant>.log; the analyses themselves under
$POSE_SERVICE_DATA_DIR/bench-real-snow/ as `bench/real_snow.py` writes them (each run replaces the last). The
variants run in `--processes` processes at once (default: one per core; a clip is analysed on one core, and each
variant writes its own files), so on 2 cores the twelve take about half the time one process takes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import real_snow  # noqa: E402  (the benchmark beside this one)

# name -> (real_snow.py's options, frames of the annotated clip per analysed frame)
VARIANTS: dict[str, tuple[list[str], int]] = {
    "plain": ([], 1),
    "mirror": (["--mirror"], 1),
    "reencode": (["--reencode"], 1),
    "exposure-0.7": (["--exposure", "0.7"], 1),
    "tint": (["--tint", "0.85,1,1.1"], 1),
    "upscale-2": (["--upscale", "2"], 1),
    "every-2": (["--every", "2"], 2),
    "roll-8,2": (["--roll", "8,2"], 1),
    "jitter-1": (["--jitter", "1"], 1),
    "jitter-2": (["--jitter", "2"], 1),
    "jitter-3": (["--jitter", "3"], 1),
    "trim-0.6": (["--trim", "0.6,0.6"], 1),
}


def run(name: str, media: Path, save: Path) -> list[dict[str, Any]]:
    """`bench/real_snow.py` with the variant's options; its table goes to SAVE/<name>.log, its scores are returned
    (and kept in SAVE/<name>.json)."""
    options, _ = VARIANTS[name]
    scores_file = save / f"{name}.json"
    with open(save / f"{name}.log", "w") as log, contextlib.redirect_stdout(log):
        code = real_snow.main(["--media", str(media), "--json", str(scores_file), *options])
    if code != 0:
        raise SystemExit(f"{name}: bench/real_snow.py exited {code} (see {save / name}.log)")
    scores: list[dict[str, Any]] = json.loads(scores_file.read_text())
    return scores


def line(name: str, f: dict[str, Any]) -> str:
    air = f"{f['air_error_s'][0]:.3f} / {f['air_error_s'][1]:.3f}" if f["air_error_s"] else "-"
    recall = f"{f['recall'][0]:.0%} / {f['recall'][1]:.0%}" if f["recall"] else "-"
    return (f"| {name} | {f['found']} of {f['jumps']} | {f['timed']} of {f['jumps']} | {f['false']} | {air} | {recall} "
            f"| {f['bad_landings']} | {f['refused']} of {f['unscoreable']} |")  # fmt: skip


def moved(name: str, before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    """Each annotated jump whose found frames, recall or trick differ between two runs of one variant."""
    out = []
    for clip_before, clip_after in zip(before, after, strict=True):
        for a, b in zip(clip_before["rows"], clip_after["rows"], strict=True):
            keys = ("found", "recall", "trick")
            if any(a.get(k) != b.get(k) for k in keys):
                truth = f"{a['truth'][0]}-{a['truth'][1]}"
                change = "; ".join(f"{k} {a.get(k)} -> {b.get(k)}" for k in keys if a.get(k) != b.get(k))
                out.append(f"- {name}, {a['clip']} {truth}: {change}")
        if clip_before["false"] != clip_after["false"]:
            out.append(f"- {name}, {clip_before['clip']}: false jumps {clip_before['false']} -> {clip_after['false']}")
        if clip_before["scoreable"] != clip_after["scoreable"]:
            out.append(f"- {name}, {clip_before['clip']}: scoreable {clip_before['scoreable']} -> {clip_after['scoreable']}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--media", type=Path, default=real_snow.MEDIA, help="folder holding the clips and truth.json")
    parser.add_argument("--save", type=Path, required=True, help="folder for each variant's scores and table")
    parser.add_argument("--against", type=Path, help="a folder saved by an earlier run: list what moved since")
    parser.add_argument("--only", default="", help=f"comma-separated variants (default all: {', '.join(VARIANTS)})")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="variants analysed at once, each in its own process (default: one per core)")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    if not (args.media / "truth.json").is_file():
        print(f"no annotations at {args.media / 'truth.json'}: ../shared/media/real_snow is not beside this checkout")
        return 2
    args.save.mkdir(parents=True, exist_ok=True)
    lines = [
        "| variant | found | timed within tolerance | false jumps | air time error mean / worst (s) "
        "| rider seen in the air mean / lowest | landings crash or sketchy | unscoreable refused |",
        "|---|---|---|---|---|---|---|---|",
    ]
    totals = {"jumps": 0, "found": 0, "timed": 0, "false": 0}
    changes: list[str] = []
    # a fresh interpreter per process ("spawn"): the pose model's threads do not survive a fork
    with ProcessPoolExecutor(max(1, args.processes), mp_context=multiprocessing.get_context("spawn")) as pool:
        runs = {name: pool.submit(run, name, args.media, args.save) for name in names}
        results = {name: runs[name].result() for name in names}
    for name in names:
        scores = results[name]
        f = real_snow.figures(scores, every=VARIANTS[name][1])
        lines.append(line(name, f))
        for k in totals:
            totals[k] += f[k]
        earlier = args.against / f"{name}.json" if args.against else None
        if earlier is not None and earlier.is_file():
            changes += moved(name, json.loads(earlier.read_text()), scores)
        print(lines[-1], file=sys.stderr, flush=True)
    print("\n".join(lines))
    print(f"\n- over {len(names)} variants: found {totals['found']} of {totals['jumps']}, timed within tolerance "
          f"{totals['timed']} of {totals['jumps']}, false jumps {totals['false']}")  # fmt: skip
    if args.against:
        print(f"\nMoved since {args.against}:")
        print("\n".join(changes) if changes else "- nothing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
