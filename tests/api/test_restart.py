"""The server killed with SIGKILL loses nothing; a worker interpreter without our packages is named, not hidden."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import Server, submit, wait_for, worker_pid


def test_queued_job_and_upload_survive_a_killed_server(tmp_path: Path, clip: Path) -> None:
    # Accepts jobs, runs none, and lets only one wait.
    srv = Server(tmp_path / "state", workers=0, env={"POSE_SERVICE_MAX_QUEUED_JOBS": "1"}).start()
    try:
        data = clip.read_bytes()
        tus = {"Tus-Resumable": "1.0.0"}
        patch = {**tus, "Content-Type": "application/offset+octet-stream"}
        with srv.client() as c:
            job = submit(c, clip)
            r = c.post("/uploads", headers={**tus, "Upload-Length": str(len(data))})
            upload = "/uploads/" + r.headers["Location"].rsplit("/", 1)[1]
            half = len(data) // 2
            assert c.patch(upload, content=data[:half], headers={**patch, "Upload-Offset": "0"}).status_code == 204
        srv.kill()
        srv.start()
        with srv.client() as c:
            # The upload resumes where it was: the offset was stored once the bytes were on disk.
            assert c.head(upload, headers=tus).headers["Upload-Offset"] == str(half)
            r = c.patch(upload, content=data[half:], headers={**patch, "Upload-Offset": str(half)})
            assert r.status_code == 204 and r.headers["Upload-Offset"] == str(len(data))
            upload_id = upload.rsplit("/", 1)[1]
            assert (srv.state_dir / "uploads" / f"{upload_id}.bin").read_bytes() == data
            again = c.get(f"/jobs/{job['id']}").json()
            assert again["state"] == "queued" and again["attempts"] == 0
            assert c.get(f"/jobs/{job['id']}/video").content == clip.read_bytes()
            r = c.post("/jobs", files={"video": (clip.name, clip.read_bytes(), "video/mp4")})
            assert r.status_code == 429 and r.headers["Retry-After"] and r.json()["error"]["code"] == "queue_full"
    finally:
        srv.stop()


def test_running_job_is_requeued_after_a_killed_server(tmp_path: Path, clip: Path) -> None:
    srv = Server(tmp_path / "state", env={"POSE_SERVICE_JOB_MAX_ATTEMPTS": "2"})
    srv.start()
    try:
        with srv.client() as c:
            job = submit(c, clip)
            old_pid = worker_pid(srv.state_dir, job["id"])
            wait_for(c, job["id"], {"running"})
        srv.kill()  # mid-job; its worker notices the pipe closing, or the next server kills it
        srv.start()
        with srv.client() as c:
            job = wait_for(c, job["id"], {"succeeded", "failed"})
            assert job["state"] == "succeeded" and job["attempts"] == 2
            assert "=== attempt 2 of 2" in c.get(f"/jobs/{job['id']}/log").text
        deadline = time.monotonic() + 10
        while Path(f"/proc/{old_pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not Path(f"/proc/{old_pid}").exists(), "the first worker outlived its server"
    finally:
        srv.stop()


def test_graceful_stop_gives_the_running_job_back(tmp_path: Path, clip: Path) -> None:
    srv = Server(tmp_path / "state", env={"POSE_SERVICE_JOB_MAX_ATTEMPTS": "1"}).start()
    try:
        with srv.client() as c:
            job = submit(c, clip)
            worker_pid(srv.state_dir, job["id"])
        srv.stop()  # SIGTERM: the worker is stopped, the job is not to blame
        srv.workers = 0
        srv.start()
        with srv.client() as c:
            job = c.get(f"/jobs/{job['id']}").json()
            assert (job["state"], job["attempts"], job["error"]) == ("queued", 0, None)
            assert job["history"][0]["outcome"] == "released: the server shut down"
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment without the project's packages: the original system's fatal `python`."""
    path = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=120)
    return path / "bin" / "python"


def test_worker_interpreter_without_packages(tmp_path: Path, clip: Path, bare_venv: Path) -> None:
    srv = Server(tmp_path / "state", env={"POSE_SERVICE_WORKER_PYTHON": str(bare_venv)}).start()
    try:
        with srv.client() as c:
            r = c.get("/readyz", timeout=120)
            assert r.status_code == 503
            err = r.json()["error"]
            assert str(bare_venv) in err["message"] and "numpy" in err["message"]
            first, *parts = err["message"].splitlines()  # a sentence, then one line per failing check with its fix
            assert first.startswith("not ready") and len(first) < 100 and parts
            assert "POSE_SERVICE_WORKER_PYTHON" in err["hint"]

            job = wait_for(c, submit(c, clip)["id"], {"succeeded", "failed"}, timeout=60)
            assert job["state"] == "failed" and job["error"]["code"] == "environment"
            assert "No module named" in job["error"]["message"]
            assert str(bare_venv) in job["error"]["hint"]
            assert c.get("/healthz").status_code == 200
    finally:
        srv.stop()


def test_serving_beyond_loopback_needs_a_token(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "pose_service", "serve", "--host", "0.0.0.0", "--port", "1"],
                       capture_output=True, text=True, timeout=60,
                       env={**__import__("os").environ, "POSE_SERVICE_STATE_DIR": str(tmp_path)})
    assert r.returncode == 2 and "POSE_SERVICE_API_TOKEN" in r.stderr


def test_token_is_required_when_set(tmp_path: Path) -> None:
    srv = Server(tmp_path / "state", workers=0, env={"POSE_SERVICE_API_TOKEN": "s3cret-token"}).start()
    try:
        assert httpx.get(f"{srv.url}/jobs").status_code == 401
        ok = httpx.get(f"{srv.url}/jobs", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200 and ok.json()["count"] == 0
    finally:
        srv.stop()
