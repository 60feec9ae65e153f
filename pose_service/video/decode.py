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

__all__ = ["VideoReader", "frame_pts", "upright"]

log = logging.getLogger(__name__)


def upright(rgb: np.ndarray, rotation_deg: int) -> np.ndarray:
    """Turn a stored picture upright by rotating it `rotation_deg` clockwise."""
    k = (rotation_deg // 90) % 4
    # np.rot90 turns counter-clockwise; k clockwise quarter turns are -k counter-clockwise ones.
    return np.ascontiguousarray(np.rot90(rgb, -k)) if k else rgb


def _rgb(frame: av.VideoFrame) -> np.ndarray:
    """The decoded picture as RGB (H, W, 3) uint8, converted on this thread.

    PyAV's conversion (libswscale) picks its thread count itself by default, and starts and ends those threads for
    every frame: two threads per 1080p frame on two cores, while the decoder's threads and the pose model's want
    the cores. One thread gives the same pixels (a row's conversion does not depend on the others) for less CPU:
    1.6 s instead of 2.0 s over phalp_vid.mp4's 180 frames, decoding included."""
    return frame.to_ndarray(format="rgb24", threads=1)


def frame_pts(info: VideoInfo) -> np.ndarray | None:
    """The presentation timestamp (the stream's time base) of every frame, sorted, from the packets alone (no
    decoding): frame i of `VideoReader` has the i-th. None when a packet has no timestamp, or the count is not
    the probe's (a reader then cannot start in the middle)."""
    with av.open(str(info.path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        pts: list[int] = []
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if packet.pts is None:
                return None
            pts.append(int(packet.pts))
    if len(pts) != info.frame_count or len(set(pts)) != len(pts):
        return None
    return np.sort(np.asarray(pts, dtype=np.int64))


class VideoReader:
    """Iterate over the frames of a probed video; a context manager that closes the file.

    Frames come in presentation order with `time_s` measured from the first frame, so a
    variable-frame-rate clip keeps its real timing. Decoding runs on FFmpeg's frame/slice threads.

    prefetch: with N > 0, decoding and the conversion to RGB run on a background thread up to N frames
    ahead of the consumer (FFmpeg releases the GIL), so they overlap the consumer's own work, such as the
    pose model. Frames and errors arrive exactly as without it.
    start, stop: only frames start <= index < stop (stop None: to the end), with the indices and times a reader
    from the first frame gives them. A start past 0 seeks to the keyframe before it, which needs every frame's
    timestamp (`pts`, from `frame_pts`; looked up when not given).
    """

    def __init__(
        self,
        info: VideoInfo,
        *,
        threads: int = 0,
        prefetch: int = 0,
        start: int = 0,
        stop: int | None = None,
        pts: np.ndarray | None = None,
    ) -> None:
        if prefetch < 0:
            raise ValueError(f"prefetch must be >= 0, got {prefetch}")
        if start < 0 or (stop is not None and stop < start):
            raise ValueError(f"want 0 <= start <= stop, got start={start}, stop={stop}")
        if start > 0 and pts is None:
            pts = frame_pts(info)
            if pts is None:
                raise ValueError(f"{info.name}: frames without timestamps: a reader cannot start at frame {start}")
        self.info = info
        self.prefetch = prefetch
        self.start, self.stop, self._pts = start, stop, pts
        self._container = av.open(str(info.path), metadata_errors="ignore")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        if threads:
            self._stream.thread_count = threads
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._started = False  # a frame at or after `start` has been handed out

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
        if self.start > 0:
            yield from self._decode_from()
            return
        stream = self._stream
        tb = stream.time_base
        first: float | None = None
        index = -1
        try:
            for frame in self._container.decode(stream):
                index += 1
                if self.stop is not None and index >= self.stop:
                    return
                t = float(frame.pts * tb) if frame.pts is not None and tb is not None else index / self.info.fps
                if first is None:
                    first = t
                rgb = upright(_rgb(frame), self.info.rotation_deg)
                yield Frame(index=index, time_s=t - first, rgb=rgb)
        except av.FFmpegError as exc:
            raise TruncatedVideo(
                f"{self.info.name}: decoding failed after {index + 1} of {self.info.frame_count} frames ({exc})"
            ) from exc

    def _decode_from(self) -> Iterator[Frame]:
        """Frames from `start` on: seek to the keyframe before it, then each decoded frame's index is its
        timestamp's rank among every frame's (`pts`). Should the seek land past `start`, decode from the first."""
        stream, pts, start = self._stream, self._pts, self.start
        tb = stream.time_base
        if pts is None or tb is None:
            raise ValueError(f"{self.info.name}: a reader starting at frame {start} needs the frames' timestamps")
        self._container.seek(int(pts[start]), backward=True, any_frame=False, stream=stream)
        for attempt in range(2):
            index = start - 1
            try:
                for frame in self._container.decode(stream):
                    if frame.pts is None:
                        raise TruncatedVideo(f"{self.info.name}: a decoded frame has no timestamp")
                    index = int(np.searchsorted(pts, frame.pts))
                    if index < start:
                        continue
                    if index > start and attempt == 0 and not self._started:
                        break  # the seek landed after `start`: decode from the beginning instead
                    self._started = True
                    if self.stop is not None and index >= self.stop:
                        return
                    rgb = upright(_rgb(frame), self.info.rotation_deg)
                    yield Frame(index=index, time_s=float(frame.pts * tb) - float(int(pts[0]) * tb), rgb=rgb)
                else:
                    return
            except av.FFmpegError as exc:
                raise TruncatedVideo(
                    f"{self.info.name}: decoding failed after frame {index} of {self.info.frame_count} ({exc})"
                ) from exc
            log.debug("%s: the seek to frame %d landed after it; decoding from the first frame", self.info.name, start)
            self._container.seek(0, backward=True, any_frame=False, stream=stream)

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
