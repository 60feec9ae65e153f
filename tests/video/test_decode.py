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


def test_prefetch_gives_the_same_frames(clips: dict[str, Clip]) -> None:
    """Decoding ahead on a background thread changes nothing the consumer sees."""
    info = probe(clips["mov_rot90"].path)
    with VideoReader(info) as reader:
        plain = list(reader)
    with VideoReader(info, prefetch=3) as reader:
        ahead = list(reader)
    assert [(f.index, f.time_s) for f in ahead] == [(f.index, f.time_s) for f in plain]
    for a, b in zip(ahead, plain, strict=True):
        np.testing.assert_array_equal(a.rgb, b.rgb)


def test_prefetch_stops_when_the_consumer_stops_early(clips: dict[str, Clip]) -> None:
    """Leaving the loop early (an error in the consumer) stops the decoding thread before the file closes."""
    info = probe(clips["mp4"].path)
    reader = VideoReader(info, prefetch=2)
    with reader:
        for frame in reader:
            if frame.index == 3:
                break
    assert reader._worker is not None and not reader._worker.is_alive()
    with pytest.raises(ValueError, match="prefetch"):
        VideoReader(info, prefetch=-1)



def test_prefetch_raises_a_decoding_error_in_the_consumer(clips: dict[str, Clip]) -> None:
    """An error on the decoding thread reaches the consumer's loop after the frames decoded before it."""
    from pose_service.errors import TruncatedVideo

    class FailsAtFive(VideoReader):
        def _decode(self):  # type: ignore[no-untyped-def]
            for frame in super()._decode():
                if frame.index == 5:
                    raise TruncatedVideo("cut at frame 5")
                yield frame

    got: list[int] = []
    with FailsAtFive(probe(clips["mp4"].path), prefetch=2) as reader, pytest.raises(TruncatedVideo, match="frame 5"):
        for frame in reader:
            got.append(frame.index)
    assert got == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("key", ["mp4", "mov_rot90", "webm", "mkv", "avi", "vfr"])
def test_a_reader_can_start_in_the_middle(clips: dict[str, Clip], key: str) -> None:
    """A chunk of a long clip (`start`, `stop`) gets the very frames, indices and times a reader from the first
    frame gives, whatever the container, codec and frame rate."""
    from pose_service.video import frame_pts

    info = probe(clips[key].path)
    with VideoReader(info) as reader:
        every = list(reader)
    pts = frame_pts(info)
    assert pts is not None and len(pts) == len(every)
    for start, stop in ((1, 5), (17, 30), (len(every) - 3, None)):
        with VideoReader(info, start=start, stop=stop, pts=pts, prefetch=2) as reader:
            part = list(reader)
        want = every[start:stop]
        assert [(f.index, f.time_s) for f in part] == [(f.index, f.time_s) for f in want]
        for a, b in zip(part, want, strict=True):
            np.testing.assert_array_equal(a.rgb, b.rgb)
    with pytest.raises(ValueError, match="start"):
        VideoReader(info, start=5, stop=2)
