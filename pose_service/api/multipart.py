"""A multipart/form-data body streamed to disk chunk by chunk, with the size limit enforced as it arrives.

Only the `video` file part is written (to a file); small text fields are kept in memory (64 KiB at most).
Memory stays flat whatever the size of the upload.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from pose_service.api.errors import ApiError

__all__ = ["Received", "receive_video"]

log = logging.getLogger(__name__)

_MAX_FIELD_BYTES = 64 * 1024
_DRAIN_BYTES = 64 * 2**20  # read and drop this much past the limit, so a client without 100-continue sees the 413


@dataclass
class Received:
    path: Path | None = None
    filename: str | None = None
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"the upload is over the limit of {limit:,} bytes",
                    "trim or compress the clip, or ask the operator to raise POSE_SERVICE_MAX_UPLOAD_BYTES")


async def receive_video(request: Request, dest: Path, *, limit: int) -> Received:
    """Stream the request's multipart body; the `video` part goes to `dest`."""
    content_type, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise ApiError(415, "unsupported_media_type", "send the video as multipart/form-data (field `video`) "
                       "or JSON {\"upload_id\": ...}", "e.g. curl -F video=@clip.mp4 .../api/v1/jobs")
    got = Received()
    headers: dict[str, bytes] = {}
    hfield, hvalue = bytearray(), bytearray()
    state: dict[str, object] = {"out": None, "name": None, "buf": None, "over": False}

    def on_part_begin() -> None:
        headers.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        hfield.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        hvalue.extend(data[start:end])

    def on_header_end() -> None:
        headers[hfield.decode("latin-1").lower()] = bytes(hvalue)  # parsed as bytes: any encoding is safe
        hfield.clear()
        hvalue.clear()

    def on_headers_finished() -> None:
        _, disp = parse_options_header(headers.get("content-disposition", b""))
        name = disp.get(b"name", b"").decode("utf-8", "replace")
        filename = disp.get(b"filename")
        state["name"] = name
        if name == "video" and filename is not None and got.path is None:
            got.filename = filename.decode("utf-8", "replace")
            got.path = dest
            dest.parent.mkdir(parents=True, exist_ok=True)
            state["out"] = dest.open("wb")
        else:
            state["buf"] = bytearray()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        out = state["out"]
        if out is not None:
            got.size += end - start
            if got.size > limit:
                state["over"] = True
                return
            out.write(data[start:end])  # type: ignore[attr-defined]
        elif isinstance(state["buf"], bytearray) and len(state["buf"]) < _MAX_FIELD_BYTES:
            state["buf"].extend(data[start:end])

    def on_part_end() -> None:
        out = state["out"]
        if out is not None:
            out.close()  # type: ignore[attr-defined]
            state["out"] = None
        elif isinstance(state["buf"], bytearray) and state["name"]:
            got.fields[str(state["name"])] = state["buf"].decode("utf-8", "replace")
        state["buf"] = None

    parser = MultipartParser(boundary, {  # type: ignore[arg-type]
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    })
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if state["over"]:
                if received > limit + _DRAIN_BYTES:
                    break
                continue
            parser.write(chunk)
        if not state["over"]:
            parser.finalize()
    except ClientDisconnect:
        _discard(state, dest)
        raise ApiError(400, "upload_cut", "the connection closed before the upload finished",
                       "send it again, or use the resumable upload (tus) at /api/v1/uploads") from None
    except MultipartParseError as exc:
        _discard(state, dest)
        raise ApiError(400, "bad_multipart", f"the multipart body is malformed: {exc}",
                       "send the file with curl -F video=@clip.mp4 or a browser form") from None
    if state["over"]:
        _discard(state, dest)
        raise _too_large(limit)
    if state["out"] is not None:  # body ended inside the file part
        _discard(state, dest)
        raise ApiError(400, "bad_multipart", "the multipart body ended inside the video part",
                       "send the whole file again")
    return got


def _discard(state: dict[str, object], dest: Path) -> None:
    out: BinaryIO | None = state["out"]  # type: ignore[assignment]
    if out is not None:
        out.close()
        state["out"] = None
    dest.unlink(missing_ok=True)
