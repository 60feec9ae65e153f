"""The flight finder's inputs captured from a benchmark's run, then replayed with the code as it stands.

The timing rules (`analysis.airborne`) are tuned on the real clips, their variants, their perturbed runs
(`bench/real_snow.py --jitter`) and the rendered suites, and a rule's result moves with the pose model's readings as
much as with the rule. The pose stage is most of a run's time and `find_airborne` a few milliseconds, so: run the
benchmarks once with `capture`, which pickles every `find_airborne` call (its arguments, its flights and the clip)
to DIR, then judge each change to the rules with `replay`, over every capture at once, in seconds:

    .venv/bin/python bench/flights_replay.py capture DIR -- bench/real_snow.py --jitter 11
    .venv/bin/python bench/flights_replay.py capture DIR -- bench/moving_camera.py --out CLIPS
    .venv/bin/python bench/flights_replay.py replay DIR [DIR ...]        # the code as it stands, against the capture

`capture` runs the benchmark in this process, and the processes it starts find the same wrapping through a
`sitecustomize` on their PYTHONPATH. `replay` scores both the captured flights and the replayed ones against the truth: a real clip's
annotations (`truth.json` of --media, by the clip's name; a clip with every other frame kept, `_every2`, against
half the frames, `_double` twice them) or a rendered clip's truth file beside it (`<clip>.truth.json`). It prints every call whose flights
moved, then per folder and in all the jumps found, timed within 3 and within 5 frames (both ends), the false
flights and the mean air time error, captured and replayed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pickle
import runpy
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media" / "real_snow"

Flights = list[tuple[int, int]]


def install(out: Path) -> None:
    """Wrap `find_airborne` (as the jump analysis calls it) and `analyze` in this process: each call of the first is
    pickled to `out` as {"video", "args", "kwargs", "flights"}, the video being the last one `analyze` was given."""
    import pose_service.analysis.jumps as jumps
    import pose_service.pipeline as pipeline

    count = itertools.count()
    current = {"video": ""}
    analyze, find_airborne = pipeline.analyze, jumps.find_airborne

    def analyzing(video: Any, *args: Any, **kwargs: Any) -> Any:
        current["video"] = str(video)
        return analyze(video, *args, **kwargs)

    def finding(*args: Any, **kwargs: Any) -> Any:
        flights = find_airborne(*args, **kwargs)
        record = {"video": current["video"], "args": args, "kwargs": kwargs,
                  "flights": [(f.takeoff_frame, f.landing_frame) for f in flights]}  # fmt: skip
        name = f"{Path(current['video']).stem or 'unknown'}.{os.getpid()}.{next(count)}.pkl"
        (out / name).write_bytes(pickle.dumps(record))
        return flights

    pipeline.analyze = analyzing  # type: ignore[assignment]
    jumps.find_airborne = finding  # type: ignore[assignment]


def capture(out: Path, script: list[str]) -> int:
    """Run `script` (a benchmark and its arguments) here, `install`ed, and in any process it starts: those find a
    `sitecustomize` on their PYTHONPATH (under `out/.hook`) that installs it there too (the suites analyse their
    clips in worker processes)."""
    out = out.resolve()
    hook = out / ".hook"
    hook.mkdir(parents=True, exist_ok=True)
    (hook / "sitecustomize.py").write_text(
        "import runpy\n"
        f"runpy.run_path({str(Path(__file__).resolve())!r})['install'](__import__('pathlib').Path({str(out)!r}))\n"
    )
    root = str(Path(__file__).resolve().parents[1])
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(hook), root, os.environ.get("PYTHONPATH")) if p)
    install(out)
    sys.argv = script
    sys.path.insert(0, str(Path(script[0]).resolve().parent))
    try:
        runpy.run_path(script[0], run_name="__main__")
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def truth_of(video: str, media: Path) -> Flights | None:
    """The annotated (takeoff, landing) frames of the clip a capture came from, None where none are known."""
    path = Path(video)
    rendered = path.with_name(path.stem + ".truth.json")
    if rendered.is_file():
        return [(j["takeoff_frame"], j["landing_frame"]) for j in json.loads(rendered.read_text())["jumps"]]
    annotations = media / "truth.json"
    if not annotations.is_file():
        return None
    clips = json.loads(annotations.read_text())["clips"]
    name = next((c for c in sorted(clips, key=len, reverse=True) if path.stem.startswith(c)), None)
    if name is None or clips[name].get("scoreable", True) is False:
        return None
    every, times = (2 if "_every2" in path.stem else 1), (2 if "_double" in path.stem else 1)
    return [(j["takeoff"] * times // every, -(-j["landing"] * times // every)) for j in clips[name]["jumps"]]


def score(flights: Flights, truth: Flights, fps: float) -> dict[str, Any]:
    """Each annotated jump matched to the first flight overlapping it: found, both ends within 3 and 5 frames, the
    air time error (s); flights matching none are false."""
    used: set[tuple[int, int]] = set()
    found = within3 = within5 = 0
    air: list[float] = []
    for takeoff, landing in truth:
        match = next((f for f in flights if f not in used and f[0] < landing and f[1] > takeoff), None)
        if match is None:
            continue
        used.add(match)
        worst = max(abs(match[0] - takeoff), abs(match[1] - landing))
        found, within3, within5 = found + 1, within3 + (worst <= 3), within5 + (worst <= 5)
        air.append(abs((match[1] - match[0]) - (landing - takeoff)) / fps)
    return {"jumps": len(truth), "found": found, "within3": within3, "within5": within5,
            "false": len([f for f in flights if f not in used]), "air": air}  # fmt: skip


def captures(folders: list[Path]) -> Iterator[tuple[Path, dict[str, Any]]]:
    for folder in folders:
        for path in sorted(folder.glob("*.pkl")):
            yield path, pickle.loads(path.read_bytes())


def replay(folders: list[Path], media: Path) -> int:
    from pose_service.analysis.airborne import find_airborne

    totals: dict[str, dict[str, dict[str, Any]]] = {}
    for path, record in captures(folders):
        truth = truth_of(record["video"], media)
        now = [(f.takeoff_frame, f.landing_frame) for f in find_airborne(*record["args"], **record["kwargs"])]
        if now != record["flights"]:
            print(f"moved: {path.parent.name}/{path.name}: {record['flights']} -> {now} (truth {truth})")
        if truth is None:
            continue
        fps = float(record["kwargs"]["fps"])
        for key in (path.parent.name, "all"):
            for when, flights in (("captured", record["flights"]), ("now", now)):
                got = score(flights, truth, fps)
                total = totals.setdefault(key, {}).setdefault(when, {"jumps": 0, "found": 0, "within3": 0,
                                                                      "within5": 0, "false": 0, "air": []})  # fmt: skip
                for name, value in got.items():
                    total[name] += value
    print("| captures | when | found | within 3 frames | within 5 frames | false | air time error mean (s) |")
    print("|---|---|---|---|---|---|---|")
    for key, whens in sorted(totals.items(), key=lambda kv: kv[0] == "all"):
        for when, t in whens.items():
            air = f"{np.mean(t['air']):.3f}" if t["air"] else "-"
            print(f"| {key} | {when} | {t['found']} of {t['jumps']} | {t['within3']} | {t['within5']} | {t['false']} "
                  f"| {air} |")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    script = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["capture", "replay"])
    parser.add_argument("folders", type=Path, nargs="+", help="capture: the one folder to write; replay: folders to read")
    parser.add_argument("--media", type=Path, default=MEDIA, help="the real clips' folder, holding truth.json")
    args = parser.parse_args(argv)
    if args.mode == "capture":
        if len(args.folders) != 1 or not script:
            parser.error("capture wants one folder, then -- and the benchmark to run with its arguments")
        return capture(args.folders[0], script)
    return replay(args.folders, args.media)


if __name__ == "__main__":
    sys.exit(main())
