"""Synthetic tricks rendered small and analysed end to end, once per session and shared by the tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pose_service.config import Settings

SIZE = 256  # measured: at 256x256 spins, flips and flights come out as at 480x480 (bench/analysis_accuracy.py)


@pytest.fixture(scope="session")
def analyzed_trick(
    session_dir: Path, settings: Settings
) -> Callable[[str, str], tuple[dict[str, Any], dict[str, Any]]]:
    """analyzed_trick(spec, view) -> (result.json, truth.json) of a 256x256, 30 fps clip, made once."""
    from pose_service.pipeline import AnalyzeOptions, analyze
    from pose_service.synth import parse_trick, render_clip

    cache: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {}

    def make(spec: str, view: str) -> tuple[dict[str, Any], dict[str, Any]]:
        if (spec, view) not in cache:
            name = f"trick_{spec.replace('+', '_')}_{view}"
            clip = session_dir / f"{name}.mp4"
            truth = render_clip(
                parse_trick(spec), clip, width=SIZE, height=SIZE, fps=30.0, view=view,
                anny_cache_dir=settings.anny_cache_dir,
            )  # fmt: skip
            outcome = analyze(clip, out_dir=session_dir / f"{name}_pose", options=AnalyzeOptions(mesh=False),
                              settings=settings)  # fmt: skip
            cache[spec, view] = (outcome.result, json.loads(Path(truth).read_text()))
        return cache[spec, view]

    return make
