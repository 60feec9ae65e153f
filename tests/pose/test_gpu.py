"""The pose stage's device (`--device cpu|gpu|auto`): the GPU probe, the clear error of `gpu` where it cannot start,
`auto`'s fallback to the CPU with one log line and the same results, and `worker --gpu`'s default."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pose_service.config import Settings
from pose_service.errors import BadOption, EnvironmentProblem
from pose_service.pose import gpu
from pose_service.pose.bundle import BUNDLE_NAME


@pytest.fixture(scope="module")
def bundle(settings: Settings) -> Path:
    path = settings.models_dir / BUNDLE_NAME
    if not path.is_file():
        pytest.skip("the pose bundle is not built (run `pose-service prepare`)")
    return path


@pytest.fixture(scope="module")
def no_gpu(bundle: Path) -> gpu.GpuProbe:
    probe = gpu.probe_gpu(bundle)
    if probe.ok:
        pytest.skip(f"this machine's GPU works ({probe.detail()}): the no-GPU behaviour cannot be seen here")
    return probe


def test_the_probe_answers_once_per_process(bundle: Path) -> None:
    first = gpu.probe_gpu(bundle)
    assert gpu.probe_gpu(bundle) is first  # cached: the child runs once
    assert first.ok or (first.detail().startswith("GPU not usable: ") and first.symptom and first.fix())


def test_a_hung_or_crashing_probe_is_an_answer_not_a_crash(bundle: Path, tmp_path: Path) -> None:
    slow = gpu._probe(bundle, "", [], 0.05, sys.executable)
    assert not slow.ok and "did not finish within" in slow.reason
    crasher = tmp_path / "python"
    crasher.write_text("#!/bin/sh\nkill -SEGV $$\n")
    crasher.chmod(0o755)
    crashed = gpu._probe(bundle, "", [], 30, str(crasher))
    assert not crashed.ok and "SIGSEGV" in crashed.reason
    missing = gpu._probe(tmp_path / "none.task", "", [], 30, sys.executable)
    assert not missing.ok and "pose model bundle" in missing.reason


def test_device_gpu_fails_naming_what_is_missing_and_the_fix(
    no_gpu: gpu.GpuProbe, bundle: Path, small_spin_clip: Path, tmp_path: Path
) -> None:
    with pytest.raises(EnvironmentProblem) as caught:
        gpu.resolve_device("gpu", bundle)
    text = caught.value.text()
    assert text.startswith("the pose stage cannot use the GPU (--device gpu): ")
    assert "Fix: " in text and "--device cpu" in text
    # The command line: exit 1, that error on stderr, no traceback, nothing written.
    run = subprocess.run([sys.executable, "-m", "pose_service", "analyze", str(small_spin_clip), "--device", "gpu",
                          "--no-mesh", "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr
    assert "pose-service: the pose stage cannot use the GPU (--device gpu)" in run.stderr
    assert "Traceback" not in run.stderr and "Fix: " in run.stderr
    assert not (tmp_path / "out" / "result.json").exists()


def test_auto_falls_back_to_the_cpu_with_one_log_line_and_the_same_results(
    no_gpu: gpu.GpuProbe, small_spin_clip: Path, tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    from pose_service.pipeline import AnalyzeOptions, analyze

    with caplog.at_level(logging.INFO, logger="pose_service"):
        auto = analyze(small_spin_clip, out_dir=tmp_path / "auto", settings=settings,
                       options=AnalyzeOptions(mesh=False, device="auto"))
    said = [r for r in caplog.records if r.name == "pose_service.pose.gpu" and r.levelno >= logging.WARNING]
    assert len(said) == 1, [r.getMessage() for r in said]
    assert "falling back to the CPU" in said[0].getMessage() and no_gpu.symptom in said[0].getMessage()
    cpu = analyze(small_spin_clip, out_dir=tmp_path / "cpu", settings=settings,
                  options=AnalyzeOptions(mesh=False, device="cpu"))
    a, c = auto.result, cpu.result
    assert a["backend"]["device"] == c["backend"]["device"] == "cpu"
    assert a["tracks"] and len(a["tracks"]) == len(c["tracks"])
    for ta, tc in zip(a["tracks"], c["tracks"], strict=True):
        assert ta["frames"] == tc["frames"]
        np.testing.assert_array_equal(np.array(ta["keypoints_2d"]), np.array(tc["keypoints_2d"]))
        np.testing.assert_array_equal(np.array(ta["keypoints_3d"]), np.array(tc["keypoints_3d"]))
    assert a["analysis"]["jumps"] == c["analysis"]["jumps"]


def test_a_bad_device_is_a_bad_option(bundle: Path) -> None:
    from pose_service.pipeline import AnalyzeOptions

    with pytest.raises(BadOption, match="device must be cpu, gpu or auto"):
        AnalyzeOptions(device="tpu")
    with pytest.raises(BadOption):
        gpu.resolve_device("tpu", bundle)
    assert gpu.resolve_device("cpu", bundle) == "cpu"  # no probe needed
    run = subprocess.run([sys.executable, "-m", "pose_service", "analyze", "x.mp4", "--device", "tpu"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "--device" in run.stderr


def test_a_gpu_worker_runs_jobs_with_device_auto_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """`pose-service worker --gpu` hands its jobs' subprocesses POSE_SERVICE_DEVICE=auto; a job's own `device`
    option still wins (AnalyzeOptions.device over Settings.device), and so does an explicit POSE_SERVICE_DEVICE."""
    import pose_service.jobs.remote.worker as remote
    from pose_service.cli import main
    from pose_service.jobs.supervisor import worker_env

    seen: list[Settings] = []
    monkeypatch.setattr(remote, "run_worker", lambda settings, **_: seen.append(settings))
    monkeypatch.delenv("POSE_SERVICE_DEVICE", raising=False)
    argv = ["worker", "--broker", "redis://127.0.0.1:1/0", "--api", "http://127.0.0.1:1/api/v1", "--token", "t"]
    assert main([*argv, "--gpu"]) == 0 and main(argv) == 0
    assert [s.device for s in seen] == ["auto", "cpu"]
    assert worker_env(seen[0])["POSE_SERVICE_DEVICE"] == "auto"
    monkeypatch.setenv("POSE_SERVICE_DEVICE", "cpu")
    assert main([*argv, "--gpu"]) == 0 and seen[-1].device == "cpu"
    # In the job's worker process: the job's option, else the process setting.
    code = ("import json; from pose_service.config import Settings; from pose_service.pipeline import AnalyzeOptions;"
            "o = AnalyzeOptions(**json.loads('{\"device\": null}')); print(o.device or Settings().device)")
    env = {**os.environ, "POSE_SERVICE_DEVICE": "auto"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, check=True)
    assert out.stdout.strip() == "auto"
