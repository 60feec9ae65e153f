"""A long clip posed in parallel chunks (`analyze --jobs N`) against one serial pass: wall time, CPU and memory.

    .venv/bin/python bench/chunks.py [--seconds 60] [--jobs 1,2] [--clip ../shared/media/phalp_vid.mp4]

Builds the long clip in a temporary folder by looping the clip's packets with PyAV (no re-encoding: the 1080p
runner, 6 s, looped to `--seconds`), then runs `analyze --no-mesh` on it once per `--jobs` value, each in a
fresh process that samples itself and its children from /proc every 0.1 s. Prints a Markdown table: the pose
stage's wall seconds and frames/s, its CPU use (CPU seconds of every process over the stage's wall seconds:
200 % is two cores busy), the whole run's wall seconds, the peak resident memory of the analyze process alone
and of all its processes together (the sum at one instant), and how many chunks ran. `--env NAME=VALUE,...`
adds runs with those variables set (e.g. `--env OMP_NUM_THREADS=1`), and `--pin` runs with each chunk's process
held to one core: thread-contention figures.
Speed is measured here, never asserted in a test; quote the machine and its load with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MEDIA = ROOT.parent / "shared" / "media"
_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def looped(src: Path, out: Path, seconds: float) -> Path:
    """`src`'s video packets played round and round until `seconds`, remuxed (no re-encoding) into `out`."""
    import av

    with av.open(str(src)) as inp:
        stream = inp.streams.video[0]
        pts = sorted(p.pts for p in inp.demux(stream) if p.size and p.pts is not None)
        tb = stream.time_base or 1
    step = pts[1] - pts[0] if len(pts) > 1 else 1
    span = pts[-1] - pts[0] + step
    loops = max(int(seconds / float(span * tb) + 0.999), 1)
    with av.open(str(out), "w", format="mp4") as dst:
        for k in range(loops):
            with av.open(str(src)) as inp:
                stream = inp.streams.video[0]
                if k == 0:
                    o = dst.add_stream_from_template(stream)
                for p in inp.demux(stream):
                    if not p.size:
                        continue
                    p.pts = p.pts + k * span if p.pts is not None else None
                    p.dts = p.dts + k * span if p.dts is not None else None
                    p.stream = o
                    dst.mux(p)
    return out


def _tree(root: int) -> list[int]:
    """`root` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def _sample(pid: int) -> tuple[float, float]:
    """(CPU seconds, resident MB) of one process; (0, 0) once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE / 2**20
    except (OSError, IndexError, ValueError):
        return 0.0, 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK, rss


def _is_chunk(pid: int) -> bool:
    """Whether `pid` is a spawned chunk process (not multiprocessing's resource tracker)."""
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


class Sampler(threading.Thread):
    """This process and its children every `every` seconds: the CPU seconds of every process seen (its last
    reading), this process's peak RSS and the peak of the sum over all of them."""

    def __init__(self, every: float = 0.1, *, pin: bool = False) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.pin = pin  # each chunk's process on a core of its own, in order of appearance
        self._pinned: set[int] = set()
        self.cpu: dict[int, float] = {}
        self.own_peak = self.all_peak = 0.0
        self.trace: list[tuple[float, float]] = []  # (time, CPU seconds of everyone so far)
        self._halt = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self._halt.is_set():
            total = 0.0
            for pid in _tree(me):
                if self.pin and pid != me and pid not in self._pinned and _is_chunk(pid):
                    cores = sorted(os.sched_getaffinity(0))
                    os.sched_setaffinity(pid, {cores[len(self._pinned) % len(cores)]})
                    self._pinned.add(pid)
                cpu, rss = _sample(pid)
                if pid == me:
                    self.own_peak = max(self.own_peak, rss)
                if cpu:
                    self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu)
                total += rss
            self.all_peak = max(self.all_peak, total)
            self.trace.append((time.perf_counter(), sum(self.cpu.values())))
            self._halt.wait(self.every)

    def cpu_at(self, t: float) -> float:
        return next((c for ts, c in self.trace if ts >= t), self.trace[-1][1] if self.trace else 0.0)

    def stop(self) -> None:
        self._halt.set()
        self.join()


class StageClock:
    """A `Progress` that only notes when each stage starts and ends."""

    def __init__(self) -> None:
        self.spans: dict[str, tuple[float, float]] = {}

    @contextmanager
    def stage(self, name: str, total: int | None) -> Iterator[Any]:
        t0 = time.perf_counter()
        yield lambda n=1: None
        self.spans[name] = (t0, time.perf_counter())


def one(clip: Path, jobs: int, pin: bool = False) -> dict[str, Any]:
    """One `analyze` run in this process, measured; `pin`: each chunk's process held to one core."""
    from pose_service.config import Settings
    from pose_service.pipeline import AnalyzeOptions, analyze

    sampler = Sampler(pin=pin)
    sampler.start()
    clock = StageClock()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        outcome = analyze(clip, out_dir=Path(tmp), options=AnalyzeOptions(mesh=False, jobs=jobs), settings=Settings(),
                          progress=clock)  # fmt: skip
    wall = time.perf_counter() - t0
    time.sleep(0.3)
    sampler.stop()
    p0, p1 = clock.spans["pose"]
    return {
        "jobs": jobs,
        "chunks": outcome.result["backend"].get("jobs", 1),
        "frames": outcome.frames,
        "pose_s": p1 - p0,
        "pose_cpu_pct": 100 * (sampler.cpu_at(p1) - sampler.cpu_at(p0)) / (p1 - p0),
        "wall_s": wall,
        "cpu_s": sum(sampler.cpu.values()),
        "own_peak_mb": sampler.own_peak,
        "all_peak_mb": sampler.all_peak,
        "people": len(outcome.result["tracks"]),
        "env": {k: v for k, v in os.environ.items() if k in _ENV_SEEN},
        "pinned": pin,
    }


_ENV_SEEN: set[str] = set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=MEDIA / "phalp_vid.mp4")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--jobs", default="1,2", help="comma-separated --jobs values")
    parser.add_argument("--env", default="", help="NAME=VALUE,...: also run each --jobs value with these set")
    parser.add_argument("--pin", action="store_true",
                        help="also run each --jobs value above 1 with each chunk's process held to one core "
                             "(a thread-contention figure: MediaPipe's own threads then share that core)")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # internal: one measured run of this clip
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    if args.one:
        _ENV_SEEN.update(n.split("=")[0] for n in args.env.split(",") if n)
        print(json.dumps(one(args.one, int(args.jobs), args.pin)))
        return 0
    envs: list[dict[str, str]] = [{}]
    if args.env:
        envs.append(dict(item.split("=", 1) for item in args.env.split(",")))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        clip = looped(args.clip, Path(tmp) / f"looped_{args.seconds:.0f}s.mp4", args.seconds)
        runs = [(extra, jobs, False) for extra in envs for jobs in [int(j) for j in args.jobs.split(",")]]
        if args.pin:
            runs += [({}, jobs, True) for jobs in [int(j) for j in args.jobs.split(",")] if jobs > 1]
        for extra, jobs, pin in runs:
            cmd = [sys.executable, __file__, "--one", str(clip), "--jobs", str(jobs), "--env", args.env]
            cmd += ["--pin"] if pin else []
            done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ | extra, check=False)
            if done.returncode:
                print(done.stderr[-2000:], file=sys.stderr)
                return 1
            row = json.loads(done.stdout.strip().splitlines()[-1])
            row["env"] = extra
            rows.append(row)
            print(f"  jobs {jobs} {extra or ''}{' pinned' if pin else ''}: {row['wall_s']:.1f} s", file=sys.stderr,
                  flush=True)  # fmt: skip
    load = os.getloadavg()
    print(f"{args.clip.name} looped to {args.seconds:.0f} s, {rows[0]['frames']} frames; {os.cpu_count()} CPUs, "
          f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end\n")  # fmt: skip
    print("| jobs | env | chunks | pose s | pose f/s | pose CPU % | wall s | CPU s | peak RSS analyze MB | "
          "peak RSS all MB | people |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        env = " ".join([f"{k}={v}" for k, v in r["env"].items()] + (["pinned"] if r["pinned"] else [])) or "-"
        print(f"| {r['jobs']} | {env} | {r['chunks']} | {r['pose_s']:.1f} | {r['frames'] / r['pose_s']:.1f} | "
              f"{r['pose_cpu_pct']:.0f} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['own_peak_mb']:.0f} | "
              f"{r['all_peak_mb']:.0f} | {r['people']} |")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
