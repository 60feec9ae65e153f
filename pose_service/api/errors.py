"""HTTP errors: every failure answers `{"error": {"code", "message", "hint"}}`, never a stack trace.

Status codes are chosen here, in the API layer; `InputError`s from the probe map to 415 (not a video we can
read) or 422 (a video, but unusable).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

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

__all__ = ["ApiError", "allowed_methods", "error_body", "explain_invalid_body", "install_error_handlers",
           "input_error_status", "method_not_allowed"]

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., object])

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


def _method_table(request: Request) -> list[tuple[re.Pattern[str], int, set[str]]]:
    """(path regex, number of parameters, methods) for every path of the OpenAPI schema, built once."""
    table: list[tuple[re.Pattern[str], int, set[str]]] | None = getattr(request.app.state, "allowed_methods", None)
    if table is None:
        table = []
        for template, operations in request.app.openapi().get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
            methods = {m.upper() for m in operations}
            table.append((pattern, template.count("{"), methods | ({"HEAD"} if "GET" in methods else set())))
        request.app.state.allowed_methods = table
    return table


def allowed_methods(request: Request) -> list[str] | None:
    """The methods the schema lists for this path (with HEAD wherever GET is), or None for an unknown path.

    `/jobs/{id}/cancel` also fits `/jobs/{id}/{name}`: the templates with the fewest parameters win.
    """
    matching = [(n, methods) for pattern, n, methods in _method_table(request) if pattern.match(request.url.path)]
    if not matching:
        return None
    fewest = min(n for n, _ in matching)
    return sorted({m for n, methods in matching if n == fewest for m in methods})


def method_not_allowed(request: Request, allowed: list[str]) -> JSONResponse:
    """405 with the Allow header RFC 9110 asks for, in the error shape."""
    return JSONResponse(
        error_body("method_not_allowed", f"{request.method} is not allowed on {request.url.path}; "
                   f"use {', '.join(allowed)}", "see /docs for the API"),
        status_code=405, headers={"Allow": ", ".join(allowed)})


# Routes whose request body has its own explanation when it does not validate: endpoint -> (message, hint).
_BODY_ERRORS: dict[object, tuple[str, str]] = {}


def explain_invalid_body(message: str, hint: str) -> Callable[[F], F]:
    """Decorate a route: a body that fails validation answers 422 with this message (and pydantic's detail)."""

    def register(endpoint: F) -> F:
        _BODY_ERRORS[endpoint] = (message, hint)
        return endpoint

    return register


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
            return method_not_allowed(request, allowed_methods(request) or ["GET", "HEAD"])
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
            allowed = allowed_methods(request)
            if allowed and request.method not in allowed:  # GET /jobs/{id}/cancel: a known path, a wrong method
                return method_not_allowed(request, allowed)
            if name == "rider":
                return JSONResponse(error_body("rider_not_found", f"no jobs are tagged with the rider {value!r}",
                                               "list riders with GET /api/v1/riders"), status_code=404)
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
        if loc[:1] == ("query",) and len(loc) > 1 and loc[1] in ("a", "b"):  # /compare's JOB:N references
            value = request.query_params.get(loc[1], "")[:80]
            return JSONResponse(error_body("bad_jump_ref", f"{loc[1]}={value!r} is not JOB:N",
                                           "give a job id (32 hex digits), a colon and the jump's number from 1, "
                                           "e.g. a=<job id>:1"), status_code=400)
        if loc[:1] == ("header",):
            return JSONResponse(error_body("bad_header", message, "see /docs for the expected headers"),
                                status_code=400, headers={"Tus-Resumable": "1.0.0"})
        custom = _BODY_ERRORS.get(request.scope.get("endpoint")) if loc[:1] == ("body",) else None
        if custom is not None:
            return JSONResponse(error_body("invalid_request", f"{custom[0]} ({message})"[:400], custom[1]),
                                status_code=422)
        return JSONResponse(error_body("invalid_request", message, "see /docs for the expected fields"),
                            status_code=422)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("internal", f"internal error ({type(exc).__name__})", "retry; the server log has the details"),
            status_code=500,
        )
