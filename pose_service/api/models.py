"""Response and request bodies of the HTTP API, one family per resource."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import JsonDict

from pose_service.jobs.riders import MAX_RIDER_CHARS
from pose_service.jobs.store import Attempt, Job

__all__ = ["ID_SCHEMA_PATTERN", "RIDER_CONTROL", "RIDER_SCHEMA", "AttemptPublic", "ErrorBody", "ErrorPublic",
           "JobCreate", "JobError", "JobPublic", "JobsPublic", "RESULT_FILES"]

# What GET /jobs/{id}/{name} serves: file name -> (path inside the job folder, media type).
RESULT_FILES = {
    "result.json": ("out/result.json", "application/json"),
    "angles.csv": ("out/angles.csv", "text/csv"),
    "result.glb": ("out/result.glb", "model/gltf-binary"),
    "overlay.mp4": ("out/overlay.mp4", "video/mp4"),
}


# Ids of jobs and uploads.
ID_SCHEMA_PATTERN = r"^[0-9a-f]{32}$"
# What a rider's name may hold, as the schema states it: at most 60 characters and no control characters but
# whitespace (collapsed to one space; a blank name means no rider). rider_field() enforces the same (400).
RIDER_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f]")
RIDER_SCHEMA: JsonDict = {"maxLength": MAX_RIDER_CHARS, "pattern": r"^[^\x00-\x08\x0e-\x1b\x7f]*$"}


class ErrorBody(BaseModel):
    code: str
    message: str
    hint: str = ""


class ErrorPublic(BaseModel):
    error: ErrorBody


class JobError(BaseModel):
    code: str
    message: str
    hint: str = ""
    log_tail: str = ""


class JobCreate(BaseModel):
    """POST /jobs as JSON: analyse a finished tus upload."""

    upload_id: str = Field(pattern=ID_SCHEMA_PATTERN, description="the finished tus upload's id (32 hex digits)")
    overlay: bool = False
    mesh: bool = True
    num_poses: int | None = Field(None, ge=1, le=16)
    backend: Literal["mediapipe", "hmr2"] = "mediapipe"
    rider: str | None = Field(None, description="who rode it (or tus metadata `rider`)", json_schema_extra=RIDER_SCHEMA)
    stance: Literal["regular", "goofy"] | None = Field(
        None, description="the rider's natural stance (regular: left foot leads), so a switch approach is named so"
    )
    device: Literal["cpu", "gpu", "auto"] | None = Field(
        None, description="where the pose model runs: cpu, gpu (MediaPipe's GPU delegate through EGL; the job fails "
        "naming what is missing when it cannot start) or auto (the GPU when it starts, else the CPU); default: the "
        "worker's setting (cpu; auto on `pose-service worker --gpu`)"
    )
    pose_max_side: Literal[0] | Annotated[int, Field(ge=64)] | None = Field(
        None, description="the longer side, pixels, of the frame the pose model sees (0: full size, else at least 64); "
        "default: full size on the CPU, 640 on the GPU delegate"
    )
    frame_rate: Literal["full", "adaptive"] = Field(
        "full", description="full: the pose model on every frame; adaptive: on every frame only around candidate "
        "takeoffs, flights and landings, plain riding at a third of the rate and interpolated"
    )


class AttemptPublic(BaseModel):
    """One worker run of a job and how it ended."""

    n: int
    started_at: float
    ended_at: float | None
    exit_code: int | None
    outcome: str | None


class JobPublic(BaseModel):
    id: str
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: float
    stage: str | None
    video_name: str
    options: dict[str, object]
    attempts: int
    max_attempts: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    updated_at: float
    error: JobError | None
    files: list[str] = Field(default_factory=list, description="result files ready to fetch")
    history: list[AttemptPublic] = Field(default_factory=list, description="every worker run, oldest first")
    rider: str | None = Field(None, description="who rode it: set at upload (field `rider`) or PATCH /jobs/{id}")

    @classmethod
    def of(cls, job: Job, files: list[str], history: list[Attempt] | None = None) -> JobPublic:
        return cls(
            id=job.id, state=job.state, progress=job.progress, stage=job.stage,  # type: ignore[arg-type]
            video_name=job.video_name, options=job.options, attempts=job.attempts, max_attempts=job.max_attempts,
            created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at,
            updated_at=job.updated_at, error=JobError(**job.error) if job.error else None, files=files,
            history=[AttemptPublic(n=a.n, started_at=a.started_at, ended_at=a.ended_at, exit_code=a.exit_code,
                                   outcome=a.outcome) for a in history or []],
        )


class JobsPublic(BaseModel):
    data: list[JobPublic]
    count: int
