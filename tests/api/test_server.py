"""`serve`'s small parts: which hosts count as loopback, and JSON log lines."""

from __future__ import annotations

import json
import logging

import pytest

from pose_service.api.server import JsonFormatter, is_loopback


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.1.2.3", True),
     ("0.0.0.0", False), ("192.168.1.10", False), ("::", False), ("example", False)],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_json_log_line() -> None:
    record = logging.LogRecord("pose_service.jobs", logging.WARNING, __file__, 1, "job %s: %s", ("abc", "ü"), None)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "warning" and entry["logger"] == "pose_service.jobs" and entry["message"] == "job abc: ü"
