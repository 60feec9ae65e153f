"""Time limits and queues of remote jobs: the order the reliability settings rely on."""

from __future__ import annotations

import pytest

from pose_service.config import Settings
from pose_service.jobs.remote import job_limits
from pose_service.jobs.remote.celery_app import GPU_QUEUE_NAME, QUEUE_NAME, make_celery, queue_for, visibility_timeout_s


@pytest.mark.parametrize("duration_s", [
    0.0,      # an empty clip still gets the overhead
    4.0,      # a phone clip of one jump
    600.0,    # a ten-minute run
    7200.0,   # the longest accepted video (max_duration_s)
])
def test_limits_are_ordered(duration_s: float) -> None:
    s = Settings()
    limits = job_limits(s, duration_s)
    assert limits.expected_s < limits.run_s < limits.soft_s < limits.hard_s < visibility_timeout_s(s)


def test_limits_follow_the_settings() -> None:
    s = Settings(remote_job_overhead_s=10.0, remote_seconds_per_video_s=2.0, max_duration_s=100.0)
    assert job_limits(s, 5.0).expected_s == pytest.approx(20.0)
    assert visibility_timeout_s(s) > job_limits(s, 100.0).hard_s


def test_celery_settings() -> None:
    app = make_celery("redis://127.0.0.1:1/0", Settings())
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] == visibility_timeout_s(Settings())


@pytest.mark.parametrize(("backend", "queue"), [
    ("mediapipe", QUEUE_NAME),  # any worker
    ("hmr2", GPU_QUEUE_NAME),   # only `worker --gpu`
])
def test_queue_for_backend(backend: str, queue: str) -> None:
    assert queue_for({"backend": backend}) == queue
