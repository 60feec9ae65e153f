"""Upload throughput and server memory for a large upload, through tus and through multipart POST /jobs.

    .venv/bin/python bench/upload.py [--gib 2] [--chunk-mib 64]

Starts `pose-service serve` (no workers) on a free loopback port with a throw-away state folder, sends
`--gib` GiB generated on the fly (never held in memory, never read from disk) and samples the server's
resident memory (VmRSS) every 0.1 s. The multipart body is not a video, so the server streams it to disk,
probes it and refuses it with 415: the full path except the analysis. Prints MiB/s and RSS before, peak and
growth for each. Needs `--gib` x 2 of free disk in the temp folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.api.conftest import Server  # noqa: E402

_BLOCK = os.urandom(2**20)


def _body(total: int, prefix: bytes = b"", suffix: bytes = b"") -> Iterator[bytes]:
    yield prefix
    sent = 0
    while sent < total:
        n = min(len(_BLOCK), total - sent)
        yield _BLOCK[:n]
        sent += n
    yield suffix


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class _RssSampler:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self.before = _rss_mib(pid)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_mib(self.pid))
            time.sleep(0.1)

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _figures(size: int, seconds: float, rss: _RssSampler, status: int) -> dict[str, float]:
    return {"MiB/s": size / 2**20 / seconds, "seconds": seconds, "rss_before_mib": rss.before,
            "rss_peak_mib": rss.peak, "rss_growth_mib": rss.peak - rss.before, "status": status}  # fmt: skip


def _report(name: str, size: int, fig: dict[str, float]) -> None:
    print(f"{name:<10} {size / 2**30:.2f} GiB in {fig['seconds']:6.1f} s = {fig['MiB/s']:7.1f} MiB/s; "
          f"server RSS {fig['rss_before_mib']:.0f} MiB before, peak {fig['rss_peak_mib']:.0f} MiB, "
          f"growth {fig['rss_growth_mib']:+.0f} MiB (HTTP {fig['status']:.0f})")


def measure(gib: float = 2.0, chunk_mib: int = 64, *, verbose: bool = True) -> dict[str, dict[str, float]]:
    """Upload `gib` GiB through tus and through multipart to a fresh local server; figures per method."""
    size = int(gib * 2**30)
    tmp = Path(tempfile.mkdtemp(prefix="pose-upload-bench-"))
    srv = Server(tmp / "state", workers=0, env={"POSE_SERVICE_MAX_UPLOAD_BYTES": str(size + 2**20),
                                                "POSE_SERVICE_MIN_FREE_DISK_MB": "100"})
    out: dict[str, dict[str, float]] = {}
    try:
        srv.start()
        assert srv.proc is not None
        if verbose:
            print(f"server pid {srv.proc.pid}, {os.cpu_count()} cores; {gib} GiB per upload")
        with httpx.Client(base_url=srv.url, timeout=600) as c:
            c.get("/readyz")  # the readiness checks import the pose stack once; let that settle first
            tus = {"Tus-Resumable": "1.0.0"}
            with _RssSampler(srv.proc.pid) as rss:
                t0 = time.perf_counter()
                r = c.post("/uploads", headers={**tus, "Upload-Length": str(size)})
                upload_id = r.headers["Location"].rsplit("/", 1)[1]
                offset, chunk = 0, chunk_mib * 2**20
                while offset < size:
                    n = min(chunk, size - offset)
                    r = c.patch(f"/uploads/{upload_id}", content=_body(n), headers={
                        **tus, "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset),
                        "Content-Length": str(n)})
                    r.raise_for_status()
                    offset = int(r.headers["Upload-Offset"])
                seconds = time.perf_counter() - t0
            out["tus"] = _figures(size, seconds, rss, r.status_code)
            c.delete(f"/uploads/{upload_id}", headers=tus)

            head = (b'--bench\r\nContent-Disposition: form-data; name="video"; filename="big.bin"\r\n'
                    b"Content-Type: application/octet-stream\r\n\r\n")
            tail = b"\r\n--bench--\r\n"
            with _RssSampler(srv.proc.pid) as rss:
                t0 = time.perf_counter()
                r = c.post("/jobs", content=_body(size, head, tail), headers={
                    "Content-Type": "multipart/form-data; boundary=bench",
                    "Content-Length": str(len(head) + size + len(tail))})
                seconds = time.perf_counter() - t0
            out["multipart"] = _figures(size, seconds, rss, r.status_code)
            if verbose:
                for name, fig in out.items():
                    _report(name, size, fig)
                print(f"  multipart answer: {r.json()['error']['code']}: {r.json()['error']['message']}")
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--gib", type=float, default=2.0)
    p.add_argument("--chunk-mib", type=int, default=64, help="tus PATCH size")
    args = p.parse_args()
    measure(args.gib, args.chunk_mib)
    return 0


if __name__ == "__main__":
    sys.exit(main())
