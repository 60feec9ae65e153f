"""Fixtures of the body tests: exact synthetic joints (no video rendered), made once per session."""

from __future__ import annotations

from typing import Any

import pytest

from pose_service.config import Settings


@pytest.fixture(scope="session")
def flip_truth(settings: Settings) -> dict[str, Any]:
    """A backflip with a 360, seen from the side, by a rider whose build is not the average one (seed 3)."""
    from pose_service.evaluation.body_fit import synthetic_truth

    return synthetic_truth("backflip+360", settings.anny_cache_dir, view="side", seed=3)
