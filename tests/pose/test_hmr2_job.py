"""The original failure through the real server: 4D-Humans configured with an interpreter that lacks torch.

A real `pose-service serve` on loopback, its hmr2 backend pointed at a bare virtual environment made here
(no torch, no hmr2: what the original system's `python track.py` met). /readyz must name the problem with
its fix, and a job must fail with "import torch failed in <path>" while the server keeps answering.
"""

from __future__ import annotations

import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import Server, submit, wait_for


@pytest.fixture(scope="module")
def hmr2_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    root = tmp_path_factory.mktemp("hmr2-job")
    python = root / "bare-venv" / "bin" / "python"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(python.parent.parent)
    (root / "checkout").mkdir()
    (root / "checkout" / "track.py").write_text("raise SystemExit('must never run')\n")
    env = {
        "POSE_SERVICE_JOB_MAX_ATTEMPTS": "1",
        "POSE_SERVICE_HMR2_PYTHON": str(python),
        "POSE_SERVICE_HMR2_DIR": str(root / "checkout"),
    }
    srv = Server(root / "state", env=env).start()
    yield srv, python
    srv.stop()


def test_readyz_and_job_name_the_missing_torch(hmr2_server: tuple[Server, Path], spin_clip: Path) -> None:
    srv, python = hmr2_server
    with srv.client() as client:
        job = submit(client, spin_clip, backend="hmr2")
        assert job["state"] == "queued"
        done = wait_for(client, job["id"], {"failed", "succeeded"}, timeout=120)
        assert done["state"] == "failed"
        assert f"import torch failed in {python}" in done["error"]["message"]
        assert done["error"]["code"] == "environment"
        ready = client.get("/readyz", timeout=180)
        assert ready.status_code == 503
        rows = {c["name"]: c for c in ready.json()["checks"]}
        torch_row = rows["4D-Humans import torch"]
        assert not torch_row["ok"] and f"import torch failed in {python}" in torch_row["detail"]
        assert torch_row["fix"]
        assert client.get("/healthz").status_code == 200  # the server goes on
        log = client.get(f"/jobs/{job['id']}/log").text
        assert "import torch failed in" in log
