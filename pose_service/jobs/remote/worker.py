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

A long clip's claim may answer with chunks (Settings.remote_chunks): the server has then sent one task per chunk
and the claiming task is done. The chunks run on any workers, then one join task:

    `pose_service.pose_chunk(job_id, n, k)`   claim part k -> download the video -> the supervised subprocess
                                              poses and tracks frames start..stop only (`--chunk`) -> PUT its
                                              chunk.npz (`pose_service.chunks.save_chunk`) -> finish part k
    `pose_service.join_chunks(job_id, n)`     claim the join -> download the video and every chunk's file -> the
                                              supervised subprocess joins them at the seams as `analyze --jobs`
                                              does and finishes the pipeline (`--join-chunks`) -> upload the
                                              result files -> finish attempt n as above
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
from pose_service.jobs.remote.celery_app import (
    CHUNK_TASK_NAME,
    GPU_QUEUE_NAME,
    JOIN_TASK_NAME,
    QUEUE_NAME,
    TASK_NAME,
    make_celery,
)
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
                 on_stale: Any, part: str | None = None) -> None:
        super().__init__(name=f"report-{job_id[:8]}", daemon=True)
        self.client, self.job_id, self.n, self.log_path = client, job_id, n, log_path
        # A part's log lines are marked with the part in the job's log: it sends whole lines until the end.
        self.part = part
        self._final = False
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
        if (len(data) == _LOG_CHUNK or (self.part is not None and not self._final)) and b"\n" in data:
            data = data[: data.rindex(b"\n") + 1]  # whole lines only, so no character is cut in two
        elif self.part is not None and not self._final:
            data = b""
        try:
            self.client.progress(self.job_id, self.n, progress=self._progress, stage=self._stage,
                                 log_offset=self._offset, log_end=self._offset + len(data),
                                 log_text=data.decode("utf-8", "replace"), part=self.part)
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
        self._final = True
        for _ in range(100):
            if self.stale:
                return
            before = self._offset
            self._send()
            if self._offset == before:
                return


def analyze_job(task: Any, job_id: str) -> str:
    """The Celery task: one attempt of one job, from claim to finish (or to its chunks, sent by the server)."""
    worker = str(task.request.hostname or worker_name())
    client = _client(worker)
    claim = client.claim(job_id, str(task.request.id))
    if claim is None:
        return "not claimed"
    n = int(claim["attempt"])
    if claim.get("chunks"):
        log.info("job %s attempt %d claimed by %s: runs as %d chunk tasks %s, then a join task", job_id, n, worker,
                 len(claim["chunks"]), claim["chunks"])
        return f"attempt {n}: {len(claim['chunks'])} chunks"
    log.info("job %s attempt %d claimed by %s (%d bytes)", job_id, n, worker, claim["video_size"])
    run = _Supervised(client, worker, job_id, n, claim)
    run.run()
    return run.deliver(lambda files: _finish_attempt(client, job_id, n, files, run.body()))


def pose_chunk(task: Any, job_id: str, n: int, k: int) -> str:
    """The Celery task of one chunk of a chunked attempt: pose and track its frames, send its file."""
    worker = str(task.request.hostname or worker_name())
    client = _client(worker)
    claim = client.claim_part(job_id, n, str(k), str(task.request.id))
    if claim is None:
        return "not claimed"
    start, stop = int(claim["start"]), int(claim["stop"])
    log.info("job %s attempt %d chunk %d (frames %d-%d) claimed by %s", job_id, n, k, start, stop - 1, worker)
    run = _Supervised(client, worker, job_id, n, claim, part=str(k))
    run.run(lambda folder: ["--chunk", f"{start}:{stop}"])

    def send(files: list[Path]) -> str:
        body = run.body()
        if body["state"] == "succeeded":
            chunk_file = next((f for f in files if f.name == "chunk.npz"), None)
            if chunk_file is None:
                body.update(state="failed", outcome="missing_files", error={
                    "code": "missing_files", "message": "the chunk's worker wrote no chunk.npz", "hint": "see the log"})
            else:
                client.upload(job_id, n, chunk_file, chunk=str(k))
        return client.finish_part(job_id, n, str(k), body)

    return run.deliver(send)


def join_chunks(task: Any, job_id: str, n: int) -> str:
    """The Celery task that joins a chunked attempt's chunks and finishes the job as `analyze_job` would."""
    worker = str(task.request.hostname or worker_name())
    client = _client(worker)
    claim = client.claim_part(job_id, n, "join", str(task.request.id))
    if claim is None:
        return "not claimed"
    log.info("job %s attempt %d: joining its %d chunks on %s", job_id, n, claim["chunks"], worker)

    def fetch(folder: Path) -> list[str]:
        for k in range(int(claim["chunks"])):
            client.download_chunk(job_id, n, k, folder / "chunks" / f"{k}.npz")
        return ["--join-chunks", str(folder / "chunks")]

    run = _Supervised(client, worker, job_id, n, claim, part="join")
    run.run(fetch)

    def send(files: list[Path]) -> str:
        body = run.body()
        if body["error"]:  # named as a failed chunk is
            body["error"] = dict(body["error"], message=f"the join of {claim['chunks']} chunks on worker {worker}: "
                                                        f"{body['error'].get('message', '')}")
        return _finish_attempt(client, job_id, n, files, body)

    return run.deliver(send)


def _finish_attempt(client: ApiClient, job_id: str, n: int, files: list[Path], body: dict[str, Any]) -> str:
    if body["state"] == "succeeded":
        for path in files:
            client.upload(job_id, n, path)
        body["files"] = {p.name: p.stat().st_size for p in files}
    return client.finish(job_id, n, body)


class _Supervised:
    """One supervised run on this worker (a whole attempt, or one part of a chunked one): the video downloaded,
    the local pool's supervisor run on it, its heartbeat and log sent to the API, its outcome kept for `deliver`."""

    def __init__(self, client: ApiClient, worker: str, job_id: str, n: int, claim: dict[str, Any],
                 part: str | None = None) -> None:
        settings: Settings = _CONFIG["settings"]
        self.client, self.worker, self.job_id, self.n, self.claim, self.part = client, worker, job_id, n, claim, part
        self.local = settings.model_copy(update={"state_dir": settings.service_dir / "remote",
                                                 "job_timeout_s": float(claim["limits"]["run_s"])})
        # Parts of one job may run side by side on one machine: each its own folder.
        self.run_id = job_id if part is None else f"{job_id}-{part}"
        self.folder = job_dir(self.local, self.run_id)
        self.store = _ApiStore()
        # The server's limit for this clip caps the one this worker computes (the same formula, maybe other settings).
        what = "job" if part is None else "join" if part == "join" else "chunk"
        self.pool = WorkerPool(cast(Any, self.store), self.local, cap_name=f"the API server's limit for this {what}")
        self.reporter = _Reporter(client, job_id, n, self.folder / "job.log", settings.remote_heartbeat_s,
                                  on_stale=lambda: self.pool.cancel(self.run_id), part=part)
        self.store.reporter = self.reporter

    def run(self, prepare: Any = None) -> None:
        """Download, `prepare(folder)` (more inputs; gives more arguments of the worker), run, stop reporting."""
        from celery.exceptions import SoftTimeLimitExceeded

        store, reporter, claim = self.store, self.reporter, self.claim
        video = self.folder / "input" / claim["video_name"]
        shutil.rmtree(self.folder / "out", ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "job.log").unlink(missing_ok=True)
        reporter.start()
        try:
            reporter.update(0.0, "download")
            self.client.download(self.job_id, video, int(claim["video_size"]))
            extra = prepare(self.folder) if prepare is not None else []
            if reporter.stale:  # cancelled or given up while downloading
                raise Stale(reporter.stale)
            now = time.time()
            job = Job(id=self.run_id, state="running", progress=0.0, stage="starting", video_name=claim["video_name"],
                      video_path=str(video), options=claim["options"], attempts=self.n,
                      max_attempts=claim.get("max_attempts", self.n), created_at=now, started_at=now, finished_at=None,
                      updated_at=now, error=None)
            self.pool._run(job, extra=extra)  # the local pool's supervisor, reused whole: one run, via _ApiStore
        except SoftTimeLimitExceeded:
            if store.pid:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(store.pid, signal.SIGKILL)
            store.outcome = ("failed", {"code": "time_limit", "message": f"the job passed its Celery soft time limit "
                                        f"({claim['limits']['soft_s']:.0f} s)", "hint": "raise "
                                        "POSE_SERVICE_REMOTE_SECONDS_PER_VIDEO_S or send a shorter clip"}, None,
                             "time_limit")
        except Stale as exc:
            reporter.stale = str(exc)
        except Exception as exc:  # a download that never completed, a full disk: let the server try again
            log.exception("job %s attempt %d: the worker failed", self.job_id, self.n)
            store.outcome = ("queued", {"code": "worker_error", "message": f"worker {self.worker} failed: "
                                        f"{type(exc).__name__}: {exc}"[:500], "hint": "see the worker's log"},
                             None, "worker_error")
        finally:
            reporter.stop()

    def body(self) -> dict[str, Any]:
        state, error, exit_code, outcome = self.store.outcome or ("failed", None, None, "no_outcome")
        return {"state": state, "error": error, "exit_code": exit_code, "outcome": outcome}

    def deliver(self, send: Any) -> str:
        """`send(result files)` unless the run went stale; the folder removed either way; the task's result line."""
        what = f"attempt {self.n}" + (f" part {self.part}" if self.part is not None else "")
        if self.reporter.stale:
            shutil.rmtree(self.folder, ignore_errors=True)
            return f"{what} stale: {self.reporter.stale}"
        state = self.body()["state"]
        try:
            out = self.folder / "out"
            result = send(sorted(p for p in out.iterdir() if p.is_file()) if out.is_dir() else [])
        except Stale as exc:
            result = f"stale: {exc}"
        log.info("job %s %s: %s (%s)", self.job_id, what, state, result)
        shutil.rmtree(self.folder, ignore_errors=True)
        return f"{what}: {state} ({result})"


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
    app.task(name=CHUNK_TASK_NAME, bind=True)(pose_chunk)
    app.task(name=JOIN_TASK_NAME, bind=True)(join_chunks)

    def _ready(**_: Any) -> None:
        threading.Thread(target=_heartbeat_forever, args=(_client(worker), settings.remote_heartbeat_s, concurrency),
                         name="worker-heartbeat", daemon=True).start()

    worker_ready.connect(_ready, weak=False)
    # prefork: Celery's time limits need it (the solo pool cannot enforce them), and a job's pool process
    # dying is then a WorkerLostError that task_reject_on_worker_lost turns into a redelivery.
    queues = f"{QUEUE_NAME},{GPU_QUEUE_NAME}" if gpu else QUEUE_NAME
    app.worker_main(["worker", "--loglevel=INFO", f"--concurrency={concurrency}", "--pool=prefork",
                     f"--hostname={worker}", f"--queues={queues}", "--without-gossip", "--without-mingle"])
