"""Warm workers against a real server: a job handed to a worker started ahead runs as in a fresh one.

Each test starts its own server (one pool slot) so the warm worker it waits for is its own; the workers are real
processes found through /proc by the state folder on their command line.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import Server, submit, wait_for

_HEADER = re.compile(r"^=== attempt \d+ of \d+: warm worker pid (\d+) ", re.M)


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _group_alive(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group `pgid`. A job's own children (the mesh's process) die with
    it, and are then orphans this machine's init reaps in its own time: their zombies are no process left running."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def workers_of(state_dir: Path) -> dict[int, str]:
    """Every live worker process of the server using `state_dir` (warm or fresh): pid -> command line."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace").replace("\0", " ")
        except OSError:
            continue
        if "pose_service.jobs.worker" in cmdline and str(state_dir) in cmdline and _alive(int(entry)):
            found[int(entry)] = cmdline
    return found


def ready_warm_worker(state_dir: Path, *, other_than: int | None = None, timeout: float = 60.0) -> int:
    """The pid of the server's warm worker once it has imported the pipeline and waits for a job."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid, cmdline in workers_of(state_dir).items():
            log = Path(cmdline.split("--warm-log ", 1)[-1].split(" ", 1)[0]) if "--warm" in cmdline else None
            if pid != other_than and log is not None and log.is_file() and "waiting for a job" in log.read_text():
                return pid
        time.sleep(0.1)
    raise AssertionError(f"no warm worker waiting within {timeout} s: {workers_of(state_dir)}")


def wait_gone(pids: list[int], timeout: float = 15.0) -> list[int]:
    """Those of `pids` still alive after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


def assert_whole(log: str, pid: int, others: list[str]) -> None:
    """`log` is one attempt's, run by warm worker `pid`: its start-up lines in order (what it wrote while warming,
    the same first line as a fresh worker's), then the job's to the end; nothing of the jobs `others`."""
    marks = [f"worker starting: {sys.executable} (pid {pid})", "importing the pipeline",
             "warm: the pipeline is imported; waiting for a job", f"(pid {pid}, started ahead at ", "stage pose",
             "done: "]
    at = [log.find(m) for m in marks]
    assert all(i >= 0 for i in at) and at == sorted(at), list(zip(marks, at, strict=True))
    assert log.count("=== attempt") == 1 and log.count("worker starting") == 2
    assert {int(p) for p in re.findall(r"\(pid (\d+)", log)} == {pid}
    assert not [other for other in others if other in log]


@pytest.fixture
def warm_server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "state", env={"POSE_SERVICE_WARM_WORKERS": "1"}).start()
    yield srv
    srv.stop()


def _normalised(log: str, state_dir: Path) -> set[str]:
    """The log's own lines (not MediaPipe's, whose count varies with its threads), without paths, ids and numbers."""
    out = set()
    for line in log.splitlines():
        if line.startswith("===") or re.match(r"^([IWE]\d{4} |INFO: |WARNING: All log)", line):
            continue
        line = line.replace(str(state_dir), "STATE")
        line = re.sub(r"[0-9a-f]{32}", "JOB", line)
        out.add(re.sub(r"\d+(\.\d+)?", "0", line))
    return out


def test_a_warm_jobs_log_has_its_start_up_and_its_own_lines_only(warm_server: Server, tmp_path: Path,
                                                                 clip: Path) -> None:
    # Two jobs, each handed to a worker waiting ready (the second started while the first ran).
    logs, pids, ids = [], [], []
    with warm_server.client() as c:
        for _ in range(2):
            pid = ready_warm_worker(warm_server.state_dir, other_than=pids[-1] if pids else None)
            job = wait_for(c, submit(c, clip)["id"], {"succeeded", "failed"})
            assert job["state"] == "succeeded", job["error"]
            log = c.get(f"/jobs/{job['id']}/log").text
            assert [int(p) for p in _HEADER.findall(log)] == [pid], log[:500]
            logs.append(log)
            pids.append(pid)
            ids.append(job["id"])
    for log, pid, other in zip(logs, pids, reversed(ids), strict=True):
        assert_whole(log, pid, others=[other])
    assert pids[0] != pids[1]  # one job per process
    assert len(list((warm_server.state_dir / "warm").glob("*.log"))) <= 1  # only the next one's own log is left

    # Everything a fresh worker writes is there too (compared line by line, numbers and paths aside).
    cold = Server(tmp_path / "cold", env={"POSE_SERVICE_WARM_WORKERS": "0"}).start()
    try:
        with cold.client() as c:
            job = wait_for(c, submit(c, clip)["id"], {"succeeded", "failed"})
            assert job["state"] == "succeeded", job["error"]
            cold_log = c.get(f"/jobs/{job['id']}/log").text
        assert "warm worker" not in cold_log and not list((cold.state_dir / "warm").glob("*"))
    finally:
        cold.stop()
    missing = _normalised(cold_log, cold.state_dir) - _normalised(logs[0], warm_server.state_dir)
    assert not missing, missing


def test_jobs_queued_back_to_back_both_run_in_warm_workers(warm_server: Server, clip: Path) -> None:
    # Sent as the server starts: the first is handed to a worker still importing (its start-up lines reach the
    # job's log partly at the hand-over, the rest from the worker), the second to the one started meanwhile.
    with warm_server.client() as c:
        ids = [submit(c, clip)["id"] for _ in range(2)]
        pids = []
        for job_id in ids:
            job = wait_for(c, job_id, {"succeeded", "failed"})
            assert job["state"] == "succeeded", job["error"]
            log = c.get(f"/jobs/{job_id}/log").text
            pids += [int(p) for p in _HEADER.findall(log)]
            assert_whole(log, pids[-1], others=[i for i in ids if i != job_id])
    assert len(pids) == 2 and pids[0] != pids[1], pids


def test_a_cancel_at_any_moment_cancels(warm_server: Server, clip: Path) -> None:
    # Queued, being handed to its worker, or running: a cancel is never refused and the job ends cancelled.
    with warm_server.client() as c:
        for delay in (0.0, 0.01, 0.03, 0.1):
            ready_warm_worker(warm_server.state_dir)
            job = submit(c, clip, mesh="true")
            time.sleep(delay)
            r = c.post(f"/jobs/{job['id']}/cancel")
            assert r.status_code == 202, (delay, r.text)
            job = wait_for(c, job["id"], {"cancelled", "failed", "succeeded"}, timeout=30)
            assert job["state"] == "cancelled", (delay, job)
        assert wait_for(c, submit(c, clip)["id"], {"succeeded", "failed"})["state"] == "succeeded"
    assert len(workers_of(warm_server.state_dir)) == 1  # the next warm worker only


def test_a_warm_worker_killed_while_waiting_is_replaced(warm_server: Server, clip: Path) -> None:
    state = warm_server.state_dir
    first = ready_warm_worker(state)
    os.killpg(first, signal.SIGKILL)
    second = ready_warm_worker(state, other_than=first)
    assert wait_gone([first]) == []
    with warm_server.client() as c:
        job = wait_for(c, submit(c, clip)["id"], {"succeeded", "failed"})
        assert job["state"] == "succeeded", job["error"]
        log = c.get(f"/jobs/{job['id']}/log").text
        assert [int(p) for p in _HEADER.findall(log)] == [second]
        assert f"pid {first}" not in log
    assert f"warm worker {first} ended while waiting (killed by SIGKILL" in warm_server.log.read_text()


def test_a_job_cancelled_in_a_warm_worker_stops_its_process_group_only(warm_server: Server, clip: Path) -> None:
    state = warm_server.state_dir
    pid = ready_warm_worker(state)
    with warm_server.client() as c:
        job = submit(c, clip, mesh="true")  # long enough to be cancelled while it runs
        while c.get(f"/jobs/{job['id']}").json()["stage"] in (None, "starting"):
            time.sleep(0.05)
        assert c.post(f"/jobs/{job['id']}/cancel").status_code == 202
        job = wait_for(c, job["id"], {"cancelled", "failed", "succeeded"}, timeout=30)
        assert job["state"] == "cancelled" and job["error"]["code"] == "cancelled"
        assert [int(p) for p in _HEADER.findall(c.get(f"/jobs/{job['id']}/log").text)] == [pid]
        assert wait_gone([pid]) == []
        assert _group_alive(pid) == []  # the mesh's process too
        ready_warm_worker(state, other_than=pid)  # the slot has its next one
        assert wait_for(c, submit(c, clip)["id"], {"succeeded", "failed"})["state"] == "succeeded"


def test_shutdown_leaves_no_worker_behind(warm_server: Server, clip: Path) -> None:
    state = warm_server.state_dir
    ready_warm_worker(state)
    with warm_server.client() as c:
        job = submit(c, clip, mesh="true")  # still running while the next warm worker starts
        wait_for(c, job["id"], {"running"})
        deadline = time.monotonic() + 30
        while len(workers_of(state)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)  # the job's worker, and the next one warming
    pids = list(workers_of(state))
    assert len(pids) == 2, workers_of(state)
    warm_server.stop()  # SIGTERM: the server's shutdown kills them all
    assert warm_server.proc is not None and warm_server.proc.returncode is not None
    assert wait_gone(pids, timeout=5) == []
    assert not list((state / "warm").glob("*.log"))


def test_a_killed_server_leaves_no_warm_worker_behind(warm_server: Server) -> None:
    state = warm_server.state_dir
    # A waiting warm worker sees its pipe break when the server dies, and exits.
    pid = ready_warm_worker(state)
    warm_server.kill()
    assert wait_gone([pid]) == []
    # One that could not notice (stopped) is killed by the next server.
    warm_server.start()
    stuck = ready_warm_worker(state)
    os.kill(stuck, signal.SIGSTOP)
    warm_server.kill()
    time.sleep(3)
    assert _alive(stuck)
    warm_server.start()
    assert wait_gone([stuck]) == []
    assert f"killed warm worker {stuck} left waiting by an earlier server" in warm_server.log.read_text()
    ready_warm_worker(state, other_than=stuck)
    assert httpx.get(f"{warm_server.url}/healthz").status_code == 200
