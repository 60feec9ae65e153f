"""A real `pose-service serve` and Debian's chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Server

CHROMIUM = Path("/usr/bin/chromium")
# Headless chromium has no GPU: WebGL runs on SwiftShader, which it only allows when asked.
CHROMIUM_ARGS = ["--no-sandbox", "--enable-unsafe-swiftshader", "--use-angle=swiftshader", "--ignore-gpu-blocklist",
                 "--autoplay-policy=no-user-gesture-required"]


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Debian chromium; skips, saying why, without it or without Playwright.

    Playwright's sync API allows one instance per thread at a time, so every user of this holds it for one test
    module only (module-scoped fixtures): the web and compare modules then run in any order.
    """
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found: `make test` installs Debian's chromium (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The server the page talks to: one worker, one attempt per job."""
    srv = Server(tmp_path_factory.mktemp("web") / "state", env={"POSE_SERVICE_JOB_MAX_ATTEMPTS": "1"}).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def base_url(web_server: Server) -> str:
    return web_server.url.removesuffix("/api/v1") + "/"


@pytest.fixture(scope="session")
def web_clip(small_spin_clip: Path) -> Path:
    return small_spin_clip


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Screenshots of the page (PNG), kept in pytest's temporary folder."""
    return tmp_path_factory.mktemp("web-screenshots")


@pytest.fixture(scope="session")
def text_as_mp4(session_dir: Path) -> Path:
    path = session_dir / "notes.mp4"
    path.write_text("these are my notes, not a video\n" * 40)
    return path


def copy_clip(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst
