"""Scale-out end to end: real redis-server, a real `serve --queue celery`, real `pose-service worker` processes.

Order matters within the shared cluster: jobs spread over both workers first, then one worker is killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import Server, submit, wait_for
from tests.celery.conftest import AUTH, HEARTBEAT_TIMEOUT_S, TOKEN, Redis, Worker, celery_server


def _attempts(api: httpx.Client, job_id: str) -> list[dict[str, Any]]:
    r = api.get(f"/workers/jobs/{job_id}/attempts")
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()
    return rows


def test_jobs_spread_over_workers_and_succeed(api: httpx.Client, cluster: tuple[Server, list[Worker]],
                                              clip: Path) -> None:
    jobs = [submit(api, clip) for _ in range(6)]
    done = [wait_for(api, j["id"], {"succeeded", "failed", "cancelled"}, timeout=300) for j in jobs]
    assert [j["state"] for j in done] == ["succeeded"] * 6, [j["error"] for j in done]
    ran_on = {_attempts(api, j["id"])[-1]["worker"] for j in jobs}
    assert ran_on == {"w1@test", "w2@test"}, ran_on  # both workers took jobs
    for job in done:
        assert job["attempts"] == 1 and "result.json" in job["files"]
        assert _succeeded_events(api, job["id"]) == 1
    # The result came back over HTTP into the server's job folder, and is served like a local job's.
    result = api.get(f"/jobs/{jobs[0]['id']}/result.json").json()
    assert result["schema_version"] == 1 and result["video"]["width"] == 256 and result["tracks"]
    # The worker's log reached the server's job log, attempt by attempt.
    log = api.get(f"/jobs/{jobs[0]['id']}/log").text
    assert "=== attempt 1 on worker" in log and "stage pose" in log
    # Health: both workers alive, heartbeat fresh; per-worker metrics.
    workers = {w["name"]: w for w in api.get("/workers").json()["data"]}
    assert all(workers[n]["alive"] and workers[n]["heartbeat_age_s"] < HEARTBEAT_TIMEOUT_S for n in ("w1@test", "w2@test"))
    assert sum(workers[n]["attempts"].get("succeeded", 0) for n in workers) >= 6
    metrics = api.get("/metrics").text
    assert 'pose_service_worker_up{worker="w1@test"} 1.0' in metrics
    assert 'pose_service_worker_attempts{outcome="succeeded",worker="w2@test"}' in metrics


def _succeeded_events(api: httpx.Client, job_id: str) -> int:
    """How many times the job's event stream says it succeeded (it must be exactly once)."""
    text = api.get(f"/jobs/{job_id}/events").text
    return sum(1 for block in text.split("\n\n") if "event: state" in block and '"state": "succeeded"' in block)


def test_redis_restart_mid_run(api: httpx.Client, cluster: tuple[Server, list[Worker]], redis_server: Redis,
                               clip: Path) -> None:
    jobs = [submit(api, clip) for _ in range(3)]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # two run, the third waits in Redis
        if api.get("/jobs", params={"state": "running"}).json()["count"] == 2:
            break
        time.sleep(0.2)
    redis_server.stop()  # in memory only: the waiting job's message is gone with it
    time.sleep(3)
    redis_server.start()
    done = [wait_for(api, j["id"], {"succeeded", "failed", "cancelled"}, timeout=180) for j in jobs]
    assert [j["state"] for j in done] == ["succeeded"] * 3, [j["error"] for j in done]
    assert all(_succeeded_events(api, j["id"]) == 1 for j in jobs)


def _wait_stage(api: httpx.Client, job_id: str, stage: str = "pose", timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = api.get(f"/jobs/{job_id}").json()
        if state["state"] == "running" and state["stage"] == stage:
            return
        time.sleep(0.2)
    raise AssertionError(f"job never reached the {stage} stage: {state}")


def test_killed_pool_process_is_redelivered_at_once(api: httpx.Client, cluster: tuple[Server, list[Worker]],
                                                    clip: Path) -> None:
    """SIGKILL to the Celery pool process running the job: task_reject_on_worker_lost requeues its message,
    and the same message arriving again takes the job over at once (no heartbeat timeout to wait for)."""
    _, workers = cluster
    job = submit(api, clip)
    _wait_stage(api, job["id"])
    first = _attempts(api, job["id"])[-1]
    worker = next(w for w in workers if w.name == first["worker"])
    assert worker.proc is not None
    children = Path(f"/proc/{worker.proc.pid}/task/{worker.proc.pid}/children").read_text().split()
    assert len(children) == 1  # --concurrency 1: one pool process
    os.kill(int(children[0]), signal.SIGKILL)
    done = wait_for(api, job["id"], {"succeeded", "failed", "cancelled"}, timeout=180)
    assert done["state"] == "succeeded", done["error"]
    rows = _attempts(api, job["id"])
    assert [(r["n"], r["outcome"]) for r in rows] == [(1, "lost"), (2, "succeeded")]
    assert "its task was delivered again" in (done["history"][0]["outcome"] or "")
    assert _succeeded_events(api, job["id"]) == 1
    assert worker.proc.poll() is None  # the worker itself lives on with a new pool process


def test_killed_worker_job_finishes_on_the_other(api: httpx.Client, cluster: tuple[Server, list[Worker]],
                                                 clip: Path) -> None:
    server, workers = cluster
    job = submit(api, clip)
    _wait_stage(api, job["id"])  # mid-job: the pose model is running
    first = _attempts(api, job["id"])[-1]
    victim = next(w for w in workers if w.name == first["worker"])
    victim.kill()
    killed_at = time.monotonic()
    done = wait_for(api, job["id"], {"succeeded", "failed", "cancelled"}, timeout=180)
    recovered_s = time.monotonic() - killed_at
    rows = _attempts(api, job["id"])
    table = "\n".join(f"  attempt {r['n']}: {r['worker']:10} {r['outcome']}" for r in rows)
    print(f"\nkill test: job {job['id'][:8]} recovered in {recovered_s:.1f} s after SIGKILL\n{table}")
    assert done["state"] == "succeeded", done["error"]
    assert done["attempts"] == 2 and [r["n"] for r in rows] == [1, 2]
    assert rows[0]["worker"] == victim.name and rows[0]["outcome"] == "lost"
    assert rows[1]["worker"] != victim.name and rows[1]["outcome"] == "succeeded"
    assert "attempt 1 was lost" in (done["history"][0]["outcome"] or "")
    workers_now = {w["name"]: w for w in api.get("/workers").json()["data"]}
    assert not workers_now[victim.name]["alive"] and workers_now[rows[1]["worker"]]["alive"]
    # The lost attempt cannot touch the job any more: heartbeat, upload and finish are all refused.
    before = api.get(f"/jobs/{job['id']}/result.json").content
    stale = f"/workers/jobs/{job['id']}/attempts/1"
    r = api.post(f"{stale}/progress", json={"worker": victim.name, "progress": 0.5, "stage": "pose"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "stale_attempt"
    r = api.put(f"{stale}/files/result.json", params={"worker": victim.name}, content=b"{}")
    assert r.status_code == 409
    r = api.post(f"{stale}/finish", json={"worker": victim.name, "state": "succeeded", "outcome": "succeeded",
                                         "files": {"result.json": 2}})
    assert r.status_code == 409
    assert api.get(f"/jobs/{job['id']}/result.json").content == before
    assert api.get(f"/jobs/{job['id']}").json()["attempts"] == 2 and _succeeded_events(api, job["id"]) == 1
    # A new worker takes the victim's place for anything that follows.
    workers[workers.index(victim)] = Worker(victim.folder, victim.name + "b", broker=victim.broker,
                                            api=server.url).start()


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory, redis_server: Redis) -> Any:
    """A celery-queue server with no workers (its own broker db): the test plays a worker over HTTP."""
    srv = celery_server(tmp_path_factory.mktemp("bare"), redis_server.url(1)).start()
    yield srv
    srv.stop()


def test_duplicate_upload_and_finish_are_harmless(bare: Server, clip: Path) -> None:
    with httpx.Client(base_url=bare.url, headers=AUTH, timeout=30) as api:
        job = submit(api, clip)
        claim = api.post(f"/workers/jobs/{job['id']}/claim", json={"worker": "hand@test", "task_id": "t1"})
        assert claim.status_code == 200, claim.text
        n = claim.json()["attempt"]
        assert n == 1 and claim.json()["limits"]["hard_s"] > claim.json()["limits"]["soft_s"]
        # A second delivery of another message for the same job while attempt 1 is alive: refused.
        busy = api.post(f"/workers/jobs/{job['id']}/claim", json={"worker": "other@test", "task_id": "t2"})
        assert busy.status_code == 409 and busy.json()["error"]["code"] == "job_busy"
        # The input comes over HTTP in pieces (Range), as a worker resumes a broken download.
        size = claim.json()["video_size"]
        head = api.get(f"/jobs/{job['id']}/video", headers={"Range": "bytes=0-999"})
        tail = api.get(f"/jobs/{job['id']}/video", headers={"Range": "bytes=1000-"})
        assert head.status_code == tail.status_code == 206 and head.content + tail.content == clip.read_bytes()
        assert len(head.content + tail.content) == size
        body = json.dumps({"schema_version": 1, "note": "uploaded twice"}).encode()
        files = f"/workers/jobs/{job['id']}/attempts/{n}/files"
        for _ in range(2):  # the same upload again (a retried request) replaces it with itself
            r = api.put(f"{files}/result.json", params={"worker": "hand@test"}, content=body)
            assert r.status_code == 204, r.text
        finish = {"worker": "hand@test", "state": "succeeded", "outcome": "succeeded",
                  "files": {"result.json": len(body)}}
        first = api.post(f"/workers/jobs/{job['id']}/attempts/{n}/finish", json=finish)
        again = api.post(f"/workers/jobs/{job['id']}/attempts/{n}/finish", json=finish)
        assert first.json() == {"result": "done", "state": "succeeded"}
        assert again.status_code == 200 and again.json() == {"result": "duplicate", "state": "succeeded"}
        assert api.get(f"/jobs/{job['id']}/result.json").content == body
        # Uploading once the attempt has ended is refused, and changes nothing.
        late = api.put(f"{files}/result.json", params={"worker": "hand@test"}, content=b"{}")
        assert late.status_code == 409
        assert api.get(f"/jobs/{job['id']}/result.json").content == body
        state = api.get(f"/jobs/{job['id']}").json()
        assert state["state"] == "succeeded" and state["attempts"] == 1
        # A redelivered message for the finished job is dropped.
        redelivered = api.post(f"/workers/jobs/{job['id']}/claim", json={"worker": "hand@test", "task_id": "t1"})
        assert redelivered.status_code == 409 and redelivered.json()["error"]["code"] == "job_finished"


def test_cancel_reaches_the_remote_run(bare: Server, clip: Path) -> None:
    with httpx.Client(base_url=bare.url, headers=AUTH, timeout=30) as api:
        job = submit(api, clip)
        claim = api.post(f"/workers/jobs/{job['id']}/claim", json={"worker": "hand@test", "task_id": "c1"})
        assert claim.status_code == 200
        progress = f"/workers/jobs/{job['id']}/attempts/1/progress"
        ok = api.post(progress, json={"worker": "hand@test", "progress": 0.3, "stage": "pose", "log_offset": 0,
                                      "log_end": 6, "log": "hello\n"})
        assert ok.status_code == 204
        assert api.get(f"/jobs/{job['id']}").json()["stage"] == "pose"
        assert "=== attempt 1 on worker hand@test\nhello" in api.get(f"/jobs/{job['id']}/log").text
        r = api.post(f"/jobs/{job['id']}/cancel")
        assert r.status_code == 202 and r.json()["state"] == "cancelled"
        # The worker learns at its next heartbeat (409) and stops; its late finish changes nothing.
        assert api.post(progress, json={"worker": "hand@test", "progress": 0.4, "stage": "pose"}).status_code == 409
        late = api.post(f"/workers/jobs/{job['id']}/attempts/1/finish",
                        json={"worker": "hand@test", "state": "cancelled", "outcome": "cancelled"})
        assert late.status_code == 200 and late.json()["result"] == "duplicate"
        assert api.get(f"/jobs/{job['id']}").json()["state"] == "cancelled"


def test_wrong_token_is_refused(bare: Server, redis_server: Redis, tmp_path: Path) -> None:
    r = httpx.get(f"{bare.url}/workers", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = httpx.post(f"{bare.url}/workers/w@x/heartbeat", json={})
    assert r.status_code == 401
    worker = Worker(tmp_path, "bad@test", broker=redis_server.url(1), api=bare.url, token="wrong-token").start()
    assert worker.proc is not None
    assert worker.proc.wait(60) == 2
    assert "refused this worker's token (401)" in worker.text()


def test_celery_queue_needs_broker_and_token(tmp_path: Path) -> None:
    env = {"POSE_SERVICE_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "pose_service", "serve", "--queue", "celery"], capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode == 2 and "--broker" in r.stderr
    r = subprocess.run([sys.executable, "-m", "pose_service", "serve", "--queue", "celery", "--broker",
                        "redis://127.0.0.1:1/0"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2 and "POSE_SERVICE_API_TOKEN" in r.stderr
    assert TOKEN  # the cluster's token is never the empty string
