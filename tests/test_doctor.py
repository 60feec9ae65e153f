"""`pose-service doctor` on the prepared environment, and on an empty data folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _doctor(env: dict[str, str]) -> tuple[int, dict]:
    run = subprocess.run(
        [sys.executable, "-m", "pose_service", "doctor", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    return run.returncode, json.loads(run.stdout)


def test_ready_after_prepare(settings) -> None:  # type: ignore[no-untyped-def]
    code, report = _doctor(dict(os.environ, POSE_SERVICE_DATA_DIR=str(settings.data_dir)))
    failing = [c for c in report["checks"] if not c["ok"]]
    assert code == 0 and report["ready"], failing
    names = {c["name"] for c in report["checks"]}
    assert {"interpreter", "package mediapipe", "package torch", "codec h264 decoder", "codec hevc decoder",
            "codec vp9 decoder", "codec libx264 encoder", "pose model bundle", "anny body model cache",
            "free disk", "data folder"} <= names  # fmt: skip


def test_missing_models_are_named_with_their_fix(tmp_path: Path) -> None:
    code, report = _doctor(dict(os.environ, POSE_SERVICE_DATA_DIR=str(tmp_path / "empty")))
    assert code == 1 and not report["ready"]
    failing = {c["name"]: c for c in report["checks"] if not c["ok"] and c["required"]}
    assert set(failing) == {"pose model bundle", "anny body model cache"}
    assert all("pose-service prepare" in c["fix"] for c in failing.values())
    gpu = next(c for c in report["checks"] if c["name"] == "GPU for the pose stage")
    assert not gpu["ok"] and not gpu["required"] and "pose model bundle" in gpu["detail"]


def test_the_gpu_row_informs_and_never_makes_the_service_not_ready(settings) -> None:  # type: ignore[no-untyped-def]
    from pose_service.doctor import Check, is_ready

    code, report = _doctor(dict(os.environ, POSE_SERVICE_DATA_DIR=str(settings.data_dir)))
    gpu = next(c for c in report["checks"] if c["name"] == "GPU for the pose stage")
    assert gpu["required"] is False and code == 0 and report["ready"]
    if not gpu["ok"]:  # this machine: no GPU; the row says why and how to fix it
        assert gpu["detail"].startswith("GPU not usable: ") and gpu["fix"]
    assert is_ready([Check("a", True, ""), Check("GPU", False, "GPU not usable: x", required=False)])
    assert not is_ready([Check("a", False, ""), Check("GPU", True, "", required=False)])


def test_not_enough_disk_fails(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    env = dict(os.environ, POSE_SERVICE_DATA_DIR=str(settings.data_dir), POSE_SERVICE_MIN_FREE_DISK_MB=str(10**12))
    code, report = _doctor(env)
    disk = next(c for c in report["checks"] if c["name"] == "free disk")
    assert code == 1 and not disk["ok"] and "free space" in disk["fix"]


# -- which data folder ------------------------------------------------------------------------------------

_REPO = Path(__file__).resolve().parents[1]


def _data_dir_in_child(env: dict[str, str]) -> Path:
    code = "from pose_service.config import Settings; print(Settings().data_dir)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, check=True)
    return Path(run.stdout.strip())


def test_bare_command_in_a_checkout_uses_its_data_folder() -> None:
    """`make` and the bare command agree: both use the checkout's .data/ (README, "Two commands")."""
    env = {k: v for k, v in os.environ.items() if k != "POSE_SERVICE_DATA_DIR"}
    assert _data_dir_in_child(env) == _REPO / ".data"
    assert "export POSE_SERVICE_DATA_DIR ?= $(CURDIR)/.data" in (_REPO / "Makefile").read_text()


def test_explicit_data_dir_wins(tmp_path: Path) -> None:
    assert _data_dir_in_child(dict(os.environ, POSE_SERVICE_DATA_DIR=str(tmp_path))) == tmp_path


def test_installed_package_uses_the_user_folder(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from pose_service import config

    assert config.checkout_dir() == _REPO  # this suite runs from the checkout, installed editable
    monkeypatch.setattr(config, "checkout_dir", lambda: None)  # a wheel in site-packages has no pyproject.toml
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert config.default_data_dir() == tmp_path / "pose-service"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert config.default_data_dir() == Path.home() / ".local" / "share" / "pose-service"


def test_not_ready_message_has_a_line_per_failing_check() -> None:
    from pose_service.doctor import not_ready_message

    failing = [{"name": "pose model bundle", "ok": False, "detail": "missing", "fix": "run `pose-service prepare`"},
               {"name": "free disk", "ok": False, "detail": "12 MB free (need 500)", "fix": ""}]
    first, *rest = not_ready_message(failing).splitlines()
    assert first == "not ready: 2 checks failing, each below with its fix"
    assert rest == ["- pose model bundle: missing. Fix: run `pose-service prepare`.", "- free disk: 12 MB free (need 500)."]
