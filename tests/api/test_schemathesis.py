"""schemathesis against the live server's OpenAPI schema, every check: what it allows is accepted, what it forbids refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.conftest import Server

# Every check runs. schemathesis.toml (beside this file) adds the two statuses that the protocol, not the
# schema, decides: 412 is how tus refuses a missing or wrong Tus-Resumable, and whether `video` is a video only
# the probe can tell (415/422). Everything else is stated by the OpenAPI schema itself.
CONFIG = Path(__file__).with_name("schemathesis.toml")


def test_schemathesis_finds_nothing(server: Server, tmp_path_factory: pytest.TempPathFactory) -> None:
    pytest.importorskip("schemathesis")
    schema = server.url.removesuffix("/api/v1") + "/openapi.json"
    work = tmp_path_factory.mktemp("schemathesis")  # it keeps a cache in its working folder
    cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run", schema,
           "--checks", "all", "-n", "10", "--generation-deterministic", "--request-timeout", "60", "--max-response-time", "120",
           "--exclude-path", "/api/v1/readyz", "--report-dir", str(work)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=work)
    summary = r.stdout[r.stdout.find("SUMMARY"):] if "SUMMARY" in r.stdout else r.stdout[-3000:]
    assert r.returncode == 0, summary + r.stderr[-2000:]
    assert "Tested: 29" in r.stdout or "Tested: 30" in r.stdout, summary  # 12 of them riders, compare, shares
