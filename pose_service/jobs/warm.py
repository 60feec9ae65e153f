"""Workers started ahead of their job ("warm"), one waiting per pool slot (`settings.warm_workers`).

A warm worker is `python -m pose_service.jobs.worker --warm`. It imports the pipeline and MediaPipe while no job
waits, says so once on its progress pipe (`{"type": "warm"}`), and waits for one job as a JSON line on stdin. Until
then its output goes to a file of its own, `DATA_DIR/service/warm/warm-*.log`. The hand-over keeps the job's log
whole, as a fresh worker's would read (its start-up lines, then the job's), with nothing of any other job:

    supervisor  writes the attempt's header to the job's log, copies the warm log's first `offset` bytes after it,
                and sends the job with `warm_log_offset` = offset
    worker      appends what it wrote to the warm log since (bytes offset..), deletes the warm log and from then on
                writes to the job's log
    supervisor  once the worker has ended, appends the warm log's rest itself if the worker never took the job
                (killed or crashed before it read stdin): the job's log still ends with the worker's last words

While it waits the supervisor reads its pipe now and then (`drain`: heartbeats, so the pipe never fills), which
also tells it the worker has ended. A waiting worker whose supervisor dies sees its pipe break or stdin close and
exits; a new server also kills any it finds from an old one (`kill_stale`).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["WarmWorker", "kill_stale"]

_WORKER_MODULE = "pose_service.jobs.worker"
_READY = b'"type": "warm"'
_names = itertools.count()


def _log_name(folder: Path) -> Path:
    return folder / f"warm-{os.getpid()}-{next(_names)}-{time.monotonic_ns()}.log"


@dataclass(eq=False)
class WarmWorker:
    """One worker started ahead, waiting for its job on stdin (see the module's docstring)."""

    proc: subprocess.Popen[bytes]
    read_fd: int
    log_path: Path
    started: float = field(default_factory=time.monotonic)
    ready: bool = False  # it has imported the pipeline
    offset: int = 0  # bytes of its warm log copied into the job's log at hand-over
    _eof: bool = False
    _discarded: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def start(cls, command: Callable[[int, Path], list[str]], *, env: dict[str, str], folder: Path) -> WarmWorker:
        """Start one: `command(fd, log_path)` is its command line. Raises OSError when it cannot start."""
        folder.mkdir(parents=True, exist_ok=True)
        log_path = _log_name(folder)
        read_fd, write_fd = os.pipe()
        try:
            with log_path.open("ab") as logf:
                proc = subprocess.Popen(command(write_fd, log_path), stdin=subprocess.PIPE, stdout=logf,
                                        stderr=subprocess.STDOUT, pass_fds=(write_fd,), start_new_session=True,
                                        env=env, cwd=str(folder))
        except OSError:
            os.close(read_fd)
            log_path.unlink(missing_ok=True)
            raise
        finally:
            os.close(write_fd)
        return cls(proc, read_fd, log_path)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def drain(self) -> bool:
        """Read what it sent while waiting (heartbeats; `warm` once ready) so its pipe never fills. False once it
        has ended."""
        while not self._eof:
            readable, _, _ = select.select([self.read_fd], [], [], 0)
            if not readable:
                break
            chunk = os.read(self.read_fd, 65536)
            if not chunk:
                self._eof = True
            elif _READY in chunk:
                self.ready = True
        return not self._eof and self.proc.poll() is None

    def how_it_ended(self) -> str:
        rc = self.proc.poll()
        if rc is None:
            return "still running"
        how = f"killed by {signal.Signals(-rc).name}" if rc < 0 else f"exit code {rc}"
        lines = [ln for ln in self._read_log(0).decode("utf-8", "replace").splitlines() if ln.strip()]
        return how + (f", last line: {lines[-1]}" if lines else "")

    def hand_over(self, job: dict[str, Any], job_log: Path) -> bool:
        """Copy its start-up lines into `job_log` (after the header already there) and send it `job`. False if it
        could not be sent (the worker is gone)."""
        data = self._read_log(0)
        with job_log.open("ab") as f:
            f.write(data)
        self.offset = len(data)
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps({**job, "warm_log_offset": self.offset}) + "\n").encode())
            self.proc.stdin.close()
        except OSError:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
            return False
        return True

    def settle_log(self, job_log: Path) -> None:
        """After it ended with a job handed over: the warm log's rest into `job_log` if the worker did not move it
        (it deletes the warm log when it does)."""
        if not self.log_path.exists():
            return
        rest = self._read_log(self.offset)
        if rest:
            with job_log.open("ab") as f:
                f.write(rest if rest.endswith(b"\n") else rest + b"\n")
        self.log_path.unlink(missing_ok=True)

    def discard(self) -> None:
        """Kill it (if still running: its whole process group) and let go of its pipes and log; once."""
        with self._lock:
            if self._discarded:
                return
            self._discarded = True
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        with contextlib.suppress(OSError):
            os.close(self.read_fd)
        self.log_path.unlink(missing_ok=True)

    def _read_log(self, offset: int) -> bytes:
        try:
            with self.log_path.open("rb") as f:
                f.seek(offset)
                return f.read()
        except OSError:
            return b""


def kill_stale(folder: Path) -> list[int]:
    """Kill the warm workers an earlier server of this data folder left waiting (their warm logs lie in `folder`),
    and delete those logs. The pids killed."""
    marker = b"--warm-log\0" + str(folder / "warm-").encode()
    killed = []
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            if _WORKER_MODULE.encode() in cmdline and marker in cmdline:
                pid = int(entry)
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
                killed.append(pid)
    for path in folder.glob("warm-*.log"):
        path.unlink(missing_ok=True)
    return killed
