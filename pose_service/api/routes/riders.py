"""Riders: tag a job with who rode it (at upload or later), list riders, and a rider's every analysed jump."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from pose_service.analysis.compare import jump_trick, landing_grade
from pose_service.api.deps import ServiceDep
from pose_service.api.errors import ApiError
from pose_service.api.intake import ID_PATTERN, check_id
from pose_service.api.models import RIDER_CONTROL, RIDER_SCHEMA, ErrorPublic, JobPublic
from pose_service.api.service import Service
from pose_service.jobs.riders import MAX_RIDER_CHARS, RiderStore, normalize_rider
from pose_service.jobs.store import Job
from pose_service.jobs.supervisor import job_dir

__all__ = ["router", "rider_store", "rider_field", "load_analysis", "succeeded_job", "upload_rider"]

router = APIRouter(tags=["riders"], responses={c: {"model": ErrorPublic, "description": "an error"}
                                                for c in (400, 404, 409, 422)})  # type: ignore[dict-item]
JobId = Annotated[str, PathParam(pattern=ID_PATTERN.pattern, description="32 hex digits")]

_stores: dict[Path, RiderStore] = {}
_stores_lock = threading.Lock()
_analyses: dict[Path, tuple[float, dict[str, Any]]] = {}
_MAX_CACHED = 64


def rider_store(svc: Service) -> RiderStore:
    """The rider and share tables of this service's job store, migrated on first use."""
    path = svc.settings.service_dir / "jobs.db"
    with _stores_lock:
        store = _stores.get(path)
        if store is None:
            store = _stores[path] = RiderStore(path)
        return store


def rider_field(value: object) -> str | None:
    """A rider name from a form field, JSON or tus metadata; None when absent or blank; 400 when unusable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ApiError(400, "bad_rider", "the rider must be a text name", 'e.g. "rider": "Sam"')
    hint = f"use a name of 1 to {MAX_RIDER_CHARS} characters"
    if len(value) > MAX_RIDER_CHARS:
        raise ApiError(400, "bad_rider", f"the rider's name has {len(value)} characters; at most {MAX_RIDER_CHARS}",
                       hint)
    if RIDER_CONTROL.search(value):
        raise ApiError(400, "bad_rider", "the rider's name has control characters", hint)
    try:
        return normalize_rider(value)
    except ValueError as exc:
        raise ApiError(400, "bad_rider", str(exc), hint) from None


def upload_rider(svc: Service, upload_id: str) -> str | None:
    """The `rider` of a tus upload's metadata (Upload-Metadata: rider <base64>), if it has one."""
    if not ID_PATTERN.match(upload_id):
        return None
    upload = svc.store.get_upload(upload_id)
    return rider_field(upload.metadata.get("rider")) if upload else None


def succeeded_job(svc: Service, job_id: str) -> Job:
    check_id(job_id)
    job = svc.store.get(job_id)
    if job is None:
        raise ApiError(404, "job_not_found", f"no job with id {job_id}", "list jobs with GET /api/v1/jobs")
    if job.state != "succeeded":
        raise ApiError(409, "job_not_succeeded", f"job {job_id} is {job.state}; only finished analyses have jumps",
                       "wait for it to succeed")
    return job


def load_analysis(svc: Service, job_id: str) -> dict[str, Any]:
    """`video` and `analysis` of a job's result.json (without the per-frame tracks), cached while unchanged."""
    path = job_dir(svc.settings, job_id) / "out" / "result.json"
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise ApiError(404, "file_not_found", f"result.json of job {job_id} is not there") from None
    cached = _analyses.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    with path.open("rb") as f:
        data = json.load(f)
    small = {"video": data.get("video") or {}, "analysis": data.get("analysis") or {}}
    _analyses.pop(path, None)
    _analyses[path] = (mtime, small)
    while len(_analyses) > _MAX_CACHED:  # oldest first out: a long history reads each result once per listing
        _analyses.pop(next(iter(_analyses)))
    return small


class RiderUpdate(BaseModel):
    """PATCH /jobs/{id}: who rode it; null removes the tag."""

    rider: str | None = Field(description=f"the rider's name (1-{MAX_RIDER_CHARS} characters), or null",
                              json_schema_extra=RIDER_SCHEMA)


class RiderPublic(BaseModel):
    name: str
    jobs: int
    last_job_at: float


class RidersPublic(BaseModel):
    data: list[RiderPublic]
    count: int


class RiderJump(BaseModel):
    ref: str = Field(description="JOB:N, for /compare")
    job_id: str
    jump: int = Field(description="1-based number of the jump in its job")
    date: str = Field(description="when the job was uploaded (UTC, ISO 8601)")
    created_at: float
    video_name: str
    trick: str
    air_time_s: float
    height_m: float | None
    spin_deg: float
    spin_direction: str | None
    flip_deg: float
    flip_direction: str | None
    grade: float | None = Field(description="landing grade, 0 to 10")
    explanation: str


class RiderBest(BaseModel):
    value: float
    ref: str


class RiderJumps(BaseModel):
    rider: str
    jobs: int
    data: list[RiderJump]
    count: int
    best: dict[str, RiderBest] = Field(description="air_time_s, height_m, spin_deg, flip_deg, grade: best and where")


@router.patch("/jobs/{job_id}", response_model=JobPublic)
def tag_job(job_id: JobId, svc: ServiceDep, body: Annotated[RiderUpdate, Body()]) -> JobPublic:
    """Tag a job with its rider (or remove the tag with null)."""
    from pose_service.api.routes.jobs import get_job

    get_job(job_id, svc)  # 404 for an unknown job, before any write
    rider_store(svc).tag(job_id, rider_field(body.rider))
    return get_job(job_id, svc)


@router.get("/riders", response_model=RidersPublic)
def list_riders(svc: ServiceDep) -> RidersPublic:
    """Every rider with tagged jobs, by name."""
    rows = [RiderPublic(name=n, jobs=c, last_job_at=t) for n, c, t in rider_store(svc).riders()]
    return RidersPublic(data=rows, count=len(rows))


@router.get("/riders/{rider}/jumps", response_model=RiderJumps)
def rider_jumps(
    rider: Annotated[str, PathParam(max_length=MAX_RIDER_CHARS, description="the rider's name, in any case")],
    svc: ServiceDep,
) -> RiderJumps:
    """Every analysed jump of a rider, oldest job first, and their best values."""
    name = rider
    try:
        rider = rider_field(name) or ""
    except ApiError:
        rider = ""  # no job can carry a name that is not one: not found, like any other unknown rider
    job_ids = rider_store(svc).jobs_of(rider) if rider else []
    if not job_ids:
        raise ApiError(404, "rider_not_found", f"no jobs are tagged with the rider {name[:80]!r}",
                       "tag a job with PATCH /api/v1/jobs/{id} {\"rider\": ...}; list riders with GET /api/v1/riders")
    out: list[RiderJump] = []
    shown = rider or name
    for job_id in job_ids:
        job = svc.store.get(job_id)
        if job is None or job.state != "succeeded":
            continue
        try:
            analysis = load_analysis(svc, job_id)["analysis"]
        except (ApiError, ValueError, OSError):
            continue  # a result gone or unreadable: the job's other facts are still listed elsewhere
        shown = rider_store(svc).rider_of(job_id) or shown
        for n, j in enumerate(analysis.get("jumps") or [], start=1):
            out.append(RiderJump(
                ref=f"{job_id}:{n}", job_id=job_id, jump=n,
                date=datetime.fromtimestamp(job.created_at, UTC).isoformat(timespec="seconds"),
                created_at=job.created_at, video_name=job.video_name, trick=jump_trick(j),
                air_time_s=float(j.get("air_time_s") or 0.0), height_m=j.get("height_m"),
                spin_deg=float(j.get("spin_deg") or 0.0), spin_direction=j.get("spin_direction"),
                flip_deg=float(j.get("flip_deg") or 0.0), flip_direction=j.get("flip_direction"),
                grade=landing_grade(j), explanation=str(j.get("explanation") or ""),
            ))
    best: dict[str, RiderBest] = {}
    for key in ("air_time_s", "height_m", "spin_deg", "flip_deg", "grade"):
        values = [(getattr(j, key), j.ref) for j in out if getattr(j, key) is not None]
        if values:
            value, ref = max(values, key=lambda v: v[0])
            best[key] = RiderBest(value=value, ref=ref)
    return RiderJumps(rider=shown, jobs=len(job_ids), data=out, count=len(out), best=best)
