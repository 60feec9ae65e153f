"""The HTTP API (FastAPI) and `serve`, which runs it with uvicorn next to the local worker pool."""

from pose_service.api.app import API_PREFIX, create_app
from pose_service.api.server import serve

__all__ = ["API_PREFIX", "create_app", "serve"]
