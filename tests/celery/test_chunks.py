"""A long remote job in chunks: real redis-server, a real `serve --queue celery` with `remote_chunks` auto, real
`pose-service worker` processes running one Celery task per chunk and one joining them.

The clip is the synthetic 360 of tests/test_chunks.py (91 frames at 30 fps, the jump at frames 36-60), cut as
there: chunks of at least 1.5 s overlapping by 0.5 s, [(0, 46), (31, 91)], so the seam falls inside the jump.
Tolerances against a serial run are those of the local path (tests/test_chunks.py): the same jumps, takeoff and
landing within 1 frame, spin and flip within 45 degrees, the rider's frames within 3, keypoints under 10 px apart.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from pose_service.chunks import plan_chunks
from pose_service.config import Settings
from pose_service.pipeline import AnalyzeOptions, analyze
from tests.api.conftest import Server, submit, wait_for
from tests.celery.conftest import AUTH, TOKEN, Redis, Worker, wait_alive

CHUNKS = [(0, 46), (31, 91)]


@pytest.fixture(scope="module")
def chunk_server(tmp_path_factory: pytest.TempPathFactory, redis_server: Redis) -> Iterator[tuple[Server, Path]]:
    """A celery-queue server that cuts any clip of 3 s or more into chunks (its own broker db)."""
    folder = tmp_path_factory.mktemp("chunked")
    srv = Server(folder / "state", workers=0, env={
        "POSE_SERVICE_QUEUE": "celery", "POSE_SERVICE_BROKER_URL": redis_server.url(2),
        "POSE_SERVICE_API_TOKEN": TOKEN, "POSE_SERVICE_HEARTBEAT_TIMEOUT_S": "20", "POSE_SERVICE_JOB_MAX_ATTEMPTS": "1",
        "POSE_SERVICE_REMOTE_CHUNKS": "auto", "POSE_SERVICE_REMOTE_CHUNK_MIN_S": "1.5",
        "POSE_SERVICE_CHUNK_OVERLAP_S": "0.5", "POSE_SERVICE_BROKER_CHECK_S": "5"}).start()
    yield srv, folder
    srv.stop()


def _workers(folder: Path, broker: str, api: httpx.Client, names: list[str],
             env: dict[str, str] | None = None) -> list[Worker]:
    workers = []
    for name in names:
        w = Worker(folder, name, broker=broker, api=str(api.base_url))
        w.env.update(env or {})
        workers.append(w.start())
    wait_alive(api, {w.name for w in workers})
    return workers


def _rider(result: dict[str, Any]) -> dict[str, Any]:
    return next(t for t in result["tracks"] if t["is_rider"])


def test_a_long_job_runs_as_chunk_tasks_and_matches_a_serial_run(
    chunk_server: tuple[Server, Path], redis_server: Redis, spin_clip: Path, tmp_path: Path
) -> None:
    srv, folder = chunk_server
    assert plan_chunks(91, 30.0, 8, overlap_s=0.5, min_chunk_s=1.5) == CHUNKS
    t0 = time.monotonic()
    serial = analyze(spin_clip, out_dir=tmp_path / "serial", options=AnalyzeOptions(mesh=False, jobs=1),
                     settings=Settings()).result
    serial_s = time.monotonic() - t0
    with httpx.Client(base_url=srv.url, headers=AUTH, timeout=30) as api:
        workers = _workers(folder, redis_server.url(2), api, ["c1@test", "c2@test"])
        try:
            t0 = time.monotonic()
            job = submit(api, spin_clip)
            done = wait_for(api, job["id"], {"succeeded", "failed", "cancelled"}, timeout=240)
            remote_s = time.monotonic() - t0
            assert done["state"] == "succeeded", done["error"]
            result = api.get(f"/jobs/{job['id']}/result.json").json()
            log = api.get(f"/jobs/{job['id']}/log").text
            attempts = api.get(f"/workers/jobs/{job['id']}/attempts").json()
        finally:
            for w in workers:
                w.stop()
    print(f"\nserial in-process {serial_s:.1f} s; remote in chunks {remote_s:.1f} s (submit to succeeded)")
    # Both chunks and the join ran as their own tasks, each on a worker, and said so in the job's log.
    parts = {p["part"]: p for p in attempts[-1]["parts"]}
    assert sorted(parts) == ["0", "1", "join"], parts
    assert [(parts[k]["start"], parts[k]["stop"]) for k in ("0", "1")] == CHUNKS
    assert all(p["state"] == "done" and p["worker"] in {"c1@test", "c2@test"} for p in parts.values()), parts
    print("parts ran on: " + ", ".join(f"{k} {p['worker']}" for k, p in parts.items()))
    for k, (start, stop) in enumerate(CHUNKS):
        assert f"chunk {k} (frames {start}-{stop - 1}) on worker" in log
        assert f"[chunk {k}] " in log and f"done: chunk frames {start}-{stop - 1}" in log
    assert "the clip runs as 2 chunk tasks (frames 0-45, 31-90) on any workers, then a join task" in log
    assert "the join on worker" in log and "[join] joining 2 chunks" in log
    assert result["backend"]["jobs"] == 2, "the clip was joined from two chunks"
    # The result matches a serial run within the local chunked path's tolerances.
    assert result["timestamps_s"] == serial["timestamps_s"]
    ja, jb = serial["analysis"]["jumps"], result["analysis"]["jumps"]
    assert len(ja) == len(jb) == 1
    for x, y in zip(ja, jb, strict=True):
        assert abs(x["takeoff_frame"] - y["takeoff_frame"]) <= 1
        assert abs(x["landing_frame"] - y["landing_frame"]) <= 1
        assert x.get("trick") == y.get("trick")
        assert abs(x["spin_deg"] - y["spin_deg"]) <= 45.0 and abs(x["flip_deg"] - y["flip_deg"]) <= 45.0
    assert len(result["tracks"]) == len(serial["tracks"])
    ra, rb = _rider(serial), _rider(result)
    assert abs(len(ra["frames"]) - len(rb["frames"])) <= 3
    common = sorted(set(ra["frames"]) & set(rb["frames"]))
    ka = np.array(ra["keypoints_2d"])[np.searchsorted(ra["frames"], common)]
    kb = np.array(rb["keypoints_2d"])[np.searchsorted(rb["frames"], common)]
    px = float(np.linalg.norm(ka[..., :2] - kb[..., :2], axis=-1).mean())
    print(f"rider keypoints {px:.2f} px apart on average over {len(common)} frames")
    assert px < 10.0, f"the rider's keypoints {px:.1f} px apart on average"


def test_a_failing_chunk_fails_the_job_naming_the_chunk(
    chunk_server: tuple[Server, Path], redis_server: Redis, spin_clip: Path
) -> None:
    # A worker whose runs may use 1 MiB: its supervisor kills every chunk's subprocess at once (the fan-out, which
    # runs none, still works).
    srv, folder = chunk_server
    with httpx.Client(base_url=srv.url, headers=AUTH, timeout=30) as api:
        workers = _workers(folder, redis_server.url(2), api, ["small@test"], env={"POSE_SERVICE_JOB_MEMORY_MB": "1"})
        try:
            job = submit(api, spin_clip)
            done = wait_for(api, job["id"], {"succeeded", "failed", "cancelled"}, timeout=120)
            attempts = api.get(f"/workers/jobs/{job['id']}/attempts").json()
        finally:
            for w in workers:
                w.stop()
    assert done["state"] == "failed"
    error = done["error"]
    assert error["code"] == "memory_limit", error
    assert re.match(r"chunk (0 \(frames 0-45\)|1 \(frames 31-90\)) on worker small@test: the worker used more than "
                    r"the memory limit of 1 MiB", error["message"]), error["message"]
    parts = {p["part"]: p["state"] for p in attempts[-1]["parts"]}
    assert parts == {"0": "failed", "1": "failed", "join": "failed"}, parts
    print(f"\nfailed chunk: {json.dumps(error['message'])}")


def test_cancel_stops_every_running_chunk(chunk_server: tuple[Server, Path], redis_server: Redis,
                                          spin_clip: Path) -> None:
    """Cancelled while both chunks run on two workers: each learns at its next heartbeat (409), kills its
    subprocess and sends nothing more; the join never runs."""
    srv, folder = chunk_server
    with httpx.Client(base_url=srv.url, headers=AUTH, timeout=30) as api:
        workers = _workers(folder, redis_server.url(2), api, ["k1@test", "k2@test"])
        try:
            job = submit(api, spin_clip)
            deadline = time.monotonic() + 120
            parts: dict[str, Any] = {}
            while time.monotonic() < deadline:
                attempts = api.get(f"/workers/jobs/{job['id']}/attempts").json()
                parts = {p["part"]: p["state"] for p in attempts[-1]["parts"]} if attempts else {}
                if parts.get("0") == parts.get("1") == "running":
                    break
                time.sleep(0.2)
            assert parts.get("0") == parts.get("1") == "running", parts
            r = api.post(f"/jobs/{job['id']}/cancel")
            assert r.status_code == 202 and r.json()["state"] == "cancelled"
            stopped = {"attempt 1 part 0 stale", "attempt 1 part 1 stale"}
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not all(any(s in w.text() for w in workers) for s in stopped):
                time.sleep(0.5)
            logs = "".join(w.text() for w in workers)
        finally:
            for w in workers:
                w.stop()
        assert all(s in logs for s in stopped), logs[-3000:]
        done = api.get(f"/jobs/{job['id']}").json()
        assert done["state"] == "cancelled"
        attempts = api.get(f"/workers/jobs/{job['id']}/attempts").json()
        assert {p["part"]: p["state"] for p in attempts[-1]["parts"]} == {"0": "cancelled", "1": "cancelled",
                                                                         "join": "cancelled"}
        assert api.get(f"/jobs/{job['id']}/result.json").status_code == 404
        assert "[join]" not in api.get(f"/jobs/{job['id']}/log").text


def test_a_chunk_whose_message_vanished_is_sent_again(chunk_server: tuple[Server, Path], redis_server: Redis,
                                                       spin_clip: Path) -> None:
    """One worker: it fans the job out and takes chunk 0, chunk 1 waits in Redis; Redis restarts without
    persistence, so that message is gone. The server finds the part queued with no message in the broker (it reads
    the broker every `POSE_SERVICE_BROKER_CHECK_S`, here 5 s) and sends it again: the job still succeeds, never stuck
    waiting."""
    srv, folder = chunk_server
    with httpx.Client(base_url=srv.url, headers=AUTH, timeout=30) as api:
        workers = _workers(folder, redis_server.url(2), api, ["r1@test"])
        try:
            job = submit(api, spin_clip)
            deadline = time.monotonic() + 120
            parts: dict[str, Any] = {}
            while time.monotonic() < deadline:
                attempts = api.get(f"/workers/jobs/{job['id']}/attempts").json()
                parts = {p["part"]: p["state"] for p in attempts[-1]["parts"]} if attempts else {}
                if parts.get("0") == "running":
                    break
                time.sleep(0.1)
            assert parts == {"0": "running", "1": "queued", "join": "waiting"}, parts
            redis_server.stop()
            time.sleep(2)
            redis_server.start()
            done = wait_for(api, job["id"], {"succeeded", "failed", "cancelled"}, timeout=180)
        finally:
            for w in workers:
                w.stop()
    assert done["state"] == "succeeded", done["error"]
    assert srv.log.read_text().count(f"job {job['id']} attempt 1: part 1 (frames 31-90) published as task") == 2


def test_a_worker_dying_mid_chunk_loses_the_attempt_naming_the_chunk(
    chunk_server: tuple[Server, Path], redis_server: Redis, spin_clip: Path
) -> None:
    """SIGKILL to the whole worker running chunk 1 (the machine is gone): once it has been silent for the heartbeat
    timeout the attempt is lost, and with no attempts left the job fails saying which chunk's worker went silent."""
    srv, folder = chunk_server
    with httpx.Client(base_url=srv.url, headers=AUTH, timeout=30) as api:
        workers = _workers(folder, redis_server.url(2), api, ["d1@test", "d2@test"])
        victim: Worker | None = None
        try:
            job = submit(api, spin_clip)
            deadline = time.monotonic() + 120
            parts: dict[str, Any] = {}
            while time.monotonic() < deadline:
                attempts = api.get(f"/workers/jobs/{job['id']}/attempts").json()
                parts = {p["part"]: p for p in attempts[-1]["parts"]} if attempts else {}
                if parts and parts["1"]["state"] == "running":
                    break
                time.sleep(0.1)
            victim = next(w for w in workers if w.name == parts["1"]["worker"])
            victim.kill()
            done = wait_for(api, job["id"], {"succeeded", "failed", "cancelled"}, timeout=120)
        finally:
            for w in workers:
                if w is not victim:
                    w.stop()
    assert done["state"] == "failed"
    assert done["error"]["code"] == "worker_lost" and victim is not None
    assert f"the worker {victim.name} running chunk 1 (frames 31-90) was silent for" in done["error"]["message"]
