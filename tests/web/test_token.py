"""The page against a server that needs its access token: it asks for it once, then everything carries it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import Server

TOKEN = "web-test-token-1234"


@pytest.fixture(scope="module")
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("web-token") / "state", env={"POSE_SERVICE_API_TOKEN": TOKEN})
    # Server.start polls /healthz, which stays open without the token
    yield srv.start()
    srv.stop()


def test_the_page_asks_for_the_token_and_then_works(browser: Any, token_server: Server, text_as_mp4: Path) -> None:
    assert httpx.get(f"{token_server.url}/jobs", timeout=30).status_code == 401
    base = token_server.url.removesuffix("/api/v1") + "/"
    context = browser.new_context()
    page = context.new_page()
    page.goto(base)  # the page itself is open; the API behind it is not
    page.wait_for_selector("#auth:not([hidden])")
    page.fill("#auth-token", "not-the-token")
    page.click("#auth-form button")
    page.wait_for_function("document.getElementById('auth-message').textContent.includes('not accepted')",
                           timeout=10_000)
    page.fill("#auth-token", TOKEN)
    page.click("#auth-form button")
    page.wait_for_function("document.getElementById('jobs-empty').textContent.includes('No jobs yet')",
                           timeout=10_000)
    assert page.is_hidden("#auth")
    # tus and the job request carry it too: the refusal is the API's verdict on the file, not on the caller
    page.set_input_files("#file", str(text_as_mp4))
    page.wait_for_function("document.getElementById('up-message').textContent.includes('not accepted')",
                           timeout=30_000)
    shown = page.inner_text("#up-message")
    assert "token" not in shown and "not a video" in shown, shown
    context.close()
