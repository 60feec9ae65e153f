"""From a file on disk to a queued job: name it safely, probe it, keep a rejected file 24 h, queue the rest."""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import time
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool

from pose_service.api.errors import ApiError, input_error_status
from pose_service.api.models import ID_SCHEMA_PATTERN
from pose_service.api.service import Service
from pose_service.errors import BadOption, InputError
from pose_service.jobs.store import Job, new_id
from pose_service.jobs.supervisor import job_dir

__all__ = ["ID_PATTERN", "accept_video", "check_id", "check_space", "job_options", "purge_rejected", "safe_name"]

log = logging.getLogger(__name__)

ID_PATTERN = re.compile(ID_SCHEMA_PATTERN)
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def check_id(value: str, what: str = "job") -> str:
    """Ids are 32 hex digits; anything else (`..`, slashes, other text) is refused before touching a path."""
    if not ID_PATTERN.match(value):
        raise ApiError(400, "bad_id", f"{value[:80]!r} is not a valid {what} id", f"{what} ids are 32 hex digits")
    return value


def safe_name(filename: str | None) -> str:
    """The file's own name, reduced to characters safe in a path; `video.mp4` if nothing is left."""
    name = _UNSAFE.sub("_", Path((filename or "").replace("\\", "/")).name).strip(" .")[-100:]
    return name or "video.mp4"


def _flag(raw: dict[str, Any], name: str, default: bool) -> bool:
    """A boolean from JSON (true/false) or a form field (true/false/1/0/yes/no/on/off)."""
    value = raw.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise BadOption(f"{name} must be true or false, got {str(value)[:40]!r}")


def job_options(raw: dict[str, Any], default_num_poses: int) -> dict[str, Any]:
    """The job's `AnalyzeOptions` as a dict, from JSON or form fields; bad values are a BadOption (400)."""
    from pose_service.pipeline import AnalyzeOptions

    num_poses = raw.get("num_poses")
    if num_poses in (None, ""):
        num_poses = default_num_poses
    elif not str(num_poses).strip().isdigit():
        raise BadOption(f"num_poses must be a whole number from 1 to 16, got {str(num_poses)[:40]!r}")
    stance, device, max_side = raw.get("stance"), raw.get("device"), raw.get("pose_max_side")
    if max_side not in (None, "") and not str(max_side).strip().isdigit():
        raise BadOption(f"pose_max_side must be a whole number of pixels (0: full size), got {str(max_side)[:40]!r}")
    options = AnalyzeOptions(
        overlay=_flag(raw, "overlay", False), mesh=_flag(raw, "mesh", True), num_poses=int(num_poses),
        backend=str(raw.get("backend") or "mediapipe"),
        stance=None if stance in (None, "") else str(stance).strip().lower(),
        device=None if device in (None, "") else str(device).strip().lower(),  # None: the worker's own setting
        pose_max_side=None if max_side in (None, "") else int(str(max_side).strip()),  # None: by the device
        frame_rate=str(raw.get("frame_rate") or "full").strip().lower(),
    )
    return dataclasses.asdict(options)


def check_space(svc: Service, incoming: int | None) -> None:
    """507 when accepting `incoming` bytes would leave less than the configured free disk."""
    reserve = svc.settings.min_free_disk_mb * 2**20
    free = svc.free_bytes()
    if free - (incoming or 0) < reserve:
        raise ApiError(507, "insufficient_storage",
                       f"not enough free disk for this upload ({free // 2**20} MiB free, "
                       f"{svc.settings.min_free_disk_mb} MiB kept in reserve)",
                       "try again later or ask the operator to free space")


async def accept_video(svc: Service, video: Path, *, name: str, options: dict[str, Any]) -> Job:
    """Move `video` into a new job folder, probe it and queue the job; a bad file raises a 415/422 ApiError."""
    job_id = new_id()
    folder = job_dir(svc.settings, job_id)
    folder.mkdir(parents=True)
    target = folder / safe_name(name)
    video.replace(target)
    s = svc.settings
    try:
        from pose_service.video import probe

        await run_in_threadpool(probe, target, max_side_px=s.max_side_px, max_duration_s=s.max_duration_s)
    except InputError as exc:
        kept = svc.rejected_dir / job_id
        folder.replace(kept)
        log.info("rejected upload %s (%s): %s; kept in %s", name, exc.code, exc.message, kept)
        hint = exc.hint + ("; " if exc.hint else "") + f"the file is kept {s.rejected_keep_s / 3600:.0f} h as {job_id}"
        message = exc.message.replace(str(target), target.name)  # never show the server's paths
        raise ApiError(input_error_status(exc), exc.code, message, hint, extra={"rejected_id": job_id}) from exc
    job = svc.store.create(job_id=job_id, video_name=target.name, video_path=target, options=options,
                           max_attempts=s.job_max_attempts)
    svc.pool.notify()
    log.info("job %s queued for %s (%d bytes)", job_id, target.name, target.stat().st_size)
    return job


def purge_rejected(svc: Service, now: float | None = None) -> int:
    """Delete rejected uploads older than the keep time, and multipart uploads a crash left half-written."""
    now = time.time() if now is None else now
    stale = [e for e in svc.rejected_dir.iterdir() if now - e.stat().st_mtime > svc.settings.rejected_keep_s]
    stale += [e for e in svc.uploads_dir.glob("incoming-*") if now - e.stat().st_mtime > svc.settings.upload_expiry_s]
    for entry in stale:
        shutil.rmtree(entry, ignore_errors=True)
    return len(stale)
