"""A chunked attempt's parts in the registry, on a real SQLite job store: who may run which part, how the parts'
progress makes the job's, when the join is due, and when the attempt counts as lost."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pose_service.jobs import JobStore, new_id
from pose_service.jobs.remote.registry import POSE_SHARE, Registry

CHUNKS = [(0, 46), (31, 91)]


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[JobStore, Registry]]:
    store = JobStore(tmp_path / "jobs.db")
    registry = Registry(tmp_path / "jobs.db", heartbeat_timeout_s=5.0)
    yield store, registry
    registry.close()
    store.close()


def _chunked(store: JobStore, registry: Registry, max_attempts: int = 1) -> tuple[str, dict[str, str]]:
    """A job claimed by `fan@test` with two chunks: its id and each part's task id."""
    job_id = new_id()
    store.create(job_id=job_id, video_name="a.mp4", video_path=Path("/x/a.mp4"), options={"mesh": False},
                 max_attempts=max_attempts)
    claim = registry.claim(job_id, worker="fan@test", task_id="t0", chunks=CHUNKS, frame_count=91)
    assert (claim.status, claim.n) == ("ok", 1)
    parts = registry.parts(job_id, 1)
    assert [(p.part, p.start, p.stop, p.state) for p in parts] == [
        ("0", 0, 46, "queued"), ("1", 31, 91, "queued"), ("join", 0, 91, "waiting")]
    return job_id, {p.part: p.task_id for p in parts}


def _progress(registry: Registry, job_id: str, part: str, worker: str, value: float, log: bytes = b"",
              offset: int = 0, tmp: Path = Path("/dev/null")) -> bool:
    return registry.part_progress(job_id, 1, part, worker=worker, progress=value, stage="pose", log_offset=offset,
                                  log_end=offset + len(log), log=log, log_path=tmp)


def test_chunks_then_join_then_finish(stores: tuple[JobStore, Registry], tmp_path: Path) -> None:
    store, registry = stores
    job_id, tasks = _chunked(store, registry)
    assert registry.claim_part(job_id, 1, "0", worker="a@test", task_id="stranger").status == "busy"
    assert registry.claim_part(job_id, 1, "join", worker="a@test", task_id=tasks["join"]).status == "waiting"
    assert registry.claim_part(job_id, 2, "0", worker="a@test", task_id=tasks["0"]).status == "stale"
    assert registry.claim_part(job_id, 1, "0", worker="a@test", task_id=tasks["0"]).status == "ok"
    assert registry.claim_part(job_id, 1, "1", worker="b@test", task_id=tasks["1"]).status == "ok"
    # Each chunk's progress counts for half of the pose share; its log lines are marked with the chunk.
    log = tmp_path / "job.log"
    assert _progress(registry, job_id, "0", "a@test", 1.0, b"one\ntwo\n", tmp=log)
    assert _progress(registry, job_id, "0", "a@test", 1.0, b"one\ntwo\n", tmp=log)  # sent twice: written once
    assert not _progress(registry, job_id, "0", "b@test", 0.5)  # not b's part
    job = store.get_required(job_id)
    assert job.progress == pytest.approx(POSE_SHARE / 2) and job.stage == "pose"
    assert log.read_text() == "=== attempt 1, chunk 0 (frames 0-45) on worker a@test\n[chunk 0] one\n[chunk 0] two\n"
    assert registry.finish_part(job_id, 1, "0", worker="a@test", state="succeeded", error=None, exit_code=0,
                                outcome="succeeded") == ("done", False)
    assert registry.finish_part(job_id, 1, "0", worker="a@test", state="succeeded", error=None, exit_code=0,
                                outcome="succeeded") == ("duplicate", False)
    # The last chunk makes the join due; the join's worker then acts for the attempt (upload, finish).
    assert registry.finish_part(job_id, 1, "1", worker="b@test", state="succeeded", error=None, exit_code=0,
                                outcome="succeeded") == ("done", True)
    assert store.get_required(job_id).stage == "join"
    assert not registry.is_current(job_id, 1, "b@test")
    assert registry.claim_part(job_id, 1, "join", worker="b@test", task_id=tasks["join"]).status == "ok"
    assert registry.is_current(job_id, 1, "b@test") and not registry.is_current(job_id, 1, "a@test")
    assert registry.finish(job_id, 1, worker="b@test", state="succeeded", error=None, exit_code=0,
                           outcome="succeeded") == "done"
    assert store.get_required(job_id).state == "succeeded"
    assert {p.part: p.state for p in registry.parts(job_id, 1)} == {"0": "done", "1": "done", "join": "done"}
    assert registry.finish(job_id, 1, worker="b@test", state="succeeded", error=None, exit_code=0,
                           outcome="succeeded") == "duplicate"


@pytest.mark.parametrize(("state", "job_state"), [
    ("failed", "failed"),  # the chunk's pipeline failed: the job fails, naming the chunk
    ("queued", "queued"),  # its worker was cut off (a download that broke): the job runs again, attempts left
])
def test_a_chunk_that_does_not_succeed_ends_the_attempt(stores: tuple[JobStore, Registry], state: str,
                                                        job_state: str) -> None:
    store, registry = stores
    job_id, tasks = _chunked(store, registry, max_attempts=2)
    for part, worker in (("0", "a@test"), ("1", "b@test")):
        assert registry.claim_part(job_id, 1, part, worker=worker, task_id=tasks[part]).status == "ok"
    error = {"code": "pipeline", "message": "the pose model failed", "hint": "retry"}
    assert registry.finish_part(job_id, 1, "1", worker="b@test", state=state, error=error, exit_code=1,
                                outcome="pipeline") == ("done", False)
    job = store.get_required(job_id)
    assert job.state == job_state
    if state == "failed":
        assert job.error is not None and job.error["code"] == "pipeline"
        assert job.error["message"] == "chunk 1 (frames 31-90) on worker b@test: the pose model failed"
    # The other chunk learns at its next heartbeat that its attempt is over.
    assert not _progress(registry, job_id, "0", "a@test", 0.5)
    assert registry.claim_part(job_id, 1, "join", worker="a@test", task_id=tasks["join"]).status != "ok"


def test_parts_waiting_for_a_worker_are_not_silence(stores: tuple[JobStore, Registry]) -> None:
    store, registry = stores
    job_id, tasks = _chunked(store, registry)
    registry._db.execute("UPDATE remote_attempts SET last_heartbeat = ?", (time.time() - 60,))
    assert registry.expire_lost() == []  # both chunks wait in the broker: nothing to hear from
    assert registry.claim_part(job_id, 1, "0", worker="a@test", task_id=tasks["0"]).status == "ok"
    registry._db.execute("UPDATE remote_parts SET last_heartbeat = ? WHERE part = '0'", (time.time() - 60,))
    assert registry.expire_lost() == [(job_id, 1, "failed")]
    job = store.get_required(job_id)
    assert job.error is not None and "chunk 0 (frames 0-45)" in job.error["message"] and "a@test" in job.error["message"]
    assert {p.part: p.state for p in registry.parts(job_id, 1)} == {"0": "lost", "1": "lost", "join": "lost"}


def test_a_redelivered_chunk_task_takes_its_part_over(stores: tuple[JobStore, Registry]) -> None:
    store, registry = stores
    job_id, tasks = _chunked(store, registry)
    assert registry.claim_part(job_id, 1, "0", worker="a@test", task_id=tasks["0"]).status == "ok"
    # a@test's pool process was killed: the broker hands the same message to b@test.
    assert registry.claim_part(job_id, 1, "0", worker="b@test", task_id=tasks["0"]).status == "ok"
    assert not _progress(registry, job_id, "0", "a@test", 0.5) and _progress(registry, job_id, "0", "b@test", 0.5)


def test_cancel_marks_the_parts(stores: tuple[JobStore, Registry]) -> None:
    store, registry = stores
    job_id, tasks = _chunked(store, registry)
    assert registry.claim_part(job_id, 1, "0", worker="a@test", task_id=tasks["0"]).status == "ok"
    assert registry.cancel_running(job_id)
    assert {p.part: p.state for p in registry.parts(job_id, 1)} == {"0": "cancelled", "1": "cancelled",
                                                                   "join": "cancelled"}
    assert registry.claim_part(job_id, 1, "1", worker="b@test", task_id=tasks["1"]).status == "stale"
