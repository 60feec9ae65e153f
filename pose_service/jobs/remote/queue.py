"""The server's side of scale-out: publish queued jobs to Celery, give up attempts whose worker fell silent.

`CeleryQueue` stands where the local `WorkerPool` stands (same methods: recover, start, stop, notify, cancel,
is_running), so the API does not care which one runs its jobs.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from pose_service.config import Settings
from pose_service.errors import BadOption
from pose_service.jobs.metrics import ServiceMetrics
from pose_service.jobs.remote.celery_app import (
    CHUNK_TASK_NAME,
    GPU_QUEUE_NAME,
    JOIN_TASK_NAME,
    QUEUE_NAME,
    TASK_NAME,
    Limits,
    job_limits,
    make_celery,
    queue_for,
)
from pose_service.jobs.remote.registry import JOIN, Part, Registry
from pose_service.jobs.store import Job, JobStore, new_id

__all__ = ["CeleryQueue"]

log = logging.getLogger(__name__)

_LOOP_S = 1.0


@dataclass
class _Sent:
    task_id: str
    updated_at: float  # the job's updated_at when published: a later change (requeue, retry) publishes again
    at: float


class _WorkerMetrics(Collector):
    """Per-worker gauges, read from the registry at scrape time."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = time.time()
        up = GaugeMetricFamily("pose_service_worker_up", "1 while the remote worker reports in time", labels=["worker"])
        age = GaugeMetricFamily("pose_service_worker_heartbeat_age_seconds", "seconds since the worker last reported",
                                labels=["worker"])
        running = GaugeMetricFamily("pose_service_worker_running_jobs", "jobs the worker runs now", labels=["worker"])
        attempts = GaugeMetricFamily("pose_service_worker_attempts", "attempts the worker ran, by outcome",
                                     labels=["worker", "outcome"])
        for w in self._registry.workers():
            up.add_metric([w.name], 1.0 if now - w.last_seen < self._registry.heartbeat_timeout_s else 0.0)
            age.add_metric([w.name], round(now - w.last_seen, 3))
            running.add_metric([w.name], len(w.running))
            for outcome, n in w.outcomes.items():
                attempts.add_metric([w.name, outcome], n)
        yield from (up, age, running, attempts)


class CeleryQueue:
    """Jobs run by Celery workers elsewhere; job state, files and attempt numbers stay with this server."""

    def __init__(self, store: JobStore, settings: Settings, metrics: ServiceMetrics | None = None) -> None:
        if not settings.broker_url:
            raise BadOption("--queue celery needs a broker", hint="pass --broker redis://HOST:6379/0")
        if not settings.api_token:
            raise BadOption("--queue celery needs an API token: remote workers authenticate with it",
                            hint="set POSE_SERVICE_API_TOKEN to a long random string and give it to each worker")
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.registry = Registry(store.path, heartbeat_timeout_s=settings.heartbeat_timeout_s)
        self.celery = make_celery(settings.broker_url, settings)
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._sent: dict[str, _Sent] = {}
        self._durations: dict[str, float] = {}
        self._plans: dict[str, tuple[list[tuple[int, int]] | None, int, float]] = {}
        self._reconciled = time.monotonic()
        if metrics is not None:
            metrics.registry.register(_WorkerMetrics(self.registry))

    # the WorkerPool interface -------------------------------------------------------------------------
    def recover(self) -> list[Job]:
        """Nothing to kill here: remote runs go on through a server restart; silent ones expire in the loop."""
        return []

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="celery-dispatch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self.registry.close()

    def notify(self) -> None:
        with self._wake:
            self._wake.notify()

    def cancel(self, job_id: str) -> bool:
        return self.store.cancel_queued(job_id) or self.registry.cancel_running(job_id)

    def is_running(self, job_id: str) -> bool:
        return self.registry.running_remote(job_id)

    # limits -------------------------------------------------------------------------------------------
    def limits(self, job: Job) -> Limits:
        """The job's time limits, from its video's duration (probed once)."""
        duration = self._durations.get(job.id)
        if duration is None:
            try:
                from pose_service.video import probe

                duration = probe(job.video_path, max_side_px=self.settings.max_side_px,
                                 max_duration_s=self.settings.max_duration_s).duration_s
            except Exception as exc:  # the job was probed when accepted; assume the longest if it now fails
                log.warning("job %s: cannot probe %s again (%s); using the longest limits", job.id, job.video_path, exc)
                duration = self.settings.max_duration_s
            self._durations[job.id] = duration
        return job_limits(self.settings, duration)

    # chunks -------------------------------------------------------------------------------------------
    def plan(self, job: Job) -> tuple[list[tuple[int, int]] | None, int, float]:
        """The chunks a job's attempt runs in (None: one task), the clip's frame count and frame rate; decided once
        per job: with `remote_chunks` auto, a mediapipe job whose clip makes at least two chunks of
        `remote_chunk_min_s` (`plan_chunks`, the rule of `analyze --jobs`) and whose frames all have timestamps."""
        if job.id in self._plans:
            return self._plans[job.id]
        s = self.settings
        plan: tuple[list[tuple[int, int]] | None, int, float] = (None, 0, 0.0)
        if s.remote_chunks == "auto" and job.options.get("backend", "mediapipe") == "mediapipe":
            try:
                from pose_service.chunks import plan_chunks
                from pose_service.video import frame_pts, probe

                info = probe(job.video_path, max_side_px=s.max_side_px, max_duration_s=s.max_duration_s)
                chunks = plan_chunks(info.frame_count, info.fps, s.remote_max_chunks, overlap_s=s.chunk_overlap_s,
                                     min_chunk_s=s.remote_chunk_min_s)
                if len(chunks) > 1 and frame_pts(info) is None:
                    log.info("job %s: frames without timestamps: one task, not chunks", job.id)
                    chunks = [(0, info.frame_count)]
                plan = (chunks if len(chunks) > 1 else None, info.frame_count, info.fps)
            except Exception as exc:  # the job was probed when accepted; its one task reports what is wrong now
                log.warning("job %s: cannot plan chunks (%s); one task", job.id, exc)
        self._plans[job.id] = plan
        return plan

    def part_limits(self, job: Job, part: Part) -> Limits:
        """A chunk's limits follow its own length; the join's, the whole clip's (it analyses and exports it all)."""
        _, _, fps = self.plan(job)
        if part.part == JOIN or fps <= 0:
            return self.limits(job)
        return job_limits(self.settings, (part.stop - part.start) / fps)

    def publish_parts(self, job: Job, n: int, *, only: str | None = None) -> None:
        """Send the queued parts of attempt n (or only part `only`) to the workers, each with its own task id."""
        for part in self.registry.parts(job.id, n):
            if part.state != "queued" or (only is not None and part.part != only):
                continue
            self._send_part(job, part)

    def _send_part(self, job: Job, part: Part) -> None:
        limits = self.part_limits(job, part)
        name, args = (JOIN_TASK_NAME, [job.id, part.n]) if part.part == JOIN else \
            (CHUNK_TASK_NAME, [job.id, part.n, int(part.part)])
        self.celery.send_task(name, args=args, task_id=part.task_id, queue=queue_for(job.options),
                              soft_time_limit=limits.soft_s, time_limit=limits.hard_s)
        log.info("job %s attempt %d: part %s (frames %d-%d) published as task %s", job.id, part.n, part.part,
                 part.start, part.stop - 1, part.task_id)

    # the loop -----------------------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._wake:
                if self._stopping:
                    return
            try:
                self._expire()
                self._publish()
            except Exception:  # the dispatcher must outlive a broker or store hiccup
                log.exception("celery dispatch failed; trying again")
            with self._wake:
                if not self._stopping:
                    self._wake.wait(_LOOP_S)

    def _expire(self) -> None:
        for job_id, n, state in self.registry.expire_lost():
            log.warning("job %s: attempt %d lost (worker silent for %.0f s); job %s", job_id, n,
                        self.settings.heartbeat_timeout_s, state)
            if self.metrics:
                self.metrics.worker_restarts.labels("worker_lost").inc()

    def _publish(self) -> None:
        jobs, _ = self.store.list_jobs(state="queued", limit=10_000)
        queued = {j.id for j in jobs}
        for gone in set(self._sent) - queued:
            if self.store.get(gone) is None or self.store.get_required(gone).terminal:
                self._sent.pop(gone, None)
                self._durations.pop(gone, None)
                self._plans.pop(gone, None)
        missing: set[str] = set()
        if time.monotonic() - self._reconciled > self.settings.broker_check_s:
            self._reconciled = time.monotonic()
            # Parts of chunked attempts wait in the broker as queued jobs do; a part whose message vanished is sent
            # again with its own task id (never one just queued: its message may be on its way).
            waiting = self.registry.queued_parts(older_than_s=self.settings.broker_check_s)
            missing = self._lost_messages({s.task_id for j, s in self._sent.items() if j in queued} |
                                          {p.task_id for p in waiting})
            for part in waiting:
                if part.task_id in missing and (job := self.store.get(part.job_id)) is not None:
                    self._send_part(job, part)
        for job in reversed(jobs):  # oldest first
            sent = self._sent.get(job.id)
            if sent is not None and sent.updated_at == job.updated_at and sent.task_id not in missing:
                continue
            limits = self.limits(job)
            self.plan(job)  # here, not in the claim's request: a long clip's timestamps take a read of the file
            task_id = new_id()
            self.celery.send_task(TASK_NAME, args=[job.id], task_id=task_id, queue=queue_for(job.options),
                                  soft_time_limit=limits.soft_s, time_limit=limits.hard_s)
            self._sent[job.id] = _Sent(task_id, job.updated_at, time.time())
            log.info("job %s published as task %s (limits: run %.0f s, soft %.0f s, hard %.0f s)",
                     job.id, task_id, limits.run_s, limits.soft_s, limits.hard_s)

    def _lost_messages(self, task_ids: set[str]) -> set[str]:
        """Which of `task_ids` are neither waiting in the broker's queue nor held unacknowledged by a worker."""
        if not task_ids:
            return set()
        with self.celery.connection_for_write() as conn:
            client: Any = conn.default_channel.client  # type: ignore[attr-defined]
            raw = [*client.lrange(QUEUE_NAME, 0, -1), *client.lrange(GPU_QUEUE_NAME, 0, -1), *client.hvals("unacked")]
        present = set()
        for item in raw:
            try:
                msg = json.loads(item)
                if isinstance(msg, list):  # unacked entries are [message, exchange, routing key]
                    msg = msg[0]
                present.add(msg["headers"]["id"])
            except (ValueError, KeyError, IndexError, TypeError):
                continue
        lost = task_ids - present
        if lost:
            log.warning("%d queued jobs had no message in the broker (restarted?); publishing them again", len(lost))
        return lost
