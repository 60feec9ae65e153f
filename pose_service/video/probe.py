"""Open a file with PyAV, describe its video stream, and reject what cannot be analysed.

Every rejection is an `InputError` with one line a person can act on.
"""

from __future__ import annotations

import logging
from pathlib import Path

import av
import numpy as np

from pose_service.errors import (
    EmptyFile,
    FileMissing,
    NotAVideo,
    TooLarge,
    TruncatedVideo,
    UnsupportedCodec,
)
from pose_service.video.core import VideoInfo

__all__ = ["probe", "upright_rotation"]

log = logging.getLogger(__name__)

# Demuxers that read a single picture; FFmpeg happily "opens" a JPEG as a one-frame video.
_IMAGE_FORMATS = {"image2", "jpeg_pipe", "png_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe", "gif_pipe"}
_VARIABLE_RATE_TOLERANCE = 0.10


def upright_rotation(ccw_degrees: float) -> int:
    """The clockwise rotation (0/90/180/270) that shows a frame upright, from PyAV's counter-clockwise one."""
    return int(round(-ccw_degrees / 90.0)) % 4 * 90


def probe(path: str | Path, *, max_side_px: int = 8192, max_duration_s: float = 7200.0) -> VideoInfo:
    """Describe the video in `path`; raise an `InputError` subclass if it cannot be analysed."""
    path = Path(path)
    if not path.exists():
        raise FileMissing(f"{path}: no such file")
    if path.is_dir():
        raise FileMissing(f"{path}: is a folder, not a video file", hint="give the path of a video file")
    size = path.stat().st_size
    if size == 0:
        raise EmptyFile(f"{path}: the file is empty (0 bytes)")

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.InvalidDataError as exc:
        if _looks_like_mp4(path):
            raise TruncatedVideo(
                f"{path.name}: the MP4's index (moov box) is missing or cut off, so it cannot be read"
            ) from exc
        raise NotAVideo(f"{path.name}: not a video file FFmpeg recognises") from exc
    except av.FFmpegError as exc:
        raise NotAVideo(f"{path.name}: cannot be opened as a video ({exc.strerror or exc})") from exc

    with container:
        fmt = container.format.name
        if not container.streams.video:
            kind = "audio only" if container.streams.audio else "no video stream"
            raise NotAVideo(f"{path.name}: has no video stream ({kind})")
        stream = container.streams.video[0]
        codec_ctx = stream.codec_context
        codec = codec_ctx.name if codec_ctx is not None else "unknown"
        if fmt in _IMAGE_FORMATS or (fmt.split(",")[0] == "image2"):
            raise NotAVideo(f"{path.name}: is a still image ({codec}), not a video")
        coded_w, coded_h = int(stream.width or 0), int(stream.height or 0)
        if coded_w <= 0 or coded_h <= 0:
            raise NotAVideo(f"{path.name}: the video stream has no picture size; the file is damaged")
        if max(coded_w, coded_h) > max_side_px:
            raise TooLarge(
                f"{path.name}: frame size {coded_w}x{coded_h} is over the limit of {max_side_px} px per side"
            )
        header_duration = _header_duration(container, stream)
        if header_duration is not None and header_duration > max_duration_s:
            raise TooLarge(
                f"{path.name}: the clip says it lasts {_hms(header_duration)}, over the limit of {_hms(max_duration_s)}"
            )

        times, truncated = _scan_packets(container, stream, size)
        if truncated:
            raise TruncatedVideo(f"{path.name}: the file ends in the middle of its video data")
        if not times:
            raise NotAVideo(f"{path.name}: the video stream holds no frames")
        header_frames = int(stream.frames or 0)
        if fmt.startswith("mov") and header_frames > len(times):
            raise TruncatedVideo(
                f"{path.name}: the index lists {header_frames} frames but only {len(times)} of them are in the file"
            )
        rotation_ccw = _first_frame_rotation(container, stream, path)

    times_arr = np.sort(np.asarray(times, dtype=np.float64))
    fps, varies = _rate(times_arr, stream)
    duration = _duration(times_arr, fps, header_duration)
    if duration > max_duration_s:
        raise TooLarge(f"{path.name}: the clip lasts {_hms(duration)}, over the limit of {_hms(max_duration_s)}")
    rotation = upright_rotation(rotation_ccw)
    width, height = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)
    info = VideoInfo(
        path=path,
        container=fmt,
        codec=codec,
        width=width,
        height=height,
        coded_width=coded_w,
        coded_height=coded_h,
        rotation_deg=rotation,
        fps=fps,
        fps_varies=varies,
        frame_count=len(times),
        duration_s=duration,
        size_bytes=size,
    )
    log.info("probed %s: %s", path.name, info)
    return info


def _looks_like_mp4(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(12)
    return head[4:8] in (b"ftyp", b"mdat", b"moov", b"wide", b"free")


def _header_duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def _scan_packets(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, size: int
) -> tuple[list[float], bool]:
    """Presentation times of every video packet, and whether the data runs past the end of the file.

    Demuxing reads packets without decoding them: it is fast and gives the exact frame count.
    """
    times: list[float] = []
    tb = stream.time_base
    start = stream.start_time or 0
    try:
        for packet in container.demux(stream):
            if packet.size == 0:  # the demuxer's flush packet
                continue
            if packet.pos is not None and packet.pos >= 0 and packet.pos + packet.size > size:
                return times, True
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is None or tb is None:
                times.append(float(len(times)))
            else:
                times.append(float((ts - start) * tb))
    except av.FFmpegError as exc:
        log.info("demux stopped early: %s", exc)
        return times, True
    return times, False


def _first_frame_rotation(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, path: Path
) -> float:
    """Decode the first frame (proving the codec works here) and return its display rotation."""
    container.seek(0)
    try:
        for frame in container.decode(stream):
            return float(frame.rotation or 0)
    except av.FFmpegError as exc:
        raise UnsupportedCodec(f"{path.name}: the {stream.codec_context.name} video cannot be decoded ({exc})") from exc
    raise TruncatedVideo(f"{path.name}: no frame of the video could be decoded")


def _rate(times: np.ndarray, stream: av.video.stream.VideoStream) -> tuple[float, bool]:
    if len(times) >= 2 and times[-1] > times[0]:
        steps = np.diff(times)
        steps = steps[steps > 0]
        fps = (len(times) - 1) / (times[-1] - times[0])
        median = float(np.median(steps)) if len(steps) else 0.0
        varies = bool(median > 0 and np.max(np.abs(steps - median)) > _VARIABLE_RATE_TOLERANCE * median)
        return float(fps), varies
    rate = stream.average_rate or stream.guessed_rate or 30
    return float(rate), False


def _duration(times: np.ndarray, fps: float, header: float | None) -> float:
    measured = float(times[-1] - times[0]) + 1.0 / fps if len(times) else 0.0
    if header is not None and header > 0 and abs(header - measured) < 2.0 / fps:
        return header
    return measured


def _hms(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}"
