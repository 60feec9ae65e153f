"""The benchmark: how fast `analyze` runs, how much memory it takes, and how close it comes to decoding.

    .venv/bin/python bench/run.py [--repeat N] [--quick] [--cases decode,analyze,peer,mesh,memory,upload] [--clips WORD,..]
        [--memory-s 60,600] [--analyze-args '--redetect-every 10']

Each case runs `--repeat` times (default 3); the report gives the median and the spread (min..max) of each
figure, names the machine (CPU model, cores, memory, load average before and after) and is written to
`bench/results.json` and `bench/results.md`. Timings on a shared 2-core machine are noisy: compare runs
on the same machine, as ratios.

Clips: synthetic riders rendered once with the Anny body and cached in the data folder
(`bench-clips/`), long clips made by concatenating rendered segments (one rider doing varied tricks; two
riders crossing, `render_crossing`; three riders, the crossing and a one-rider clip side by side), and the
two real clips in ../shared/media when present. `--clips` keeps the clips whose label holds one of the
words. `--quick` uses 10 s 720p clips instead of 60 s 1080p ones, for a check that the harness works.

`analyze` runs as a subprocess (`python -m pose_service analyze CLIP --json`), as a user runs it: its
wall time, its CPU seconds (user + system, all threads: steadier than wall time on a busy machine), the
stage seconds it reports and its resident memory (read from /proc while it runs: the peak, and in the memory
case the trace). `--analyze-args` passes options to every `analyze` (to compare settings).

`peer` runs phalp_vid and sports2d_demo whole process, as the issue measures: `analyze` with and without the mesh
at both frame rates against the legacy single-person BlazePose, each once per round in turn, and prints times real
time and the ratio to the legacy model. `mesh` times the body stage alone (bench/fit.py's speed). `upload` runs bench/upload.py's measurement
(tus and multipart to a local server; `--upload-gib`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pose_service.config import Settings  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media"
# Segments a long clip is cut from: varied tricks and views so the pose model sees varied poses.
SEGMENTS = (("360", "front"), ("backflip", "side"), ("straight", "back"), ("right540", "front"))


@dataclass
class Figure:
    """One measured quantity over repeated runs."""

    name: str
    unit: str
    values: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        v = self.values
        return {
            "unit": self.unit,
            "median": statistics.median(v) if v else None,
            "min": min(v) if v else None,
            "max": max(v) if v else None,
            "runs": v,
        }


@dataclass
class Case:
    name: str
    note: str
    figures: dict[str, Figure] = field(default_factory=dict)

    def add(self, name: str, unit: str, value: float) -> None:
        self.figures.setdefault(name, Figure(name, unit)).values.append(round(float(value), 4))


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


# ---------------------------------------------------------------- clips


def _render(trick: str, view: str, out: Path, width: int, height: int, seed: int) -> Path:
    from pose_service.synth import parse_trick, render_clip

    if not out.is_file():
        print(f"  rendering {out.name} ({width}x{height}, {trick}, {view})", flush=True)
        render_clip(
            parse_trick(trick), out, width=width, height=height, fps=30.0, view=view,
            anny_cache_dir=Settings().anny_cache_dir, seed=seed,
        )  # fmt: skip
    return out


def concatenated(out: Path, segments: list[Path], seconds: float) -> Path:
    """`segments` played one after another, round and round, until `seconds` of video at 30 fps."""
    from pose_service.video import VideoReader, VideoWriter, probe

    if out.is_file():
        return out
    infos = [probe(s) for s in segments]
    total = round(seconds * 30)
    tmp = out.with_suffix(".part.mp4")
    written = 0
    with VideoWriter(tmp, width=infos[0].width, height=infos[0].height, fps=30) as writer:
        while written < total:
            for info in infos:
                with VideoReader(info) as reader:
                    for frame in reader:
                        if written >= total:
                            break
                        writer.write(frame.rgb, written / 30.0)
                        written += 1
    tmp.replace(out)
    return out


def three_people(out: Path, crossing: Path, rider: Path, seconds: float) -> Path:
    """Three riders in one picture: the crossing (two riders) shrunk to two thirds at the bottom left, a
    one-rider clip shrunk to one third at the bottom right, the sky carried up above both; looped to
    `seconds` at 30 fps. The seam shows: the clip is for timing with three people in view, not accuracy."""
    import cv2
    import numpy as np

    from pose_service.video import VideoReader, VideoWriter, probe

    if out.is_file():
        return out
    a, b = probe(crossing), probe(rider)
    width, height = a.width, a.height
    left_w, left_h = round(width * 2 / 3) // 2 * 2, round(height * 2 / 3) // 2 * 2
    right_w = width - left_w
    right_h = min(height, round(b.height * right_w / b.width))
    total = round(seconds * 30)
    tmp = out.with_suffix(".part.mp4")
    with VideoWriter(tmp, width=width, height=height, fps=30) as writer:
        written = 0
        while written < total:
            with VideoReader(a) as ra, VideoReader(b) as rb:
                for fa, fb in zip(ra, rb):  # noqa: B905 - the shorter clip ends the round
                    if written >= total:
                        break
                    frame = np.empty((height, width, 3), dtype=np.uint8)
                    for x0, x1, h, rgb in ((0, left_w, left_h, fa.rgb), (left_w, width, right_h, fb.rgb)):
                        small = cv2.resize(rgb, (x1 - x0, h), interpolation=cv2.INTER_AREA)
                        frame[height - h :, x0:x1] = small
                        frame[: height - h, x0:x1] = small[:1]  # the sky's top row, carried up
                    writer.write(frame, written / 30.0)
                    written += 1
    tmp.replace(out)
    return out


def bench_clips(quick: bool, cache: Path) -> dict[str, Path]:
    """The clips the cases run on, rendered or concatenated once and cached."""
    cache.mkdir(parents=True, exist_ok=True)
    width, height, seconds = (1280, 720, 10.0) if quick else (1920, 1080, 60.0)
    tag = f"{height}p"
    segments = [
        _render(trick, view, cache / f"seg_{trick}_{view}_{tag}.mp4", width, height, seed)
        for seed, (trick, view) in enumerate(SEGMENTS)
    ]
    clips = {f"synthetic one rider {seconds:.0f} s {tag}": concatenated(cache / f"rider_{seconds:.0f}s_{tag}.mp4",
                                                                         segments, seconds)}
    crossing = cache / f"crossing_{tag}.mp4"
    if not crossing.is_file():
        from pose_service.synth.crossing import render_crossing

        print(f"  rendering {crossing.name} ({width}x{height}, two riders crossing)", flush=True)
        render_crossing(crossing, width=width, height=height, fps=30.0, anny_cache_dir=Settings().anny_cache_dir)
    clips[f"synthetic two riders crossing {seconds:.0f} s {tag}"] = concatenated(
        cache / f"crossing_{seconds:.0f}s_{tag}.mp4", [crossing], seconds
    )
    clips[f"synthetic three riders {seconds:.0f} s {tag}"] = three_people(
        cache / f"three_{seconds:.0f}s_{tag}.mp4", crossing, segments[0], seconds
    )
    for name in ("sports2d_demo.mp4", "phalp_vid.mp4"):
        if (MEDIA / name).is_file():
            clips[f"real {name}"] = MEDIA / name
    return clips


# ---------------------------------------------------------------- cases


def _proc_mb(pid: int) -> tuple[float, float]:
    """(resident, peak resident) MB of a running process, from /proc (0, 0 once it is gone)."""
    try:
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
        )
        return int(fields["VmRSS"].split()[0]) / 1024.0, int(fields["VmHWM"].split()[0]) / 1024.0
    except (OSError, KeyError, ValueError):
        return 0.0, 0.0


def run_analyze(clip: Path, extra: list[str]) -> tuple[float, dict[str, Any], float, float, list[tuple[float, float]]]:
    """(wall seconds, the --json report, peak RSS in MB, CPU seconds, RSS trace) of one `analyze` subprocess.

    The RSS trace is (seconds since start, resident MB) every half second, read from /proc while it runs;
    the peak is the kernel's high-water mark (VmHWM) at the last reading."""
    import resource
    import threading

    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "pose_service", "analyze", str(clip), "--out", out, "--json", *extra]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        trace: list[tuple[float, float]] = []
        peak = [0.0]
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.5):
                rss, hwm = _proc_mb(proc.pid)
                if rss:
                    trace.append((round(time.perf_counter() - t0, 1), round(rss, 1)))
                    peak[0] = max(peak[0], hwm)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        stdout, stderr = proc.communicate()
        done.set()
        watcher.join()
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        if proc.returncode != 0:
            raise RuntimeError(f"analyze failed on {clip.name} ({proc.returncode}): {stderr.strip()[-500:]}")
    report = json.loads(stdout)
    return wall, report, peak[0], cpu, trace


def case_decode(clips: dict[str, Path], repeat: int) -> list[Case]:
    """Decoding alone, upright RGB, as `analyze` reads: the floor."""
    from pose_service.video import VideoReader, probe

    out = []
    for label, clip in clips.items():
        case = Case(f"decode: {label}", "VideoReader, upright RGB frames, threaded")
        info = probe(clip)
        for _ in range(repeat):
            t0 = time.perf_counter()
            n = 0
            with VideoReader(info) as reader:
                for _frame in reader:
                    n += 1
            case.add("frames/s", "frames/s", n / (time.perf_counter() - t0))
        out.append(case)
    return out


def case_analyze(clips: dict[str, Path], repeat: int, extra: list[str] | None = None) -> list[Case]:
    """End-to-end `analyze` (pose, tracking, mesh, analysis; no overlay)."""
    from pose_service.video import probe

    out = []
    for label, clip in clips.items():
        info = probe(clip)
        case = Case(f"analyze: {label}", f"{info.frame_count} frames, {info.width}x{info.height}, {info.fps:.0f} fps")
        for _ in range(repeat):
            wall, report, peak, cpu, _ = run_analyze(clip, extra or [])
            frames = report["frames"]
            case.add("peak RSS", "MB", peak)
            case.add("frames/s (wall)", "frames/s", frames / wall)
            case.add("x real time", "x", frames / info.fps / wall)
            case.add("CPU ms/frame (all threads)", "ms", 1000 * cpu / frames)
            for stage, sec in report.get("stage_seconds", {}).items():
                case.add(f"stage {stage}", "s", sec)
            if report.get("stage_seconds", {}).get("mesh"):
                case.add("mesh fit frames/s", "frames/s", frames / report["stage_seconds"]["mesh"])
        out.append(case)
    return out


def case_memory(
    quick: bool, cache: Path, repeat: int, lengths_s: list[float] | None = None, extra: list[str] | None = None
) -> list[Case]:
    """Peak resident memory of `analyze` on a short and a ten-times-longer clip: must not grow with length.

    Besides the peak, the resident size at a quarter, half and three quarters of the run (the pose stage
    takes most of it): a per-frame accumulation shows as a climb between them."""
    width, height = (1280, 720) if quick else (1920, 1080)
    tag = f"{height}p"
    segments = sorted(cache.glob(f"seg_*_{tag}.mp4"))
    out = []
    for seconds in lengths_s or ((10.0, 100.0) if quick else (60.0, 600.0)):
        clip = concatenated(cache / f"rider_{seconds:.0f}s_{tag}.mp4", segments, seconds)
        case = Case(f"memory: {seconds:.0f} s {tag}", "resident memory of the analyze process")
        for _ in range(repeat):
            wall, report, peak, cpu, trace = run_analyze(clip, extra or [])
            case.add("peak RSS", "MB", peak)
            for share in (0.25, 0.5, 0.75):
                at = [mb for t, mb in trace if t <= share * wall]
                if at:
                    case.add(f"RSS at {share:.0%} of the run", "MB", at[-1])
            case.add("frames/s (wall)", "frames/s", report["frames"] / wall)
            case.add("CPU ms/frame (all threads)", "ms", 1000 * cpu / report["frames"])
        out.append(case)
    return out


def case_upload(gib: float, repeat: int) -> list[Case]:
    """bench/upload.py's measurement: `gib` GiB through tus and multipart to a local server."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_upload", ROOT / "bench" / "upload.py")
    assert spec is not None and spec.loader is not None
    upload = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(upload)
    cases = {m: Case(f"upload: {m} {gib:g} GiB", "loopback, local server, no workers") for m in ("tus", "multipart")}
    for _ in range(repeat):
        for method, fig in upload.measure(gib, verbose=False).items():
            case = cases[method]
            case.add("throughput", "MiB/s", fig["MiB/s"])
            case.add("server RSS peak", "MiB", fig["rss_peak_mib"])
            case.add("server RSS growth", "MiB", fig["rss_growth_mib"])
    return list(cases.values())


def case_mesh(quick: bool, repeat: int) -> list[Case]:
    """The mesh stage alone (bench/fit.py's speed): fitting one rider's track of 10 s (quick) or 60 s at 30 fps,
    then the whole stage (fit, result.glb, body.npz), after a warm-up fit that loads the model."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_fit", ROOT / "bench" / "fit.py")
    assert spec is not None and spec.loader is not None
    fit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fit)
    seconds = 10.0 if quick else 60.0
    case = Case(f"mesh: one rider {seconds:.0f} s track", "fit_track alone (best of 3), then the whole body stage")
    for _ in range(repeat):
        r = fit.speed(Settings(), seconds=seconds)
        case.add("fit frames/s", "frames/s", r["fit_frames_per_s"])
        case.add("fit frames per CPU s", "frames/s", r["fit_frames_per_cpu_s"])
        case.add("stage frames/s (fit + GLB + npz)", "frames/s", r["stage_frames_per_s"])
        case.add("GLB size per s of video", "KB", r["glb_bytes_per_s_video"] / 1024)
    return [case]


# The comparison: ours, whole process, against the legacy single-person BlazePose on the same clip.
PEER_RUNS = (
    ("ours --no-mesh", ["--no-mesh", "--jobs", "1"]),
    ("ours --no-mesh --frame-rate adaptive", ["--no-mesh", "--jobs", "1", "--frame-rate", "adaptive"]),
    ("ours with the mesh", ["--jobs", "1"]),
    ("ours with the mesh --frame-rate adaptive", ["--jobs", "1", "--frame-rate", "adaptive"]),
)
_LEGACY = (
    "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[2]); "
    "from bench.pose_recall import run_legacy; run_legacy(Path(sys.argv[1]))"
)


def case_peer(repeat: int) -> list[Case]:
    """phalp_vid and sports2d_demo (../shared/media): `analyze` (whole process: interpreter, imports, every stage)
    with and without the mesh, at the full and the adaptive frame rate, and the legacy single-person BlazePose
    (`bench/pose_recall.py` `run_legacy`, whole process), each run once per round in turn, so a busy moment hits
    them alike. Figures: times real time, and ours over the legacy model's in the same round."""
    from pose_service.video import probe

    out = []
    for name in ("phalp_vid.mp4", "sports2d_demo.mp4"):
        clip = MEDIA / name
        if not clip.is_file():
            print(f"  {name}: not in {MEDIA}, skipped", flush=True)
            continue
        info = probe(clip)
        case = Case(f"peer: {clip.stem}", f"{info.frame_count} frames, {info.width}x{info.height}; whole process")
        for _ in range(repeat):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", _LEGACY, str(clip), str(ROOT)], check=True, capture_output=True)
            legacy = info.duration_s / (time.perf_counter() - t0)
            case.add("x real time: legacy BlazePose", "x", legacy)
            for label, extra in PEER_RUNS:
                wall, _, _, _, _ = run_analyze(clip, extra)
                case.add(f"x real time: {label}", "x", info.duration_s / wall)
                case.add(f"ratio to legacy: {label}", "x", info.duration_s / wall / legacy)
        out.append(case)
    return out


CASES: dict[str, Callable[..., list[Case]]] = {"decode": case_decode, "analyze": case_analyze}


# ---------------------------------------------------------------- report


def markdown(doc: dict[str, Any]) -> str:
    m = doc["machine"]
    lines = [
        f"# Benchmark, {doc['date']}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}; "
        f"load average {doc['load_before']} before, {doc['load_after']} after. {doc['repeat']} runs per case.",
        "",
        "| case | figure | median | min..max | unit |",
        "|---|---|---|---|---|",
    ]
    for case in doc["cases"]:
        for name, f in case["figures"].items():
            lines.append(
                f"| {case['name']} | {name} | {f['median']:.2f} | {f['min']:.2f}..{f['max']:.2f} | {f['unit']} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="10 s 720p clips, for a quick check")
    parser.add_argument("--cases", default="decode,analyze,peer,mesh,memory,upload")
    parser.add_argument("--clips", default="", help="comma-separated words: only clips whose label holds one")
    parser.add_argument("--upload-gib", type=float, default=None, help="upload size (default 2, --quick 0.5)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench")
    parser.add_argument("--memory-s", default="", help="clip lengths of the memory case in seconds (default 60,600)")
    parser.add_argument("--analyze-args", default="", help="extra `analyze` arguments, e.g. '--redetect-every 10'")
    args = parser.parse_args(argv)
    wanted = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(wanted) - {*CASES, "peer", "mesh", "memory", "upload"}
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}; choose from decode, analyze, peer, mesh, memory, upload")
    upload_gib = args.upload_gib or (0.5 if args.quick else 2.0)

    cache = Settings().data_dir / "bench-clips"
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    clips = bench_clips(args.quick, cache) if {"decode", "analyze"} & set(wanted) else {}
    words = [w.strip() for w in args.clips.split(",") if w.strip()]
    if words:
        clips = {label: clip for label, clip in clips.items() if any(w in label for w in words)}
    results: list[Case] = []
    for name in wanted:
        print(f"case {name}", flush=True)
        if name == "memory":
            lengths = [float(x) for x in args.memory_s.split(",") if x.strip()] or None
            new = case_memory(args.quick, cache, max(1, args.repeat // 2), lengths, args.analyze_args.split())
        elif name == "mesh":
            new = case_mesh(args.quick, max(1, args.repeat // 2))
        elif name == "peer":
            new = case_peer(args.repeat)
        elif name == "upload":
            new = case_upload(upload_gib, args.repeat)
        elif name == "analyze":
            new = case_analyze(clips, args.repeat, args.analyze_args.split())
        else:
            new = CASES[name](clips, args.repeat)
        results += new
        for case in new:
            print(f"  {case.name}: " + ", ".join(
                f"{f.name} {statistics.median(f.values):.2f}" for f in case.figures.values()), flush=True)
    doc = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "load_before": load_before,
        "load_after": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
        "repeat": args.repeat,
        "quick": args.quick,
        "analyze_args": args.analyze_args,
        "cases": [{"name": c.name, "note": c.note,
                   "figures": {k: f.summary() for k, f in c.figures.items()}} for c in results],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(doc, indent=2) + "\n")
    (args.out / "results.md").write_text(markdown(doc))
    print(markdown(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
