"""The look back (`pose.backfill`): a person the pose model found late is read in the frames before, by the
landmark model on the real frames, back to where the whole frame's graph had them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pose_service.config import Settings
from pose_service.tracking.core import Track
from pose_service.tracking.tracker import TrackerConfig

LATE = 20  # frames of the rider's track taken away, as if the detector had found them this late


def _rider(result: dict[str, Any]) -> Track:
    raw = next(t for t in result["tracks"] if t["id"] == result["analysis"]["rider_track"])
    return Track(id=raw["id"], frames=np.asarray(raw["frames"]), bbox=np.asarray(raw["bbox"], np.float32),
                 keypoints_2d=np.asarray(raw["keypoints_2d"], np.float32),
                 keypoints_3d=np.asarray(raw["keypoints_3d"], np.float32),
                 interpolated=np.asarray(raw["interpolated"], bool))  # fmt: skip


def _part(track: Track, keep: slice, number: int) -> Track:
    return Track(id=number, frames=track.frames[keep], bbox=track.bbox[keep], keypoints_2d=track.keypoints_2d[keep],
                 keypoints_3d=track.keypoints_3d[keep], interpolated=track.interpolated[keep])  # fmt: skip


@pytest.fixture(scope="module")
def looked_back(spin_clip: Path, spin_analysis, settings: Settings):  # type: ignore[no-untyped-def]
    from pose_service.pipeline import _looked_back
    from pose_service.pose import ensure_bundle
    from pose_service.video import probe

    whole = _rider(spin_analysis.result)
    assert whole.frames[0] == 0 and whole.frames[LATE] == LATE
    late = _part(whole, slice(LATE, None), whole.id)
    info, times = probe(spin_clip), spin_analysis.result["timestamps_s"]
    bundle = ensure_bundle(settings.models_dir)

    def run(tracks: list[Track]) -> tuple[list[Track], dict[str, int]]:
        """The tracks as the pipeline extends them, and what its look back did."""
        out, _, backend = _looked_back(info, tracks, times, {}, bundle, TrackerConfig(), {})
        return out, backend["look_back"]

    return whole, late, run


def test_a_rider_found_late_is_read_back_where_the_whole_frame_had_them(looked_back) -> None:  # type: ignore[no-untyped-def]
    whole, late, run = looked_back
    (extended,), stats = run([late])
    assert stats["tracks"] == 1 and stats["found"] >= LATE - 2, stats
    assert extended.frames[0] <= 2 and list(extended.frames[-len(late) :]) == list(late.frames)
    before = np.isin(whole.frames, extended.frames[extended.frames < LATE])
    mine = np.isin(extended.frames, whole.frames[before])
    body = float(np.median(whole.bbox[:LATE, 3] - whole.bbox[:LATE, 1]))
    apart = np.linalg.norm(extended.keypoints_2d[mine, :, :2] - whole.keypoints_2d[before, :, :2], axis=2)
    assert np.median(apart) / body < 0.1, np.median(apart) / body
    assert extended.extras["looked_back"] == int((extended.frames < LATE).sum())


def test_a_track_from_the_first_frame_or_a_body_another_track_holds_is_left_alone(looked_back) -> None:  # type: ignore[no-untyped-def]
    whole, late, run = looked_back
    (same,), stats = run([whole])
    assert same is whole and stats["found"] == 0
    # the frames before held by another track (the same rider under another number, which the chain joins)
    earlier = _part(whole, slice(0, LATE), whole.id + 1)
    tracks, stats = run([earlier, late])
    assert stats["found"] == 0 and tracks[1] is late


def test_a_real_clip_trimmed_to_the_run_in_still_has_its_jump(media: Path, tmp_path: Path, settings: Settings) -> None:
    """snow_seg1 trimmed to start 14 frames before its takeoff (59): the detector did not find the rider until 33
    frames later, in the air, and no jump was found; the whole clip's jump is 60-90 (truth 59-91). The look back
    reads the rider back from where the tracker first held them; since the first frames are also searched in tiles
    while nobody is held (`chunks.seed_look`), that is sooner, and the look back reads the rest (measured: 11 frames
    read back, where it read 25 or more alone): the rider is read from the clip's first frames either way."""
    from pose_service.pipeline import AnalyzeOptions, analyze
    from tests.clips import rewrite

    first = 45
    clip = rewrite(media / "real_snow" / "snow_seg1.mov", tmp_path / "seg1_trimmed.mp4", first=first)
    result = analyze(clip, out_dir=tmp_path / "out", options=AnalyzeOptions(mesh=False, jobs=1),
                     settings=settings).result  # fmt: skip
    jumps = [(j["takeoff_frame"] + first, j["landing_frame"] + first) for j in result["analysis"]["jumps"]]
    assert len(jumps) == 1 and abs(jumps[0][0] - 59) <= 5 and abs(jumps[0][1] - 91) <= 5, jumps
    assert result["backend"]["look_back"]["found"] >= 1  # it still reads the frames before the first held one (11)
    rider = next(t for t in result["tracks"] if t["is_rider"])
    assert rider["frames"][0] <= 5 and sum(rider["interpolated"]) <= 0.1 * len(rider["frames"]), rider["frames"][:5]
