"""How soon a job starts working, with warm workers (`POSE_SERVICE_WARM_WORKERS`) and without.

    .venv/bin/python bench/warm_start.py [--runs 3] [--mesh]

Starts `pose-service serve` (one worker) on a free loopback port with a throw-away state folder, once with warm
workers and once without, and sends a short clip (a rendered 360, 256x256, 15 fps, 3.1 s; no overlay, no mesh
unless --mesh) `--runs` times, one job at a time. With warm workers each job is sent once the slot's warm worker
waits ready (as for a job that comes while the server idles). From the job's events (server-side timestamps) it
prints, per run, the seconds from the POST to: the worker's first word (`loading`), the first progress of the
pose stage (the job working), and the end; then the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.api.conftest import Server, submit, wait_for  # noqa: E402

_TIMEOUT_S = 300.0


def _clip(folder: Path) -> Path:
    from pose_service.config import Settings
    from pose_service.synth import parse_trick, render_clip

    path = folder / "warm_bench_spin360.mp4"
    if not path.is_file():
        render_clip(parse_trick("360"), path, width=256, height=256, fps=15.0,
                    anny_cache_dir=Settings().anny_cache_dir)  # fmt: skip
    return path


def _warm_ready(state_dir: Path, timeout: float = 120.0) -> None:
    """Until a warm worker's own log says it waits for a job."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any("waiting for a job" in p.read_text(errors="replace") for p in (state_dir / "warm").glob("warm-*.log")):
            return
        time.sleep(0.05)
    raise RuntimeError(f"no warm worker ready within {timeout} s")


def _events(client: httpx.Client, job_id: str) -> list[dict[str, Any]]:
    out = []
    with client.stream("GET", f"/jobs/{job_id}/events") as r:
        kind = ""
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind in ("state", "progress"):
                out.append({"kind": kind, **json.loads(line[6:])})
    return out


def _one_job(client: httpx.Client, clip: Path, mesh: bool) -> dict[str, float]:
    sent = time.time()
    job = submit(client, clip, overlay="false", mesh="true" if mesh else "false")
    done = wait_for(client, job["id"], {"succeeded", "failed"}, timeout=_TIMEOUT_S)
    if done["state"] != "succeeded":
        raise RuntimeError(f"job failed: {done['error']}")
    events = _events(client, job["id"])

    def first(stage: str) -> float:
        return next(e["ts"] for e in events if e["kind"] == "progress" and e.get("stage") == stage) - sent

    end = next(e["ts"] for e in events if e["kind"] == "state" and e.get("state") == "succeeded")
    return {"loading": first("loading"), "pose": first("pose"), "done": end - sent}


def run(runs: int, mesh: bool, folder: Path) -> dict[str, list[dict[str, float]]]:
    clip = _clip(folder)
    results: dict[str, list[dict[str, float]]] = {}
    for mode, flag in (("warm", "1"), ("cold", "0")):
        srv = Server(folder / f"state-{mode}", env={"POSE_SERVICE_WARM_WORKERS": flag}).start()
        try:
            with srv.client() as client:
                rows = []
                for _ in range(runs):
                    if flag == "1":
                        _warm_ready(srv.state_dir)
                    else:
                        time.sleep(1.0)  # as idle as the warm runs' wait leaves the machine
                    rows.append(_one_job(client, clip, mesh))
                results[mode] = rows
        finally:
            srv.stop()
    return results


def _table(results: dict[str, list[dict[str, float]]]) -> str:
    lines = ["| workers | run | POST -> worker says hello (s) | POST -> pose stage starts (s) | POST -> done (s) |",
             "|---|---|---|---|---|"]
    for mode, rows in results.items():
        for i, row in enumerate(rows, 1):
            lines.append(f"| {mode} | {i} | {row['loading']:.2f} | {row['pose']:.2f} | {row['done']:.2f} |")
        med = {k: statistics.median(r[k] for r in rows) for k in ("loading", "pose", "done")}
        lines.append(f"| {mode} | median | {med['loading']:.2f} | {med['pose']:.2f} | {med['done']:.2f} |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--mesh", action="store_true", help="with the body mesh stage (torch), as the default job")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="warm-bench-") as tmp:
        results = run(args.runs, args.mesh, Path(tmp))
    print(_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
