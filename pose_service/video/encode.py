"""Streaming H.264 encoder: RGB frames in, an MP4 (or other container) out, with chosen timestamps."""

from __future__ import annotations

import fractions
from pathlib import Path
from types import TracebackType
from typing import cast

import av
import numpy as np

__all__ = ["VideoWriter"]

# The MPEG 90 kHz clock: exact for 24, 25, 30, 50, 60 fps and the NTSC rates (29.97 = 3003 ticks).
_DEFAULT_TIME_BASE = fractions.Fraction(1, 90000)


class VideoWriter:
    """Write RGB frames (H, W, 3 uint8) one at a time; each frame gets a presentation time in seconds.

    `fps` is the nominal rate written in the header; `time_base` the unit of the timestamps;
    `rotation_deg` the clockwise turn a player applies to show the picture (a phone's `rotate` tag).
    Width and height must be even for yuv420p, so odd sizes are padded by one pixel of black.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        width: int,
        height: int,
        fps: float,
        codec: str = "libx264",
        crf: int = 20,
        time_base: fractions.Fraction = _DEFAULT_TIME_BASE,
        rotation_deg: int = 0,
    ) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"width and height must be positive, got {width}x{height}")
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        self.width, self.height = width, height
        self._enc_w, self._enc_h = width + width % 2, height + height % 2
        self._time_base = time_base
        self._container = av.open(str(self.path), mode="w")
        rate = fractions.Fraction(fps).limit_denominator(1001)
        stream = cast(av.video.stream.VideoStream, self._container.add_stream(codec, rate=rate))
        stream.width, stream.height = self._enc_w, self._enc_h
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        stream.time_base = time_base
        # The encoder counts in the same fine unit: in 1/fps ticks, a variable-rate clip whose frames come faster
        # than its nominal rate for a moment (a phone that drops frames in low light: 24 a second on average, 30
        # at times) puts two frames on one tick, and the muxer refuses the file.
        stream.codec_context.time_base = time_base
        if codec == "libx264":
            stream.options = {"crf": str(crf), "preset": "veryfast"}
        if rotation_deg:
            stream.set_display_rotation(-rotation_deg)  # PyAV counts counter-clockwise
        self._stream = stream
        self._last_pts = -1
        self._index = 0
        self._fps = fps

    def write(self, rgb: np.ndarray, time_s: float | None = None) -> None:
        """Encode one frame shown at `time_s` (default: frame index / fps)."""
        if rgb.shape[:2] != (self.height, self.width) or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"frame must be {self.height}x{self.width}x3, got {rgb.shape}")
        if (self._enc_w, self._enc_h) != (self.width, self.height):
            padded = np.zeros((self._enc_h, self._enc_w, 3), dtype=np.uint8)
            padded[: self.height, : self.width] = rgb
            rgb = padded
        if time_s is None:
            time_s = self._index / self._fps
        pts = int(round(time_s / self._time_base))
        # Encoders refuse non-increasing timestamps; rounding can collide at very high rates.
        pts = max(pts, self._last_pts + 1)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb, dtype=np.uint8), format="rgb24")
        frame.pts = pts
        frame.time_base = self._time_base
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._last_pts = pts
        self._index += 1

    @property
    def frames_written(self) -> int:
        return self._index

    def close(self) -> None:
        """Flush the encoder and finish the file; safe to call twice."""
        if self._container is None:
            return
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        finally:
            self._container.close()
            self._container = None  # type: ignore[assignment]

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
