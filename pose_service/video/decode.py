"""Decode a probed video frame by frame: upright RGB arrays with their real timestamps.

Memory stays flat: one frame is held at a time (plus the decoder's own small queue, and with `prefetch`
that many decoded frames waiting).
"""

from __future__ import annotations

import logging
import queue
import threading
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

    prefetch: with N > 0, decoding and the conversion to RGB run on a background thread up to N frames
    ahead of the consumer (FFmpeg releases the GIL), so they overlap the consumer's own work, such as the
    pose model. Frames and errors arrive exactly as without it.
    """

    def __init__(self, info: VideoInfo, *, threads: int = 0, prefetch: int = 0) -> None:
        if prefetch < 0:
            raise ValueError(f"prefetch must be >= 0, got {prefetch}")
        self.info = info
        self.prefetch = prefetch
        self._container = av.open(str(info.path), metadata_errors="ignore")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        if threads:
            self._stream.thread_count = threads
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None

    def __iter__(self) -> Iterator[Frame]:
        return self._prefetched() if self.prefetch else self._decode()

    def _prefetched(self) -> Iterator[Frame]:
        """`_decode()` run on a background thread, at most `prefetch` frames ahead."""
        if self._worker is not None:
            raise RuntimeError("a prefetching VideoReader can be iterated only once")
        q: queue.Queue[Frame | BaseException | None] = queue.Queue(maxsize=self.prefetch)
        stop = self._stop

        def put(item: Frame | BaseException | None) -> bool:
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def work() -> None:
            try:
                for frame in self._decode():
                    if not put(frame):
                        return
            except BaseException as exc:  # handed to the consumer, raised there
                put(exc)
                return
            put(None)

        self._worker = threading.Thread(target=work, name=f"decode {self.info.name}", daemon=True)
        self._worker.start()
        try:
            while True:
                item = q.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self._halt()

    def _halt(self) -> None:
        """Stop the prefetching thread (if any) and wait for it: the container may then be closed."""
        self._stop.set()
        if self._worker is not None:
            self._worker.join()

    def _decode(self) -> Iterator[Frame]:
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
        self._halt()
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
