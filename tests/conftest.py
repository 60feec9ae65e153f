"""Fixtures shared by the whole suite: real encoded clips made once per session."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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


@pytest.fixture(scope="session")
def spin_clip(session_dir: Path, settings: Settings) -> Path:
    """A 480x480, 30 fps synthetic rider doing a 360, rendered once; its truth file lies beside it."""
    from pose_service.synth import parse_trick, render_clip

    clip = session_dir / "spin360.mp4"
    render_clip(parse_trick("360"), clip, width=480, height=480, fps=30.0, anny_cache_dir=settings.anny_cache_dir)
    return clip


@pytest.fixture(scope="session")
def small_spin_clip(session_dir: Path, settings: Settings) -> Path:
    """The server tests' clip: a real H.264 360, 256x256 at 15 fps, so each job takes seconds; rendered once for
    the API, web, compare and Celery tests alike."""
    from pose_service.synth import parse_trick, render_clip

    path = session_dir / "api_spin360.mp4"
    if not path.is_file():
        render_clip(parse_trick("360"), path, width=256, height=256, fps=15.0, anny_cache_dir=settings.anny_cache_dir)
    return path


@pytest.fixture(scope="session")
def spin_truth(spin_clip: Path) -> dict:
    import json

    return json.loads(spin_clip.with_suffix(".truth.json").read_text())


@pytest.fixture(scope="session")
def spin_analysis(spin_clip: Path, session_dir: Path, settings: Settings):  # type: ignore[no-untyped-def]
    """The whole pipeline run once on the synthetic clip, overlay included."""
    from pose_service.pipeline import AnalyzeOptions, analyze

    return analyze(
        spin_clip, out_dir=session_dir / "spin360_pose", options=AnalyzeOptions(overlay=True), settings=settings
    )


@pytest.fixture(scope="session")
def sports2d_result(media: Path, session_dir: Path, settings: Settings) -> dict[str, Any]:
    """The real sports2d_demo.mp4 analysed once (no mesh, one serial pass: at 7.7 s it is shorter than two chunks),
    for the tests that read it and for the chunked run's comparison (tests/test_chunks.py)."""
    from pose_service.pipeline import AnalyzeOptions, analyze

    out = analyze(media / "sports2d_demo.mp4", out_dir=session_dir / "sports2d_pose",
                  options=AnalyzeOptions(mesh=False), settings=settings)  # fmt: skip
    return out.result
