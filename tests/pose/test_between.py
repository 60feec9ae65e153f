"""The look between (`pose.between`): a tracked person's short gaps read by the landmark model on the real frames,
where the interpolation between the readings either side expects the body, before the track is finished."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pose_service.config import Settings
from pose_service.tracking.tracker import Followed, FollowedTrack, TrackerConfig

GAP = range(40, 45)  # frames taken out of the rendered 360's rider track (in the air), as if the model had lost them


def _followed(result: dict[str, Any], drop: range, *, extra: list[FollowedTrack] | None = None) -> Followed:
    """The rider of `result` as the tracker would hand it on, its frames `drop` taken out (and `extra` tracks)."""
    raw = next(t for t in result["tracks"] if t["id"] == result["analysis"]["rider_track"])
    frames = np.asarray(raw["frames"], dtype=np.int64)
    keep = ~np.asarray(raw["interpolated"], dtype=bool) & ~np.isin(frames, list(drop))
    rider = FollowedTrack(1, frames[keep], np.asarray(raw["keypoints_2d"], np.float32)[keep],
                          np.asarray(raw["keypoints_3d"], np.float32)[keep])  # fmt: skip
    times = {f: float(t) for f, t in enumerate(result["timestamps_s"])}
    return Followed([rider, *(extra or [])], times, {}, {})


@pytest.fixture(scope="module")
def between(spin_clip: Path, spin_analysis, settings: Settings):  # type: ignore[no-untyped-def]
    from pose_service.pipeline import _finished
    from pose_service.pose import ensure_bundle
    from pose_service.video import probe

    info, bundle = probe(spin_clip), ensure_bundle(settings.models_dir)
    result = spin_analysis.result
    whole = next(t for t in result["tracks"] if t["id"] == result["analysis"]["rider_track"])
    assert not any(f in GAP and filled for f, filled in zip(whole["frames"], whole["interpolated"], strict=True))

    def run(followed: Followed, backend: dict[str, Any] | None = None) -> tuple[list[Any], dict[str, int]]:
        """The tracks as the pipeline finishes them, and what its look between did."""
        backend = {} if backend is None else backend
        tracks = _finished(info, followed, backend, bundle, TrackerConfig(), {})
        return tracks, backend["look_between"]

    return result, whole, run


def test_a_short_gap_is_read_where_the_whole_frame_had_the_body(between) -> None:  # type: ignore[no-untyped-def]
    result, whole, run = between
    (track, *_), stats = run(_followed(result, GAP))
    assert stats["frames"] == len(GAP) and stats["found"] >= len(GAP) - 1, stats
    at = np.isin(track.frames, list(GAP))
    assert int((~track.interpolated[at]).sum()) == stats["found"]
    # the readings stand where the whole run's did, a small share of the body's height apart
    was = np.asarray(whole["keypoints_2d"])[np.isin(whole["frames"], list(GAP))]
    body = float(np.median(track.bbox[:, 3] - track.bbox[:, 1]))
    apart = np.linalg.norm(track.keypoints_2d[at, :, :2] - was[:, :, :2], axis=2)
    assert np.median(apart) / body < 0.1, np.median(apart) / body


def test_a_gap_the_tracker_would_not_fill_or_frames_not_posed_are_not_read(between) -> None:  # type: ignore[no-untyped-def]
    result, _, run = between
    (track, *_), stats = run(_followed(result, range(40, 52)))  # 0.4 s: longer than the tracker fills (0.3 s)
    assert stats["frames"] == 0 and not np.isin(np.arange(40, 52), track.frames).any()
    # the adaptive frame rate posed frames 40-44 at a third of the rate only: not read, filled as before
    adaptive = {"frame_rate": {"mode": "adaptive", "windows": [[0, 30], [60, 90]]}}
    (track, *_), stats = run(_followed(result, GAP), adaptive)
    assert stats["frames"] == 0 and track.interpolated[np.isin(track.frames, list(GAP))].all()


def test_a_body_another_track_holds_is_not_read_into_this_one(between) -> None:  # type: ignore[no-untyped-def]
    result, _, run = between
    whole = _followed(result, range(0))
    rider = whole.tracks[0]
    at = np.isin(rider.frames, list(GAP))
    # the same body under another number in those frames (which the rider's chain joins, not the look between)
    other = FollowedTrack(2, rider.frames[at], rider.keypoints_2d[at], rider.keypoints_3d[at])
    (track, _), stats = run(_followed(result, GAP, extra=[other]))
    assert stats["frames"] == len(GAP) and stats["found"] == 0, stats
    assert track.interpolated[np.isin(track.frames, list(GAP))].all()
