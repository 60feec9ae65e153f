"""Decode a probed video frame by frame: upright RGB arrays with their real timestamps.

Memory stays flat: one frame is held at a time (plus the decoder's own small queue).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from types import TracebackType

import av
import numpy as np

from pose_service.errors import TruncatedVideo
from pose_service.video.core import Frame, VideoInfo

__all__ = ["VideoReader", "upright"]

log = logging.getLogger(__name__)


def upright(rgb: np.ndarray, rotation_deg: int) -> np.ndarray:
    """Turn a stored picture upright by rotating it `rotation_deg` clockwise."""
    k = (rotation_deg // 90) % 4
    # np.rot90 turns counter-clockwise; k clockwise quarter turns are -k counter-clockwise ones.
    return np.ascontiguousarray(np.rot90(rgb, -k)) if k else rgb


class VideoReader:
    """Iterate over the frames of a probed video; a context manager that closes the file.

    Frames come in presentation order with `time_s` measured from the first frame, so a
    variable-frame-rate clip keeps its real timing. Decoding runs on FFmpeg's frame/slice threads.
    """

    def __init__(self, info: VideoInfo, *, threads: int = 0) -> None:
        self.info = info
        self._container = av.open(str(info.path), metadata_errors="ignore")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        if threads:
            self._stream.thread_count = threads

    def __iter__(self) -> Iterator[Frame]:
        stream = self._stream
        tb = stream.time_base
        first: float | None = None
        index = -1
        try:
            for frame in self._container.decode(stream):
                index += 1
                t = float(frame.pts * tb) if frame.pts is not None and tb is not None else index / self.info.fps
                if first is None:
                    first = t
                rgb = upright(frame.to_ndarray(format="rgb24"), self.info.rotation_deg)
                yield Frame(index=index, time_s=t - first, rgb=rgb)
        except av.FFmpegError as exc:
            raise TruncatedVideo(
                f"{self.info.name}: decoding failed after {index + 1} of {self.info.frame_count} frames ({exc})"
            ) from exc

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
