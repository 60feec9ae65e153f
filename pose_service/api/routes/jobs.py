"""Jobs: submit (multipart or a finished tus upload), list, inspect, follow, cancel, retry, delete, results."""

from __future__ import annotations

import asyncio
import json
import mimetypes
import pathlib
import shutil
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import FileResponse, PlainTextResponse, StreamingResponse

from pose_service.api.deps import ServiceDep
from pose_service.api.errors import ApiError
from pose_service.api.intake import ID_PATTERN, accept_video, check_id, check_space, job_options, safe_name
from pose_service.api.models import RESULT_FILES, RIDER_SCHEMA, ErrorPublic, JobCreate, JobPublic, JobsPublic
from pose_service.api.multipart import receive_video
from pose_service.api.routes.riders import rider_field, rider_store, upload_rider
from pose_service.api.service import Service
from pose_service.jobs.store import Job, new_id
from pose_service.jobs.supervisor import job_dir

__all__ = ["VIDEO_TYPES", "router", "video_media_type"]

_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorPublic, "description": "an error"} for code in (400, 404, 409, 413, 415, 422, 429, 507)
}
router = APIRouter(prefix="/jobs", tags=["jobs"], responses=_ERRORS)  # type: ignore[arg-type]

JobId = Annotated[str, Path(pattern=ID_PATTERN.pattern, description="32 hex digits")]
ResultName = Annotated[str, Path(pattern="^(result\\.json|angles\\.csv|result\\.glb|overlay\\.mp4)$")]

_SSE_POLL_S = 0.5
_MAX_JSON_BYTES = 64 * 1024
_MAX_LOG_BYTES = 4 * 2**20
_SSE_KEEPALIVE_S = 15.0


def _job(svc: Service, job_id: str) -> Job:
    check_id(job_id)
    job = svc.store.get(job_id)
    if job is None:
        raise ApiError(404, "job_not_found", f"no job with id {job_id}", "list jobs with GET /api/v1/jobs")
    return job


def _public(svc: Service, job: Job) -> JobPublic:
    folder = job_dir(svc.settings, job.id)
    files = [name for name, (rel, _) in RESULT_FILES.items() if (folder / rel).is_file()]
    public = JobPublic.of(job, files, svc.store.attempts(job.id))
    public.rider = rider_store(svc).rider_of(job.id)
    return public


_CREATE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["video"],
                "properties": {
                    "video": {"type": "string", "format": "binary", "contentMediaType": "video/*",
                              "description": "the clip (MP4, MOV, WebM, MKV, AVI), streamed to disk and probed: "
                                             "415 when it is not a video, 422 when it is empty, truncated or too long"},
                    "overlay": {"type": "boolean", "default": False},
                    "mesh": {"type": "boolean", "default": True},
                    "num_poses": {"type": "integer", "minimum": 1, "maximum": 16},
                    "backend": {"type": "string", "enum": ["mediapipe", "hmr2"], "default": "mediapipe"},
                    "stance": {"type": "string", "enum": ["regular", "goofy"], "description": "the rider's stance"},
                    "device": {"type": "string", "enum": ["cpu", "gpu", "auto"],
                               "description": "where the pose model runs (default: the worker's setting)"},
                    "pose_max_side": {"anyOf": [{"type": "integer", "enum": [0]}, {"type": "integer", "minimum": 64}],
                                      "description": "the longer side, pixels, of the frame the pose model sees "
                                                     "(0: full size, else at least 64; default: full size on the "
                                                     "CPU, 640 on the GPU)"},
                    "frame_rate": {"type": "string", "enum": ["full", "adaptive"], "default": "full",
                                   "description": "full: the pose model on every frame; adaptive: at full rate "
                                                  "around jumps only"},
                    "rider": {"type": "string", **RIDER_SCHEMA, "description": "who rode it"},
                },
            }},
            "application/json": {"schema": JobCreate.model_json_schema()},
        },
    }
}


@router.post("", status_code=202, response_model=JobPublic, openapi_extra=_CREATE_BODY)
async def create_job(request: Request, svc: ServiceDep) -> JobPublic:
    """Queue a job for a video sent as multipart field `video`, or for a finished tus upload (JSON)."""
    s = svc.settings
    if svc.store.counts()["queued"] >= s.max_queued_jobs:
        raise ApiError(429, "queue_full", f"{s.max_queued_jobs} jobs are already waiting",
                       "try again in a few minutes", headers={"Retry-After": "60"})
    if request.headers.get("content-type", "").startswith("application/json"):
        raw = bytearray()
        async for chunk in request.stream():
            raw.extend(chunk)
            if len(raw) > _MAX_JSON_BYTES:
                raise ApiError(413, "too_large", f"a JSON job request is at most {_MAX_JSON_BYTES:,} bytes",
                               "send the video itself as multipart, or upload it with tus first")
        try:
            body = JobCreate.model_validate(json.loads(bytes(raw)))
        except ValueError as exc:
            raise ApiError(422, "invalid_request", f"the JSON body is not a valid job request: {exc}"[:400],
                           'send {"upload_id": "..."}') from None
        options = job_options(body.model_dump(), s.num_poses)
        rider = rider_field(body.rider) or upload_rider(svc, body.upload_id)
        job = await _from_upload(svc, body.upload_id, options)
        if rider:
            rider_store(svc).tag(job.id, rider)
        return _public(svc, job)
    length = request.headers.get("content-length")
    declared = int(length) if length and length.isdigit() else None
    if declared is not None and declared > s.max_upload_bytes + 64 * 1024:
        raise ApiError(413, "too_large", f"the upload ({declared:,} bytes) is over the limit of "
                       f"{s.max_upload_bytes:,} bytes", "trim or compress the clip")
    check_space(svc, declared)
    incoming = svc.uploads_dir / f"incoming-{new_id()}"
    try:
        got = await receive_video(request, incoming / "video", limit=s.max_upload_bytes)
        if got.path is None:
            raise ApiError(422, "missing_video", "the form has no file field named `video`",
                           "e.g. curl -F video=@clip.mp4 .../api/v1/jobs")
        svc.metrics.upload_bytes.labels("multipart").inc(got.size)
        options = job_options(got.fields, s.num_poses)
        rider = rider_field(got.fields.get("rider"))
        job = await accept_video(svc, got.path, name=safe_name(got.filename), options=options)
        if rider:
            rider_store(svc).tag(job.id, rider)
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
    return _public(svc, job)


async def _from_upload(svc: Service, upload_id: str, options: dict[str, object]) -> Job:
    check_id(upload_id, "upload")
    upload = svc.store.get_upload(upload_id)
    if upload is None:
        raise ApiError(404, "upload_not_found", f"no upload with id {upload_id}", "it may have expired; upload again")
    if upload.job_id:
        raise ApiError(409, "upload_used", f"upload {upload_id} already became job {upload.job_id}")
    if not upload.complete:
        raise ApiError(409, "upload_incomplete", f"upload {upload_id} has {upload.offset:,} of "
                       f"{upload.length or 0:,} bytes", "finish it with PATCH, then submit again")
    async with svc.upload_lock(upload_id):
        path = svc.uploads_dir / f"{upload_id}.bin"
        name = safe_name(upload.metadata.get("filename") or upload.metadata.get("name"))
        try:
            job = await accept_video(svc, path, name=name, options=options)
        finally:
            svc.store.delete_upload(upload_id)
            svc.upload_locks.pop(upload_id, None)
    return job


@router.get("", response_model=JobsPublic)
def list_jobs(
    svc: ServiceDep,
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> JobsPublic:
    """Jobs, newest first."""
    jobs, count = svc.store.list_jobs(state=state, limit=limit, offset=offset)
    return JobsPublic(data=[_public(svc, j) for j in jobs], count=count)


@router.get("/{job_id}", response_model=JobPublic)
def get_job(job_id: JobId, svc: ServiceDep) -> JobPublic:
    """One job: state, progress, stage, attempts, error with the log's last lines."""
    return _public(svc, _job(svc, job_id))


@router.get("/{job_id}/events", responses={200: {"content": {"text/event-stream": {}}}})
async def job_events(
    job_id: JobId, svc: ServiceDep, last_event_id: Annotated[str | None, Header()] = None
) -> StreamingResponse:
    """Server-sent events: `state` and `progress`, replayed from the start (or Last-Event-ID) until the end."""
    _job(svc, job_id)
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0

    async def stream() -> AsyncIterator[str]:
        seq, idle = after, 0.0
        while True:
            events = svc.store.events(job_id, after=seq)
            for ev in events:
                seq = ev.seq
                yield f"id: {ev.seq}\nevent: {ev.kind}\ndata: {json.dumps({**ev.data, 'ts': ev.ts})}\n\n"
            job = svc.store.get(job_id)
            if job is None or (job.terminal and not events):
                yield f"event: end\ndata: {json.dumps({'state': job.state if job else 'deleted'})}\n\n"
                return
            await asyncio.sleep(_SSE_POLL_S)
            idle = 0.0 if events else idle + _SSE_POLL_S
            if idle >= _SSE_KEEPALIVE_S:
                idle = 0.0
                yield ": keep-alive\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/{job_id}/log", responses={200: {"content": {"text/plain": {}}}})
def job_log(job_id: JobId, svc: ServiceDep) -> Response:
    """The job's own log, every attempt (its last 4 MiB); it grows while the job runs."""
    job = _job(svc, job_id)
    path = job_dir(svc.settings, job.id) / "job.log"
    # Read once rather than streamed: a running worker appends while we send, and a streamed file would
    # outgrow its own Content-Length.
    try:
        with path.open("rb") as f:
            size = f.seek(0, 2)
            f.seek(max(0, size - _MAX_LOG_BYTES))
            data = f.read(_MAX_LOG_BYTES)
    except FileNotFoundError:
        data, size = b"", 0
    text = data.decode("utf-8", "replace")
    if size > _MAX_LOG_BYTES:
        text = f"[... first {size - len(data):,} bytes left out ...]\n" + text.split("\n", 1)[-1]
    return PlainTextResponse(text, headers={"Cache-Control": "no-store"})


@router.post("/{job_id}/cancel", status_code=202, response_model=JobPublic)
async def cancel_job(job_id: JobId, svc: ServiceDep) -> JobPublic:
    """Cancel a queued or running job (its worker's process group is killed)."""
    job = _job(svc, job_id)
    if job.terminal or not svc.pool.cancel(job_id):
        raise ApiError(409, "job_finished", f"job {job_id} has already ended ({svc.store.get_required(job_id).state})")
    for _ in range(50):  # a running worker takes a moment to stop; answer with the settled state if it does
        job = svc.store.get_required(job_id)
        if job.terminal:
            break
        await asyncio.sleep(0.1)
    return _public(svc, job)


@router.post("/{job_id}/retry", status_code=202, response_model=JobPublic)
def retry_job(job_id: JobId, svc: ServiceDep) -> JobPublic:
    """Queue a failed or cancelled job again."""
    job = _job(svc, job_id)
    if not svc.store.requeue(job_id):
        raise ApiError(409, "job_not_retryable", f"job {job_id} is {job.state}; only failed or cancelled jobs retry")
    svc.pool.notify()
    return _public(svc, svc.store.get_required(job_id))


@router.delete("/{job_id}", status_code=204, response_class=Response)
def delete_job(job_id: JobId, svc: ServiceDep) -> Response:
    """Delete a finished job and its files."""
    job = _job(svc, job_id)
    if not job.terminal:
        raise ApiError(409, "job_active", f"job {job_id} is {job.state}", "cancel it first")
    svc.store.delete(job_id)
    shutil.rmtree(job_dir(svc.settings, job_id), ignore_errors=True)
    return Response(status_code=204)


# The uploaded file is served as it came: a video type from its name (or GIF, which FFmpeg reads as a video),
# otherwise plain bytes, never a type taken from a name such as `clip.html`.
VIDEO_TYPES: dict[str, dict[str, object]] = {"video/*": {}, "image/gif": {}, "application/octet-stream": {}}


def video_media_type(name: str) -> str:
    guessed = mimetypes.guess_type(name)[0] or ""
    return guessed if guessed.startswith("video/") or guessed == "image/gif" else "application/octet-stream"


@router.get("/{job_id}/video", responses={200: {"content": VIDEO_TYPES, "description": "the uploaded file as it came"}})
def job_video(job_id: JobId, svc: ServiceDep) -> FileResponse:
    """The uploaded video, for the viewer (Range supported)."""
    job = _job(svc, job_id)
    path = pathlib.Path(job.video_path)
    if not path.is_file():
        raise ApiError(404, "file_not_found", f"the video of job {job_id} is no longer on disk")
    return FileResponse(path, media_type=video_media_type(job.video_name), filename=job.video_name,
                        content_disposition_type="inline")


@router.get("/{job_id}/{name}", responses={200: {"content": {m: {} for _, m in RESULT_FILES.values()}}})
def job_file(job_id: JobId, name: ResultName, svc: ServiceDep) -> FileResponse:
    """A result file: result.json, angles.csv, result.glb or overlay.mp4 (Range supported)."""
    job = _job(svc, job_id)
    if name not in RESULT_FILES:
        raise ApiError(404, "file_not_found", f"{name[:80]!r} is not a result file",
                       f"ask for one of: {', '.join(RESULT_FILES)}, video")
    rel, media_type = RESULT_FILES[name]
    path = job_dir(svc.settings, job.id) / rel
    if not path.is_file():
        why = "the job has not finished" if not job.terminal else f"the job {job.state} without it"
        raise ApiError(404, "file_not_found", f"{name} of job {job_id} is not there: {why}")
    return FileResponse(path, media_type=media_type, filename=name, content_disposition_type="inline")
