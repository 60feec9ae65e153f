"""Two synthetic attempts of a 360 (0.8 s and 1.1 s of air), analysed by a real server that needs a token.

The server runs with POSE_SERVICE_API_TOKEN, so the tests also show what a share link can reach without it.
A and B run with the body mesh (for the 3D overlay; about 15 s each here), the third job without.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pose_service.config import Settings
from tests.api.conftest import Server, submit, wait_for

TOKEN = "compare-tests-token-0123456789"


@pytest.fixture(scope="session")
def attempts(small_spin_clip: Path, session_dir: Path, settings: Settings) -> tuple[Path, Path]:
    """(A, B): the same 360 to the left (the server tests' clip), B with 0.3 s more air; 256x256 at 15 fps."""
    from pose_service.synth import parse_trick, render_clip

    longer = session_dir / "cmp_spin360_long.mp4"
    if not longer.is_file():
        render_clip(parse_trick("360,air=1.1"), longer, width=256, height=256, fps=15.0,
                    anny_cache_dir=settings.anny_cache_dir)  # fmt: skip
    return small_spin_clip, longer


@pytest.fixture(scope="session")
def cmp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("compare") / "state",
                 env={"POSE_SERVICE_JOB_MAX_ATTEMPTS": "1", "POSE_SERVICE_API_TOKEN": TOKEN}).start()
    yield srv
    srv.stop()


@pytest.fixture
def api(cmp_server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cmp_server.url, timeout=60, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        yield c


@pytest.fixture(scope="session")
def jobs(cmp_server: Server, attempts: tuple[Path, Path]) -> dict[str, dict[str, Any]]:
    """Three succeeded jobs: A and B tagged "Sam Rider" at upload, then A again tagged later with PATCH."""
    with httpx.Client(base_url=cmp_server.url, timeout=60, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        a = submit(c, attempts[0], rider="Sam Rider", mesh="true")
        time.sleep(0.05)  # distinct creation times, so the history's order is the upload order
        b = submit(c, attempts[1], rider="  sam   rider ", mesh="true")
        time.sleep(0.05)
        a2 = submit(c, attempts[0])
        done = {k: wait_for(c, j["id"], {"succeeded", "failed", "cancelled"}, timeout=300)
                for k, j in (("a", a), ("b", b), ("a2", a2))}
    for key, job in done.items():
        assert job["state"] == "succeeded", f"{key}: {job}"
    return done
