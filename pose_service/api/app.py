"""The FastAPI application: API under /api/v1, the worker pool and the upload janitor in its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pose_service import __version__
from pose_service.api.errors import ApiError, allowed_methods, error_body, install_error_handlers, method_not_allowed
from pose_service.api.intake import purge_rejected
from pose_service.api.routes import jobs, ops, riders, shares, uploads
from pose_service.api.service import Service
from pose_service.config import Settings

__all__ = ["API_PREFIX", "HeadAsGet", "create_app"]

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
_JANITOR_EVERY_S = 300.0
_CATCH_ALL = f"{API_PREFIX}/{{path:path}}"
_OPEN_PATHS = {f"{API_PREFIX}/healthz"}
# A share link carries its own unguessable token in the path and reads only what the share names.
_SHARED_PREFIX = f"{API_PREFIX}/shared/"
WEB_DIR = Path(__file__).resolve().parent.parent / "web"
# The web page sends the token as this cookie: <video>, EventSource and download links cannot set headers.
# The page sets it SameSite=Strict, so another site's page cannot make the browser use it.
TOKEN_COOKIE = "pose_service_token"


async def _janitor(svc: Service) -> None:
    while True:
        try:
            expired = uploads.expire_uploads(svc)
            purged = purge_rejected(svc)
            if expired or purged:
                log.info("janitor: %d expired uploads, %d old rejected files removed", expired, purged)
        except Exception:
            log.exception("janitor failed")
        await asyncio.sleep(_JANITOR_EVERY_S)


class _HeadEnded(Exception):
    """The headers of a HEAD answer are out: stop the GET behind it (an event stream would never end)."""


class HeadAsGet:
    """HEAD on an API path answers like GET without the body, as RFC 9110 asks (FastAPI routes only take GET).

    Paths with a HEAD route of their own (tus' `/uploads/{id}`) keep it. The GET is stopped once its headers
    are sent; the server sends no body to a HEAD request.
    """

    def __init__(self, app: ASGIApp, api: FastAPI) -> None:
        self.app, self.api = app, api

    def _route_takes(self, scope: Scope) -> bool:
        """Whether an API route (not the catch-all below, not the web page) takes this method on this path."""
        return any(route.matches(dict(scope))[0] is Match.FULL for route in self.api.router.routes
                   if not isinstance(route, Mount) and getattr(route, "path", None) != _CATCH_ALL)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "HEAD" or not scope["path"].startswith(API_PREFIX + "/")
                or self._route_takes(scope) or not self._route_takes(as_get := {**scope, "method": "GET"})):
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
                return
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            raise _HeadEnded

        try:
            await self.app(as_get, receive, headers_only)
        except* _HeadEnded:
            pass


def optional_params_not_null(schema: dict[str, Any]) -> None:
    """An optional header or query parameter is absent or text, never `null`: drop pydantic's null branch."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for param in operation.get("parameters", []) if isinstance(operation, dict) else []:
                inner = param.get("schema", {})
                branches = inner.get("anyOf")
                if param.get("required") or param.get("in") not in ("header", "query") or not branches:
                    continue
                kept = [b for b in branches if b.get("type") != "null"]
                if len(kept) == 1 and len(kept) < len(branches):
                    del inner["anyOf"]
                    inner.update(kept[0])


def create_app(settings: Settings | None = None) -> FastAPI:
    """An app with its own job store and worker pool, started and stopped with the app."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import pose_service.video  # noqa: F401  (PyAV, for the probe: loaded once, not on the first upload)

        svc = Service.open(settings)
        app.state.service = svc
        riders.rider_store(svc)  # the rider and share tables, created or migrated at start
        recovered = svc.pool.recover()
        if recovered:
            log.warning("recovered %d jobs left running: %s", len(recovered),
                        ", ".join(f"{j.id} -> {j.state}" for j in recovered))
        svc.pool.start()
        janitor = asyncio.create_task(_janitor(svc))
        broker = (settings.broker_url or "").rsplit("@", 1)[-1]  # never log the broker's password
        log.info("serving; data in %s, %s", settings.service_dir,
                 f"{settings.workers} workers" if settings.queue == "local" else f"jobs to Celery workers via {broker}")
        try:
            yield
        finally:
            janitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await janitor
            svc.pool.stop()
            svc.store.close()

    app = FastAPI(title="pose-service", version=__version__, lifespan=lifespan,
                  description="Upload a snowboarding clip; get tracked 2D/3D poses, angles and every jump explained.")
    install_error_handlers(app)
    for router in (jobs.router, uploads.router, ops.router, riders.router, shares.router):
        app.include_router(router, prefix=API_PREFIX)
    if settings.queue == "celery":  # remote workers' calls exist only when they run the jobs
        from pose_service.api.routes import workers

        app.include_router(workers.router, prefix=API_PREFIX)

    @app.api_route(_CATCH_ALL, include_in_schema=False,
                   methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])
    def _no_route(request: Request) -> Response:
        """No API route takes this request: 405 with Allow on a known path, 404 elsewhere (never the web page)."""
        allowed = allowed_methods(request)
        if allowed is None or request.method in allowed:
            raise ApiError(404, "not_found", f"no such endpoint: {request.method} {request.url.path}",
                           "see /docs for the API")
        return method_not_allowed(request, allowed)

    if settings.api_token:
        token = settings.api_token

        @app.middleware("http")
        async def _bearer(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
            path = request.url.path
            if path.startswith(API_PREFIX) and path not in _OPEN_PATHS and not path.startswith(_SHARED_PREFIX):
                given = request.headers.get("authorization") or f"Bearer {request.cookies.get(TOKEN_COOKIE, '')}"
                if not secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
                    return JSONResponse(error_body("unauthorized", "a valid bearer token is required",
                                                   "send Authorization: Bearer <token>; the web page asks for it"),
                                        status_code=401,
                                        headers={"WWW-Authenticate": "Bearer"})
            return await call_next(request)

    app.add_middleware(HeadAsGet, api=app)  # outermost: it sees the headers after every other middleware
    generated_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generated_openapi()
            optional_params_not_null(schema)
            uploads.document_limit(schema, settings.max_upload_bytes)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]

    # The web page (static ES modules) at /; mounted last so that every API route above wins.
    app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app
