"""Fixtures shared by the whole suite: real encoded clips made once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pose_service.config import Settings

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The settings the suite runs with (the Makefile points POSE_SERVICE_DATA_DIR at .data/)."""
    return Settings()


@pytest.fixture(scope="session")
def media() -> Path:
    """The real clips in ../shared/media; tests that need them skip, saying why, when they are absent."""
    if not (MEDIA / "sports2d_demo.mp4").is_file():
        pytest.skip(f"real clips not found in {MEDIA} (../shared/media is not beside this checkout)")
    return MEDIA


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("session")


def pytest_report_header(config: pytest.Config) -> str:
    return f"POSE_SERVICE_DATA_DIR={os.environ.get('POSE_SERVICE_DATA_DIR', '(default)')}; media: {MEDIA}"
