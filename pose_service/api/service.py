"""The state one server process shares between requests: settings, job store, worker pool, metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pose_service.config import Settings
from pose_service.jobs.metrics import ServiceMetrics
from pose_service.jobs.store import JobStore
from pose_service.jobs.supervisor import WorkerPool, worker_env, worker_python

if TYPE_CHECKING:
    from pose_service.jobs.remote.queue import CeleryQueue

__all__ = ["Service", "WORKER_MODULES"]

log = logging.getLogger(__name__)

# What a worker's interpreter must be able to import; checked by /readyz without importing them.
WORKER_MODULES = ("pose_service", "numpy", "av", "mediapipe", "cv2", "pydantic_settings")
_READY_TTL_S = 60.0


@dataclass
class Service:
    settings: Settings
    store: JobStore
    pool: WorkerPool | CeleryQueue  # who runs jobs: the local pool, or Celery workers elsewhere (`--queue`)
    metrics: ServiceMetrics
    upload_locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _ready: tuple[float, list[dict[str, Any]]] | None = None
    _ready_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, settings: Settings) -> Service:
        for sub in ("jobs", "uploads", "rejected"):
            (settings.service_dir / sub).mkdir(parents=True, exist_ok=True)
        store = JobStore(settings.service_dir / "jobs.db")
        metrics = ServiceMetrics(store.counts)
        if settings.queue == "celery":
            from pose_service.jobs.remote.queue import CeleryQueue

            return cls(settings, store, CeleryQueue(store, settings, metrics), metrics)
        return cls(settings, store, WorkerPool(store, settings, metrics), metrics)

    @property
    def uploads_dir(self) -> Path:
        return self.settings.service_dir / "uploads"

    @property
    def rejected_dir(self) -> Path:
        return self.settings.service_dir / "rejected"

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.settings.service_dir).free

    def upload_lock(self, upload_id: str) -> asyncio.Lock:
        return self.upload_locks.setdefault(upload_id, asyncio.Lock())

    # readiness ----------------------------------------------------------------------------------------
    def readiness(self) -> list[dict[str, Any]]:
        """The doctor's checks plus the worker interpreter's imports, cached for a short while."""
        with self._ready_lock:  # one run at a time; callers arriving meanwhile get its answer
            if self._ready and time.monotonic() - self._ready[0] < _READY_TTL_S:
                return self._ready[1]
            checks = [c for c in self._doctor() if not c["name"].startswith("package ") or not c["ok"]]
            checks.append(self._worker_check())
            self._ready = (time.monotonic(), checks)
            return checks

    def _doctor(self) -> list[dict[str, Any]]:
        """`pose-service doctor --json` run by the workers' interpreter: the environment jobs will really run in.

        A child process also keeps the doctor's imports (mediapipe, torch) out of the server.
        """
        cmd = [worker_python(self.settings), "-m", "pose_service", "doctor", "--json"]
        env = worker_env(self.settings)
        fix = "run `pose-service doctor` with that interpreter"
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return [{"name": "doctor", "ok": False, "detail": f"{cmd[0]}: cannot run the doctor ({exc})", "fix": fix}]
        try:
            checks: list[dict[str, Any]] = json.loads(out.stdout)["checks"]
            return checks
        except (ValueError, KeyError):
            last = next((ln for ln in reversed(out.stderr.splitlines()) if ln.strip()), f"exit code {out.returncode}")
            detail = f"`{cmd[0]} -m pose_service doctor` failed: {last}"[:400]
            return [{"name": "doctor", "ok": False, "detail": detail, "fix": fix}]

    def _worker_check(self) -> dict[str, Any]:
        python = worker_python(self.settings)
        script = ("import importlib.util, json, sys; "
                  f"print(json.dumps({{'version': sys.version.split()[0], 'missing': [m for m in {WORKER_MODULES!r}"
                  " if importlib.util.find_spec(m) is None]}))")
        fix = "set POSE_SERVICE_WORKER_PYTHON to the project's interpreter (e.g. .venv/bin/python), or install it there"
        try:
            out = subprocess.run([python, "-c", script], capture_output=True, text=True, timeout=30,
                                 env=worker_env(self.settings), check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {"name": "worker interpreter", "ok": False, "detail": f"{python}: cannot run ({exc})", "fix": fix}
        try:
            info = json.loads(out.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            detail = f"{python}: exited {out.returncode}: {(out.stderr or out.stdout).strip()[-300:]}"
            return {"name": "worker interpreter", "ok": False, "detail": detail, "fix": fix}
        if info["missing"]:
            detail = f"{python} (Python {info['version']}) cannot import: {', '.join(info['missing'])}"
            return {"name": "worker interpreter", "ok": False, "detail": detail, "fix": fix}
        return {"name": "worker interpreter", "ok": True, "detail": f"{python} (Python {info['version']})", "fix": ""}
