"""The local worker pool: runs each job in a fresh subprocess and turns every way it can end into a state.

    exit 0 with a `done` message        -> succeeded
    exit 2 / 1 with an `error` message  -> failed with that error (bad input, pipeline error, exception)
    exit != 0 without a message         -> failed: exit code, stage, last log lines (e.g. an import error)
    killed by a signal                  -> queued again while attempts are left, else failed
    heartbeat lost                      -> killed, then as above
    wall-clock or memory limit          -> killed, failed with the limit named (never retried); the wall-clock
                                           limit follows the clip's duration (pose_service/jobs/limits.py)
    cancel                              -> process group killed, cancelled

Warm workers (`settings.warm_workers`, on by default; pose_service/jobs/warm.py): each pool slot keeps one worker
started ahead, `--warm`, which imports the pipeline while no job is there. A job is handed to it on stdin and it runs
exactly as a fresh one (its own process group, a log holding its start-up lines and the job's, limits, heartbeats,
cancel), then exits; the slot starts the next warm worker as soon as it has handed one a job, so a job queued behind
finds one ready. A warm worker that ended while waiting is replaced (after a pause that grows while new ones keep
dying before they are ready: a broken environment); a job that finds none waiting gets a fresh start, which reports
any error as always. Stopping the pool kills the waiting ones; a new server kills those an old one left.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pose_service.config import Settings
from pose_service.jobs.limits import CAP_SETTING, JobLimit, job_limit
from pose_service.jobs.metrics import ServiceMetrics
from pose_service.jobs.store import Job, JobStore
from pose_service.jobs.warm import WarmWorker, kill_stale

__all__ = ["WorkerPool", "job_dir", "log_tail", "worker_command", "worker_env"]

log = logging.getLogger(__name__)

_PROJECT_ROOT = Path(__file__).resolve().parents[2]
_WORKER_MODULE = "pose_service.jobs.worker"
_KILL_GRACE_S = 3.0
_RESTARTABLE = "restartable"


def job_dir(settings: Settings, job_id: str) -> Path:
    return settings.service_dir / "jobs" / job_id


def log_tail(path: Path, lines: int = 20, max_bytes: int = 16384) -> str:
    """The last lines of a log file (empty if there is none)."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def worker_python(settings: Settings) -> str:
    """The interpreter workers run with: configured, or the one running the server; never a bare `python`."""
    return str(settings.worker_python) if settings.worker_python else sys.executable


def worker_command(settings: Settings, *, video: Path, out: Path, options: dict[str, Any], fd: int,
                   extra: Sequence[str] = ()) -> list[str]:
    """The worker's command line; `extra`: more of its arguments (a remote job's chunk: --chunk, --join-chunks)."""
    return [worker_python(settings), "-m", _WORKER_MODULE, "--video", str(video), "--out", str(out),
            "--options", json.dumps(options), "--progress-fd", str(fd), *extra]


def warm_command(settings: Settings, *, fd: int, log_path: Path) -> list[str]:
    return [worker_python(settings), "-m", _WORKER_MODULE, "--warm", "--progress-fd", str(fd), "--warm-log",
            str(log_path)]


def worker_env(settings: Settings) -> dict[str, str]:
    """The server's environment, plus the settings the worker's stages need and a path to this source tree."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    # A configured interpreter from another environment still finds pose_service itself.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    env["POSE_SERVICE_DATA_DIR"] = str(settings.data_dir)
    env["POSE_SERVICE_MAX_SIDE_PX"] = str(settings.max_side_px)
    env["POSE_SERVICE_MAX_DURATION_S"] = str(settings.max_duration_s)
    env["POSE_SERVICE_NUM_POSES"] = str(settings.num_poses)
    env["POSE_SERVICE_DEVICE"] = settings.device  # a job without its own `device` runs on this one
    # A long clip's chunks in processes side by side (`analyze --jobs`): the cores shared among the workers that
    # run at once, unless configured.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    env["POSE_SERVICE_JOBS"] = str(settings.jobs or max(cores // max(settings.workers, 1), 1))
    return env


def _rss_mb(pid: int) -> float:
    """Resident MiB of the worker `pid` and every process of its group (it leads a session of its own): a long clip's
    chunks are posed in child processes (`analyze --jobs`), which count towards the job's memory too."""
    total = 0.0
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return 0.0
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat") as f:
                group = int(f.read().rsplit(")", 1)[1].split()[2])
            if group != pid and int(entry) != pid:
                continue
            with open(f"/proc/{entry}/statm") as f:
                total += int(f.read().split()[1]) * _PAGE / 2**20
        except (OSError, IndexError, ValueError):
            continue
    return total


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _is_our_worker(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return _WORKER_MODULE.encode() in f.read()
    except OSError:
        return False


@dataclass
class _Slot:
    """One pool thread's warm worker, and when to try again after warm workers that died before they were ready."""

    warm: WarmWorker | None = None
    failures: int = 0
    retry_at: float = 0.0


_WARM_RETRY_MAX_S = 300.0


@dataclass
class _Run:
    """What the supervisor learnt while one worker ran."""

    stage: str = "starting"
    stage_started: float = field(default_factory=time.monotonic)
    last_heard: float = field(default_factory=time.monotonic)
    error: dict[str, str] | None = None
    done: dict[str, Any] | None = None
    killed_for: str | None = None  # cancel, time_limit, memory_limit, heartbeat_lost
    limit: JobLimit | None = None  # the wall-clock limit of this run
    buffer: bytes = b""


class WorkerPool:
    """`settings.workers` threads, each running one worker subprocess at a time.

    `cap_name` names `settings.job_timeout_s` in a job's error when that cap, not the clip, set its limit.
    """

    def __init__(self, store: JobStore, settings: Settings, metrics: ServiceMetrics | None = None, *,
                 cap_name: str = CAP_SETTING) -> None:
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.cap_name = cap_name
        self._wake = threading.Condition()
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._running: dict[str, subprocess.Popen[bytes]] = {}
        self._cancel: set[str] = set()
        self._starting: set[str] = set()  # claimed, worker not yet started (a cancel then waits for it)
        self._warm: set[WarmWorker] = set()

    # lifecycle ----------------------------------------------------------------------------------------
    def recover(self) -> list[Job]:
        """Kill workers a dead server left behind, then queue their jobs again or fail them."""
        for pid in kill_stale(self._warm_folder):
            log.warning("killed warm worker %d left waiting by an earlier server", pid)
        jobs, _ = self.store.list_jobs(state="running", limit=10_000)
        for job in jobs:
            if job.pid and _is_our_worker(job.pid):
                log.warning("killing orphan worker %d of job %s", job.pid, job.id)
                self._kill_group(job.pid, signal.SIGKILL)
        recovered = self.store.recover(reason="the server stopped while the job was running")
        if self.metrics:
            for job in recovered:
                if job.state == "queued":
                    self.metrics.worker_restarts.labels("server_restart").inc()
        return recovered

    def start(self) -> None:
        for i in range(self.settings.workers):
            t = threading.Thread(target=self._loop, name=f"worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking jobs and kill running workers; their jobs are queued again at the next start."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
            running = list(self._running.values())
            waiting = list(self._warm)
        for pid in [proc.pid for proc in running] + [warm.pid for warm in waiting]:
            self._kill_group(pid, signal.SIGKILL)
        for t in self._threads:
            t.join(timeout)
        with self._wake:
            waiting = list(self._warm)
            self._warm.clear()
        for warm in waiting:  # reaped, their pipes closed and their logs deleted
            warm.discard()

    def notify(self) -> None:
        """A job was queued."""
        with self._wake:
            self._wake.notify()

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job; False if it had already ended."""
        if self.store.cancel_queued(job_id):
            return True
        with self._wake:
            proc = self._running.get(job_id)
            if proc is None and job_id not in self._starting:
                return False
            self._cancel.add(job_id)  # one being started is stopped as soon as its worker runs (`_follow`)
        if proc is not None:
            self._kill_group(proc.pid, signal.SIGTERM)
        return True

    def is_running(self, job_id: str) -> bool:
        with self._wake:
            return job_id in self._running

    def time_limit(self, job: Job) -> JobLimit:
        """The job's wall-clock limit, from its clip's duration (read again here; a clip that cannot be read
        gets the longest accepted clip's limit, and its worker fails on the probe's own error)."""
        s = self.settings
        try:
            from pose_service.video import probe

            duration: float | None = probe(job.video_path, max_side_px=s.max_side_px,
                                           max_duration_s=s.max_duration_s).duration_s
        except Exception as exc:
            log.warning("job %s: cannot read the clip's duration (%s); the limit is the longest clip's", job.id, exc)
            duration = None
        return job_limit(s, duration, cap_name=self.cap_name)

    # the loop -----------------------------------------------------------------------------------------
    def _loop(self) -> None:
        slot = _Slot()
        warm_on = self.settings.warm_workers
        while True:
            with self._wake:
                if self._stopping:
                    return
            if warm_on:
                self._keep_warm(slot)
            job = self.store.claim_next()
            if job is None:
                with self._wake:
                    if not self._stopping:
                        self._wake.wait(timeout=2.0)
                continue
            with self._wake:
                self._starting.add(job.id)
            taken, slot.warm = slot.warm, None
            try:
                self._run(job, taken, then=(lambda: self._keep_warm(slot)) if warm_on else None)
            except Exception as exc:  # the supervisor must outlive any one job
                log.exception("supervising job %s failed", job.id)
                self.store.finish(job.id, "failed", error={
                    "code": "supervisor", "message": f"the supervisor failed: {type(exc).__name__}: {exc}",
                    "hint": "see the server log", "log_tail": ""})
            finally:
                with self._wake:
                    self._starting.discard(job.id)
                    self._cancel.discard(job.id)

    @property
    def _warm_folder(self) -> Path:
        return self.settings.service_dir / "warm"

    def _keep_warm(self, slot: _Slot) -> None:
        """See that `slot` has a live warm worker: replace one that ended while waiting, start one if none."""
        warm = slot.warm
        if warm is not None and not warm.drain():
            self._forget(warm)
            slot.warm = None
            if warm.ready:  # killed from outside, or it ran out of memory: replace it at once
                slot.failures, slot.retry_at = 0, 0.0
            else:  # it could not even import the pipeline: try again later, then less and less often
                slot.failures += 1
                slot.retry_at = time.monotonic() + min(2.0 ** (slot.failures - 1), _WARM_RETRY_MAX_S)
            log.warning("warm worker %d ended while waiting (%s); %s", warm.pid, warm.how_it_ended(),
                        "starting another" if not slot.failures
                        else f"next try in {slot.retry_at - time.monotonic():.0f} s; jobs start fresh workers meanwhile")
            warm.discard()
        elif warm is not None and warm.ready:
            slot.failures = 0
        if slot.warm is None and time.monotonic() >= slot.retry_at:
            slot.warm = self._start_warm()

    def _forget(self, warm: WarmWorker) -> None:
        with self._wake:
            self._warm.discard(warm)

    def _start_warm(self) -> WarmWorker | None:
        """A worker started ahead for this slot's next job, or None when it cannot start (a fresh start will
        then say why, with the job)."""
        s = self.settings
        with self._wake:
            if self._stopping:
                return None
        try:
            warm = WarmWorker.start(lambda fd, path: warm_command(s, fd=fd, log_path=path), env=worker_env(s),
                                    folder=self._warm_folder)
        except OSError as exc:
            log.warning("cannot start a warm worker: %s", exc)
            return None
        with self._wake:
            if not self._stopping:
                self._warm.add(warm)
                return warm
        warm.discard()  # stop() has already let go of the others
        return None

    def _hand_over(self, warm: WarmWorker, job: Job, out: Path, log_path: Path, limit: JobLimit) -> bool:
        """Give `job` to the waiting `warm` worker, its start-up lines into the job's log after the attempt's header.
        False if it is gone (then discarded, a line in the job's log says so)."""
        self._forget(warm)
        try:
            if warm.drain():
                with log_path.open("ab") as logf:
                    logf.write(f"=== attempt {job.attempts} of {job.max_attempts}: warm worker pid {warm.pid} "
                               f"({worker_python(self.settings)} -m {_WORKER_MODULE}, started "
                               f"{time.monotonic() - warm.started:.1f} s before)\n".encode())
                    logf.write(f"=== time limit {limit.seconds:.0f} s: {limit.describe()}\n".encode())
                message = {"video": str(job.video_path), "out": str(out), "options": job.options,
                           "log": str(log_path), "cwd": str(log_path.parent)}
                if warm.hand_over(message, log_path):
                    return True
        except BaseException:  # it is no longer in `_warm`: never leave it waiting
            warm.discard()
            raise
        log.warning("warm worker %d gone at the hand-over of job %s (%s); starting a fresh one", warm.pid, job.id,
                    warm.how_it_ended())
        with log_path.open("ab") as logf:
            logf.write(f"=== warm worker pid {warm.pid} was gone ({warm.how_it_ended()}); a fresh worker "
                       "starts\n".encode())
        warm.discard()
        return False

    def _run(self, job: Job, warm: WarmWorker | None = None, *, then: Callable[[], None] | None = None,
             extra: Sequence[str] = ()) -> None:
        """Run one attempt of `job`, in `warm` if given and still alive, else in a fresh worker; `then` runs once the
        worker has the job (the slot starts its next warm worker); `extra`: more arguments of a fresh worker."""
        s = self.settings
        folder = job_dir(s, job.id)
        out = folder / "out"
        out.mkdir(parents=True, exist_ok=True)
        log_path = folder / "job.log"
        limit = self.time_limit(job)
        if warm is not None and not extra and self._hand_over(warm, job, out, log_path, limit):
            self._follow(job, warm.proc, warm.read_fd, limit, log_path, warm=warm, then=then)
            return
        read_fd, write_fd = os.pipe()
        cmd = worker_command(s, video=Path(job.video_path), out=out, options=job.options, fd=write_fd, extra=extra)
        with log_path.open("ab") as logf:
            logf.write(f"=== attempt {job.attempts} of {job.max_attempts}: {' '.join(cmd[:3])}\n".encode())
            logf.write(f"=== time limit {limit.seconds:.0f} s: {limit.describe()}\n".encode())
            logf.flush()
            try:
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                        pass_fds=(write_fd,), start_new_session=True, env=worker_env(s),
                                        cwd=str(folder))
            except OSError as exc:
                os.close(read_fd)
                os.close(write_fd)
                self.store.finish(job.id, "failed", outcome="spawn_failed", error={
                    "code": "environment", "message": f"cannot start the worker interpreter {cmd[0]}: {exc.strerror}",
                    "hint": "set POSE_SERVICE_WORKER_PYTHON to a working Python 3.11, or run `pose-service doctor`",
                    "log_tail": ""})
                return
        os.close(write_fd)
        self._follow(job, proc, read_fd, limit, log_path, then=then)

    def _follow(self, job: Job, proc: subprocess.Popen[bytes], read_fd: int, limit: JobLimit, log_path: Path, *,
                warm: WarmWorker | None = None, then: Callable[[], None] | None = None) -> None:
        """Watch the worker running `job` to its end and record how it ended."""
        with self._wake:
            self._running[job.id] = proc
            self._starting.discard(job.id)
            cancelled_early, stopping = job.id in self._cancel, self._stopping
        run = _Run(limit=limit)
        started = time.monotonic()
        try:
            if stopping:  # stop() came while this worker was being started: it has not seen it
                self._kill_group(proc.pid, signal.SIGKILL)
            elif cancelled_early:  # cancelled while its worker was being started
                self._kill_group(proc.pid, signal.SIGTERM)
            self.store.set_pid(job.id, proc.pid)
            log.info("job %s attempt %d: worker pid %d", job.id, job.attempts, proc.pid)
            if then is not None:
                then()
            self._watch(job, proc, read_fd, run, started)
        finally:
            if proc.poll() is None:  # only if watching failed: never leave the worker behind
                self._kill_group(proc.pid, signal.SIGKILL)
                proc.wait()
            if warm is None:
                os.close(read_fd)
            else:
                warm.settle_log(log_path)
                warm.discard()
            with self._wake:
                self._running.pop(job.id, None)
                cancelled = job.id in self._cancel
                self._cancel.discard(job.id)
        if cancelled:
            run.killed_for = "cancel"
        with self._wake:
            stopping = self._stopping
        if stopping and run.killed_for != "cancel" and run.done is None:
            self.store.release(job.id, reason="the server shut down")  # not the job's fault: no attempt used
            return
        self._conclude(job, proc.returncode, run, log_path, time.monotonic() - started)

    def _watch(self, job: Job, proc: subprocess.Popen[bytes], fd: int, run: _Run, started: float) -> None:
        s = self.settings
        eof = False
        while True:
            if not eof:
                ready, _, _ = select.select([fd], [], [], 0.5)
                if ready:
                    chunk = os.read(fd, 65536)
                    if chunk:
                        self._absorb(job, run, chunk)
                    else:
                        eof = True
            else:
                time.sleep(0.1)
            if proc.poll() is not None and (eof or not select.select([fd], [], [], 0)[0]):
                return
            now = time.monotonic()
            reason = None
            if run.limit is not None and now - started > run.limit.seconds:
                reason = "time_limit"
            elif now - run.last_heard > s.heartbeat_timeout_s:
                reason = "heartbeat_lost"
            elif s.job_memory_mb and _rss_mb(proc.pid) > s.job_memory_mb:
                reason = "memory_limit"
            if reason and run.killed_for is None:
                run.killed_for = reason
                log.warning("job %s: killing worker %d (%s)", job.id, proc.pid, reason)
                self._kill_group(proc.pid, signal.SIGKILL)
            with self._wake:
                cancelling = job.id in self._cancel
            if cancelling and proc.poll() is None and run.killed_for is None:
                run.killed_for = "cancel"
                threading.Timer(_KILL_GRACE_S, self._kill_group, (proc.pid, signal.SIGKILL)).start()

    def _absorb(self, job: Job, run: _Run, chunk: bytes) -> None:
        run.last_heard = time.monotonic()
        run.buffer += chunk
        *lines, run.buffer = run.buffer.split(b"\n")
        for line in lines:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            kind = msg.get("type")
            if kind == "progress":
                stage = str(msg.get("stage") or run.stage)
                if stage != run.stage:
                    self._stage_done(run)
                    run.stage, run.stage_started = stage, time.monotonic()
                self.store.set_progress(job.id, float(msg.get("progress", 0.0)), stage)
            elif kind == "error":
                run.error = {k: str(msg.get(k, "")) for k in ("code", "message", "hint")}
            elif kind == "done":
                run.done = msg

    def _stage_done(self, run: _Run) -> None:
        if self.metrics and run.stage not in ("starting", "loading"):
            self.metrics.stage_seconds.labels(run.stage).observe(time.monotonic() - run.stage_started)

    def _conclude(self, job: Job, rc: int | None, run: _Run, log_path: Path, seconds: float) -> None:
        self._stage_done(run)
        tail = log_tail(log_path)
        limits = {
            "time_limit": run.limit.message(seconds, run.stage) if run.limit else f"stopped during stage {run.stage}",
            "memory_limit": f"the worker used more than the memory limit of {self.settings.job_memory_mb} MiB "
                            f"(stage {run.stage})",
        }
        hints = {"time_limit": run.limit.hint() if run.limit else "send a shorter clip",
                 "memory_limit": "raise POSE_SERVICE_JOB_MEMORY_MB or send a shorter clip"}
        state, outcome, error = "failed", "failed", None
        if run.killed_for == "cancel":
            state, outcome = "cancelled", "cancelled"
            error = {"code": "cancelled", "message": f"cancelled during stage {run.stage}", "hint": ""}
        elif run.killed_for in limits:
            outcome = run.killed_for
            error = {"code": run.killed_for, "message": limits[run.killed_for], "hint": hints[run.killed_for]}
        elif rc == 0 and run.done is not None:
            state, outcome = "succeeded", "succeeded"
        elif run.error is not None:
            error = dict(run.error)
            outcome = error["code"]
        elif rc is not None and rc < 0 or run.killed_for == "heartbeat_lost":
            outcome = _RESTARTABLE
            how = (f"worker killed by {signal.Signals(-rc).name}" if rc is not None and rc < 0
                   else f"worker exited with code {rc}")
            if run.killed_for == "heartbeat_lost":
                how = f"worker stopped answering for {self.settings.heartbeat_timeout_s:.0f} s and was killed"
            error = {"code": "worker_killed", "message": f"{how} during stage {run.stage}",
                     "hint": "retry the job; if it happens again, the log tail shows the last step"}
        else:
            last = next((ln for ln in reversed(tail.splitlines()) if ln.strip()), "")
            error = {"code": "worker_crashed",
                     "message": f"worker exited with code {rc} during stage {run.stage}" + (f": {last}" if last else ""),
                     "hint": "read the job's log; `pose-service doctor` checks the environment"}
        if outcome == _RESTARTABLE and job.attempts < job.max_attempts:
            state = "queued"
            if self.metrics:
                self.metrics.worker_restarts.labels(run.killed_for or "signal").inc()
        if error is not None:
            error["log_tail"] = tail
        log.info("job %s attempt %d ended: rc=%s outcome=%s state=%s after %.1f s",
                 job.id, job.attempts, rc, outcome, state, seconds)
        if self.metrics:
            self.metrics.job_outcomes.labels(outcome).inc()
        if state == "queued":  # the attempt's row keeps the reason
            self.store.finish(job.id, "queued", exit_code=rc, outcome=(error or {}).get("message", outcome))
            self.notify()
        else:
            self.store.finish(job.id, state, error=error, exit_code=rc, outcome=outcome)

    @staticmethod
    def _kill_group(pid: int, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
