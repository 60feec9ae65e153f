"""Service settings, read once from the environment (prefix `POSE_SERVICE_`).

Stages never read the environment: the CLI and the service build one `Settings` and pass the values on.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "default_data_dir"]


def default_data_dir() -> Path:
    """Where models, caches and job files live when nothing else is configured."""
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
    min_free_disk_mb: int = Field(500, ge=0, description="doctor fails below this much free disk")

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def anny_cache_dir(self) -> Path:
        return self.data_dir / "anny-cache"
