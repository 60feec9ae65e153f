"""Streaming decode: upright frames, real timestamps, flat memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from pose_service.video import VideoReader, VideoWriter, probe

from .conftest import Clip, H, W, marked_frame


@pytest.mark.parametrize("key", ["mp4", "mov_rot90", "webm", "mkv", "avi", "vfr"])
def test_decode_gives_every_frame_with_its_time(clips: dict[str, Clip], key: str) -> None:
    clip = clips[key]
    info = probe(clip.path)
    with VideoReader(info) as reader:
        frames = list(reader)
    assert [f.index for f in frames] == list(range(len(clip.times)))
    got = np.array([f.time_s for f in frames])
    assert got == pytest.approx(np.array(clip.times) - clip.times[0], abs=0.002)
    for f in frames:
        assert f.rgb.shape == (info.height, info.width, 3) and f.rgb.dtype == np.uint8
    # The moving white column proves frames come in presentation order.
    for f in frames[:10]:
        column = int(np.argmax(_upright_to_stored(f.rgb, info.rotation_deg)[50, :, 0] > 200))
        assert abs(column - 4 * f.index) <= 2


def _upright_to_stored(rgb: np.ndarray, rotation_deg: int) -> np.ndarray:
    return np.rot90(rgb, rotation_deg // 90)


def test_rotated_phone_clip_comes_out_upright(clips: dict[str, Clip]) -> None:
    """Stored landscape with the red band on top, tagged "rotate 90": shown turned clockwise."""
    info = probe(clips["mov_rot90"].path)
    with VideoReader(info) as reader:
        first = next(iter(reader)).rgb
    assert first.shape == (W, H, 3)
    red = (first[:, :, 0] > 180) & (first[:, :, 1] < 80)
    columns = np.flatnonzero(red.mean(axis=0) > 0.9)
    assert columns.min() >= H - 12, "the band that was on top must now run down the right-hand edge"


def test_memory_stays_flat_with_length(tmp_path: Path) -> None:
    """Decoding 300 frames holds about one frame at a time, not the whole clip."""
    path = tmp_path / "long.mp4"
    with VideoWriter(path, width=W, height=H, fps=30) as w:
        for i in range(300):
            w.write(marked_frame(i))
    info = probe(path)
    frame_bytes = W * H * 3
    tracemalloc.start()
    try:
        with VideoReader(info) as reader:
            count = sum(1 for _ in reader)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 300
    assert peak < 20 * frame_bytes, f"peak {peak} bytes for {frame_bytes}-byte frames"
