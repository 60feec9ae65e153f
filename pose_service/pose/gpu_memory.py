"""GPU memory sampled while an external job runs: NVML (pynvml) if importable, else `nvidia-smi`, else none.

Figures are device-wide (used memory of each GPU, every process together), in MiB. On a machine without an
NVIDIA driver the sampler says so once and records nothing, which is itself recorded in the result.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

__all__ = ["GpuMemorySampler", "GpuSample"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GpuSample:
    """One reading: seconds since the sampler started, used and total MiB per GPU index."""

    t_s: float
    used_mb: tuple[int, ...]
    total_mb: tuple[int, ...]


@dataclass
class GpuMemorySampler:
    """Samples every `interval_s` in a thread between `start()` and `stop()` (or as a context manager)."""

    interval_s: float = 2.0
    source: str = "unavailable"
    reason: str = ""
    samples: list[GpuSample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _read: Any = None
    _t0: float = 0.0

    def start(self) -> GpuMemorySampler:
        self._read = self._pick_source()
        self._t0 = time.monotonic()
        if self._read is not None:
            self._thread = threading.Thread(target=self._loop, name="gpu-memory", daemon=True)
            self._thread.start()
        else:
            log.info("GPU memory: not sampled (%s)", self.reason)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s + 5)

    def __enter__(self) -> GpuMemorySampler:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def summary(self) -> dict[str, Any]:
        """What goes into the result and the log: source, sample count, peak used MiB per GPU."""
        if not self.samples:
            return {"source": self.source, "samples": 0, "reason": self.reason or "no sample was taken"}
        n_gpus = len(self.samples[0].used_mb)
        peak = [max(s.used_mb[i] for s in self.samples if len(s.used_mb) > i) for i in range(n_gpus)]
        return {
            "source": self.source,
            "samples": len(self.samples),
            "interval_s": self.interval_s,
            "peak_used_mb": peak,
            "total_mb": list(self.samples[0].total_mb),
        }

    # -- sources ---------------------------------------------------------------------------------------

    def _pick_source(self) -> Any:
        try:
            import pynvml

            pynvml.nvmlInit()
            handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]

            def read_nvml() -> tuple[list[int], list[int]]:
                infos = [pynvml.nvmlDeviceGetMemoryInfo(h) for h in handles]
                return [int(m.used) // 2**20 for m in infos], [int(m.total) // 2**20 for m in infos]

            self.source = "pynvml"
            return read_nvml
        except Exception as exc:  # ImportError, or NVMLError without a driver
            nvml_reason = f"pynvml: {type(exc).__name__}: {exc}"
        smi = shutil.which("nvidia-smi")
        if smi is None:
            self.reason = f"{nvml_reason}; nvidia-smi not on PATH"
            return None

        def read_smi() -> tuple[list[int], list[int]]:
            out = subprocess.run(
                [smi, "--query-gpu=memory.used,memory.total", "--format=csv,noheader,nounits"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout
            rows = [line.split(",") for line in out.strip().splitlines() if line.strip()]
            return [int(float(r[0])) for r in rows], [int(float(r[1])) for r in rows]

        try:
            read_smi()
        except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
            self.reason = f"{nvml_reason}; nvidia-smi failed: {exc}"
            return None
        self.source = "nvidia-smi"
        return read_smi

    def _loop(self) -> None:
        while True:
            try:
                used, total = self._read()
                self.samples.append(GpuSample(time.monotonic() - self._t0, tuple(used), tuple(total)))
            except Exception as exc:  # a driver hiccup must not end the job
                log.debug("GPU memory sample failed: %s", exc)
            if self._stop.wait(self.interval_s):
                return
