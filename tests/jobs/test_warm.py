"""A warm worker's hand-over, process by process (real `python -m pose_service.jobs.worker --warm`, no server): the
job's log gets every line the worker wrote, once, however far it had got when the job came or when it died."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pose_service.config import Settings
from pose_service.jobs.supervisor import warm_command, worker_env
from pose_service.jobs.warm import WarmWorker, kill_stale


def _start(tmp_path: Path, python: str | None = None) -> WarmWorker:
    settings = Settings(state_dir=tmp_path / "state", worker_python=python)
    return WarmWorker.start(lambda fd, path: warm_command(settings, fd=fd, log_path=path), env=worker_env(settings),
                            folder=settings.service_dir / "warm")


def _job(tmp_path: Path, video: Path) -> tuple[dict[str, Any], Path]:
    folder = tmp_path / "job"
    (folder / "out").mkdir(parents=True, exist_ok=True)
    log = folder / "job.log"
    log.write_bytes(b"=== header\n")
    return {"video": str(video), "out": str(folder / "out"), "options": {}, "log": str(log), "cwd": str(folder)}, log


def _messages(warm: WarmWorker) -> list[dict[str, Any]]:
    """What it sent on its pipe until it ended (heartbeats left out)."""
    data = b""
    while chunk := os.read(warm.read_fd, 65536):
        data += chunk
    return [m for m in map(json.loads, data.splitlines()) if m["type"] != "heartbeat"]


def _wait_ready(warm: WarmWorker, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not warm.ready and time.monotonic() < deadline:
        assert warm.drain(), warm.how_it_ended()
        time.sleep(0.05)
    assert warm.ready


@pytest.mark.parametrize("when", ["ready", "importing"])
def test_the_jobs_log_holds_the_start_up_and_the_job_once(tmp_path: Path, when: str) -> None:
    # A file that is no video: the job fails fast on the probe, as in a fresh worker (exit 2, bad input).
    warm = _start(tmp_path)
    try:
        if when == "ready":
            _wait_ready(warm)
        video = tmp_path / "notes.mp4"
        video.write_text("not a video\n")
        job, log = _job(tmp_path, video)
        assert warm.hand_over(job, log)
        assert warm.proc.wait(60) == 2
        warm.settle_log(log)
        assert [m["type"] for m in _messages(warm)][-1] == "error"
        text = log.read_text()
        lines = text.splitlines()
        assert lines[0] == "=== header" and lines[1].endswith(f"worker starting: {sys.executable} (pid {warm.pid})")
        for once in ("importing the pipeline", "waiting for a job", "started ahead at", "bad input: "):
            assert text.count(once) == 1, (once, text)
        assert text.index("waiting for a job") < text.index("started ahead at") < text.index("bad input: ")
        assert not warm.log_path.exists()
    finally:
        warm.discard()


def test_a_worker_killed_before_it_took_the_job_leaves_its_lines_in_the_jobs_log(tmp_path: Path) -> None:
    warm = _start(tmp_path)
    try:
        deadline = time.monotonic() + 30
        while "importing the pipeline" not in warm.log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.01)
        job, log = _job(tmp_path, tmp_path / "clip.mp4")
        assert warm.hand_over(job, log)  # copied what it had written: its first lines
        os.killpg(warm.pid, signal.SIGKILL)
        warm.proc.wait(10)
        warm.settle_log(log)  # the supervisor appends the rest, if any
        text = log.read_text()
        assert text.startswith("=== header\n") and text.count("worker starting") == 1
        assert text.count("importing the pipeline") == 1
        assert not warm.log_path.exists()
    finally:
        warm.discard()


def test_imports_failing_after_the_hand_over_fail_the_job_as_a_fresh_worker_would(tmp_path: Path) -> None:
    # The job is on stdin before the worker starts (handed over while it imports), and its interpreter lacks our
    # packages: the job fails with the environment error a fresh worker sends, its log holding the traceback.
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=120)
    settings = Settings(state_dir=tmp_path / "state", worker_python=bare / "bin" / "python")
    warm_log = tmp_path / "warm.log"
    job, log = _job(tmp_path, tmp_path / "clip.mp4")
    stdin = tmp_path / "stdin"
    stdin.write_text(json.dumps({**job, "warm_log_offset": 0}) + "\n")
    read_fd, write_fd = os.pipe()
    with stdin.open("rb") as inp, warm_log.open("ab") as out:
        proc = subprocess.run(warm_command(settings, fd=write_fd, log_path=warm_log), stdin=inp, stdout=out,
                              stderr=subprocess.STDOUT, pass_fds=(write_fd,), env=worker_env(settings), timeout=60)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        errors = [m for m in map(json.loads, pipe.read().splitlines()) if m["type"] == "error"]
    assert proc.returncode == 1 and len(errors) == 1, errors
    assert errors[0]["code"] == "environment" and "No module named" in errors[0]["message"]
    assert str(bare / "bin" / "python") in errors[0]["hint"]
    text = log.read_text()
    assert text.startswith("=== header\n") and text.count("ModuleNotFoundError") == 1, text
    assert not warm_log.exists()


def test_a_new_server_kills_warm_workers_an_old_one_left(tmp_path: Path) -> None:
    warm = _start(tmp_path)
    try:
        deadline = time.monotonic() + 30
        while "worker starting" not in warm.log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.01)  # running its own command line
        os.kill(warm.pid, signal.SIGSTOP)  # it cannot notice anything
        assert kill_stale(warm.log_path.parent) == [warm.pid]
        assert warm.proc.wait(10) == -signal.SIGKILL
        assert not list(warm.log_path.parent.glob("warm-*.log"))
    finally:
        warm.discard()
