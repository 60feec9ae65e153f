"""Remote workers (`serve --queue celery`): their health, and the calls a worker makes to run one attempt.

Every call about attempt n of a job answers 409 once n is not the job's current running attempt, so a
worker whose run was given up (or cancelled) learns it at its next heartbeat and nothing it sends counts.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from pose_service.api.deps import ServiceDep
from pose_service.api.errors import ApiError
from pose_service.api.intake import ID_PATTERN
from pose_service.api.models import ErrorPublic
from pose_service.api.service import Service
from pose_service.jobs.remote.celery_app import Limits
from pose_service.jobs.remote.queue import CeleryQueue
from pose_service.jobs.remote.registry import JOIN, install_files
from pose_service.jobs.supervisor import job_dir

__all__ = ["router"]


def _token(request: Request, svc: ServiceDep) -> None:
    """Workers always authenticate with the server's bearer token (also checked by the app's middleware)."""
    token = svc.settings.api_token or ""
    given = request.headers.get("authorization", "")
    if not token or not secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise ApiError(401, "unauthorized", "a valid bearer token is required",
                       "start the worker with --token set to the server's POSE_SERVICE_API_TOKEN",
                       headers={"WWW-Authenticate": "Bearer"})


_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorPublic, "description": "an error"} for code in (400, 401, 404, 409, 413, 422)
}
router = APIRouter(prefix="/workers", tags=["workers"], responses=_ERRORS,  # type: ignore[arg-type]
                   dependencies=[Depends(_token)])
# A file sent as the raw request body (a result file, a chunk's tracks), as the OpenAPI document describes it.
_BINARY_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}  # fmt: skip

JobId = Annotated[str, Path(pattern=ID_PATTERN.pattern, description="32 hex digits")]
PartName = Annotated[str, Path(pattern=r"^(join|[0-9]{1,3})$", description="a chunk's number, or join")]
ChunkNo = Annotated[str, Path(pattern=r"^[0-9]{1,3}$", description="a chunk's number")]
WorkerName = Annotated[str, Path(pattern=r"^[A-Za-z0-9._@-]{1,200}$", description="NAME@HOST")]
FileName = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
AttemptNo = Annotated[int, Path(ge=1, le=1000)]


class WorkerPublic(BaseModel):
    """A remote worker as the API last heard of it."""

    name: str
    hostname: str | None
    pid: int | None
    concurrency: int | None
    alive: bool = Field(description="reported within the heartbeat timeout")
    first_seen: float
    last_heartbeat: float
    heartbeat_age_s: float
    running: list[dict[str, object]] = Field(description="jobs it runs now: id and attempt")
    attempts: dict[str, int] = Field(description="attempts it ran, by outcome")


class WorkersPublic(BaseModel):
    data: list[WorkerPublic]
    count: int


class RemoteAttemptPublic(BaseModel):
    """Which worker ran attempt n of a job, and when it last reported."""

    n: int
    worker: str
    claimed_at: float
    last_heartbeat: float
    finished_at: float | None
    outcome: str | None
    parts: list[dict[str, object]] = Field(default_factory=list, description="a chunked attempt's parts: each "
                                           "chunk (frames start..stop-1) and the join, the worker that ran it, its state")


class Heartbeat(BaseModel):
    hostname: str | None = Field(None, max_length=255)
    pid: int | None = Field(None, ge=0)
    concurrency: int | None = Field(None, ge=0, le=1024)


class ClaimRequest(BaseModel):
    worker: str = Field(pattern=r"^[A-Za-z0-9._@-]{1,200}$")
    task_id: str = Field(min_length=1, max_length=200)


class ClaimPublic(BaseModel):
    """Attempt n is this worker's: what to run, and for how long at most."""

    attempt: int
    max_attempts: int
    options: dict[str, object]
    video_name: str
    video_size: int
    limits: dict[str, float]
    chunks: list[tuple[int, int]] | None = Field(
        None, description="the attempt runs in parts: these chunks (frames start..stop-1), each its own task on "
        "any worker, then a join task; the claiming task has nothing more to do")


class PartClaimPublic(BaseModel):
    """Part `part` of attempt n is this worker's: a chunk's frames start..stop-1, or the join of `chunks` chunks."""

    attempt: int
    part: str
    start: int
    stop: int
    chunks: int
    options: dict[str, object]
    video_name: str
    video_size: int
    limits: dict[str, float]


class PartFinishReport(BaseModel):
    worker: str = Field(pattern=r"^[A-Za-z0-9._@-]{1,200}$")
    state: Literal["succeeded", "failed", "cancelled", "queued"]
    outcome: str = Field(max_length=200)
    exit_code: int | None = None
    error: dict[str, str] | None = None


class ProgressReport(BaseModel):
    worker: str = Field(pattern=r"^[A-Za-z0-9._@-]{1,200}$")
    progress: float = Field(ge=0.0, le=1.0)
    stage: str | None = Field(None, max_length=64)
    log_offset: int = Field(0, ge=0)
    log_end: int = Field(0, ge=0)
    log: str = Field("", max_length=1 << 20)


class FinishReport(BaseModel):
    worker: str = Field(pattern=r"^[A-Za-z0-9._@-]{1,200}$")
    state: Literal["succeeded", "failed", "cancelled", "queued"]
    outcome: str = Field(max_length=200)
    exit_code: int | None = None
    error: dict[str, str] | None = None
    files: dict[str, int] = Field(default_factory=dict, description="uploaded result files and their sizes")


class FinishPublic(BaseModel):
    result: Literal["done", "duplicate"]
    state: str


def _queue(svc: Service) -> CeleryQueue:
    if not isinstance(svc.pool, CeleryQueue):
        raise ApiError(404, "no_remote_workers", "this server runs jobs in its local pool",
                       "start it with `pose-service serve --queue celery --broker redis://...`")
    return svc.pool


def _stale(job_id: str, n: int, svc: Service) -> ApiError:
    job = svc.store.get(job_id)
    now = f"the job is {job.state} at attempt {job.attempts}" if job else "the job was deleted"
    return ApiError(409, "stale_attempt", f"attempt {n} of job {job_id} is not the running attempt: {now}",
                    "stop this run and send nothing more")


@router.get("", response_model=WorkersPublic)
def list_workers(svc: ServiceDep) -> WorkersPublic:
    """Every worker that has reported: alive or not, last heartbeat, what it runs, what it ran."""
    q = _queue(svc)
    now = time.time()
    data = [WorkerPublic(name=w.name, hostname=w.hostname, pid=w.pid, concurrency=w.concurrency,
                         alive=now - w.last_seen < q.registry.heartbeat_timeout_s, first_seen=w.first_seen,
                         last_heartbeat=w.last_seen, heartbeat_age_s=round(now - w.last_seen, 3),
                         running=[{"job_id": j, "attempt": n} for j, n in w.running], attempts=w.outcomes)
            for w in q.registry.workers()]
    return WorkersPublic(data=data, count=len(data))


@router.post("/{name}/heartbeat", status_code=204, response_class=Response)
def worker_heartbeat(name: WorkerName, body: Heartbeat, svc: ServiceDep) -> None:
    """A worker says it is alive (every few seconds, busy or idle)."""
    _queue(svc).registry.worker_heartbeat(name, hostname=body.hostname, pid=body.pid, concurrency=body.concurrency)


@router.get("/jobs/{job_id}/attempts", response_model=list[RemoteAttemptPublic])
def job_attempts(job_id: JobId, svc: ServiceDep) -> list[RemoteAttemptPublic]:
    """Which worker ran each attempt of a job, and when it last reported."""
    if svc.store.get(job_id) is None:
        raise ApiError(404, "job_not_found", f"no job with id {job_id}")
    registry = _queue(svc).registry
    return [RemoteAttemptPublic(n=a.n, worker=a.worker, claimed_at=a.claimed_at, last_heartbeat=a.last_heartbeat,
                                finished_at=a.finished_at, outcome=a.outcome,
                                parts=[{"part": p.part, "start": p.start, "stop": p.stop, "worker": p.worker,
                                        "state": p.state} for p in registry.parts(job_id, a.n)])
            for a in registry.attempts(job_id)]


@router.post("/jobs/{job_id}/claim", response_model=ClaimPublic)
def claim_job(job_id: JobId, body: ClaimRequest, svc: ServiceDep) -> ClaimPublic:
    """Start the next attempt of a queued job (or one whose run was lost) on the calling worker."""
    q = _queue(svc)
    job = svc.store.get(job_id)
    chunks, frame_count, _ = q.plan(job) if job is not None and job.state in ("queued", "running") else (None, 0, 0.0)
    claim = q.registry.claim(job_id, worker=body.worker, task_id=body.task_id, chunks=chunks, frame_count=frame_count)
    if claim.status == "gone":
        raise ApiError(404, "job_not_found", f"no job with id {job_id}: {claim.detail}")
    if claim.status != "ok":
        raise ApiError(409, f"job_{claim.status}", f"job {job_id} cannot be claimed: {claim.detail}",
                       "drop the task")
    job = svc.store.get_required(job_id)
    if chunks:
        with (job_dir(svc.settings, job_id) / "job.log").open("a") as f:
            f.write(f"=== attempt {claim.n} claimed by worker {body.worker}: the clip runs as {len(chunks)} chunk "
                    f"tasks (frames {', '.join(f'{a}-{b - 1}' for a, b in chunks)}) on any workers, then a join task\n")
        q.publish_parts(job, claim.n)
    limits = q.limits(job)
    return ClaimPublic(attempt=claim.n, max_attempts=job.max_attempts, options=job.options, video_name=job.video_name,
                       video_size=FsPath(job.video_path).stat().st_size, limits=_limits(limits), chunks=chunks)


def _limits(limits: Limits) -> dict[str, float]:
    return {"expected_s": limits.expected_s, "run_s": limits.run_s, "soft_s": limits.soft_s, "hard_s": limits.hard_s}


def _chunk_file(svc: Service, job_id: str, n: int, k: str) -> FsPath:
    return job_dir(svc.settings, job_id) / "attempts" / str(n) / "chunks" / f"{k}.npz"


@router.post("/jobs/{job_id}/attempts/{n}/parts/{part}/claim", response_model=PartClaimPublic)
def claim_part(job_id: JobId, n: AttemptNo, part: PartName, body: ClaimRequest, svc: ServiceDep) -> PartClaimPublic:
    """Start part `part` (a chunk, or the join) of a chunked attempt on the calling worker."""
    q = _queue(svc)
    claim = q.registry.claim_part(job_id, n, part, worker=body.worker, task_id=body.task_id)
    if claim.status == "gone":
        raise ApiError(404, "part_not_found", f"job {job_id}: {claim.detail}")
    if claim.status != "ok":
        raise ApiError(409, "stale_attempt" if claim.status == "stale" else f"part_{claim.status}",
                       f"part {part} of attempt {n} of job {job_id} cannot be claimed: {claim.detail}", "drop the task")
    job = svc.store.get_required(job_id)
    parts = q.registry.parts(job_id, n)
    row = next(p for p in parts if p.part == part)
    return PartClaimPublic(attempt=n, part=part, start=row.start, stop=row.stop, chunks=len(parts) - 1,
                           options=job.options, video_name=job.video_name,
                           video_size=FsPath(job.video_path).stat().st_size, limits=_limits(q.part_limits(job, row)))


@router.post("/jobs/{job_id}/attempts/{n}/parts/{part}/progress", status_code=204, response_class=Response)
def part_progress(job_id: JobId, n: AttemptNo, part: PartName, body: ProgressReport, svc: ServiceDep) -> None:
    """A part's heartbeat: its progress (folded into the job's) and the next whole lines of its log."""
    ok = _queue(svc).registry.part_progress(job_id, n, part, worker=body.worker, progress=body.progress,
                                            stage=body.stage, log_offset=body.log_offset, log_end=body.log_end,
                                            log=body.log.encode(), log_path=job_dir(svc.settings, job_id) / "job.log")
    if not ok:
        raise _stale(job_id, n, svc)


@router.put("/jobs/{job_id}/attempts/{n}/parts/{part}/file", status_code=204, response_class=Response,
            openapi_extra=_BINARY_BODY)
async def upload_chunk(job_id: JobId, n: AttemptNo, part: ChunkNo, request: Request, svc: ServiceDep,
                       worker: Annotated[str, Query(pattern=r"^[A-Za-z0-9._@-]{1,200}$")]) -> None:
    """A chunk's tracks (`pose_service.chunks.save_chunk`), kept for the join; sending it again replaces it."""
    q = _queue(svc)
    if not q.registry.is_running_part(job_id, n, part, worker):
        raise _stale(job_id, n, svc)
    await _receive(request, _chunk_file(svc, job_id, n, part), svc.settings.max_upload_bytes)


@router.get("/jobs/{job_id}/attempts/{n}/parts/{part}/file", response_class=FileResponse)
def download_chunk(job_id: JobId, n: AttemptNo, part: ChunkNo, svc: ServiceDep) -> FileResponse:
    """A finished chunk's tracks, for the join."""
    q = _queue(svc)
    path = _chunk_file(svc, job_id, n, part)
    if not any(p.part == part and p.state == "done" for p in q.registry.parts(job_id, n)) or not path.is_file():
        raise ApiError(404, "chunk_not_found", f"attempt {n} of job {job_id} has no finished chunk {part}")
    return FileResponse(path, media_type="application/octet-stream")


@router.post("/jobs/{job_id}/attempts/{n}/parts/{part}/finish", response_model=FinishPublic)
def finish_part(job_id: JobId, n: AttemptNo, part: ChunkNo, body: PartFinishReport, svc: ServiceDep) -> FinishPublic:
    """End a chunk: its file must be there if it succeeded; the last one sends the join; a failed one fails the job.
    (The join finishes through the attempt's own finish.)"""
    q = _queue(svc)
    if body.state == "succeeded" and q.registry.is_running_part(job_id, n, part, body.worker) and \
            not _chunk_file(svc, job_id, n, part).is_file():
        raise ApiError(422, "missing_files", f"chunk {part} of attempt {n} finished without its file",
                       "upload the chunk's file, then finish again")
    error = dict(body.error) if body.error else None
    if error is not None:
        error.setdefault("log_tail", "")
    result, join_due = q.registry.finish_part(job_id, n, part, worker=body.worker, state=body.state, error=error,
                                              exit_code=body.exit_code, outcome=body.outcome)
    if result == "stale":
        raise _stale(job_id, n, svc)
    job = svc.store.get_required(job_id)
    if join_due:
        q.publish_parts(job, n, only=JOIN)
    if job.state == "queued":
        q.notify()
    elif result == "done" and job.terminal and svc.metrics:
        svc.metrics.job_outcomes.labels(body.outcome).inc()
    return FinishPublic(result=result, state=job.state)  # type: ignore[arg-type]


@router.post("/jobs/{job_id}/attempts/{n}/progress", status_code=204, response_class=Response)
def attempt_progress(job_id: JobId, n: AttemptNo, body: ProgressReport, svc: ServiceDep) -> None:
    """Attempt n's heartbeat: progress, stage and the next bytes of its log."""
    ok = _queue(svc).registry.progress(job_id, n, worker=body.worker, progress=body.progress, stage=body.stage,
                                       log_offset=body.log_offset, log_end=body.log_end,
                                       log=body.log.encode(), log_path=job_dir(svc.settings, job_id) / "job.log")
    if not ok:
        raise _stale(job_id, n, svc)


@router.put("/jobs/{job_id}/attempts/{n}/files/{name}", status_code=204, response_class=Response,
            openapi_extra=_BINARY_BODY)
async def upload_file(job_id: JobId, n: AttemptNo, name: FileName, request: Request, svc: ServiceDep,
                      worker: Annotated[str, Query(pattern=r"^[A-Za-z0-9._@-]{1,200}$")]) -> None:
    """One result file of attempt n, kept aside until the attempt finishes; sending it again replaces it."""
    q = _queue(svc)
    if not q.registry.is_current(job_id, n, worker):
        raise _stale(job_id, n, svc)
    await _receive(request, job_dir(svc.settings, job_id) / "attempts" / str(n) / "out" / name,
                   svc.settings.max_upload_bytes)


async def _receive(request: Request, dest: FsPath, limit: int) -> None:
    """The request's body into `dest`, whole or not at all."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(f".{dest.name}.part")
    size = 0
    try:
        with part.open("wb") as f:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise ApiError(413, "too_large", f"{dest.name} is over the limit of {limit:,} bytes")
                f.write(chunk)
        part.replace(dest)
    finally:
        part.unlink(missing_ok=True)


@router.post("/jobs/{job_id}/attempts/{n}/finish", response_model=FinishPublic)
def finish_attempt(job_id: JobId, n: AttemptNo, body: FinishReport, svc: ServiceDep) -> FinishPublic:
    """End attempt n; its uploaded files become the job's results if it succeeded. Sending it twice is harmless."""
    q = _queue(svc)
    folder = job_dir(svc.settings, job_id)
    staged = folder / "attempts" / str(n) / "out"
    if body.state == "succeeded" and q.registry.is_current(job_id, n, body.worker):
        missing = [name for name, size in body.files.items()
                   if not (staged / name).is_file() or (staged / name).stat().st_size != size]
        if "result.json" not in body.files or missing:
            raise ApiError(422, "missing_files", f"attempt {n} finished without its files: "
                           f"{', '.join(missing) or 'result.json'}", "upload every result file, then finish again")

    def install() -> None:
        install_files(staged, folder / "out")

    error = dict(body.error) if body.error else None
    if error is not None:
        error.setdefault("log_tail", "")
    result = q.registry.finish(job_id, n, worker=body.worker, state=body.state, error=error,
                               exit_code=body.exit_code, outcome=body.outcome, install=install)
    if result == "stale":
        raise _stale(job_id, n, svc)
    if result == "done" and svc.metrics:
        svc.metrics.job_outcomes.labels(body.outcome).inc()
    job = svc.store.get_required(job_id)
    if job.state == "queued":
        q.notify()
    return FinishPublic(result=result, state=job.state)  # type: ignore[arg-type]
