"""HTTP errors: every failure answers `{"error": {"code", "message", "hint"}}`, never a stack trace.

Status codes are chosen here, in the API layer; `InputError`s from the probe map to 415 (not a video we can
read) or 422 (a video, but unusable).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pose_service.errors import (
    BadOption,
    InputError,
    NotAVideo,
    PoseServiceError,
    UnsupportedCodec,
)

__all__ = ["ApiError", "error_body", "install_error_handlers", "input_error_status"]

log = logging.getLogger(__name__)

_DEFAULT_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                  405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
                  416: "range_not_satisfiable", 422: "invalid", 429: "too_many_requests", 503: "unavailable"}


class ApiError(Exception):
    """An error answer: status, code, a message for a person and a hint."""

    def __init__(self, status: int, code: str, message: str, hint: str = "", *,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.hint = status, code, message, hint
        self.headers = headers or {}
        self.extra = extra or {}


def error_body(code: str, message: str, hint: str = "") -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "hint": hint}}


def input_error_status(exc: InputError) -> int:
    """415 for files that are not a video we can decode, 400 for bad options, 422 for the rest."""
    if isinstance(exc, NotAVideo | UnsupportedCodec):
        return 415
    if isinstance(exc, BadOption):
        return 400
    return 422


def _allowed_methods(request: Request) -> list[str]:
    """Every method the OpenAPI schema lists for this path (Starlette names only the first route's)."""
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(request.app.state, "allowed_methods", None)
    if table is None:
        table = []
        for template, operations in request.app.openapi().get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
            methods = {m.upper() for m in operations} | {f"#{template.count('{')}"}
            table.append((pattern, methods | ({"HEAD"} if "GET" in methods else set())))
        request.app.state.allowed_methods = table
    matching = [methods for pattern, methods in table if pattern.match(request.url.path)]
    # `/jobs/{id}/cancel` also fits `/jobs/{id}/{name}`; the template with the fewest parameters wins.
    fewest = min((m for ms in matching for m in ms if m.startswith("#")), default="#0")
    found = {m for ms in matching if fewest in ms for m in ms if not m.startswith("#")}
    return sorted(found) or ["GET"]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        body = {**error_body(exc.code, exc.message, exc.hint), **exc.extra}
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.hint), status_code=input_error_status(exc))

    @app.exception_handler(PoseServiceError)
    async def _service_error(request: Request, exc: PoseServiceError) -> JSONResponse:
        log.warning("%s %s: %s", request.method, request.url.path, exc.one_line())
        return JSONResponse(error_body(exc.code, exc.message, exc.hint), status_code=503)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _DEFAULT_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path}"
        hint = "see /docs for the API" if exc.status_code in (404, 405) else ""
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            message = f"{request.method} is not allowed on {request.url.path}; use {', '.join(allowed)}"
        return JSONResponse(error_body(code, message, hint), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = tuple(str(p) for p in first.get("loc", ()))
        where = ".".join(p for p in loc if p != "body")
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else str(first.get("msg", "invalid"))
        if loc[:1] == ("path",):
            name = loc[1] if len(loc) > 1 else ""
            value = request.path_params.get(name, "")[:80]
            if name == "name":
                return JSONResponse(error_body("file_not_found", f"{value!r} is not a result file",
                                               "ask for result.json, angles.csv, result.glb, overlay.mp4 or video"),
                                    status_code=404)
            what = name.removesuffix("_id")
            return JSONResponse(error_body("bad_id", f"{value!r} is not a valid {what} id",
                                           f"{what} ids are 32 hex digits"), status_code=400)
        if loc[:2] == ("header", "Tus-Resumable"):
            return JSONResponse(error_body("tus_version", "this server speaks tus 1.0.0; send Tus-Resumable: 1.0.0",
                                           "use a tus client (e.g. tus-js-client)"), status_code=412,
                                headers={"Tus-Version": "1.0.0", "Tus-Resumable": "1.0.0"})
        if loc[:1] == ("header",):
            return JSONResponse(error_body("bad_header", message, "see /docs for the expected headers"),
                                status_code=400, headers={"Tus-Resumable": "1.0.0"})
        return JSONResponse(error_body("invalid_request", message, "see /docs for the expected fields"),
                            status_code=422)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("internal", f"internal error ({type(exc).__name__})", "retry; the server log has the details"),
            status_code=500,
        )
