"""Service settings, read once from the environment (prefix `POSE_SERVICE_`).

Stages never read the environment: the CLI and the service build one `Settings` and pass the values on.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "checkout_dir", "default_data_dir"]


def checkout_dir() -> Path | None:
    """The source checkout this package runs from (installed editable, `pip install -e .`, as `make` does):
    the folder holding pose-service's pyproject.toml beside the package; None for an installed wheel."""
    root = Path(__file__).resolve().parent.parent
    try:
        pyproject = (root / "pyproject.toml").read_text("utf-8")
    except OSError:
        return None
    return root if 'name = "pose-service"' in pyproject else None


def default_data_dir() -> Path:
    """Where models, caches and job files live when POSE_SERVICE_DATA_DIR is not set: the checkout's `.data/`
    when running from a checkout (where `make` puts them too, so the bare command and `make` agree), else the
    user's data folder (`$XDG_DATA_HOME/pose-service`, by default `~/.local/share/pose-service`)."""
    checkout = checkout_dir()
    if checkout is not None:
        return checkout / ".data"
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "pose-service"


class Settings(BaseSettings):
    """Limits, folders and model options for one process."""

    model_config = SettingsConfigDict(env_prefix="POSE_SERVICE_", frozen=True)

    data_dir: Path = Field(default_factory=default_data_dir)
    max_side_px: int = Field(8192, gt=0, description="largest accepted frame width or height")
    max_duration_s: float = Field(7200.0, gt=0, description="longest accepted clip, seconds")
    num_poses: int = Field(4, ge=1, le=16, description="most people the pose model looks for per frame")
    device: Literal["cpu", "gpu", "auto"] = Field(
        "cpu", description="the pose stage's delegate when a run or job does not choose one (`--device`); "
        "`pose-service worker --gpu` makes it auto"
    )
    pose_max_side: int | None = Field(
        None, ge=0, description="the longer side, pixels, of the frame the pose model sees when a run or job does not "
        "choose (`--pose-max-side`); 0: full size; unset: full size on the CPU, 640 on the GPU delegate"
    )
    jobs: int = Field(0, ge=0, le=64, description="processes posing chunks of one long clip side by side when a run "
                      "or job does not choose (`analyze --jobs`); 0: one per core")
    chunk_min_s: float = Field(10.0, gt=0, description="the shortest chunk, seconds: a clip shorter than two stays "
                               "serial")
    chunk_overlap_s: float = Field(1.5, gt=0, description="how much consecutive chunks overlap, seconds (their tracks "
                                   "are joined there)")
    min_free_disk_mb: int = Field(500, ge=0, description="doctor fails below this much free disk")

    # The job service (`pose-service serve`).
    state_dir: Path | None = Field(None, description="job store, uploads and job folders (default DATA_DIR/service)")
    max_upload_bytes: int = Field(4 * 2**30, gt=0, description="largest accepted upload, bytes")
    workers: int = Field(1, ge=0, le=64, description="worker subprocesses run at once (0: accept jobs, run none)")
    worker_python: Path | None = Field(None, description="interpreter for workers (default: this one)")
    warm_workers: bool = Field(
        True, description="start each local worker ahead, importing the pipeline while no job waits (one job per "
        "process still); off: every job starts its worker from scratch"
    )
    job_timeout_s: float | None = Field(
        None, gt=0, description="a cap on the wall-clock limit of one worker run, seconds; the limit itself follows "
        "the clip (1.5 x (job overhead + seconds per video second x duration), pose_service.jobs.limits); the "
        "shorter of the two wins"
    )
    job_memory_mb: int = Field(8192, ge=0, description="worker resident memory limit, MiB (0: none)")
    job_max_attempts: int = Field(3, ge=1, le=20, description="runs per job before it fails (retries + 1)")
    heartbeat_timeout_s: float = Field(60.0, gt=0, description="a worker silent this long is killed")
    upload_expiry_s: float = Field(24 * 3600.0, gt=0, description="unfinished tus uploads are deleted after this")
    rejected_keep_s: float = Field(24 * 3600.0, ge=0, description="rejected uploads are kept this long")
    api_token: str | None = Field(None, description="bearer token; required when serving beyond loopback")
    max_queued_jobs: int = Field(1000, ge=1, description="POST /jobs answers 429 while this many jobs wait")
    log_format: Literal["text", "json"] = Field("text", description="`serve` logs: text, or one JSON object a line")

    # Scale-out (`serve --queue celery`, `pose-service worker`): jobs go to Celery workers through a Redis broker.
    queue: Literal["local", "celery"] = Field("local", description="who runs jobs: the local pool or Celery workers")
    broker_url: str | None = Field(None, description="Celery broker, e.g. redis://HOST:6379/0")
    remote_job_overhead_s: float = Field(
        120.0, gt=0, description="expected worker time of a job besides the video: start, download, upload "
        "(sets the local pool's time limit and the Celery time limits)"
    )
    remote_seconds_per_video_s: float = Field(
        30.0, gt=0, description="expected worker time per second of video (sets the local pool's time limit and "
        "the Celery time limits)"
    )
    remote_heartbeat_s: float = Field(5.0, gt=0, description="how often a remote worker reports to the API")
    remote_chunks: Literal["off", "auto"] = Field(
        "auto", description="auto: a long clip's job runs as Celery tasks, one per chunk (any workers), joined by one "
        "more task (as `analyze --jobs`); off: every job is one task"
    )
    remote_chunk_min_s: float = Field(
        60.0, gt=0, description="the shortest chunk of a remote job, seconds: a clip shorter than two runs as one task"
    )
    remote_max_chunks: int = Field(8, ge=2, le=64, description="the most chunk tasks one remote job is cut into")
    broker_check_s: float = Field(
        30.0, gt=0, description="how often the API reads the broker for queued jobs and chunks whose message vanished "
        "(a Redis restarted without persistence), seconds; such a message is sent again once it is this old"
    )

    # The optional GPU backend (`--backend hmr2`): an existing 4D-Humans install in its own environment.
    hmr2_python: Path | None = Field(None, description="python of the environment where 4D-Humans is installed")
    hmr2_dir: Path | None = Field(None, description="the 4D-Humans checkout (the folder holding track.py)")
    hmr2_timeout_s: float = Field(
        2.5 * 3600.0, gt=0, description="wall-clock limit of one track.py run (keep it under the job's limit)"
    )

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def anny_cache_dir(self) -> Path:
        return self.data_dir / "anny-cache"

    @property
    def service_dir(self) -> Path:
        return self.state_dir or self.data_dir / "service"
