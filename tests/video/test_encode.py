"""Writing video: a variable-frame-rate phone clip written again keeps every frame and its time."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pose_service.video import VideoReader, VideoWriter, probe


def test_a_clip_whose_frames_come_faster_than_its_average_rate_is_written_again_whole(tmp_path: Path) -> None:
    """A phone in low light drops frames: 30 a second at times, 24 on average (every fifth frame missing). Written
    again at its probed (average) rate, as the overlay is, every frame keeps its time; counted in ticks of that
    rate, two frames 1/30 s apart once fell on one tick and the muxer refused the file ("Invalid argument")."""
    source, again = tmp_path / "phone.mp4", tmp_path / "again.mp4"
    times = [i / 30 for i in range(60) if i % 5 != 4]
    rng = np.random.default_rng(0)
    with VideoWriter(source, width=64, height=48, fps=30) as writer:
        for t in times:
            writer.write(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), t)
    info = probe(source)
    assert 23 < info.fps < 25, info.fps
    with VideoReader(info) as reader, VideoWriter(again, width=64, height=48, fps=info.fps) as writer:
        for frame in reader:
            writer.write(frame.rgb, frame.time_s)
    with VideoReader(probe(again)) as reader:
        written = [frame.time_s for frame in reader]
    assert np.allclose(written, times, atol=1e-4), (written, times)
