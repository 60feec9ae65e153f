"""The job store on a real SQLite file: states, attempts, events, recovery after a dead server."""

from __future__ import annotations

from pathlib import Path

import pytest

from pose_service.jobs import JobStore, new_id


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore(tmp_path / "jobs.db")


def _job(store: JobStore, max_attempts: int = 2) -> str:
    job_id = new_id()
    store.create(job_id=job_id, video_name="a.mp4", video_path=Path("/x/a.mp4"), options={"mesh": False},
                 max_attempts=max_attempts)
    return job_id


def test_wal_mode_and_unguessable_ids(store: JobStore) -> None:
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) == 32 and i.isalnum() for i in ids)


def test_lifecycle_queued_running_succeeded(store: JobStore) -> None:
    job_id = _job(store)
    assert store.get_required(job_id).state == "queued"
    claimed = store.claim_next()
    assert claimed is not None and claimed.id == job_id
    assert (claimed.state, claimed.attempts, claimed.stage) == ("running", 1, "starting")
    assert store.claim_next() is None  # nothing else queued
    store.set_progress(job_id, 0.5, "pose")
    job = store.finish(job_id, "succeeded", exit_code=0)
    assert (job.state, job.progress, job.error) == ("succeeded", 1.0, None)
    assert [a.exit_code for a in store.attempts(job_id)] == [0]
    kinds = [(e.kind, e.data.get("state")) for e in store.events(job_id)]
    assert kinds == [("state", "queued"), ("state", "running"), ("progress", None), ("state", "succeeded")]
    # Progress after the end is ignored: a late message from a dying worker cannot move a finished job.
    store.set_progress(job_id, 0.1, "late")
    assert store.get_required(job_id).stage != "late"


def test_failure_keeps_error_and_retry_requeues(store: JobStore) -> None:
    job_id = _job(store, max_attempts=1)
    store.claim_next()
    err = {"code": "worker_killed", "message": "worker killed by SIGKILL during stage pose", "hint": "retry",
           "log_tail": "last line"}
    job = store.finish(job_id, "failed", error=err, exit_code=-9)
    assert job.error == err
    assert store.requeue(job_id)
    job = store.get_required(job_id)
    assert (job.state, job.error, job.max_attempts) == ("queued", None, 2)
    assert not store.requeue(job_id)  # already queued


def test_recover_requeues_then_fails(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.db")
    _job(store, max_attempts=2)
    store.claim_next()
    store.close()  # the server "dies" with the job running

    store = JobStore(tmp_path / "jobs.db")
    [job] = store.recover(reason="the server stopped")
    assert (job.state, job.attempts) == ("queued", 1)
    store.claim_next()
    [job] = store.recover(reason="the server stopped")
    assert job.state == "failed" and job.error is not None
    assert job.error["code"] == "interrupted" and "attempt 2 of 2" in job.error["message"]


def test_cancel_only_while_queued(store: JobStore) -> None:
    a, b = _job(store), _job(store)
    assert store.cancel_queued(a)
    assert store.get_required(a).state == "cancelled"
    store.claim_next()
    assert not store.cancel_queued(b)  # running: the pool has to kill it


def test_uploads_offset_is_durable(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.db")
    store.create_upload("u1", length=100, metadata={"filename": "a.mp4"}, ttl_s=60)
    store.update_upload("u1", offset=40, ttl_s=60)
    store.close()
    up = JobStore(tmp_path / "jobs.db").get_upload("u1")
    assert up is not None and (up.offset, up.length, up.complete) == (40, 100, False)
    assert JobStore(tmp_path / "jobs.db").expired_uploads(now=up.expires_at + 1)[0].id == "u1"


def test_release_gives_the_attempt_back(store: JobStore) -> None:
    job_id = _job(store, max_attempts=1)
    store.claim_next()
    store.release(job_id, reason="the server shut down")
    job = store.get_required(job_id)
    assert (job.state, job.attempts) == ("queued", 0)
    assert store.attempts(job_id)[0].outcome == "released: the server shut down"
