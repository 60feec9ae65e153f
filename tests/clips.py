"""Real clips written again for tests, as a phone or an editor would hand them over."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def rewrite(source: Path, out: Path, *, first: int = 0, width: int | None = None) -> Path:
    """`source` from frame `first` on (numbered from 0 again), only its middle `width` columns (None: all), written
    to `out` with PyAV: H.264, CRF 18, the encoder's default preset, at the source's rate."""
    import av

    with av.open(str(source)) as src, av.open(str(out), "w") as dst:
        stream = src.streams.video[0]
        encoded = dst.add_stream("libx264", rate=stream.average_rate)
        keep = width or stream.width
        encoded.width, encoded.height, encoded.pix_fmt, encoded.options = keep, stream.height, "yuv420p", {"crf": "18"}
        for n, frame in enumerate(src.decode(video=0)):
            if n < first:
                continue
            rgb = frame.to_ndarray(format="rgb24")
            left = (rgb.shape[1] - keep) // 2
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[:, left : left + keep]), format="rgb24")
            picture.pts, picture.time_base = n - first, 1 / stream.average_rate
            dst.mux(encoded.encode(picture))
        dst.mux(encoded.encode())
    return out
