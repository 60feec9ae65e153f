"""Jobs over HTTP against a real server: a clip analysed end to end, bad input, a killed worker, cancel."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import UPLOAD_LIMIT, Server, submit, wait_for, worker_pid


def test_clip_is_analysed_and_results_are_served(client: httpx.Client, clip: Path) -> None:
    job = submit(client, clip, overlay="false")
    assert job["state"] == "queued" and len(job["id"]) == 32
    job = wait_for(client, job["id"], {"succeeded", "failed"})
    assert job["state"] == "succeeded", job["error"]
    assert job["progress"] == 1.0 and job["attempts"] == 1
    assert {"result.json", "angles.csv"} <= set(job["files"])

    r = client.get(f"/jobs/{job['id']}/result.json")
    assert r.status_code == 200 and r.headers["accept-ranges"] == "bytes"
    result = r.json()
    assert result["schema_version"] == 1 and result["video"]["name"] == clip.name
    assert result["video"]["frame_count"] == len(result["timestamps_s"]) > 30
    assert result["tracks"], "the rendered rider was not found"

    # A byte range is exactly those bytes of the file.
    part = client.get(f"/jobs/{job['id']}/result.json", headers={"Range": "bytes=10-109"})
    assert part.status_code == 206 and part.content == r.content[10:110]
    assert part.headers["content-range"] == f"bytes 10-109/{len(r.content)}"
    video = client.get(f"/jobs/{job['id']}/video", headers={"Range": "bytes=0-99"})
    assert video.status_code == 206 and video.content == clip.read_bytes()[:100]

    # Server-sent events replay the whole life of the job and end.
    with client.stream("GET", f"/jobs/{job['id']}/events") as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        body = "".join(events.iter_text())
    states = [json.loads(line[6:])["state"] for line in body.splitlines()
              if line.startswith("data: ") and '"state"' in line]
    assert states[:2] == ["queued", "running"] and states[-1] == "succeeded"
    assert "event: progress" in body and "event: end" in body

    log = client.get(f"/jobs/{job['id']}/log").text
    assert "worker starting" in log and "done:" in log
    listed = client.get("/jobs", params={"state": "succeeded"}).json()
    assert job["id"] in [j["id"] for j in listed["data"]]
    metrics = client.get("/metrics").text
    assert 'pose_service_jobs{state="succeeded"}' in metrics and "pose_service_stage_seconds" in metrics


def _bad_inputs(tmp: Path, clip: Path) -> list[tuple[str, bytes, int, str]]:
    return [
        ("empty.mp4", b"", 422, "empty_file"),  # zero bytes
        ("notes.mp4", b"these are my notes, not a video\n" * 20, 415, "not_a_video"),  # text renamed .mp4
        ("cut.mp4", clip.read_bytes()[: clip.stat().st_size // 2], 422, "truncated_video"),  # first half only
    ]


@pytest.mark.parametrize("case", range(3))
def test_bad_files_are_refused_with_the_probes_message(
    case: int, client: httpx.Client, clip: Path, tmp_path: Path
) -> None:
    name, data, status, code = _bad_inputs(tmp_path, clip)[case]
    r = client.post("/jobs", files={"video": (name, data, "video/mp4")})
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and name in err["message"] and err["hint"]
    assert "/" not in err["message"].split(":")[0], "the server's paths must not leak"
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [("num_poses", "99"), ("num_poses", "two"), ("overlay", "maybe"), ("stance", "sideways"), ("device", "tpu"),
     ("frame_rate", "half")],  # fmt: skip
)
def test_bad_options_are_400(client: httpx.Client, clip: Path, field: str, value: str) -> None:
    r = client.post("/jobs", files={"video": (clip.name, clip.read_bytes(), "video/mp4")}, data={field: value})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_option"
    assert field in r.json()["error"]["message"]


def test_a_bad_stance_in_a_json_job_is_422(client: httpx.Client) -> None:
    r = client.post("/jobs", json={"upload_id": "0" * 32, "stance": "sideways"})
    assert r.status_code == 422 and "stance" in r.json()["error"]["message"]


def test_a_bad_device_in_a_json_job_is_422(client: httpx.Client) -> None:
    r = client.post("/jobs", json={"upload_id": "0" * 32, "device": "tpu"})
    assert r.status_code == 422 and "device" in r.json()["error"]["message"]


def test_a_bad_frame_rate_in_a_json_job_is_422(client: httpx.Client) -> None:
    r = client.post("/jobs", json={"upload_id": "0" * 32, "frame_rate": "half"})
    assert r.status_code == 422 and "frame_rate" in r.json()["error"]["message"]


def test_the_device_option_is_kept_with_the_job(client: httpx.Client, clip: Path) -> None:
    """A form's `device` is stored with the job (case folded); without one the worker's own setting applies (None).
    `gpu` on this machine fails the job with the probe's reason; `auto` runs on the CPU."""
    from pose_service.config import Settings
    from pose_service.pose.bundle import BUNDLE_NAME
    from pose_service.pose.gpu import probe_gpu

    plain = submit(client, clip)
    assert plain["options"]["device"] is None
    gpu_job = submit(client, clip, device="GPU")
    assert gpu_job["options"]["device"] == "gpu"
    done = wait_for(client, gpu_job["id"], {"succeeded", "failed"})
    if probe_gpu(Settings().models_dir / BUNDLE_NAME).ok:
        assert done["state"] == "succeeded"
    else:
        assert done["state"] == "failed" and done["error"]["code"] == "environment"
        assert done["error"]["message"].startswith("the pose stage cannot use the GPU (--device gpu): ")
        assert "Fix: " in done["error"]["message"]
    assert wait_for(client, plain["id"], {"succeeded", "failed"})["state"] == "succeeded"


def test_oversize_upload_is_413_and_the_server_keeps_serving(client: httpx.Client) -> None:
    big = os.urandom(UPLOAD_LIMIT + 2**20)
    r = client.post("/jobs", files={"video": ("big.mp4", big, "video/mp4")})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    # Without a Content-Length the limit is enforced while streaming.
    r = client.post("/jobs", content=iter([b"--b\r\nContent-Disposition: form-data; name=\"video\"; filename=\"x.mp4\""
                                           b"\r\n\r\n", big, b"\r\n--b--\r\n"]),
                    headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413
    # A JSON job request is small; a huge one is refused before it is all read.
    r = client.post("/jobs", content=b'{"upload_id": "' + b"0" * 200_000 + b'"}',
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/jobs/0123456789abcdef0123456789abcdef", 404),  # well-formed, unknown
        ("/jobs/0123456789abcdef0123456789abcdef/result.json", 404),
        ("/jobs/not-a-job", 400),  # malformed id
        # Traversal: refused as a bad id, or as no such endpoint once the server has decoded the slashes.
        ("/jobs/..%2F..%2Fetc%2Fpasswd/result.json", (400, 404)),
        ("/jobs/..%2F..%2F..%2Fetc/log", (400, 404)),
        ("/jobs/%2e%2e/video", 400),
        ("/jobs/%2e%2e%2f%2e%2e%2fjobs.db/video", (400, 404)),
        ("/uploads/..%2Fjobs.db", (400, 404)),
        ("/uploads/%2e%2e", 400),
    ],
)
def test_unknown_and_malformed_ids(server: Server, path: str, status: int | tuple[int, ...]) -> None:
    # Sent exactly as written: httpx would otherwise normalise the dots away.
    with httpx.Client() as raw:
        method = "HEAD" if path.startswith("/uploads") else "GET"
        r = raw.request(method, httpx.URL(server.url + path))
    assert r.status_code in (status if isinstance(status, tuple) else (status,))
    if method == "GET":
        assert set(r.json()["error"]) == {"code", "message", "hint"}


@pytest.mark.parametrize("name", ["../../escape.mp4", "..\\..\\escape.mp4", "/etc/escape.mp4", ".."])
def test_an_uploaded_file_name_cannot_leave_the_job_folder(server: Server, client: httpx.Client, clip: Path,
                                                           name: str) -> None:
    with clip.open("rb") as f:
        r = client.post("/jobs", files={"video": (name, f, "video/mp4")}, data={"mesh": "false"})
    assert r.status_code == 202, r.text
    job = r.json()
    client.post(f"/jobs/{job['id']}/cancel")
    stored = job["video_name"]
    assert stored in ("escape.mp4", "video.mp4") and "/" not in stored and "\\" not in stored, stored
    # the file sits in the job's own folder, nowhere above it
    found = [p for p in server.state_dir.parent.rglob("*.mp4") if job["id"] in p.parts]
    assert [p.name for p in found] == [stored], found
    assert not (server.state_dir / "escape.mp4").exists() and not (server.state_dir.parent / "escape.mp4").exists()


def test_result_name_outside_the_list_is_404(client: httpx.Client, clip: Path) -> None:
    jobs = client.get("/jobs").json()["data"]
    if not jobs:
        pytest.skip("no job yet")
    r = client.get(f"/jobs/{jobs[0]['id']}/jobs.db")
    assert r.status_code == 404 and "result.json" in r.json()["error"]["hint"]


def test_killed_worker_is_a_failed_job_with_the_reason(server: Server, client: httpx.Client, clip: Path) -> None:
    job = submit(client, clip)
    pid = worker_pid(server.state_dir, job["id"])
    while (now := client.get(f"/jobs/{job['id']}").json())["stage"] in (None, "starting"):
        time.sleep(0.05)  # until the worker has said something: it is importing or analysing
    os.killpg(pid, signal.SIGKILL)
    job = wait_for(client, job["id"], {"succeeded", "failed", "cancelled"}, timeout=30)
    assert job["state"] == "failed"
    err = job["error"]
    assert err["code"] == "worker_killed"
    stage = err["message"].removeprefix("worker killed by SIGKILL during stage ")
    assert stage in ("loading", "pose", "overlay") and stage != err["message"], err["message"]
    assert now["stage"] in ("loading", "pose")
    assert "worker starting" in err["log_tail"]
    assert client.get("/healthz").status_code == 200

    # Retry runs it again, to the end.
    r = client.post(f"/jobs/{job['id']}/retry")
    assert r.status_code == 202 and r.json()["state"] == "queued"
    job = wait_for(client, job["id"], {"succeeded", "failed"})
    assert job["state"] == "succeeded" and job["attempts"] == 2
    assert client.post(f"/jobs/{job['id']}/retry").status_code == 409  # succeeded jobs do not retry


def test_cancel_kills_the_running_worker(server: Server, client: httpx.Client, clip: Path) -> None:
    job = submit(client, clip)
    pid = worker_pid(server.state_dir, job["id"])
    r = client.post(f"/jobs/{job['id']}/cancel")
    assert r.status_code == 202
    job = wait_for(client, job["id"], {"cancelled", "failed", "succeeded"}, timeout=30)
    assert job["state"] == "cancelled" and job["error"]["code"] == "cancelled"
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # the whole process group is gone
    assert client.post(f"/jobs/{job['id']}/cancel").status_code == 409
    assert client.delete(f"/jobs/{job['id']}").status_code == 204
    assert client.get(f"/jobs/{job['id']}").status_code == 404


def test_readyz_reports_every_check(client: httpx.Client) -> None:
    r = client.get("/readyz", timeout=120)
    body = r.json()
    names = [c["name"] for c in body["checks"]]
    assert "worker interpreter" in names and "pose model bundle" in names and "free disk" in names
    # `make test` prepares the models first, so this machine is ready; if not, the answer names what is missing.
    assert r.status_code == 200 and body["ready"] is True, body.get("error")
    # The GPU row informs (usable or not, and why) and never makes the service "not ready": the CPU path works.
    gpu = next(c for c in body["checks"] if c["name"] == "GPU for the pose stage")
    assert gpu["required"] is False and (gpu["ok"] or gpu["detail"].startswith("GPU not usable: "))
