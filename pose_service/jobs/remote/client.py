"""A remote worker's HTTP client of the API: claim, download (Range, resumable), progress, upload, finish."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import httpx

from pose_service.errors import InputError

__all__ = ["ApiClient", "ApiRefused", "Stale"]

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
_TRIES = 6


class ApiRefused(InputError):
    """The API refused the worker's token (401/403): a wrong option, so the CLI exits 2."""

    code = "api_refused"


class Stale(Exception):
    """The attempt is no longer the job's current one (409): stop and send nothing more."""


class ApiClient:
    """One worker's view of the API at `api_url` (ending in /api/v1), authenticated with a bearer token."""

    def __init__(self, api_url: str, token: str, worker: str, *, timeout: float = 60.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.worker = worker
        self._http = httpx.Client(base_url=self.api_url, timeout=timeout,
                                  headers={"Authorization": f"Bearer {token}"})

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, url: str, *, tries: int = _TRIES, **kwargs: Any) -> httpx.Response:
        """A request retried on connection errors and 5xx (the API restarting); 401/403 raise ApiRefused."""
        delay = 0.5
        for attempt in range(tries):
            try:
                r = self._http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                if attempt == tries - 1:
                    raise
                log.warning("%s %s: %s; retrying in %.1f s", method, url, exc, delay)
            else:
                if r.status_code in (401, 403):
                    raise ApiRefused(f"the API at {self.api_url} refused this worker's token ({r.status_code})",
                                     hint="give the worker the server's POSE_SERVICE_API_TOKEN with --token")
                if r.status_code < 500 or attempt == tries - 1:
                    return r
                log.warning("%s %s: HTTP %d; retrying in %.1f s", method, url, r.status_code, delay)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
        raise AssertionError("unreachable")

    def heartbeat(self, *, hostname: str, pid: int, concurrency: int) -> None:
        r = self._request("POST", f"/workers/{self.worker}/heartbeat", tries=1,
                          json={"hostname": hostname, "pid": pid, "concurrency": concurrency})
        r.raise_for_status()

    def claim(self, job_id: str, task_id: str) -> dict[str, Any] | None:
        """The attempt this worker now runs (n, options, video, limits), or None if there is nothing to run."""
        r = self._request("POST", f"/workers/jobs/{job_id}/claim", json={"worker": self.worker, "task_id": task_id})
        if r.status_code in (404, 409):
            log.info("job %s: not claimed (%s)", job_id, r.json().get("error", {}).get("message", r.status_code))
            return None
        r.raise_for_status()
        claim: dict[str, Any] = r.json()
        return claim

    def download(self, job_id: str, dest: Path, size: int) -> None:
        """GET the job's video into `dest`, resuming a partial file with a Range request after any break."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        delay = 0.5
        for attempt in range(_TRIES * 2):
            have = dest.stat().st_size if dest.exists() else 0
            if have == size:
                return
            if have > size:
                dest.unlink()
                have = 0
            headers = {"Range": f"bytes={have}-"} if have else {}
            try:
                with self._http.stream("GET", f"/jobs/{job_id}/video", headers=headers) as r:
                    if r.status_code in (401, 403):
                        raise ApiRefused(f"the API at {self.api_url} refused this worker's token ({r.status_code})")
                    if r.status_code == 409 or r.status_code == 404:
                        raise Stale(f"job {job_id}: its video is gone ({r.status_code})")
                    r.raise_for_status()
                    if have and r.status_code != 206:  # the server ignored the range: start again
                        dest.unlink()
                    with dest.open("ab") as f:
                        for chunk in r.iter_bytes(_CHUNK):
                            f.write(chunk)
            except httpx.TransportError as exc:
                log.warning("job %s: download broke at %d bytes (%s); resuming", job_id,
                            dest.stat().st_size if dest.exists() else 0, exc)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            if attempt and dest.stat().st_size == size:
                log.info("job %s: download resumed and complete", job_id)
        if not dest.exists() or dest.stat().st_size != size:
            raise OSError(f"job {job_id}: could not download its video ({size} bytes) from {self.api_url}")

    def progress(self, job_id: str, n: int, *, progress: float, stage: str | None, log_offset: int,
                 log_end: int, log_text: str, part: str | None = None) -> None:
        """Report progress (the attempt's heartbeat) and new log lines, of the attempt or of one `part` of it;
        raises Stale if n is not current."""
        where = f"/parts/{part}" if part is not None else ""
        r = self._request("POST", f"/workers/jobs/{job_id}/attempts/{n}{where}/progress", tries=2,
                          json={"worker": self.worker, "progress": progress, "stage": stage,
                                "log_offset": log_offset, "log_end": log_end, "log": log_text})
        if r.status_code == 409:
            raise Stale(r.json().get("error", {}).get("message", "stale attempt"))
        r.raise_for_status()

    def upload(self, job_id: str, n: int, path: Path, *, chunk: str | None = None) -> None:
        """PUT one result file of attempt n, or the file of its chunk `chunk` (idempotent: the same file twice is
        the same file)."""
        url = f"/workers/jobs/{job_id}/attempts/{n}/" + (f"parts/{chunk}/file" if chunk is not None else
                                                          f"files/{path.name}")
        for attempt in range(_TRIES):
            with path.open("rb") as f:
                r = self._request("PUT", url, content=f,
                                  params={"worker": self.worker}, headers={"Content-Type": "application/octet-stream",
                                                                          "Content-Length": str(path.stat().st_size)})
            if r.status_code == 409:
                raise Stale(r.json().get("error", {}).get("message", "stale attempt"))
            if r.status_code < 500 or attempt == _TRIES - 1:
                r.raise_for_status()
                return

    def claim_part(self, job_id: str, n: int, part: str, task_id: str) -> dict[str, Any] | None:
        """Part `part` (a chunk's number, or join) of attempt n, now this worker's; None if it is not to run."""
        r = self._request("POST", f"/workers/jobs/{job_id}/attempts/{n}/parts/{part}/claim",
                          json={"worker": self.worker, "task_id": task_id})
        if r.status_code in (404, 409):
            log.info("job %s attempt %d part %s: not claimed (%s)", job_id, n, part,
                     r.json().get("error", {}).get("message", r.status_code))
            return None
        r.raise_for_status()
        claim: dict[str, Any] = r.json()
        return claim

    def download_chunk(self, job_id: str, n: int, chunk: int, dest: Path) -> None:
        """GET chunk `chunk`'s file of attempt n into `dest` (again from the start after a break)."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        delay = 0.5
        for attempt in range(_TRIES):
            try:
                with self._http.stream("GET", f"/workers/jobs/{job_id}/attempts/{n}/parts/{chunk}/file") as r:
                    if r.status_code in (404, 409):
                        raise Stale(f"job {job_id} attempt {n}: chunk {chunk}'s file is gone ({r.status_code})")
                    r.raise_for_status()
                    with dest.open("wb") as f:
                        for data in r.iter_bytes(_CHUNK):
                            f.write(data)
                return
            except httpx.TransportError as exc:
                if attempt == _TRIES - 1:
                    raise
                log.warning("job %s: chunk %d's download broke (%s); again", job_id, chunk, exc)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)

    def finish_part(self, job_id: str, n: int, chunk: str, body: dict[str, Any]) -> str:
        """End chunk `chunk` of attempt n; `done`, `duplicate` or `stale`."""
        r = self._request("POST", f"/workers/jobs/{job_id}/attempts/{n}/parts/{chunk}/finish",
                          json={"worker": self.worker, **body})
        if r.status_code == 409:
            return "stale"
        r.raise_for_status()
        result: str = r.json()["result"]
        return result

    def finish(self, job_id: str, n: int, body: dict[str, Any]) -> str:
        """End attempt n; `done`, `duplicate` (already ended so) or `stale`."""
        r = self._request("POST", f"/workers/jobs/{job_id}/attempts/{n}/finish", json={"worker": self.worker, **body})
        if r.status_code == 409:
            return "stale"
        r.raise_for_status()
        result: str = r.json()["result"]
        return result
