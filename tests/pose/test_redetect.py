"""PoseLandmarkerBackend with `redetect_every`: the person detector skipped while everyone is followed.

Real model on real encoded video: the session's synthetic 360 (480x480), alone or twice side by side with
the second rider showing up late.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pose_service.config import Settings
from pose_service.pose import PoseLandmarkerBackend, Poses, ensure_bundle
from pose_service.video import VideoReader, probe


@pytest.fixture(scope="module")
def frames(spin_clip: Path) -> list[tuple[float, np.ndarray]]:
    with VideoReader(probe(spin_clip)) as reader:
        return [(f.time_s, f.rgb.copy()) for f in reader]


def _run(settings: Settings, frames: list[tuple[float, np.ndarray]], **kw: int) -> tuple[list[Poses], dict]:
    with PoseLandmarkerBackend(ensure_bundle(settings.models_dir), **kw) as backend:
        return [backend.detect(rgb, t) for t, rgb in frames], dict(backend.stats)


def test_one_rider_followed_without_the_detector_is_found_as_often(
    settings: Settings, frames: list[tuple[float, np.ndarray]]
) -> None:
    every, _ = _run(settings, frames)
    skipping, stats = _run(settings, frames, redetect_every=10, settle_frames=10)
    n_every, n_skip = sum(len(p) > 0 for p in every), sum(len(p) > 0 for p in skipping)
    assert n_skip >= n_every - 2, f"rider in {n_skip} frames with redetect_every=10, {n_every} without"
    assert max(len(p) for p in skipping) == 1
    # The graph shrank to one slot once, then ran its detector only on the whole-frame looks.
    assert stats["handovers"] >= 1 and stats["checks"] >= 1
    assert stats["detector_skipped"] >= 0.5 * len(frames), stats
    # Where both found the rider, the keypoints agree closely (the same model on the same frames).
    both = [i for i in range(len(frames)) if len(every[i]) and len(skipping[i])]
    err = [np.median(np.abs(every[i].keypoints_2d[0, :, :2] - skipping[i].keypoints_2d[0, :, :2])) for i in both]
    assert np.median(err) < 3.0, f"median keypoint difference {np.median(err):.1f} px"


def test_a_second_rider_showing_up_is_found_within_redetect_every_frames(
    settings: Settings, frames: list[tuple[float, np.ndarray]]
) -> None:
    # Left: the rider all along. Right: plain snow (the clip's first frame with its rider painted over by the
    # corner colour) until frame `late`, then the same clip again.
    late, every = 30, 8
    blank = np.empty_like(frames[0][1])
    blank[:] = frames[0][1][:8, :8].reshape(-1, 3).mean(axis=0).astype(np.uint8)
    pair = [(t, np.hstack([rgb, frames[i - late][1] if i >= late else blank])) for i, (t, rgb) in enumerate(frames)]
    found, stats = _run(settings, pair, redetect_every=every, settle_frames=10)
    width = frames[0][1].shape[1]
    on_right = [i for i, p in enumerate(found) if len(p) and (p.bboxes()[:, 0] > width - 20).any()]
    assert not [i for i in on_right if i < late], "nobody on the right before the second rider shows up"
    assert on_right and on_right[0] <= late + every + 2, f"second rider first found at frame {on_right[:1]}"
    assert stats["handovers"] >= 2, stats  # down to one slot, then up to two


def test_bad_redetect_every_is_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match="redetect_every"):
        PoseLandmarkerBackend(ensure_bundle(settings.models_dir), redetect_every=-1)
