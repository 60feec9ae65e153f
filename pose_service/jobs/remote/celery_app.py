"""The Celery application both sides share, its reliability settings, and each job's time limits.

Limits, from shortest to longest (each must hold for the next to make sense):

    expected   overhead + seconds-per-video-second x the video's duration   (Settings.remote_*)
    run        1.5 x expected: the supervisor kills the pipeline subprocess, the job fails `time_limit`
    soft       run + 30 s: Celery raises SoftTimeLimitExceeded in the task (the supervisor loop itself hung)
    hard       soft + 60 s: Celery kills the pool process running the task
    visibility hard limit of the LONGEST accepted video + 10 %: only then does Redis hand an unacknowledged
               message to another worker, so no task that is still allowed to run is ever delivered twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pose_service.config import Settings
from pose_service.jobs.limits import RUN_FACTOR, expected_seconds

if TYPE_CHECKING:
    from celery import Celery

__all__ = ["CHUNK_TASK_NAME", "GPU_QUEUE_NAME", "JOIN_TASK_NAME", "QUEUE_NAME", "TASK_NAME", "Limits", "job_limits", "make_celery", "queue_for",
           "visibility_timeout_s"]

TASK_NAME = "pose_service.analyze_job"
# A long clip's job in parts (Settings.remote_chunks): one task per chunk, then one that joins them.
CHUNK_TASK_NAME = "pose_service.pose_chunk"
JOIN_TASK_NAME = "pose_service.join_chunks"
QUEUE_NAME = "pose-service"
# Jobs of the 4D-Humans backend (`backend=hmr2`) need a GPU machine: only `worker --gpu` consumes this queue.
GPU_QUEUE_NAME = "pose-service-gpu"
_SOFT_MARGIN_S = 30.0
_HARD_MARGIN_S = 60.0


@dataclass(frozen=True)
class Limits:
    """Seconds one job may take: expected < run (supervisor) < soft (Celery) < hard (Celery)."""

    expected_s: float
    run_s: float
    soft_s: float
    hard_s: float


def job_limits(settings: Settings, duration_s: float) -> Limits:
    """The limits of a job whose video lasts `duration_s` seconds."""
    expected = expected_seconds(settings, duration_s)  # the local pool's limit uses the same (jobs/limits.py)
    run = RUN_FACTOR * expected
    soft = run + _SOFT_MARGIN_S
    return Limits(expected_s=expected, run_s=run, soft_s=soft, hard_s=soft + _HARD_MARGIN_S)


def queue_for(options: dict[str, object]) -> str:
    """The Celery queue a job goes to: the GPU queue for the hmr2 backend, else the common one."""
    return GPU_QUEUE_NAME if options.get("backend") == "hmr2" else QUEUE_NAME


def visibility_timeout_s(settings: Settings) -> float:
    """Longer than the hard limit of the longest video the service accepts (`max_duration_s`)."""
    return 1.1 * job_limits(settings, settings.max_duration_s).hard_s


def make_celery(broker_url: str, settings: Settings) -> Celery:
    """A Celery app on `broker_url` (redis://HOST:PORT/DB) with the settings below; no result backend."""
    from celery import Celery

    app = Celery("pose_service", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=QUEUE_NAME,
        # Results travel over the HTTP API to the server that owns the job; Celery keeps none.
        task_ignore_result=True,
        # Acknowledge a message only once the task has returned, not when it starts: a worker that dies
        # mid-job (power, OOM killer, SIGKILL) leaves the message unacknowledged, so the broker delivers it
        # again. Safe because a run is idempotent here: the server's attempt numbers refuse a stale run.
        task_acks_late=True,
        # Even with acks_late, Celery acknowledges the message when the pool process running the task is
        # killed (a WorkerLostError) unless this is set; with it the message is requeued at once and the job
        # runs again (a poison job is still bounded by the server's max attempts).
        task_reject_on_worker_lost=True,
        # A task that failed or hit its time limit has told the API so; redelivering it would only repeat it.
        task_acks_on_failure_or_timeout=True,
        # Reserve one message per pool process: jobs last minutes to hours, so a worker that prefetched a
        # second one would sit on it while another worker idles (and, with acks_late, hold it unacknowledged).
        worker_prefetch_multiplier=1,
        # Redis hands an unacknowledged message to another worker after this long; it must outlast the hard
        # limit of the longest job, or a job still running would be started a second time elsewhere.
        broker_transport_options={"visibility_timeout": visibility_timeout_s(settings)},
        # Keep retrying the broker (at start and after a Redis restart) instead of exiting: a worker on
        # another machine should ride out a broker restart on its own.
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        # A lost broker connection does not stop a running job: its progress and results go over HTTP, and a
        # message redelivered meanwhile is refused by the attempt check, so there is nothing to cancel for.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_serializer="json",
        accept_content=["json"],
    )
    return app
