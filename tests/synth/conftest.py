"""Small synthetic clips rendered once per session with the real Anny model and real H.264 encoding."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pose_service.config import Settings
from pose_service.synth import parse_trick, render_clip


@pytest.fixture(scope="session")
def small_spin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A 256x256, 15 fps front-view 360 to the left: (video path, truth document)."""
    out = tmp_path_factory.mktemp("synth") / "spin360.mp4"
    calls: list[tuple[int, int]] = []
    truth_path = render_clip(
        parse_trick("360"),
        out,
        width=256,
        height=256,
        fps=15.0,
        anny_cache_dir=Settings().anny_cache_dir,
        progress=lambda done, total: calls.append((done, total)),
    )
    truth = json.loads(truth_path.read_text())
    truth["_progress_calls"] = calls
    return out, truth


@pytest.fixture(scope="session")
def small_backflip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A 128x128, 10 fps side-view backflip: (video path, truth document)."""
    out = tmp_path_factory.mktemp("synth") / "backflip.mp4"
    truth_path = render_clip(
        parse_trick("backflip"),
        out,
        width=128,
        height=128,
        fps=10.0,
        view="side",
        anny_cache_dir=Settings().anny_cache_dir,
    )
    return out, json.loads(truth_path.read_text())


@pytest.fixture(scope="session")
def trick_clip(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., tuple[Path, dict[str, Any]]]:
    """Render a small clip of a trick spec once per session: trick_clip(spec, view=..., size=..., fps=...)."""
    folder = tmp_path_factory.mktemp("tricks")
    cache: dict[tuple[str, str, int, float], tuple[Path, dict[str, Any]]] = {}

    def render(spec: str, view: str = "front", size: int = 128, fps: float = 10.0) -> tuple[Path, dict[str, Any]]:
        key = (spec, view, size, fps)
        if key not in cache:
            out = folder / f"clip{len(cache)}.mp4"
            truth_path = render_clip(parse_trick(spec), out, width=size, height=size, fps=fps, view=view,
                                     anny_cache_dir=Settings().anny_cache_dir)  # fmt: skip
            cache[key] = (out, json.loads(truth_path.read_text()))
        return cache[key]

    return render
