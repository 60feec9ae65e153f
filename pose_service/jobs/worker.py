"""The worker: one job, one fresh process, started by the supervisor as `python -m pose_service.jobs.worker`.

stdout and stderr are the job's log file. Progress, a heartbeat and the outcome go to the supervisor as JSON
lines on the pipe `--progress-fd`:

    {"type": "progress", "stage": "pose", "progress": 0.42}
    {"type": "heartbeat"}
    {"type": "error", "code": ..., "message": ..., "hint": ...}      then exit 2 (bad input) or 1
    {"type": "done", "files": [...], "summary": ...}                   then exit 0

The first log line is written before any heavy import, so a worker that dies importing torch or mediapipe
still leaves a log that says how far it got.

Warm (`--warm`, no --video/--out; pose_service/jobs/warm.py): the supervisor starts the worker before any job is
there. It imports the pipeline (numpy, PyAV, MediaPipe), sends {"type": "warm"} and waits for one job as a JSON line
on stdin, {"video", "out", "options", "log", "cwd", "warm_log_offset"}. The supervisor has copied the first
`warm_log_offset` bytes of its warm log (`--warm-log`) into the job's log; the worker appends the rest, then its
stdout and stderr become the job's log and it runs the job as above, and exits: one job per process, as isolated as
a fresh one, without the start-up. An empty stdin (the supervisor gone) ends it.
"""

from __future__ import annotations

import sys
import time

print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} worker starting: {sys.executable} (pid {__import__('os').getpid()})",
      flush=True)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import select  # noqa: E402
import threading  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, BinaryIO  # noqa: E402

__all__ = ["STAGE_WEIGHTS", "main", "stage_weights"]

_WARM_SINCE = time.strftime("%H:%M:%S")  # when this process started (a warm worker's job starts later)

# Share of the whole run each pipeline stage takes, for one 0..1 progress figure; unknown stages get a little.
STAGE_WEIGHTS = {"pose": 0.55, "mesh": 0.3, "overlay": 0.1}


def stage_weights(options: dict[str, Any]) -> dict[str, float]:
    """`STAGE_WEIGHTS` for the stages this job runs, scaled to fill 0.02..0.98."""
    wanted = {"pose": True, "mesh": options.get("mesh", True), "overlay": options.get("overlay", False)}
    weights = {k: w for k, w in STAGE_WEIGHTS.items() if wanted[k]}
    total = sum(weights.values())
    return {k: 0.96 * w / total for k, w in weights.items()}
_HEARTBEAT_S = 2.0
_EXIT_SUPERVISOR_GONE = 75


class _Channel:
    """JSON lines to the supervisor; if the supervisor is gone the worker has no reason to go on."""

    def __init__(self, fd: int) -> None:
        self._out: BinaryIO = os.fdopen(fd, "wb", buffering=0)
        self._lock = threading.Lock()

    def send(self, **message: Any) -> None:
        data = (json.dumps(message) + "\n").encode()
        with self._lock:
            try:
                self._out.write(data)
            except (BrokenPipeError, OSError):
                print("supervisor is gone; stopping", flush=True)
                os._exit(_EXIT_SUPERVISOR_GONE)

    def heartbeat_forever(self) -> None:
        while True:
            time.sleep(_HEARTBEAT_S)
            self.send(type="heartbeat")


class _ChannelProgress:
    """The pipeline's `Progress`, reported as one overall fraction plus the stage name."""

    def __init__(self, channel: _Channel, weights: dict[str, float]) -> None:
        self._channel = channel
        self._weights = weights
        self._done_weight = 0.02  # the probe
        self._last_sent = 0.0

    @contextmanager
    def stage(self, name: str, total: int | None) -> Iterator[Any]:
        weight = self._weights.get(name, 0.01)
        base = self._done_weight
        done = 0
        self._channel.send(type="progress", stage=name, progress=min(base, 0.99))
        print(f"{time.strftime('%H:%M:%S')} stage {name} ({total if total is not None else '?'} steps)", flush=True)

        def advance(n: int = 1) -> None:
            nonlocal done
            done += n
            now = time.monotonic()
            if now - self._last_sent >= 0.25:
                self._last_sent = now
                frac = done / total if total else 0.0
                self._channel.send(type="progress", stage=name, progress=min(base + weight * min(frac, 1.0), 0.99))

        yield advance
        self._done_weight = base + weight
        print(f"{time.strftime('%H:%M:%S')} stage {name} done ({done} steps)", flush=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pose_service.jobs.worker", description=__doc__.split("\n")[0])
    p.add_argument("--video", type=Path)
    p.add_argument("--out", type=Path)
    p.add_argument("--options", default="{}", help="AnalyzeOptions as JSON")
    p.add_argument("--progress-fd", type=int, required=True)
    p.add_argument("--chunk", metavar="START:STOP", help="pose and track only frames START..STOP-1 into OUT/chunk.npz "
                   "(one chunk of a remote job cut into chunks)")
    p.add_argument("--join-chunks", type=Path, metavar="DIR", help="join the chunk files DIR/0.npz, 1.npz, ... instead "
                   "of posing, then finish the pipeline")
    p.add_argument("--warm", action="store_true", help="import the pipeline, then wait for one job on stdin")
    p.add_argument("--warm-log", type=Path, help="the file a warm worker's output goes to until its job comes")
    return p


def _job_handed() -> bool:
    """Warm, the imports failed: was a job handed over meanwhile (then it fails as a fresh worker's would)?"""
    return bool(select.select([sys.stdin], [], [], 0)[0])


def _take_job(args: argparse.Namespace) -> bool:
    """Warm: wait for the job on stdin, then write to its log and work in its folder. False: no job will come."""
    line = sys.stdin.readline()
    if not line.strip():
        print("no job came (the supervisor is gone); stopping", flush=True)
        return False
    job = json.loads(line)
    args.video, args.out, args.options = Path(job["video"]), Path(job["out"]), json.dumps(job.get("options") or {})
    sys.stdout.flush()
    sys.stderr.flush()
    log_fd = os.open(job["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    if args.warm_log is not None:  # the supervisor copied its first bytes at the hand-over; what came after follows
        with contextlib.suppress(OSError):
            with args.warm_log.open("rb") as f:
                f.seek(int(job.get("warm_log_offset") or 0))
                rest = f.read()
            while rest:
                rest = rest[os.write(log_fd, rest):]
            args.warm_log.unlink()  # moved: the supervisor copies it no more
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    os.chdir(job["cwd"])
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} worker starting: {sys.executable} (pid {os.getpid()}, started ahead "
          f"at {_WARM_SINCE}): {args.video.name}", flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.warm and (args.video is None or args.out is None):
        _parser().error("--video and --out are needed (or --warm)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stdout)
    channel = _Channel(args.progress_fd)
    # Warm too: a job handed over while the imports still run must not look stalled (idle, the heartbeats wait
    # in the pipe for the supervisor, which reads them once it has a job for this worker).
    threading.Thread(target=channel.heartbeat_forever, name="heartbeat", daemon=True).start()
    if not args.warm:
        channel.send(type="progress", stage="loading", progress=0.0)
    try:
        from pose_service.config import Settings
        from pose_service.errors import InputError, PoseServiceError

        print("importing the pipeline (numpy, PyAV, mediapipe)", flush=True)
        from pose_service.pipeline import AnalyzeOptions, analyze, pose_chunk

        if args.warm:  # the pipeline imports MediaPipe after the probe (a bad file fails fast); warm, have it ready
            importlib.import_module("mediapipe")
    except BaseException as exc:  # an environment without our packages: say which one, in the log and the job
        traceback.print_exc()
        # Warm without a job: nothing to fail (the supervisor tries again later, jobs start fresh workers meanwhile).
        if args.warm and not (_job_handed() and _take_job(args)):
            return 1
        channel.send(type="error", code="environment", message=f"worker cannot start: {type(exc).__name__}: {exc}",
                     hint=f"install the project's packages for {sys.executable}, or run `pose-service doctor`")
        return 1
    if args.warm:
        print(f"{time.strftime('%H:%M:%S')} warm: the pipeline is imported; waiting for a job", flush=True)
        channel.send(type="warm")
        if not _take_job(args):
            return 0
        channel.send(type="progress", stage="loading", progress=0.0)
    try:
        raw = json.loads(args.options)
        options = AnalyzeOptions(**raw)
        if args.chunk:
            start, stop = (int(x) for x in args.chunk.split(":"))
            args.out.mkdir(parents=True, exist_ok=True)
            n = pose_chunk(args.video, args.out / "chunk.npz", start, stop, options=options, settings=Settings(),
                           progress=_ChannelProgress(channel, {"pose": 0.96}))
            print(f"done: chunk frames {start}-{stop - 1}, {n} frames followed", flush=True)
            channel.send(type="done", files=["chunk.npz"], summary=f"{n} frames")
            return 0
        chunk_files = None
        if args.join_chunks is not None:
            chunk_files = sorted(args.join_chunks.glob("*.npz"), key=lambda p: int(p.stem))
            print(f"joining {len(chunk_files)} chunks: {', '.join(p.name for p in chunk_files)}", flush=True)
        outcome = analyze(args.video, out_dir=args.out, options=options, settings=Settings(),
                          progress=_ChannelProgress(channel, stage_weights(raw)), chunk_files=chunk_files)
    except InputError as exc:
        print(f"bad input: {exc.one_line()}", flush=True)
        channel.send(type="error", code=exc.code, message=exc.message, hint=exc.hint)
        return 2
    except PoseServiceError as exc:
        traceback.print_exc()
        channel.send(type="error", code=exc.code, message=exc.message, hint=exc.hint)
        return 1
    except Exception as exc:
        traceback.print_exc()
        channel.send(type="error", code="internal", message=f"{type(exc).__name__}: {exc}",
                     hint="see the job's log; retry, and report it if it happens again")
        return 1
    summary = outcome.result["analysis"]["summary"]
    print(f"done: {summary}", flush=True)
    channel.send(type="done", files=sorted(outcome.files), summary=summary,
                 stage_seconds={k: round(v, 3) for k, v in outcome.stage_seconds.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
