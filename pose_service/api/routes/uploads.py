"""Resumable uploads: tus 1.0.0 core + creation, creation-with-upload, termination, checksum (sha1), expiration.

The offset is stored in the job store only after the bytes before it are flushed and fsynced, so after a
crash the server never claims bytes it does not have: a PATCH first cuts the file back to the stored offset.
One request at a time may write an upload (423 otherwise); a wrong Upload-Offset is 409, a wrong checksum 460.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from email.utils import formatdate
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi import Path as PathParam
from starlette.requests import ClientDisconnect

from pose_service.api.deps import ServiceDep
from pose_service.api.errors import ApiError
from pose_service.api.intake import ID_PATTERN, check_id, check_space
from pose_service.api.models import ErrorPublic
from pose_service.api.service import Service
from pose_service.jobs.store import Upload, new_id

__all__ = ["router", "digits_up_to", "document_limit", "expire_uploads"]

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,checksum,expiration"
_OCTETS = "application/offset+octet-stream"
_SYNC_EVERY = 8 * 2**20

router = APIRouter(prefix="/uploads", tags=["uploads"],
                   responses={c: {"model": ErrorPublic, "description": "an error"}
                              for c in (400, 404, 409, 410, 412, 413, 415, 422, 423, 460, 507)})
UploadId = Annotated[str, PathParam(pattern=ID_PATTERN.pattern, description="32 hex digits")]
TusResumable = Annotated[str, Header(alias="Tus-Resumable", pattern=r"^1\.0\.0$",
                                     description="always 1.0.0; 412 when missing or another version")]
# Header values are text: byte counts are declared as the digits the server reads (at most 18 of them).
_MAX_DIGITS = 18
_BYTES = rf"^[0-9]{{1,{_MAX_DIGITS}}}$"
_B64 = r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
_PAIR = rf"[^ ,]+(?: {_B64})?"
METADATA = re.compile(rf"^(?:{_PAIR}(?:,{_PAIR})*)?$")  # tus: `key base64,key2 base64,key3`
# A digest is never empty (and `sha1 ` would reach the server as `sha1`: HTTP drops a value's trailing space).
CHECKSUM = re.compile(r"^[Ss][Hh][Aa]1 (?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)$")


def digits_up_to(limit: int, max_digits: int = _MAX_DIGITS) -> str:
    """A regex of the strings of 1 to `max_digits` digits whose value is at most `limit` (for Upload-Length)."""
    top = str(limit)
    k = len(top)
    if k > max_digits:
        return _BYTES
    same_length = []  # k digits: the limit's first i digits, then a smaller one, then anything
    for i, digit in enumerate(top):
        if digit != "0":
            rest = k - i - 1
            same_length.append(top[:i] + (f"[0-{int(digit) - 1}]" if digit > "1" else "0")
                               + (f"[0-9]{{{rest}}}" if rest else ""))
    same_length.append(top)
    shorter = [f"[0-9]{{1,{k - 1}}}"] if k > 1 else []  # fewer digits: always smaller
    longer = f"0{{0,{max_digits - k}}}" if max_digits > k else ""  # more digits: only leading zeros
    return "^(?:" + "|".join([*shorter, longer + "(?:" + "|".join(same_length) + ")"]) + ")$"


def document_limit(schema: dict[str, Any], max_upload_bytes: int) -> None:
    """State this server's upload limit in its OpenAPI schema: Upload-Length of POST /uploads (413 beyond)."""
    for path, operations in schema.get("paths", {}).items():
        if not path.endswith("/uploads") or "post" not in operations:
            continue
        for param in operations["post"].get("parameters", []):
            if param.get("in") == "header" and param.get("name") == "Upload-Length":
                text = f"the file's size in bytes, at most {max_upload_bytes} (Tus-Max-Size); 413 beyond"
                param["schema"]["pattern"] = digits_up_to(max_upload_bytes)
                param["schema"]["description"] = param["description"] = text


def _tus_headers(svc: Service, upload: Upload | None = None) -> dict[str, str]:
    headers = {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store"}
    if upload is not None:
        headers["Upload-Offset"] = str(upload.offset)
        headers["Upload-Expires"] = formatdate(upload.expires_at, usegmt=True)
        if upload.length is not None:
            headers["Upload-Length"] = str(upload.length)
    return headers


def _require_tus(request: Request) -> None:
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise ApiError(412, "tus_version", "this server speaks tus 1.0.0; send the header Tus-Resumable: 1.0.0",
                       "use a tus client (e.g. tus-js-client)", headers={"Tus-Version": TUS_VERSION})


def _upload(svc: Service, upload_id: str) -> Upload:
    check_id(upload_id, "upload")
    upload = svc.store.get_upload(upload_id)
    if upload is None or upload.job_id:
        raise ApiError(404, "upload_not_found", f"no upload with id {upload_id}",
                       "it may have expired or been turned into a job; start a new upload",
                       headers={"Tus-Resumable": TUS_VERSION})
    if upload.expires_at < time.time():
        raise ApiError(410, "upload_expired", f"upload {upload_id} expired", "start a new upload",
                       headers={"Tus-Resumable": TUS_VERSION})
    return upload


def _path(svc: Service, upload_id: str) -> Path:
    return svc.uploads_dir / f"{upload_id}.bin"


def _metadata(header: str | None) -> dict[str, str]:
    """`Upload-Metadata: key base64value,key2 base64value2` (METADATA, also in the schema); text is read as UTF-8."""
    if header is None:
        return {}
    if not METADATA.match(header):
        raise ApiError(400, "bad_metadata", f"Upload-Metadata {header[:60]!r} is not `key base64,key2 base64`",
                       "separate pairs with a comma, a key from its base64 value with one space")
    out: dict[str, str] = {}
    for pair in filter(None, header.split(",")):
        key, _, value = pair.partition(" ")
        out[key] = base64.b64decode(value).decode("utf-8", "replace")
    return out


def _checksum(header: str | None) -> bytes | None:
    if header is None:
        return None
    algo, _, value = header.partition(" ")
    if algo.lower() != "sha1":
        raise ApiError(400, "checksum_algorithm", f"checksum algorithm {algo[:20]!r} is not supported",
                       "use sha1", headers={"Tus-Checksum-Algorithm": "sha1"})
    if not CHECKSUM.match(header):
        raise ApiError(400, "bad_checksum", "Upload-Checksum is not `sha1 <base64 digest>`")
    return base64.b64decode(value)


@router.options("", status_code=204, response_class=Response)
def tus_options(svc: ServiceDep) -> Response:
    """What this tus server supports."""
    return Response(status_code=204, headers={
        "Tus-Resumable": TUS_VERSION, "Tus-Version": TUS_VERSION, "Tus-Extension": EXTENSIONS,
        "Tus-Max-Size": str(svc.settings.max_upload_bytes), "Tus-Checksum-Algorithm": "sha1"})


@router.post("", status_code=201, response_class=Response)
async def create_upload(
    request: Request,
    svc: ServiceDep,
    tus_resumable: TusResumable,
    upload_length: Annotated[str, Header(alias="Upload-Length", pattern=_BYTES, description="the file's size in bytes")],
    upload_metadata: Annotated[str | None, Header(alias="Upload-Metadata", pattern=METADATA.pattern,
                                                  description="tus metadata: filename, rider")] = None,
) -> Response:
    """Start an upload of Upload-Length bytes; the body may carry the first bytes (creation-with-upload)."""
    _require_tus(request)
    raw = request.headers.get("upload-length")
    if raw is None or not raw.isdigit():
        raise ApiError(400, "upload_length", "send Upload-Length with the file's size in bytes",
                       "this server does not take deferred lengths", headers={"Tus-Resumable": TUS_VERSION})
    length = int(raw)
    limit = svc.settings.max_upload_bytes
    if length > limit:
        raise ApiError(413, "too_large", f"the upload ({length:,} bytes) is over the limit of {limit:,} bytes",
                       "trim or compress the clip", headers={"Tus-Resumable": TUS_VERSION})
    check_space(svc, length)
    metadata = _metadata(request.headers.get("upload-metadata"))
    upload_id = new_id()
    _path(svc, upload_id).touch()
    upload = svc.store.create_upload(upload_id, length=length, metadata=metadata, ttl_s=svc.settings.upload_expiry_s)
    headers = {"Location": f"{request.url.path.rstrip('/')}/{upload_id}"}
    if request.headers.get("content-type") == _OCTETS:
        upload = await _append(request, svc, upload)
    return Response(status_code=201, headers={**_tus_headers(svc, upload), **headers})


@router.head("/{upload_id}", response_class=Response)
def upload_status(upload_id: UploadId, svc: ServiceDep) -> Response:
    """How many bytes the server has: resume from Upload-Offset."""
    upload = _upload(svc, upload_id)
    headers = _tus_headers(svc, upload)
    if upload.metadata:
        headers["Upload-Metadata"] = ",".join(
            f"{k} {base64.b64encode(v.encode()).decode()}" if v else k for k, v in upload.metadata.items())
    return Response(status_code=200, headers=headers)


@router.patch("/{upload_id}", status_code=204, response_class=Response)
async def upload_chunk(
    upload_id: UploadId,
    request: Request,
    svc: ServiceDep,
    tus_resumable: TusResumable,
    upload_offset: Annotated[str, Header(alias="Upload-Offset", pattern=_BYTES, description="where this chunk starts")],
    upload_checksum: Annotated[str | None, Header(alias="Upload-Checksum", pattern=CHECKSUM.pattern,
                                                  description="sha1 of the chunk, base64; 460 when it differs")] = None,
) -> Response:
    """Append bytes at Upload-Offset."""
    _require_tus(request)
    upload = _upload(svc, upload_id)
    if request.headers.get("content-type") != _OCTETS:
        raise ApiError(415, "content_type", f"PATCH needs Content-Type: {_OCTETS}",
                       headers={"Tus-Resumable": TUS_VERSION})
    upload = await _append(request, svc, upload)
    return Response(status_code=204, headers=_tus_headers(svc, upload))


@router.delete("/{upload_id}", status_code=204, response_class=Response)
async def delete_upload(upload_id: UploadId, request: Request, svc: ServiceDep, tus_resumable: TusResumable) -> Response:
    """Abandon an upload and free its space (termination)."""
    _require_tus(request)
    _upload(svc, upload_id)
    lock = svc.upload_lock(upload_id)
    if lock.locked():
        raise ApiError(423, "upload_locked", f"upload {upload_id} is being written by another request",
                       "wait for it to finish", headers={"Tus-Resumable": TUS_VERSION})
    async with lock:
        svc.store.delete_upload(upload_id)
        _path(svc, upload_id).unlink(missing_ok=True)
    svc.upload_locks.pop(upload_id, None)
    return Response(status_code=204, headers={"Tus-Resumable": TUS_VERSION})


async def _append(request: Request, svc: ServiceDep, upload: Upload) -> Upload:
    """Write the body at the upload's offset under the upload's lock; store the offset as it becomes durable."""
    tus = {"Tus-Resumable": TUS_VERSION}
    raw_offset = request.headers.get("upload-offset", "0" if request.method == "POST" else "")
    if not raw_offset.isdigit():
        raise ApiError(400, "upload_offset", "send Upload-Offset (a number of bytes)", headers=tus)
    expected = _checksum(request.headers.get("upload-checksum"))
    lock = svc.upload_lock(upload.id)
    if lock.locked():
        raise ApiError(423, "upload_locked", f"upload {upload.id} is being written by another request",
                       "wait, then ask HEAD for the offset and resume", headers=tus)
    async with lock:
        current = svc.store.get_upload(upload.id)
        if current is None:
            raise ApiError(404, "upload_not_found", f"upload {upload.id} was deleted", headers=tus)
        start = current.offset
        if int(raw_offset) != start:
            raise ApiError(409, "offset_mismatch", f"Upload-Offset {raw_offset} does not match the server's {start}",
                           "ask HEAD for the offset and resume from there", headers=tus)
        length = current.length if current.length is not None else svc.settings.max_upload_bytes
        ttl = svc.settings.upload_expiry_s
        sha1 = hashlib.sha1() if expected is not None else None
        offset, synced = start, start
        path = _path(svc, upload.id)
        with path.open("r+b" if path.exists() else "w+b") as f:
            f.truncate(start)  # bytes past the stored offset were never confirmed
            f.seek(start)
            try:
                async for chunk in request.stream():
                    if offset + len(chunk) > length:
                        f.truncate(start)
                        raise ApiError(413, "too_large", f"the body goes past Upload-Length ({length:,} bytes)",
                                       headers=tus)
                    f.write(chunk)
                    offset += len(chunk)
                    if sha1 is not None:
                        sha1.update(chunk)
                    elif offset - synced >= _SYNC_EVERY:
                        synced = _sync(svc, f, upload.id, offset, ttl)
            except ClientDisconnect:
                if sha1 is None:  # keep what arrived; a checksummed chunk is all or nothing
                    _sync(svc, f, upload.id, offset, ttl)
                else:
                    f.truncate(start)
                svc.metrics.upload_bytes.labels("tus").inc(offset - start)
                raise
            if sha1 is not None and sha1.digest() != expected:
                f.truncate(start)
                raise ApiError(460, "checksum_mismatch", "the chunk's sha1 does not match Upload-Checksum",
                               "send the chunk again from the same offset", headers=tus)
            _sync(svc, f, upload.id, offset, ttl)
        svc.metrics.upload_bytes.labels("tus").inc(offset - start)
        result = svc.store.get_upload(upload.id)
        assert result is not None
        return result


def _sync(svc: Service, f: object, upload_id: str, offset: int, ttl: float) -> int:
    f.flush()  # type: ignore[attr-defined]
    os.fsync(f.fileno())  # type: ignore[attr-defined]
    svc.store.update_upload(upload_id, offset=offset, ttl_s=ttl)
    return offset


def expire_uploads(svc: Service) -> int:
    """Delete abandoned uploads past their expiry (those being written are left alone); returns how many."""
    n = 0
    for upload in svc.store.expired_uploads():
        lock = svc.upload_locks.get(upload.id)
        if lock is not None and lock.locked():
            continue
        svc.store.delete_upload(upload.id)
        _path(svc, upload.id).unlink(missing_ok=True)
        svc.upload_locks.pop(upload.id, None)
        n += 1
    return n
