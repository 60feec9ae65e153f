"""The grab report against the synthetic renderer's truth (issue 19): every named grab, two stances, three views.

Renders the suite (cached under --cache, default $POSE_SERVICE_DATA_DIR/bench-clips/grabs: a second run
re-analyses without re-rendering), runs the real command line on each clip, `pose-service analyze CLIP --no-mesh
--stance NATURAL`, and prints a Markdown table: clip | view | camera | true grab | reported grab | hand, edge, zone
right | true held s | reported held s | ok. The truth names the grab from the generator's own table
(`synth.grab.GRABS`) and measures its span on the posed mesh (the palm within 5 cm of the board); the analysis
reads the pose model's keypoints of the rendered video.

    .venv/bin/python bench/grab_report.py                               # the whole suite, 320x320, 30 fps
    .venv/bin/python bench/grab_report.py --grabs indy,melon --views front --size 256
    .venv/bin/python bench/grab_report.py --part 1/2 & .venv/bin/python bench/grab_report.py --part 2/2   # halves
    .venv/bin/python bench/grab_report.py --reuse-poses      # the grab read again from the cached result.json files

--reuse-poses skips the pose model: where a clip's result.json is cached, only the grab is read again (`find_grab`
on the rider's track and the reported jump's times and stance, as `analysis.jumps` calls it; none where the
camera moved, as there), so a change to
`analysis/grab.py` is measured in seconds; the rest of the result (the jump, its trick) stays as cached.

Figures: right grab (name) among grabbed airs; no grab reported among ungrabbed airs; held time within 0.1 s among
the grabs found.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pose_service.config import Settings
from pose_service.synth import parse_trick, render_clip
from pose_service.synth.grab import GRABS

DURATION_TOLERANCE_S = 0.1


@dataclass(frozen=True)
class Clip:
    spec: str  # the trick spec, the natural stance in it where the view shows one
    view: str
    stance: str  # given to the CLI as --stance (the side view shows none: the generator's default, regular)
    camera: str = "still"

    @property
    def name(self) -> str:
        spec = self.spec.replace(",", "_").replace("=", "")
        return f"{spec}_{self.view}_{self.camera}"


def suite() -> list[Clip]:
    """Every grab ridden regular and goofy, seen from the front and the back, and from the side (where no foot
    leads in the picture: the generator's regular); four with a camera following the rider; then airs with no
    grab (straight, a 360) in the same views (74 clips)."""
    clips = []
    for grab in GRABS:
        for stance in ("regular", "goofy"):
            for view in ("front", "back"):
                clips.append(Clip(f"{stance},straight,grab={grab}", view, stance))
        clips.append(Clip(f"straight,grab={grab}", "side", "regular"))
    for grab in ("indy", "melon", "nose", "truck_driver"):
        clips.append(Clip(f"regular,straight,grab={grab}", "front", "regular", camera="follow-front"))
    for spec in ("straight", "fs360"):
        for stance in ("regular", "goofy"):
            for view in ("front", "back"):
                clips.append(Clip(f"{stance},{spec}", view, stance))
    clips.append(Clip("straight", "side", "regular"))
    clips.append(Clip("regular,straight", "front", "regular", camera="follow-front"))
    return clips


def _render(clip: Clip, size: int, fps: float, cache: Path, fresh: bool) -> Path:
    spec = parse_trick(clip.spec)
    path = cache / f"{clip.name}_{size}_{fps:g}.mp4"
    truth_path = path.with_suffix(".truth.json")
    if truth_path.exists() and not fresh:
        truth = json.loads(truth_path.read_text())
        if truth.get("trick", {}).get("spec") == spec.spec:
            return path
    render_clip(spec, path, width=size, height=size, fps=fps, view=clip.view, camera=clip.camera,
                anny_cache_dir=Settings().anny_cache_dir)  # fmt: skip
    return path


def _analyze(video: Path, stance: str) -> tuple[dict[str, Any] | None, str, int]:
    """Run the command line in this process; (result.json or None, what it printed, exit code)."""
    from pose_service.cli import main

    out_dir = video.with_name(video.stem + "_pose")
    argv = ["analyze", str(video), "--no-mesh", "--out", str(out_dir), "--stance", stance]
    printed, errors = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors):
        code = main(argv)
    result_path = out_dir / "result.json"
    if code != 0 or not result_path.exists():
        return None, printed.getvalue() + errors.getvalue()[-500:], code
    return json.loads(result_path.read_text()), printed.getvalue(), code


def rider_arrays(result: dict[str, Any]) -> tuple[dict[str, Any], Any, Any, Any, Any] | None:
    """The rider's track in a result.json and its samples' times, 2D and 3D keypoints and picture scale (as
    `analysis.jumps` computes it), or None where no rider was found."""
    import numpy as np

    from pose_service.analysis.airborne import pixels_per_metre

    track = next((t for t in result["tracks"] if t["id"] == result["analysis"]["rider_track"]), None)
    if track is None:
        return None
    times = np.asarray(result["timestamps_s"], dtype=np.float64)[np.asarray(track["frames"])]
    k2 = np.asarray(track["keypoints_2d"], dtype=np.float64)
    k3 = np.asarray(track["keypoints_3d"], dtype=np.float64)
    fps = float(result["video"]["fps"])
    return track, times, k2, k3, pixels_per_metre(k2, k3, smooth=max(3, round(fps * 0.5)) | 1)


def _regrab(video: Path, stance: str) -> tuple[dict[str, Any] | None, str, int] | None:
    """The cached result.json of `video` with each jump's grab read again by the current `find_grab`; None when
    there is no cached result."""
    import numpy as np

    from pose_service.analysis.forearm import ForearmReader
    from pose_service.analysis.grab import find_grab
    from pose_service.tracking.core import Track
    from pose_service.video import probe

    path = video.with_name(video.stem + "_pose") / "result.json"
    if not path.exists():
        return None
    result = json.loads(path.read_text())
    arrays = rider_arrays(result)
    if arrays is None:
        return result, "cached (no rider)", 0
    track, times, k2, k3, scale = arrays
    frames = np.asarray(track["frames"])
    fps = float(result["video"]["fps"])
    rider = Track(id=int(track["id"]), frames=frames, bbox=np.asarray(track["bbox"], dtype=np.float64), keypoints_2d=k2,
                  keypoints_3d=k3, interpolated=np.asarray(track.get("interpolated") or [False] * len(frames), bool))
    forearm = ForearmReader(probe(video), rider)  # the picture's reading of the forearms, as `analyze` passes it
    for jump in result["analysis"]["jumps"]:
        if (jump.get("camera") or {}).get("moving"):  # the analysis reads no grab there (`analysis.jumps`)
            jump["grab"] = None
            continue
        grab = find_grab(times, frames, k3, takeoff_s=jump["takeoff_s"], landing_s=jump["landing_s"],
                         riding_stance=jump.get("stance") or stance, fps=fps, keypoints_2d=k2,
                         scale_px_per_m=scale, forearm=forearm)  # fmt: skip
        jump["grab"] = grab.to_result() if grab else None
    return result, "cached poses, grab read again", 0


def _jump(result: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any] | None:
    """The reported jump overlapping the true flight most."""
    jumps = result["analysis"]["jumps"]
    if not jumps or not truth["jumps"]:
        return None
    t = truth["jumps"][0]
    return max(jumps, key=lambda j: min(j["landing_s"], t["landing_s"]) - max(j["takeoff_s"], t["takeoff_s"]))


def compare(clip: Clip, truth: dict[str, Any], result: dict[str, Any] | None) -> dict[str, Any]:
    true_grab = truth["jumps"][0].get("grab") if truth["jumps"] else None
    row: dict[str, Any] = {"clip": clip.name, "view": clip.view, "camera": clip.camera, "spec": clip.spec,
                           "true_grab": true_grab["name"] if true_grab else None,
                           "true_held_s": true_grab.get("duration_s") if true_grab else None}  # fmt: skip
    jump = _jump(result, truth) if result is not None else None
    grab = jump.get("grab") if jump else None
    row["jump_found"] = jump is not None
    row["reported_grab"] = grab["name"] if grab else None
    row["reported_held_s"] = grab["duration_s"] if grab else None
    row["reported_trick"] = jump.get("trick") if jump else None
    if true_grab:
        want = {(h["hand"], h["edge"], h["zone"]) for h in true_grab["hands"]}
        got = {(h["hand"], h["edge"], h["zone"]) for h in (grab or {}).get("hands", [])}
        row["hand_ok"] = {w[0] for w in want} == {g[0] for g in got}
        row["edge_ok"] = {(w[0], w[1]) for w in want} == {(g[0], g[1]) for g in got}
        row["zone_ok"] = {(w[0], w[2]) for w in want} == {(g[0], g[2]) for g in got}
        row["name_ok"] = bool(grab) and grab["name"].lower() == true_grab["name"].lower()
        # right but for an edge the analysis said it could not read (seen from the front or the back the picture
        # puts the hand of a toe and a heel grab within a few pixels of the same place)
        unsure = bool(got) and all(g[1] == "unsure" for g in got)
        row["seen_ok"] = row["name_ok"] or (row["hand_ok"] and row["zone_ok"] and unsure)
        row["wrong_name"] = bool(grab) and not row["name_ok"] and grab["name"] != "grab"
        held = row["reported_held_s"]
        row["held_ok"] = held is not None and abs(held - true_grab["duration_s"]) <= DURATION_TOLERANCE_S
        row["ok"] = row["name_ok"] and row["held_ok"]
    else:
        row["ok"] = grab is None
    return row


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| clip | true grab | reported grab | hand | edge | zone | true held s | reported held s | ok |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        cells = [r["clip"], r["true_grab"], r["reported_grab"], r.get("hand_ok"), r.get("edge_ok"), r.get("zone_ok"),
                 r["true_held_s"], r["reported_held_s"], "ok" if r["ok"] else "**no**"]  # fmt: skip
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    grabbed = [r for r in rows if r["true_grab"]]
    plain = [r for r in rows if not r["true_grab"]]
    found = [r for r in grabbed if r["reported_held_s"] is not None]

    def share(part: list[dict[str, Any]], key: str) -> str:
        n = sum(bool(r.get(key)) for r in part)
        return f"{n} of {len(part)} ({100 * n / max(len(part), 1):.0f} %)"

    lines += ["", f"right grab: {share(grabbed, 'name_ok')}; hand right {share(grabbed, 'hand_ok')}, edge right "
              f"{share(grabbed, 'edge_ok')}, zone right {share(grabbed, 'zone_ok')}; a grab found "
              f"{len(found)} of {len(grabbed)}; right but for an edge reported unsure {share(grabbed, 'seen_ok')}; "
              f"a wrong name given {share(grabbed, 'wrong_name')}",
              f"no grab reported on ungrabbed airs: {share(plain, 'ok')}",
              f"held time within {DURATION_TOLERANCE_S} s: {share(found, 'held_ok')} of the grabs found"]  # fmt: skip
    for view in ("front", "back", "side"):
        part = [r for r in grabbed if r["view"] == view and r["camera"] == "still"]
        if part:
            lines.append(f"- {view} view (still camera): right grab {share(part, 'name_ok')}, edge right "
                         f"{share(part, 'edge_ok')}, right but for an unsure edge {share(part, 'seen_ok')}, a wrong "
                         f"name {share(part, 'wrong_name')}")  # fmt: skip
    moving = [r for r in grabbed if r["camera"] != "still"]
    if moving:
        lines.append(f"- moving camera: right grab {share(moving, 'name_ok')}, a wrong name {share(moving, 'wrong_name')}")
    names = sorted({r["true_grab"] for r in grabbed})
    lines.append("- per grab (right / clips): " + ", ".join(
        f"{n} {sum(bool(r['name_ok']) for r in grabbed if r['true_grab'] == n)}/"
        f"{sum(r['true_grab'] == n for r in grabbed)}" for n in names))  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grabs", default="", help="comma-separated grab names (default: all, and the plain airs)")
    parser.add_argument("--views", default="", help="comma-separated views (default: all)")
    parser.add_argument("--size", type=int, default=320, help="square frame size in pixels")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument(
        "--part", default="1/1", help="K/N: run every N-th clip starting at the K-th (for parallel runs)"
    )
    parser.add_argument("--cache", type=Path, default=None, help="where the clips are rendered and analysed")
    parser.add_argument("--out", type=Path, default=None, help="results file (JSON; default in the cache)")
    parser.add_argument("--fresh", action="store_true", help="render again even when a cached clip exists")
    parser.add_argument("--reuse-poses", action="store_true",
                        help="read only the grab again from each clip's cached result.json (no pose model)")
    parser.add_argument("--table", nargs="*", type=Path, help="only print the table of these results files")
    args = parser.parse_args(argv)
    if args.table:
        rows = [row for path in args.table for row in json.loads(path.read_text())]
        print(table(rows))
        return 0
    k, n = (int(x) for x in args.part.split("/"))
    grabs = [g for g in args.grabs.split(",") if g]
    views = [v for v in args.views.split(",") if v]
    clips = [c for c in suite() if (not grabs or any(f"grab={g}" in c.spec for g in grabs))
             and (not views or c.view in views)][k - 1 :: n]  # fmt: skip
    cache = args.cache or Settings().data_dir / "bench-clips" / "grabs"
    cache.mkdir(parents=True, exist_ok=True)
    rows = []
    for clip in clips:
        started = time.perf_counter()
        video = _render(clip, args.size, args.fps, cache, args.fresh)
        rendered = time.perf_counter() - started
        truth = json.loads(video.with_suffix(".truth.json").read_text())
        cached = _regrab(video, clip.stance) if args.reuse_poses else None
        result, printed, code = cached if cached is not None else _analyze(video, clip.stance)
        row = compare(clip, truth, result)
        row.update(exit_code=code, render_s=round(rendered, 1),
                   analyze_s=round(time.perf_counter() - started - rendered, 1))  # fmt: skip
        rows.append(row)
        print(f"{clip.name}: true {row['true_grab']} {row['true_held_s']}; reported {row['reported_grab']} "
              f"{row['reported_held_s']} ({row['reported_trick']}) -> {'ok' if row['ok'] else 'NO'} "
              f"({row['render_s']} s render, {row['analyze_s']} s analyze)", flush=True)  # fmt: skip
    print()
    print(table(rows))
    out = args.out or cache / f"grab_report_{args.size}_{args.fps:g}_{k}of{n}.json"
    out.write_text(json.dumps(rows, indent=1, default=str))
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
