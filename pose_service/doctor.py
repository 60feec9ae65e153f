"""Start-up checks: is this environment ready to analyse a clip? Each failure names its fix."""

from __future__ import annotations

import importlib.metadata as md
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pose_service.config import Settings
from pose_service.errors import parts_message

__all__ = ["Check", "is_ready", "not_ready_message", "run_checks"]

_DECODERS = ("h264", "hevc", "vp9")
_ENCODERS = ("libx264",)
_SETUP_FIX = "run `make demo` or `make test` (they create .venv and install the pinned packages)"


@dataclass(frozen=True)
class Check:
    """One line of the doctor's table."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True  # False: informational (the GPU), a row that does not make the service "not ready"


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in the order a person would fix them."""
    checks = [_interpreter()]
    checks += _packages()
    checks += _codecs()
    checks.append(_data_dir(settings))
    checks.append(_disk(settings))
    checks.append(_pose_bundle(settings))
    checks.append(_anny_cache(settings))
    checks.append(_gpu(settings))
    if settings.hmr2_python is not None or settings.hmr2_dir is not None:
        checks += _hmr2(settings)
    return checks


def is_ready(checks: list[Check]) -> bool:
    """Every required check passes (informational rows, such as the GPU, do not count)."""
    return all(c.ok or not c.required for c in checks)


def not_ready_message(failing: list[dict[str, Any]]) -> str:
    """The failing checks (`Check.__dict__` rows, as `doctor --json` prints them) for a person: "not ready" and
    how many on the first line, then one line per check with its fix (for /readyz's 503 message)."""
    n = len(failing)
    headline = f"not ready: {n} check{'s' if n != 1 else ''} failing, each below with its fix"
    return parts_message(headline, [(f"{c['name']}: {c['detail']}", c.get("fix") or "") for c in failing])


def _interpreter() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    ok = sys.version_info[:2] == (3, 11)
    return Check("interpreter", ok, f"{sys.executable} (Python {version})", "" if ok else "use Python 3.11")


def _packages() -> list[Check]:
    """Each requirement pinned in pyproject.toml, checked against what is installed."""
    from packaging.requirements import Requirement

    try:
        requirements = md.requires("pose-service") or []
    except md.PackageNotFoundError:
        return [Check("package pose-service", False, "not installed", f"{_SETUP_FIX}; it installs the project too")]
    checks = []
    for line in requirements:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        try:
            installed = md.version(req.name)
        except md.PackageNotFoundError:
            checks.append(Check(f"package {req.name}", False, "missing", f"pip install '{req}' ({_SETUP_FIX})"))
            continue
        ok = req.specifier.contains(installed, prereleases=True)
        detail = f"{installed}" + ("" if ok else f", need {req.specifier}")
        checks.append(Check(f"package {req.name}", ok, detail, "" if ok else f"pip install '{req}'"))
    return checks


def _codecs() -> list[Check]:
    import av

    checks = []
    wanted = [(c, "decoder") for c in _DECODERS] + [(c, "encoder") for c in _ENCODERS]
    for name, kind in wanted:
        try:
            av.codec.Codec(name, "r" if kind == "decoder" else "w")
            checks.append(Check(f"codec {name} {kind}", True, f"FFmpeg {av.ffmpeg_version_info}"))
        except Exception:  # PyAV raises several types for an unknown codec
            checks.append(
                Check(f"codec {name} {kind}", False, "not in this FFmpeg build", "pip install --force-reinstall av")
            )
    return checks


def _data_dir(settings: Settings) -> Check:
    d = settings.data_dir
    try:
        d.mkdir(parents=True, exist_ok=True)
        probe = d / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        return Check("data folder", False, f"{d}: {exc.strerror}", "set POSE_SERVICE_DATA_DIR to a writable folder")
    return Check("data folder", True, str(d))


def _disk(settings: Settings) -> Check:
    existing = next((p for p in (settings.data_dir, *settings.data_dir.parents) if p.exists()), Path("/"))
    free_mb = shutil.disk_usage(existing).free // 2**20
    ok = free_mb >= settings.min_free_disk_mb
    fix = "" if ok else f"free space on {existing} or point POSE_SERVICE_DATA_DIR elsewhere"
    return Check("free disk", ok, f"{free_mb:,} MB free (need {settings.min_free_disk_mb:,})", fix)


def _pose_bundle(settings: Settings) -> Check:
    try:
        from pose_service.pose import bundle_status

        ok, detail = bundle_status(settings.models_dir)
    except ImportError as exc:
        return Check("pose model bundle", False, f"cannot import mediapipe: {exc}", _SETUP_FIX)
    return Check("pose model bundle", ok, detail, "" if ok else "run `pose-service prepare` (or `make models`)")


def _anny_cache(settings: Settings) -> Check:
    try:
        from pose_service.body.model import anny_cache_ready

        ok = anny_cache_ready(settings.anny_cache_dir)
    except ImportError as exc:
        return Check("anny body model cache", False, f"cannot import anny: {exc}", _SETUP_FIX)
    detail = str(settings.anny_cache_dir) + ("" if ok else ": not built")
    return Check("anny body model cache", ok, detail, "" if ok else "run `pose-service prepare` (or `make models`)")


def _gpu(settings: Settings) -> Check:
    """Informational: whether MediaPipe's GPU delegate starts through EGL here (`--device gpu|auto`). The CPU
    path works without it, so it never makes the service "not ready"."""
    try:
        from pose_service.pose.bundle import BUNDLE_NAME
        from pose_service.pose.gpu import probe_gpu

        probe = probe_gpu(settings.models_dir / BUNDLE_NAME)
    except Exception as exc:  # the doctor reports, it does not crash
        return Check("GPU for the pose stage", False, f"GPU not usable: the probe failed: {exc}", required=False)
    if probe.ok:
        return Check("GPU for the pose stage", True, probe.detail() + "; --device gpu and auto use it", required=False)
    return Check("GPU for the pose stage", False, probe.detail() + " (informational: the CPU path works)",
                 probe.fix(), required=False)


def _hmr2(settings: Settings) -> list[Check]:
    """The optional GPU backend: its interpreter runs a probe (imports, CUDA, SMPL model, checkpoints)."""
    from pose_service.errors import EnvironmentProblem
    from pose_service.pose.hmr2_backend import Hmr2Install, preflight

    try:
        install = Hmr2Install.configured(settings.hmr2_python, settings.hmr2_dir)
    except EnvironmentProblem as exc:
        return [Check("4D-Humans (hmr2 backend)", False, exc.message, exc.hint)]
    return [Check(i.name, i.ok, i.detail, i.fix) for i in preflight(install).items]
