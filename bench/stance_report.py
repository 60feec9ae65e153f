"""The stance before takeoff and after landing against the synthetic renderer's true spin count.

A spin of an odd number of half turns lands in the other stance (a 180, a 540), an even one in the approach's, and
the analysis counts a spin read between two counts by the stance ridden away in (`rotation.spin_count`). This
checks that premise on rendered clips already analysed: for each `*_pose/result.json` under the folders given, with
its clip's truth file beside it (`<clip>.truth.json`, as `bench/trick_report.py`, `bench/grab_report.py` and
`bench/moving_camera.py` leave them), every reported jump's `stance` and `landing_stance` (read again from the
rider's keypoints where the result predates the field, for a still camera only: a moving one needs the ground's
motion, which result.json does not keep) against the half turns of the true jump it overlaps most.

    .venv/bin/python bench/stance_report.py $POSE_SERVICE_DATA_DIR/bench-clips/tricks $POSE_SERVICE_DATA_DIR/bench-clips/grabs
    .venv/bin/python bench/stance_report.py /tmp/moving-renders --show        # and every jump's line

Prints per folder: jumps, both stances read, and of those the pairs that fit the true count (switched exactly when
it has an odd number of half turns), with every pair that does not.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from pose_service.analysis.stance import landing_stance, riding_stance

sys.path.insert(0, str(Path(__file__).resolve().parent))

from grab_report import rider_arrays  # noqa: E402  (the benchmark beside this one)


def _stances(result: dict[str, Any], index: int) -> tuple[str | None, str | None, str]:
    """(approach, run-out, how they were had) of jump `index` of `result`."""
    jumps = result["analysis"]["jumps"]
    jump = jumps[index]
    if "landing_stance" in jump:
        return jump["stance"], jump["landing_stance"], "result.json"
    if any((j.get("camera") or {}).get("moving") for j in jumps):
        return jump["stance"], None, "not kept (moving camera)"
    arrays = rider_arrays(result)
    if arrays is None:
        return jump["stance"], None, "no rider"
    _, times, k2, k3, scale = arrays
    following = jumps[index + 1]["takeoff_s"] if index + 1 < len(jumps) else np.inf
    before = riding_stance(times, k2, k3, scale, takeoff_s=jump["takeoff_s"])
    after = landing_stance(times, k2, k3, scale, landing_s=jump["landing_s"], next_takeoff_s=following)
    return before.stance, after.stance, "read again"


def _true_jump(truth: dict[str, Any], jump: dict[str, Any]) -> dict[str, Any] | None:
    """The true jump overlapping the reported one most, None when none overlaps."""
    def overlap(t: dict[str, Any]) -> float:
        return min(t["landing_s"], jump["landing_s"]) - max(t["takeoff_s"], jump["takeoff_s"])

    best = max(truth.get("jumps") or [], key=overlap, default=None)
    return best if best is not None and overlap(best) > 0 else None


def report(folder: Path, show: bool) -> tuple[int, int, int]:
    """(jumps, both stances read, pairs that fit the true count) over the analysed clips in `folder`."""
    jumps = both = fit = 0
    for result_path in sorted(folder.glob("*_pose/result.json")):
        clip = result_path.parent.name.removesuffix("_pose")
        truth_path = folder / f"{clip}.truth.json"
        if not truth_path.is_file():
            continue
        result = json.loads(result_path.read_text())
        truth = json.loads(truth_path.read_text())
        for i, jump in enumerate(result["analysis"]["jumps"]):
            true = _true_jump(truth, jump)
            if true is None:
                continue
            jumps += 1
            before, after, source = _stances(result, i)
            half_turns = round(float(true.get("spin_deg") or 0.0) / 180.0)
            line = f"{clip} {jump['takeoff_frame']}-{jump['landing_frame']}: true spin {half_turns * 180}, " \
                   f"stance {before} -> {after} ({source})"  # fmt: skip
            if before is None or after is None:
                if show:
                    print(line)
                continue
            both += 1
            ok = (before != after) == (half_turns % 2 == 1)
            fit += ok
            if show or not ok:
                print(line + ("" if ok else "  DOES NOT FIT"))
    return jumps, both, fit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, help="folders of rendered clips analysed (*_pose/result.json)")
    parser.add_argument("--show", action="store_true", help="print every jump's stances, not only the misfits")
    args = parser.parse_args(argv)
    print("| folder | jumps | both stances read | fit the true count |")
    print("|---|---|---|---|")
    rows = [(folder, *report(folder, args.show)) for folder in args.folders]
    for folder, jumps, both, fit in rows:
        print(f"| {folder} | {jumps} | {both} | {fit} of {both} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
