"""Real processes for scale-out: Debian's redis-server, `pose-service serve --queue celery`, `pose-service worker`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import Server, free_port

TOKEN = "celery-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# The server gives up a silent worker's attempt after this many seconds (60 by default).
HEARTBEAT_TIMEOUT_S = 6


class Redis:
    """redis-server on a free loopback port, in memory only; can be stopped and started again on the same port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> Redis:
        self.folder.mkdir(parents=True, exist_ok=True)
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--daemonize", "no", "--dir", str(self.folder)]
        with (self.folder / "redis.log").open("ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        import redis

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return self
            except redis.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"redis-server did not answer: {(self.folder / 'redis.log').read_text()[-1000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Worker:
    """`pose-service worker` in its own process group (so SIGKILL takes its pool processes with it)."""

    def __init__(self, folder: Path, name: str, *, broker: str, api: str, token: str = TOKEN) -> None:
        self.name = name
        self.folder = folder
        self.broker = broker
        self.log = folder / f"{name}.log"
        self.cmd = [sys.executable, "-m", "pose_service", "worker", "--broker", broker, "--api", api, "--token", token,
                    "--concurrency", "1", "--name", name]
        self.env = {**os.environ, "POSE_SERVICE_STATE_DIR": str(folder / name), "POSE_SERVICE_REMOTE_HEARTBEAT_S": "1"}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                         start_new_session=True)
        return self

    def kill(self) -> None:
        """SIGKILL to the whole worker: the machine is gone."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def wait_alive(client: httpx.Client, names: set[str], timeout: float = 90.0) -> dict[str, Any]:
    """Wait until every named worker reports to the API."""
    deadline = time.monotonic() + timeout
    seen: dict[str, Any] = {}
    while time.monotonic() < deadline:
        seen = {w["name"]: w for w in client.get("/workers").json()["data"] if w["alive"]}
        if names <= set(seen):
            return seen
        time.sleep(0.3)
    raise AssertionError(f"workers {names - set(seen)} never reported; alive: {sorted(seen)}")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian's `redis-server` package; `make test` installs it)")
    srv = Redis(tmp_path_factory.mktemp("redis")).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def clip(small_spin_clip: Path) -> Path:
    return small_spin_clip


def celery_server(folder: Path, broker: str) -> Server:
    return Server(folder / "state", workers=0, env={
        "POSE_SERVICE_QUEUE": "celery", "POSE_SERVICE_BROKER_URL": broker, "POSE_SERVICE_API_TOKEN": TOKEN,
        "POSE_SERVICE_HEARTBEAT_TIMEOUT_S": str(HEARTBEAT_TIMEOUT_S), "POSE_SERVICE_JOB_MAX_ATTEMPTS": "3"})


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory, redis_server: Redis) -> Iterator[tuple[Server, list[Worker]]]:
    """A celery-queue server and two workers on broker db 0."""
    folder = tmp_path_factory.mktemp("cluster")
    srv = celery_server(folder, redis_server.url(0)).start()
    workers = [Worker(folder, f"w{i}@test", broker=redis_server.url(0), api=srv.url).start() for i in (1, 2)]
    try:
        with httpx.Client(base_url=srv.url, headers=AUTH, timeout=30) as c:
            wait_alive(c, {w.name for w in workers})
        yield srv, workers
    finally:
        for w in workers:
            w.stop()
        srv.stop()


@pytest.fixture
def api(cluster: tuple[Server, list[Worker]]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cluster[0].url, headers=AUTH, timeout=30) as c:
        yield c
