"""Operations: liveness, readiness (the doctor's checks and the worker interpreter), Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from pose_service.api.deps import ServiceDep
from pose_service.api.errors import error_body
from pose_service.doctor import not_ready_message

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(svc: ServiceDep) -> dict[str, Any]:
    """The process answers and its job store is readable."""
    return {"status": "ok", "jobs": svc.store.counts()}


@router.get("/readyz", responses={503: {"description": "not ready: the failing checks, each with its fix"}})
async def readyz(svc: ServiceDep) -> JSONResponse:
    """Ready to analyse: interpreter, packages, codecs, disk, models, and what the worker interpreter imports."""
    checks = await run_in_threadpool(svc.readiness)
    failing = [c for c in checks if not c["ok"] and c.get("required", True)]  # the GPU row only informs
    if not failing:
        return JSONResponse({"ready": True, "checks": checks})
    # First line: what is wrong in a sentence; then one line per failing check with its fix (the hint repeats
    # the fixes alone, for clients that show only the hint).
    message = not_ready_message(failing)
    hint = "; ".join(c["fix"] for c in failing if c["fix"])
    return JSONResponse({**error_body("not_ready", message, hint), "ready": False, "checks": checks}, status_code=503)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(svc: ServiceDep) -> Response:
    """Prometheus metrics: jobs by state, stage durations, upload bytes, worker restarts."""
    return Response(generate_latest(svc.metrics.registry), media_type=CONTENT_TYPE_LATEST)
