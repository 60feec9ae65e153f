"""PHALP's tracks finished as the pipeline finishes them: `raw_tracks`, then `pipeline.finish_backend_tracks`."""

from __future__ import annotations

import numpy as np

from pose_service.pipeline import finish_backend_tracks
from pose_service.pose.phalp_convert import PhalpResults, raw_tracks
from pose_service.tracking import Track, TrackerConfig
from pose_service.tracking.smoothing import OneEuro

__all__ = ["phalp_tracks"]


def phalp_tracks(
    results: PhalpResults,
    timestamps_s: list[float] | np.ndarray,
    *,
    min_frames: int = 5,
    max_interp_s: float = 0.3,
    smoothing: OneEuro | None = None,
) -> list[Track]:
    """The hmr2 path's tracks: PHALP's seen in `min_frames` frames or more, repaired, gap-filled, smoothed."""
    raw = raw_tracks(results, len(timestamps_s), min_frames=min_frames)
    return finish_backend_tracks(raw, timestamps_s, TrackerConfig(max_interp_s=max_interp_s, smoothing=smoothing))
