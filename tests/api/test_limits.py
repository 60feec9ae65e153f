"""Limits a worker can hit, and the janitor that clears abandoned uploads and old rejected files."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from pose_service.api.intake import purge_rejected
from pose_service.api.routes.uploads import expire_uploads
from pose_service.api.service import Service
from pose_service.config import Settings
from tests.api.conftest import Server, submit, wait_for, worker_pid


@pytest.mark.parametrize(
    ("env", "code", "named"),
    [
        ({"POSE_SERVICE_JOB_TIMEOUT_S": "1.5"}, "time_limit",
         "the limit is the cap POSE_SERVICE_JOB_TIMEOUT_S = 1.5 s, shorter than the limit for a "),
        ({"POSE_SERVICE_JOB_MEMORY_MB": "60"}, "memory_limit", "more than the memory limit of 60 MiB"),
    ],
)
def test_limit_hit_fails_the_job_naming_the_limit(
    tmp_path: Path, clip: Path, env: dict[str, str], code: str, named: str
) -> None:
    srv = Server(tmp_path / "state", env=env).start()
    try:
        with srv.client() as c:
            job = wait_for(c, submit(c, clip)["id"], {"succeeded", "failed"}, timeout=60)
            assert job["state"] == "failed" and job["attempts"] == 1  # a limit is not retried
            assert job["error"]["code"] == code and named in job["error"]["message"]
            assert "worker starting" in job["error"]["log_tail"]
    finally:
        srv.stop()


def test_the_time_limit_follows_the_clip(tmp_path: Path, clip: Path) -> None:
    """Without a cap the local limit is 1.5 x (overhead + seconds per video second x duration): here a tiny one,
    so the real job on the small clip is stopped, and its error says which limit and how it was computed."""
    from pose_service.jobs.limits import job_limit
    from pose_service.video import probe

    env = {"POSE_SERVICE_REMOTE_JOB_OVERHEAD_S": "0.5", "POSE_SERVICE_REMOTE_SECONDS_PER_VIDEO_S": "0.1"}
    duration = probe(clip).duration_s
    limit = job_limit(Settings(remote_job_overhead_s=0.5, remote_seconds_per_video_s=0.1), duration)
    assert not limit.capped and limit.seconds == pytest.approx(1.5 * (0.5 + 0.1 * duration))
    srv = Server(tmp_path / "state", env=env).start()
    try:
        with srv.client() as c:
            job = wait_for(c, submit(c, clip)["id"], {"succeeded", "failed"}, timeout=60)
            assert job["state"] == "failed" and job["attempts"] == 1
            message = job["error"]["message"]
            assert job["error"]["code"] == "time_limit" and message.startswith("stopped after ")
            assert message.endswith(f": {limit.describe()}"), message
            assert f"the limit for a {duration:.1f} s clip is 1.5 x (0.5 s + 0.1 s/s x " in message
            assert "POSE_SERVICE_REMOTE_SECONDS_PER_VIDEO_S" in job["error"]["hint"]
            log = c.get(f"/jobs/{job['id']}/log").text
            assert f"=== time limit {limit.seconds:.0f} s: {limit.describe()}" in log
    finally:
        srv.stop()


def test_janitor_removes_expired_uploads_and_old_rejected_files(tmp_path: Path) -> None:
    svc = Service.open(Settings(state_dir=tmp_path, rejected_keep_s=3600))
    try:
        svc.store.create_upload("a" * 32, length=10, metadata={}, ttl_s=-1)  # abandoned
        svc.store.create_upload("b" * 32, length=10, metadata={}, ttl_s=3600)  # still in use
        for name in ("a" * 32, "b" * 32):
            (svc.uploads_dir / f"{name}.bin").write_bytes(b"12345")
        old, new = svc.rejected_dir / ("c" * 32), svc.rejected_dir / ("d" * 32)
        old.mkdir()
        new.mkdir()
        os.utime(old, (time.time() - 7200, time.time() - 7200))
        half = svc.uploads_dir / "incoming-x"  # a multipart upload cut off by a crash, two days ago
        half.mkdir()
        os.utime(half, (time.time() - 2 * 86400, time.time() - 2 * 86400))

        assert expire_uploads(svc) == 1 and purge_rejected(svc) == 2
        assert not half.exists()
        assert svc.store.get_upload("a" * 32) is None and not (svc.uploads_dir / f"{'a' * 32}.bin").exists()
        assert svc.store.get_upload("b" * 32) is not None and (svc.uploads_dir / f"{'b' * 32}.bin").exists()
        assert not old.exists() and new.exists()
    finally:
        svc.store.close()


def test_silent_worker_is_killed_and_the_job_retried(tmp_path: Path, clip: Path) -> None:
    env = {"POSE_SERVICE_HEARTBEAT_TIMEOUT_S": "3", "POSE_SERVICE_JOB_MAX_ATTEMPTS": "2"}
    srv = Server(tmp_path / "state", env=env).start()
    try:
        with srv.client() as c:
            job = submit(c, clip)
            pid = worker_pid(srv.state_dir, job["id"])
            while c.get(f"/jobs/{job['id']}").json()["stage"] in (None, "starting"):
                time.sleep(0.05)
            os.kill(pid, signal.SIGSTOP)  # hung: alive, but silent
            job = wait_for(c, job["id"], {"succeeded", "failed"}, timeout=90)
            assert job["state"] == "succeeded" and job["attempts"] == 2
            first = job["history"][0]
            assert first["outcome"].startswith("worker stopped answering for 3 s and was killed during stage ")
            assert first["exit_code"] == -signal.SIGKILL
            assert [h["outcome"] for h in job["history"]][1] == "succeeded"
            assert 'pose_service_worker_restarts_total{reason="heartbeat_lost"} 1.0' in c.get("/metrics").text
    finally:
        srv.stop()
