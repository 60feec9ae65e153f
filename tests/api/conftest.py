"""A real `pose-service serve` on 127.0.0.1 (a subprocess on a free port) and a real small clip."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

UPLOAD_LIMIT = 4 * 2**20  # small, so the oversize test stays cheap


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One server process with its own state folder; can be killed with SIGKILL and started again."""

    def __init__(self, state_dir: Path, *, workers: int = 1, env: dict[str, str] | None = None) -> None:
        self.state_dir = state_dir
        self.workers = workers
        self.extra_env = env or {}
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = state_dir.parent / f"{state_dir.name}-server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def start(self, timeout: float = 60.0) -> Server:
        env = {**os.environ, "POSE_SERVICE_STATE_DIR": str(self.state_dir),
               "POSE_SERVICE_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT), **self.extra_env}
        cmd = [sys.executable, "-m", "pose_service", "serve", "--port", str(self.port), "--workers", str(self.workers)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not answer within {timeout} s: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as when the machine loses power or the OOM killer strikes."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


def wait_for(client: httpx.Client, job_id: str, states: set[str], timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/jobs/{job_id}").json()
        if job["state"] in states:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} not in {states} after {timeout} s: {job}")


def worker_pid(state_dir: Path, job_id: str, timeout: float = 60.0) -> int:
    """The pid of the job's worker, from the job store the server writes."""
    from pose_service.jobs import JobStore

    store = JobStore(state_dir / "jobs.db")
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = store.get(job_id)
            if job is not None and job.pid:
                return job.pid
            time.sleep(0.1)
    finally:
        store.close()
    raise AssertionError(f"job {job_id} got no worker within {timeout} s")


def submit(client: httpx.Client, clip: Path, **fields: str) -> dict[str, Any]:
    """POST the clip as multipart; without the body mesh unless asked, so each job takes seconds."""
    fields.setdefault("mesh", "false")
    with clip.open("rb") as f:
        r = client.post("/jobs", files={"video": (clip.name, f, "video/mp4")}, data=fields)
    assert r.status_code == 202, r.text
    job: dict[str, Any] = r.json()
    return job


@pytest.fixture(scope="session")
def clip(small_spin_clip: Path) -> Path:
    return small_spin_clip


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The shared server: one worker, one attempt per job (so a killed worker is a failed job, not a retry)."""
    srv = Server(tmp_path_factory.mktemp("api") / "state", env={"POSE_SERVICE_JOB_MAX_ATTEMPTS": "1"}).start()
    yield srv
    srv.stop()


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c
