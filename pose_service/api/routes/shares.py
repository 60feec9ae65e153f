"""Compare two jumps, and read-only links (shares) to one result or one comparison.

A share's token is the only credential its link carries: `/api/v1/shared/{token}/...` answers without the
server's access token, and only for the job(s) the share names; any other job id through it is 404, and a
revoked or expired token is 404 too (never telling which).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from pose_service.analysis.compare import compare_jumps
from pose_service.api.deps import ServiceDep
from pose_service.api.errors import ApiError, explain_invalid_body
from pose_service.api.intake import ID_PATTERN
from pose_service.api.models import RESULT_FILES, ErrorPublic, JobPublic
from pose_service.api.routes.jobs import VIDEO_TYPES
from pose_service.api.routes.riders import load_analysis, rider_store, succeeded_job
from pose_service.api.service import Service
from pose_service.jobs.riders import Share
from pose_service.jobs.supervisor import job_dir

__all__ = ["router", "parse_ref"]

router = APIRouter(tags=["compare and share"], responses={c: {"model": ErrorPublic, "description": "an error"}
                                                           for c in (400, 404, 409, 422)})  # type: ignore[dict-item]
_REF = re.compile(r"^([0-9a-f]{32}):([1-9][0-9]{0,3})$")
REF_PATTERN = _REF.pattern.replace("(", "").replace(")", "")  # the same rule without the groups, for the schema
_REF_DOC = "JOB:N, a job id (32 hex digits) and the jump's number from 1 (400 otherwise)"
Ref = Annotated[str, Query(pattern=REF_PATTERN, max_length=37, description=_REF_DOC)]
Token = Annotated[str, PathParam(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
JobId = Annotated[str, PathParam(pattern=ID_PATTERN.pattern)]
FileName = Annotated[str, PathParam(pattern="^(result\\.json|angles\\.csv|result\\.glb|overlay\\.mp4|video)$")]
_MAX_TTL_S = 366 * 86400


def parse_ref(ref: str, what: str = "a") -> tuple[str, int]:
    """`JOB:N` -> (job id, 1-based jump number); 400 with the expected form otherwise."""
    m = _REF.match(ref)
    if not m:
        raise ApiError(400, "bad_jump_ref", f"{what}={ref[:80]!r} is not JOB:N",
                       "give a job id (32 hex digits), a colon and the jump's number from 1, e.g. a=<job id>:1")
    return m.group(1), int(m.group(2))


def _jump(svc: Service, job_id: str, n: int) -> dict[str, Any]:
    succeeded_job(svc, job_id)
    jumps = load_analysis(svc, job_id)["analysis"].get("jumps") or []
    if not 1 <= n <= len(jumps):
        raise ApiError(404, "jump_not_found", f"job {job_id} has {len(jumps)} jumps; there is no jump {n}",
                       "number jumps from 1, as the viewer does")
    jump: dict[str, Any] = jumps[n - 1]
    return jump


def comparison(svc: Service, a: str, b: str) -> dict[str, Any]:
    (ja, na), (jb, nb) = parse_ref(a, "a"), parse_ref(b, "b")
    jump_a, jump_b = _jump(svc, ja, na), _jump(svc, jb, nb)
    out = compare_jumps(jump_a, jump_b)
    for side, job_id, n, jump in (("a", ja, na, jump_a), ("b", jb, nb, jump_b)):
        job = svc.store.get_required(job_id)
        out[side].update({
            "ref": f"{job_id}:{n}", "job_id": job_id, "jump": n, "video_name": job.video_name,
            "rider": rider_store(svc).rider_of(job_id), "takeoff_s": jump.get("takeoff_s"),
            "landing_s": jump.get("landing_s"), "takeoff_frame": jump.get("takeoff_frame"),
            "fps": load_analysis(svc, job_id)["video"].get("fps"),
        })
    return out


@router.get("/compare")
def compare(a: Ref, b: Ref, svc: ServiceDep) -> dict[str, Any]:
    """Two jumps compared: every metric of both, B minus A, the most important difference in one sentence."""
    return comparison(svc, a, b)


@router.get("/compare/video", responses={200: {"content": {"video/mp4": {}}}})
async def compare_video(a: Ref, b: Ref, svc: ServiceDep) -> FileResponse:
    """A side-by-side MP4 of both jumps aligned at takeoff, skeletons and the difference table burned in."""
    return await _side_by_side(svc, a, b)


async def _side_by_side(svc: Service, a: str, b: str) -> FileResponse:
    from pose_service.export.side_by_side import cached_side_by_side

    table = comparison(svc, a, b)
    (ja, na), (jb, nb) = parse_ref(a), parse_ref(b)
    videos = (Path(svc.store.get_required(ja).video_path), Path(svc.store.get_required(jb).video_path))
    results = (job_dir(svc.settings, ja) / "out" / "result.json", job_dir(svc.settings, jb) / "out" / "result.json")
    folder = svc.settings.service_dir / "compare"
    path = await run_in_threadpool(cached_side_by_side, folder, (ja, na), (jb, nb), videos, results, table)
    return FileResponse(path, media_type="video/mp4", filename=f"compare-{ja[:8]}-{na}-{jb[:8]}-{nb}.mp4",
                        content_disposition_type="inline")


# --- shares -------------------------------------------------------------------------------------------
_TTL_DOC = "seconds until the link stops working (none: until revoked)"


class JobShare(BaseModel):
    """A link to one job's result."""

    model_config = ConfigDict(extra="forbid")
    job: str = Field(pattern=ID_PATTERN.pattern, description="the job's id (32 hex digits)")
    expires_in_s: float | None = Field(None, gt=0, le=_MAX_TTL_S, description=_TTL_DOC)


class CompareShare(BaseModel):
    """A link to the comparison of two jumps."""

    model_config = ConfigDict(extra="forbid")
    a: str = Field(pattern=REF_PATTERN, max_length=37, description=_REF_DOC)
    b: str = Field(pattern=REF_PATTERN, max_length=37, description=_REF_DOC)
    expires_in_s: float | None = Field(None, gt=0, le=_MAX_TTL_S, description=_TTL_DOC)


ShareCreate = JobShare | CompareShare


class SharePublic(BaseModel):
    token: str
    kind: str
    url: str = Field(description="the page's address of the share, relative to the server's root")
    api: str = Field(description="the share's API root")
    jobs: list[str]
    a: str | None = None
    b: str | None = None
    created_at: float
    expires_at: float | None
    revoked: bool

    @classmethod
    def of(cls, s: Share) -> SharePublic:
        return cls(token=s.token, kind=s.kind, url=f"/#/shared/{s.token}", api=f"/api/v1/shared/{s.token}",
                   jobs=sorted(s.job_ids), a=f"{s.job_a}:{s.jump_a}" if s.jump_a else None,
                   b=f"{s.job_b}:{s.jump_b}" if s.job_b and s.jump_b else None, created_at=s.created_at,
                   expires_at=s.expires_at, revoked=s.revoked_at is not None)


@router.post("/shares", status_code=201, response_model=SharePublic)
@explain_invalid_body("a share is of one job or of one comparison",
                      'send {"job": "<job id>"} or {"a": "<job id>:1", "b": "<job id>:1"}')
def create_share(body: Annotated[ShareCreate, Body()], svc: ServiceDep) -> SharePublic:
    """A read-only link to one job's result (`job`), or to a comparison of two jumps (`a` and `b`)."""
    store = rider_store(svc)
    if isinstance(body, JobShare):
        succeeded_job(svc, body.job)
        return SharePublic.of(store.create_share(kind="job", job_a=body.job, ttl_s=body.expires_in_s))
    comparison(svc, body.a, body.b)  # both jumps exist
    (ja, na), (jb, nb) = parse_ref(body.a, "a"), parse_ref(body.b, "b")
    share = store.create_share(kind="compare", job_a=ja, jump_a=na, job_b=jb, jump_b=nb, ttl_s=body.expires_in_s)
    return SharePublic.of(share)


def _owned_share(svc: Service, token: str) -> Share:
    share = rider_store(svc).get_share(token)
    if share is None:
        raise ApiError(404, "share_not_found", "no such share", "create one with POST /api/v1/shares")
    return share


@router.get("/shares/{token}", response_model=SharePublic)
def get_share(token: Token, svc: ServiceDep) -> SharePublic:
    """A share as its owner sees it (revoked and expired ones too)."""
    return SharePublic.of(_owned_share(svc, token))


@router.delete("/shares/{token}", status_code=204, response_class=Response)
def revoke_share(token: Token, svc: ServiceDep) -> Response:
    """Revoke a share: its link answers 404 from now on."""
    _owned_share(svc, token)
    rider_store(svc).revoke_share(token)
    return Response(status_code=204)


# --- what a share's link may read (open without the server's token; see app.py) ------------------------
def _live(svc: Service, token: str, job_id: str | None = None) -> Share:
    share = rider_store(svc).get_share(token)
    if share is None or not share.live(time.time()):
        raise ApiError(404, "share_not_found", "this link does not exist, was revoked or has expired",
                       "ask whoever shared it for a new link")
    if job_id is not None and job_id not in share.job_ids:
        raise ApiError(404, "job_not_found", f"no job with id {job_id} in this share")
    return share


@router.get("/shared/{token}")
def shared(token: Token, svc: ServiceDep) -> dict[str, Any]:
    """What a share shows: its kind, its jobs, and for a comparison the compared jumps."""
    from pose_service.api.routes.jobs import get_job

    share = _live(svc, token)
    out: dict[str, Any] = {"kind": share.kind, "expires_at": share.expires_at,
                           "jobs": [get_job(j, svc).model_dump() for j in sorted(share.job_ids)]}
    if share.kind == "compare" and share.job_b:
        out["compare"] = comparison(svc, f"{share.job_a}:{share.jump_a}", f"{share.job_b}:{share.jump_b}")
    return out


@router.get("/shared/{token}/jobs/{job_id}", response_model=JobPublic)
def shared_job(token: Token, job_id: JobId, svc: ServiceDep) -> JobPublic:
    """One job of the share."""
    from pose_service.api.routes.jobs import get_job

    _live(svc, token, job_id)
    return get_job(job_id, svc)


@router.get("/shared/{token}/compare/video", responses={200: {"content": {"video/mp4": {}}}})
async def shared_compare_video(token: Token, svc: ServiceDep) -> FileResponse:
    """The side-by-side MP4 of a shared comparison."""
    share = _live(svc, token)
    if share.kind != "compare" or not share.job_b:
        raise ApiError(404, "not_a_comparison", "this share is of one job, not a comparison")
    return await _side_by_side(svc, f"{share.job_a}:{share.jump_a}", f"{share.job_b}:{share.jump_b}")


@router.get("/shared/{token}/jobs/{job_id}/{name}", responses={200: {"content": {
    **{media_type: {} for _, media_type in RESULT_FILES.values()}, **VIDEO_TYPES}}})
def shared_file(token: Token, job_id: JobId, name: FileName, svc: ServiceDep) -> FileResponse:
    """A file of a shared job: the video or a result file (Range supported)."""
    from pose_service.api.routes.jobs import job_file, job_video

    _live(svc, token, job_id)
    return job_video(job_id, svc) if name == "video" else job_file(job_id, name, svc)
