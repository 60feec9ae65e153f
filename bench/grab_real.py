"""Grabs on the real snowboard clips (issue 19): per annotated air, the grab found or "none" (or "not read" where the
camera moved, as the analysis reads none there), its frames, and a crop of the frame at the grab's middle (at the
air's middle when none), written for checking by eye.

Runs the real command line on each clip of ../shared/media/real_snow (`pose-service analyze CLIP --no-mesh`),
matches each annotated jump of truth.json with the reported jump that overlaps it most, and prints a Markdown
table: clip | annotated air (frames) | reported air | grab | grab frames | held s | hands | crop. The crops (the
rider's box, widened by half, scaled to 256 px high) go to --out beside the results.

    .venv/bin/python bench/grab_real.py                       # all clips, results in $POSE_SERVICE_DATA_DIR/bench-grab-real
    .venv/bin/python bench/grab_real.py --out /tmp/grab-real --clips snow_seg1
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pose_service.config import Settings

REAL_SNOW = Path(__file__).resolve().parents[1].parent / "shared" / "media" / "real_snow"
CROP_HEIGHT_PX = 256


def _analyze(video: Path, out_dir: Path) -> dict[str, Any] | None:
    from pose_service.cli import main

    result_path = out_dir / "result.json"
    printed, errors = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors):
        code = main(["analyze", str(video), "--no-mesh", "--out", str(out_dir)])
    if code != 0 or not result_path.exists():
        print(f"{video.name}: analyze failed ({code}): {errors.getvalue().strip()[-300:]}", file=sys.stderr)
        return None
    return json.loads(result_path.read_text())


def _frame(video: Path, index: int) -> np.ndarray | None:
    capture = cv2.VideoCapture(str(video))
    capture.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = capture.read()
    capture.release()
    return frame if ok else None


def _crop(video: Path, result: dict[str, Any], frame_index: int, path: Path) -> str:
    """Write the rider's box at `frame_index` (widened by half) as a PNG; the file's name, or why there is none."""
    frame = _frame(video, frame_index)
    if frame is None:
        return "frame not read"
    rider = result["analysis"].get("rider_track")
    track = next((t for t in result["tracks"] if t["id"] == rider), None)
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = 0.0, 0.0, float(w), float(h)
    if track and track["frames"]:
        i = int(np.argmin(np.abs(np.asarray(track["frames"]) - frame_index)))
        bx0, by0, bx1, by1 = track["bbox"][i]
        mx, my = 0.5 * (bx1 - bx0), 0.5 * (by1 - by0)
        x0, y0, x1, y1 = max(0, bx0 - mx), max(0, by0 - my), min(w, bx1 + mx), min(h, by1 + my)
    crop = frame[int(y0) : int(np.ceil(y1)), int(x0) : int(np.ceil(x1))]
    if crop.size == 0:
        return "empty crop"
    scale = CROP_HEIGHT_PX / crop.shape[0]
    crop = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)), CROP_HEIGHT_PX), interpolation=cv2.INTER_CUBIC)
    cv2.putText(crop, f"frame {frame_index}", (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 255), 2)
    cv2.imwrite(str(path), crop)
    return path.name


def report(clips: list[str], out: Path) -> list[dict[str, Any]]:
    truth = json.loads((REAL_SNOW / "truth.json").read_text())["clips"]
    rows = []
    for name in clips:
        video = REAL_SNOW / f"{name}.mov"
        result = _analyze(video, out / f"{name}_pose")
        fps = result["video"]["fps"] if result else 29.97
        for n, air in enumerate(truth[name]["jumps"], start=1):
            row: dict[str, Any] = {"clip": name, "air": n, "annotated": (air["takeoff"], air["landing"]),
                                   "note": air.get("note", "")}  # fmt: skip
            jumps = result["analysis"]["jumps"] if result else []
            overlap = [(min(j["landing_frame"], air["landing"]) - max(j["takeoff_frame"], air["takeoff"]), j)
                       for j in jumps]  # fmt: skip
            best = max(overlap, key=lambda o: o[0], default=(0, None))
            jump = best[1] if best[0] > 0 else None
            row["reported"] = (jump["takeoff_frame"], jump["landing_frame"]) if jump else None
            row["unscored"] = jump.get("unscored") if jump else None
            grab = jump.get("grab") if jump else None
            # with a moving camera the analysis reads no grab (`analysis.jumps`): "none" would claim it looked
            moving = bool(((jump or {}).get("camera") or {}).get("moving"))
            row["grab"] = grab["name"] if grab else ("not read: the camera moved" if moving else "none")
            row["grab_frames"] = (grab["start_frame"], grab["end_frame"]) if grab else None
            row["held_s"] = grab["duration_s"] if grab else None
            row["hands"] = [f"{h['hand']} {h['edge']} {h['zone']}" for h in grab["hands"]] if grab else []
            row["trick"] = jump.get("trick") if jump else None
            if grab:
                middle = (grab["start_frame"] + grab["end_frame"]) // 2
            else:
                span = row["reported"] or row["annotated"]
                middle = (span[0] + span[1]) // 2
            row["crop_frame"] = middle
            row["crop"] = _crop(video, result, middle, out / f"{name}_air{n}_f{middle}.png") if result else "-"
            row["fps"] = fps
            rows.append(row)
            print(f"{name} air {n}: annotated {row['annotated']}, reported {row['reported']}, grab {row['grab']} "
                  f"{row['grab_frames']} -> {row['crop']}", flush=True)  # fmt: skip
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| clip | air | annotated frames | reported frames | trick | grab | grab frames | held s | hands | crop |",
             "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        span = lambda s: f"{s[0]}-{s[1]}" if s else "-"  # noqa: E731
        held = f"{r['held_s']:.2f}" if r["held_s"] is not None else "-"
        trick = r["trick"] or (f"not scored: {r['unscored']}" if r["unscored"] else "-")
        lines.append(f"| {r['clip']} | {r['air']} | {span(r['annotated'])} | {span(r['reported'])} | {trick} | "
                     f"{r['grab']} | {span(r['grab_frames'])} | {held} | {'; '.join(r['hands']) or '-'} | "
                     f"{r['crop']} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", default="", help="comma-separated clip names (default: every clip of truth.json)")
    parser.add_argument("--out", type=Path, default=None, help="results and crops (default in the data folder)")
    args = parser.parse_args(argv)
    if not (REAL_SNOW / "truth.json").is_file():
        print(f"real clips not found in {REAL_SNOW} (../shared/media is not beside this checkout)", file=sys.stderr)
        return 2
    names = [c for c in args.clips.split(",") if c] or list(json.loads((REAL_SNOW / "truth.json").read_text())["clips"])
    out = args.out or Settings().data_dir / "bench-grab-real"
    out.mkdir(parents=True, exist_ok=True)
    rows = report(names, out)
    print()
    print(table(rows))
    (out / "grab_real.json").write_text(json.dumps(rows, indent=1, default=str))
    print(f"\nresults and crops: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
