"""`pose-service serve`: uvicorn on one port, the worker pool beside it."""

from __future__ import annotations

import ipaddress
import logging

from pose_service.config import Settings
from pose_service.errors import BadOption

__all__ = ["is_loopback", "serve"]

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", timeout_graceful_shutdown=5,
                access_log=True)
