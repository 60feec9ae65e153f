"""`pose-service serve`: uvicorn on one port, the worker pool beside it."""

from __future__ import annotations

import ipaddress
import json
import logging
from typing import Any

from pose_service.config import Settings
from pose_service.errors import BadOption

__all__ = ["JsonFormatter", "is_loopback", "serve"]

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the exception, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": round(record.created, 3), "level": record.levelname.lower(), "logger": record.name,
                 "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _json_logging() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run until interrupted; refuses to listen beyond loopback without a bearer token."""
    if not is_loopback(host) and not settings.api_token:
        raise BadOption(f"--host {host} listens beyond this machine, and no API token is set",
                        hint="set POSE_SERVICE_API_TOKEN to a long random string, or serve on 127.0.0.1")
    if not 0 < port < 65536:
        raise BadOption(f"--port must be between 1 and 65535, got {port}")
    import uvicorn

    from pose_service.api.app import create_app

    settings.service_dir.mkdir(parents=True, exist_ok=True)
    log_config: Any = uvicorn.config.LOGGING_CONFIG
    if settings.log_format == "json":
        _json_logging()
        log_config = None  # uvicorn's loggers then go through the root handler
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", timeout_graceful_shutdown=5,
                access_log=True, log_config=log_config)
