"""`pose-service worker`: a Celery worker that runs the jobs of a remote API server, on any machine.

One task, `pose_service.analyze_job(job_id)`, per job:

    claim          POST /workers/jobs/{id}/claim -> attempt n, options, video size, time limits
    download       GET  /jobs/{id}/video into a local folder, resumed with Range after any break
    run            the SAME supervised pipeline subprocess as the local pool (`WorkerPool._run`): explicit
                   interpreter, heartbeat pipe, wall-clock and memory limits, every way it ends turned into a
                   state; its progress and log lines go to the API as attempt n's heartbeat
    upload         PUT  /workers/jobs/{id}/attempts/{n}/files/{name}, one per result file (idempotent)
    finish         POST /workers/jobs/{id}/attempts/{n}/finish -> done | duplicate | stale

A 409 at any step means attempt n is no longer the job's current one (cancelled, or given up and run again
elsewhere): the worker kills its subprocess and drops the task without sending anything more.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any, cast

from pose_service.config import Settings
from pose_service.jobs.remote.celery_app import GPU_QUEUE_NAME, QUEUE_NAME, TASK_NAME, make_celery
from pose_service.jobs.remote.client import ApiClient, Stale
from pose_service.jobs.store import Job
from pose_service.jobs.supervisor import WorkerPool, job_dir

__all__ = ["run_worker", "worker_name"]

log = logging.getLogger(__name__)

_LOG_CHUNK = 256 * 1024
_MIN_REPORT_S = 1.0

# Set by run_worker before Celery starts its pool; pool processes inherit it when they fork.
_CONFIG: dict[str, Any] = {}
_CLIENTS: dict[tuple[int, str], ApiClient] = {}


def worker_name(name: str | None = None) -> str:
    """The worker's identity in the API and in Celery: NAME@HOST (default pose-PID@HOST)."""
    host = socket.gethostname()
    if name:
        return name if "@" in name else f"{name}@{host}"
    return f"pose-{os.getpid()}@{host}"


def _client(worker: str) -> ApiClient:
    """One HTTP client per process (a client made before a fork must not be shared with the child)."""
    key = (os.getpid(), worker)
    if key not in _CLIENTS:
        _CLIENTS[key] = ApiClient(_CONFIG["api"], _CONFIG["token"], worker)
    return _CLIENTS[key]


class _ApiStore:
    """The parts of `JobStore` that `WorkerPool._run` uses while it runs one job, reported to the API instead.

    Progress goes to the reporter; the outcome is kept and sent, with the files, once the run is over.
    """

    def __init__(self) -> None:
        self.reporter: _Reporter | None = None
        self.pid: int | None = None
        self.outcome: tuple[str, dict[str, str] | None, int | None, str] | None = None

    def set_pid(self, job_id: str, pid: int | None) -> None:
        self.pid = pid

    def set_progress(self, job_id: str, progress: float, stage: str | None) -> None:
        if self.reporter is not None:
            self.reporter.update(progress, stage)

    def finish(self, job_id: str, state: str, *, error: dict[str, str] | None = None, exit_code: int | None = None,
               outcome: str | None = None) -> None:
        self.outcome = (state, error, exit_code, outcome or state)

    def release(self, job_id: str, *, reason: str) -> None:
        self.outcome = ("queued", None, None, f"released: {reason}")

    def cancel_queued(self, job_id: str) -> bool:
        return False  # a claimed job is never queued here; WorkerPool.cancel then kills the subprocess


class _Reporter(threading.Thread):
    """Attempt n's heartbeat: progress, stage and new log bytes, every few seconds and soon after a change."""

    def __init__(self, client: ApiClient, job_id: str, n: int, log_path: Path, every_s: float,
                 on_stale: Any) -> None:
        super().__init__(name=f"report-{job_id[:8]}", daemon=True)
        self.client, self.job_id, self.n, self.log_path = client, job_id, n, log_path
        self.every_s = every_s
        self.on_stale = on_stale
        self.stale: str | None = None
        self._progress, self._stage = 0.0, "starting"
        self._changed = threading.Event()
        self._halt = threading.Event()
        self._offset = 0

    def update(self, progress: float, stage: str | None) -> None:
        self._progress, self._stage = progress, stage or self._stage
        self._changed.set()

    def run(self) -> None:
        last = 0.0
        while not self._halt.is_set():
            self._changed.wait(self.every_s)
            if self._halt.is_set():
                break
            wait = _MIN_REPORT_S - (time.monotonic() - last)
            if wait > 0:
                self._halt.wait(wait)
            self._changed.clear()
            last = time.monotonic()
            self._send()
            if self.stale:
                self.on_stale()
                return

    def _send(self) -> None:
        try:
            with self.log_path.open("rb") as f:
                f.seek(self._offset)
                data = f.read(_LOG_CHUNK)
        except OSError:
            data = b""
        if len(data) == _LOG_CHUNK and b"\n" in data:  # whole lines only, so no character is cut in two
            data = data[: data.rindex(b"\n") + 1]
        try:
            self.client.progress(self.job_id, self.n, progress=self._progress, stage=self._stage,
                                 log_offset=self._offset, log_end=self._offset + len(data),
                                 log_text=data.decode("utf-8", "replace"))
            self._offset += len(data)
        except Stale as exc:
            log.warning("job %s attempt %d is stale (%s): stopping it", self.job_id, self.n, exc)
            self.stale = str(exc)
        except Exception as exc:  # the next beat tries again; the server gives up only after its timeout
            log.warning("job %s: progress report failed: %s", self.job_id, exc)

    def stop(self) -> None:
        """Stop beating and send the rest of the log."""
        self._halt.set()
        self._changed.set()
        self.join(30)
        for _ in range(100):
            if self.stale:
                return
            before = self._offset
            self._send()
            if self._offset == before:
                return


def analyze_job(task: Any, job_id: str) -> str:
    """The Celery task: one attempt of one job, from claim to finish."""
    from celery.exceptions import SoftTimeLimitExceeded

    worker = str(task.request.hostname or worker_name())
    client = _client(worker)
    claim = client.claim(job_id, str(task.request.id))
    if claim is None:
        return "not claimed"
    n = int(claim["attempt"])
    settings: Settings = _CONFIG["settings"]
    local = settings.model_copy(update={"state_dir": settings.service_dir / "remote",
                                        "job_timeout_s": float(claim["limits"]["run_s"])})
    folder = job_dir(local, job_id)
    video = folder / "input" / claim["video_name"]
    log.info("job %s attempt %d claimed by %s (%d bytes)", job_id, n, worker, claim["video_size"])
    store = _ApiStore()
    # The server's limit for this clip caps the one this worker computes (the same formula, maybe other settings).
    pool = WorkerPool(cast(Any, store), local, cap_name="the API server's limit for this job")
    reporter = _Reporter(client, job_id, n, folder / "job.log", settings.remote_heartbeat_s,
                         on_stale=lambda: pool.cancel(job_id))
    store.reporter = reporter
    shutil.rmtree(folder / "out", ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "job.log").unlink(missing_ok=True)
    reporter.start()
    try:
        reporter.update(0.0, "download")
        client.download(job_id, video, int(claim["video_size"]))
        if reporter.stale:  # cancelled or given up while downloading
            raise Stale(reporter.stale)
        now = time.time()
        job = Job(id=job_id, state="running", progress=0.0, stage="starting", video_name=claim["video_name"],
                  video_path=str(video), options=claim["options"], attempts=n, max_attempts=claim["max_attempts"],
                  created_at=now, started_at=now, finished_at=None, updated_at=now, error=None)
        pool._run(job)  # the local pool's supervisor, reused whole: one run, reported through _ApiStore
    except SoftTimeLimitExceeded:
        if store.pid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(store.pid, signal.SIGKILL)
        store.outcome = ("failed", {"code": "time_limit", "message": f"the job passed its Celery soft time limit "
                                    f"({claim['limits']['soft_s']:.0f} s)", "hint": "raise "
                                    "POSE_SERVICE_REMOTE_SECONDS_PER_VIDEO_S or send a shorter clip"}, None, "time_limit")
    except Stale as exc:
        reporter.stale = str(exc)
    except Exception as exc:  # a download that never completed, a full disk: let the server try again
        log.exception("job %s attempt %d: the worker failed", job_id, n)
        store.outcome = ("queued", {"code": "worker_error", "message": f"worker {worker} failed: "
                                    f"{type(exc).__name__}: {exc}"[:500], "hint": "see the worker's log"},
                         None, "worker_error")
    finally:
        reporter.stop()
    if reporter.stale:
        shutil.rmtree(folder, ignore_errors=True)
        return f"attempt {n} stale: {reporter.stale}"
    state, error, exit_code, outcome = store.outcome or ("failed", None, None, "no_outcome")
    body: dict[str, Any] = {"state": state, "error": error, "exit_code": exit_code, "outcome": outcome}
    try:
        if state == "succeeded":
            files = sorted(p for p in (folder / "out").iterdir() if p.is_file())
            for path in files:
                client.upload(job_id, n, path)
            body["files"] = {p.name: p.stat().st_size for p in files}
        result = client.finish(job_id, n, body)
    except Stale as exc:
        result = f"stale: {exc}"
    log.info("job %s attempt %d: %s (%s)", job_id, n, state, result)
    shutil.rmtree(folder, ignore_errors=True)
    return f"attempt {n}: {state} ({result})"


def _heartbeat_forever(client: ApiClient, every_s: float, concurrency: int) -> None:
    """The worker's own heartbeat (idle or busy), from the main process: its health in GET /workers."""
    while True:
        try:
            client.heartbeat(hostname=socket.gethostname(), pid=os.getpid(), concurrency=concurrency)
        except Exception as exc:
            log.warning("worker heartbeat failed: %s", exc)
        time.sleep(every_s)


def run_worker(settings: Settings, *, broker: str, api: str, token: str, concurrency: int = 1,
               name: str | None = None, gpu: bool = False) -> None:
    """Check the API accepts the token, then run a Celery worker (prefork, `concurrency` jobs at once).

    `gpu` workers also take the jobs of the hmr2 backend (4D-Humans).
    """
    from celery.signals import worker_ready

    worker = worker_name(name)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per heartbeat otherwise
    _CONFIG.update(api=api, token=token, settings=settings)
    client = ApiClient(api, token, worker)
    client.heartbeat(hostname=socket.gethostname(), pid=os.getpid(), concurrency=concurrency)  # 401 -> ApiRefused
    client.close()
    log.warning("worker %s: API %s accepted the token; connecting to the broker", worker, api)
    app = make_celery(broker, settings)
    app.task(name=TASK_NAME, bind=True)(analyze_job)

    def _ready(**_: Any) -> None:
        threading.Thread(target=_heartbeat_forever, args=(_client(worker), settings.remote_heartbeat_s, concurrency),
                         name="worker-heartbeat", daemon=True).start()

    worker_ready.connect(_ready, weak=False)
    # prefork: Celery's time limits need it (the solo pool cannot enforce them), and a job's pool process
    # dying is then a WorkerLostError that task_reject_on_worker_lost turns into a redelivery.
    queues = f"{QUEUE_NAME},{GPU_QUEUE_NAME}" if gpu else QUEUE_NAME
    app.worker_main(["worker", "--loglevel=INFO", f"--concurrency={concurrency}", "--pool=prefork",
                     f"--hostname={worker}", f"--queues={queues}", "--without-gossip", "--without-mingle"])
