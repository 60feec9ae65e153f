"""The pose stage's device: MediaPipe's CPU delegate, or its GPU delegate through EGL (docs/design.md, "A GPU
machine").

    cpu   the CPU delegate (the default)
    gpu   the GPU delegate; when it cannot start, an `EnvironmentProblem` naming what is missing and the fix
    auto  the GPU delegate when it starts here, else the CPU delegate, with one log line saying why

The GPU delegate needs the glvnd EGL loaders (Debian's libegl1, libgles2, libglvnd0, libgl1, libopengl0) and
`__EGL_VENDOR_LIBRARY_FILENAMES` pointing at NVIDIA's vendor file; without them graph start fails with "Unable
to initialize EGL". Whether it starts is learnt by trying: a child process (`sys.executable`) creates a
PoseLandmarker with the GPU delegate and runs it on a tiny image, under a timeout, so a driver that hangs or
crashes costs the probe and never this process. The answer is kept for the life of the process.
"""

from __future__ import annotations

import ctypes.util
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pose_service.errors import BadOption, EnvironmentProblem, parts_message

__all__ = ["DEVICES", "EGL_PACKAGES", "EGL_VENDOR_VAR", "GPU_MAX_SIDE", "GpuProbe", "egl_parts", "nvidia_vendor_file",
           "pose_max_side", "probe_gpu", "resolve_device"]

log = logging.getLogger(__name__)

DEVICES = ("cpu", "gpu", "auto")
EGL_VENDOR_VAR = "__EGL_VENDOR_LIBRARY_FILENAMES"
EGL_PACKAGES = ("libegl1", "libgles2", "libglvnd0", "libgl1", "libopengl0")
# Where NVIDIA's glvnd vendor file lies: the container toolkit's mount first, then a driver installed in the OS.
NVIDIA_VENDOR_FILES = (
    Path("/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json"),
    Path("/usr/share/glvnd/egl_vendor.d/10_nvidia.json"),
    Path("/etc/glvnd/egl_vendor.d/10_nvidia.json"),
)
_VENDOR_DIRS = (Path("/usr/share/glvnd/egl_vendor.d"), Path("/etc/glvnd/egl_vendor.d"))
PROBE_TIMEOUT_S = 60.0
# The longer side of the frame the GPU delegate sees unless a run chooses: at 1080p the frame's upload bounds it
# (44-52 frames/s on an H200), at 640 px it ran 100 frames/s with keypoints as close to the full-size CPU run.
GPU_MAX_SIDE = 640
_APT_FIX = f"apt-get install {' '.join(EGL_PACKAGES)}"

# The child's script: standard library, numpy and mediapipe only; one JSON line on stdout.
_PROBE_SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
try:
    import numpy as np
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=sys.argv[1], delegate=BaseOptions.Delegate.GPU),
        running_mode=vision.RunningMode.IMAGE, num_poses=1, output_segmentation_masks=False)
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((64, 64, 3), np.uint8)))
    print(json.dumps({"ok": True, "seconds": time.perf_counter() - t0}), flush=True)
except Exception as exc:
    print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}), flush=True)
"""


@dataclass(frozen=True)
class GpuProbe:
    """Whether MediaPipe's GPU delegate starts in this environment, and if not, why and how to fix it."""

    ok: bool
    symptom: str = ""  # what happened, one short clause ("" when ok)
    parts: list[tuple[str, str]] = field(default_factory=list)  # (what is missing, its fix)
    seconds: float = 0.0
    vendor_file: str = ""  # the EGL vendor file(s) in use, "" when none was set

    @property
    def reason(self) -> str:
        """Why the GPU is not usable: the symptom, then what is missing."""
        return "; ".join([self.symptom, *(what for what, _ in self.parts)]) if not self.ok else ""

    def detail(self) -> str:
        if self.ok:
            vendor = f" (EGL vendor {self.vendor_file})" if self.vendor_file else ""
            return f"usable: MediaPipe's GPU delegate started through EGL{vendor} in {self.seconds:.1f} s"
        return f"GPU not usable: {self.reason}"

    def fix(self) -> str:
        return "; ".join(fix for _, fix in self.parts if fix)

    def problem(self) -> EnvironmentProblem:
        """The error `--device gpu` fails with: what is wrong, then each missing part with its fix."""
        headline = f"the pose stage cannot use the GPU (--device gpu): {self.symptom}"
        message = parts_message(headline, self.parts) if self.parts else headline
        return EnvironmentProblem(message, hint="use --device cpu (or auto, which falls back to the CPU)")


def nvidia_vendor_file() -> Path | None:
    """NVIDIA's EGL vendor file when one of the usual places holds it."""
    return next((p for p in NVIDIA_VENDOR_FILES if p.is_file()), None)


def _vendor_setting() -> tuple[str, list[tuple[str, str]]]:
    """The vendor file(s) EGL will read (setting `__EGL_VENDOR_LIBRARY_FILENAMES` to NVIDIA's when it is unset
    and the file exists), and what is missing about them."""
    configured = os.environ.get(EGL_VENDOR_VAR, "")
    if configured:
        missing = [f for f in configured.split(":") if f and not Path(f).is_file()]
        if missing:
            return configured, [(f"{EGL_VENDOR_VAR} names {', '.join(missing)}, which does not exist",
                                 f"point {EGL_VENDOR_VAR} at NVIDIA's vendor file, e.g. {NVIDIA_VENDOR_FILES[0]}")]
        return configured, []
    found = nvidia_vendor_file()
    if found is not None:
        os.environ[EGL_VENDOR_VAR] = str(found)  # read by libEGL when it first initialises, in this process too
        log.debug("%s set to %s", EGL_VENDOR_VAR, found)
        return str(found), []
    others = sorted(p.name for d in _VENDOR_DIRS if d.is_dir() for p in d.glob("*.json"))
    seen = f" (found only {', '.join(others)})" if others else ""
    return "", [(f"no NVIDIA EGL vendor file in {', '.join(str(p.parent) for p in NVIDIA_VENDOR_FILES)}{seen}",
                 f"on a machine with an NVIDIA GPU and driver, set {EGL_VENDOR_VAR} to NVIDIA's vendor file "
                 f"(e.g. {NVIDIA_VENDOR_FILES[0]})")]


def egl_parts() -> tuple[str, list[tuple[str, str]]]:
    """Cheap checks, no child process: the EGL and GLES loaders, and the vendor file. Returns the vendor file
    setting and the missing parts, each with its fix."""
    parts = [(f"lib{name} not found", _APT_FIX) for name in ("EGL", "GLESv2") if ctypes.util.find_library(name) is None]
    vendor, vendor_parts = _vendor_setting()
    return vendor, parts + vendor_parts


_CACHE: dict[tuple[str, str], GpuProbe] = {}
_LOCK = threading.Lock()


def probe_gpu(bundle_path: Path, *, timeout_s: float = PROBE_TIMEOUT_S, python: str | None = None) -> GpuProbe:
    """Whether the GPU delegate starts here (cached per process, bundle and vendor setting)."""
    vendor, parts = egl_parts()
    key = (str(bundle_path), vendor)
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _probe(Path(bundle_path), vendor, parts, timeout_s, python or sys.executable)
            probe = _CACHE[key]
            log.info("GPU probe: %s", probe.detail())
        return _CACHE[key]


def _probe(bundle: Path, vendor: str, parts: list[tuple[str, str]], timeout_s: float, python: str) -> GpuProbe:
    if not bundle.is_file():
        return GpuProbe(False, "the GPU cannot be tried without the pose model bundle",
                        [(f"pose model bundle {bundle} missing", "run `pose-service prepare`")], vendor_file=vendor)
    t0 = time.perf_counter()
    try:
        out = subprocess.run([python, "-c", _PROBE_SCRIPT, str(bundle)], capture_output=True, text=True,
                             timeout=timeout_s, stdin=subprocess.DEVNULL, check=False, env=dict(os.environ))
    except subprocess.TimeoutExpired:
        return GpuProbe(False, f"the GPU probe did not finish within {timeout_s:.0f} s (a hung driver?)",
                        parts or [("a GPU that answers", "check `nvidia-smi`")], time.perf_counter() - t0, vendor)
    except OSError as exc:
        return GpuProbe(False, f"the GPU probe could not start {python}: {exc.strerror}",
                        parts or [("a working interpreter", "set POSE_SERVICE_WORKER_PYTHON or reinstall")],
                        time.perf_counter() - t0, vendor)
    seconds = time.perf_counter() - t0
    answer: dict[str, object] = {}
    for line in reversed(out.stdout.splitlines()):
        try:
            answer = json.loads(line)
            break
        except ValueError:
            continue
    if answer.get("ok") is True:
        return GpuProbe(True, "", [], seconds, vendor)
    if answer:
        error = str(answer.get("error", ""))
    elif out.returncode < 0:
        error = f"the probe was killed by {signal.Signals(-out.returncode).name}"
    else:
        last = next((ln for ln in reversed(out.stderr.splitlines()) if ln.strip()), "")
        error = f"the probe exited with code {out.returncode}" + (f": {last.strip()[-300:]}" if last else "")
    if "Unable to initialize EGL" in error or "egl_initialized" in error:
        symptom = 'EGL did not initialise ("Unable to initialize EGL")'
        if not parts:
            parts = [("an EGL display on an NVIDIA GPU", "check `nvidia-smi` and that the NVIDIA driver's EGL "
                      f"library (libEGL_nvidia.so.0) is installed; {EGL_VENDOR_VAR}={vendor or '(unset)'}")]
    else:
        symptom = f"the GPU delegate did not start: {error[:300]}"
    return GpuProbe(False, symptom, parts, seconds, vendor)


def resolve_device(requested: str, bundle_path: Path) -> str:
    """The delegate the pose stage runs on, "cpu" or "gpu", for the requested device (cpu, gpu or auto).

    `gpu` that cannot start raises the probe's `EnvironmentProblem`; `auto` then falls back to the CPU with one
    warning saying why."""
    if requested not in DEVICES:
        raise BadOption(f"device must be cpu, gpu or auto, got {str(requested)[:40]!r}")
    if requested == "cpu":
        return "cpu"
    probe = probe_gpu(bundle_path)
    if probe.ok:
        log.info("device %s: the pose stage runs on the GPU (%s)", requested, probe.detail())
        return "gpu"
    if requested == "gpu":
        raise probe.problem()
    log.warning("device auto: falling back to the CPU: %s", probe.detail())
    return "cpu"


def pose_max_side(requested: int | None, device: str) -> int:
    """The longer side, in pixels, of the frame the pose model sees on the resolved `device` (cpu or gpu); 0: full
    size. `requested` (a run's, a job's or the process's choice) wins; None: full size on the CPU, which gains
    nothing from smaller frames, and `GPU_MAX_SIDE` on the GPU."""
    if requested is not None:
        if isinstance(requested, bool) or not isinstance(requested, int) or requested < 0 or 0 < requested < 64:
            raise BadOption(f"pose_max_side must be 0 (full size) or at least 64 pixels, got {str(requested)[:40]!r}")
        return requested
    return GPU_MAX_SIDE if device == "gpu" else 0
