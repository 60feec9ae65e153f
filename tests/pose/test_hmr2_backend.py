"""The hmr2 backend's preflight and runner, with real subprocesses.

What is real here: the probe really runs in the configured interpreter (this venv, which has no hmr2,
phalp or GPU; a fresh bare venv without torch), the runner really spawns that interpreter on a track.py,
streams its output, enforces the time limit, reads a joblib pickle and converts it; the whole pipeline
then runs on the converted tracks. What is NOT real: 4D-Humans itself. It cannot run on this machine (no
GPU, no weights, no internet), so end-to-end runs use the STAND-IN install of `hmr2_fake.py` (a test
double: a fake track.py writing the documented PHALP pickle from the synthetic clip's ground truth, fake
torch/hmr2/phalp/detectron2 packages, empty model files).
"""

from __future__ import annotations

import json
import os
import re
import sys
import venv
from pathlib import Path

import numpy as np
import pytest

from pose_service import cli
from pose_service.config import Settings
from pose_service.errors import EnvironmentProblem, PipelineError
from pose_service.export.result import validate_result
from pose_service.pipeline import AnalyzeOptions, analyze
from pose_service.pose.hmr2_backend import Hmr2Install, hydra_value, preflight, run_track
from pose_service.skeleton import KEYPOINT_NAMES
from pose_service.video import VideoReader, VideoWriter, probe
from tests.pose.hmr2_fake import make_stand_in, set_mode

PY = Path(sys.executable)


@pytest.fixture()
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME pointed at an empty folder: nothing of a 4D-Humans cache is found by accident."""
    home = tmp_path / "empty-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture()
def stand_in(tmp_path: Path, spin_truth: dict, monkeypatch: pytest.MonkeyPatch) -> Hmr2Install:
    checkout, home = make_stand_in(tmp_path / "install", spin_truth)
    monkeypatch.setenv("HOME", str(home))
    return Hmr2Install(PY, checkout)


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real virtual environment without torch (nor pip): the original system's failure."""
    root = tmp_path_factory.mktemp("bare") / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
    return root / "bin" / "python"


def _by_name(items: list) -> dict:  # type: ignore[type-arg]
    return {i.name: i for i in items}


def test_probe_in_this_venv_names_each_missing_piece_with_its_fix(tmp_path: Path, empty_home: Path) -> None:
    (tmp_path / "co").mkdir()
    (tmp_path / "co" / "track.py").write_text("")
    ready = preflight(Hmr2Install(PY, tmp_path / "co"))
    rows = _by_name(ready.items)
    assert not ready.ok
    assert rows["4D-Humans interpreter"].ok and "Python 3.11" in rows["4D-Humans interpreter"].detail
    assert rows["4D-Humans import torch"].ok  # this venv's CPU torch
    for module in ("hmr2", "phalp", "detectron2"):
        row = rows[f"4D-Humans import {module}"]
        assert not row.ok and f"import {module} failed in {PY}" in row.detail
        assert f"No module named '{module}'" in row.detail and row.fix
    cuda = rows["4D-Humans CUDA"]
    import torch

    if torch.cuda.is_available():  # a GPU machine: the row names each GPU and its free memory
        assert cuda.ok and re.search(r"GPU 0 .+: [\d,]+ of [\d,]+ MiB free", cuda.detail), cuda.detail
    else:
        assert not cuda.ok and "CUDA is not available" in cuda.detail and "nvidia-smi" in cuda.fix
    smpl = rows["4D-Humans SMPL neutral model (4D-Humans)"]
    assert not smpl.ok and str(empty_home / ".cache/4DHumans/data/smpl/SMPL_NEUTRAL.pkl") in smpl.detail
    assert "smplify.is.tue.mpg.de" in smpl.fix and "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl" in smpl.fix
    assert not rows["4D-Humans SMPL neutral model (PHALP)"].ok
    assert not rows["4D-Humans HMR2.0 checkpoint"].ok and "epoch=35-step=1000000.ckpt" in rows[
        "4D-Humans HMR2.0 checkpoint"].detail
    assert "8 of 8 PHALP assets missing" in rows["4D-Humans PHALP assets"].detail
    with pytest.raises(EnvironmentProblem, match="import hmr2 failed in") as info:
        ready.raise_if_not_ready()
    _assert_readable(info.value.text(), ready.problems)


def _assert_readable(text: str, problems: list) -> None:  # type: ignore[type-arg]
    """The shape of a not-ready error: what is wrong in one short sentence, then one line per missing part,
    each naming its fix, then what to do after."""
    first, *rest = text.removeprefix("pose-service: ").splitlines()
    assert first.startswith("the 4D-Humans install is not ready") and len(first) <= 100, first
    assert f"{len(problems)} missing part" in first
    part_lines = [ln for ln in rest if ln.startswith("- ")]
    assert len(part_lines) == len(problems) == len(rest) - 1, rest
    for line, problem in zip(part_lines, problems, strict=True):
        assert line.startswith(f"- {problem.detail.rstrip('.')}") and f"Fix: {problem.fix.rstrip('.')}" in line
    assert "pose-service doctor" in rest[-1]


def test_bare_venv_without_torch_fails_preflight_and_job_clearly(
    bare_venv: Path,
    tmp_path: Path,
    spin_clip: Path,
    empty_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "co").mkdir()
    (tmp_path / "co" / "track.py").write_text("raise SystemExit('must never run')\n")
    rows = _by_name(preflight(Hmr2Install(bare_venv, tmp_path / "co")).items)
    torch_row = rows["4D-Humans import torch"]
    assert not torch_row.ok and f"import torch failed in {bare_venv}" in torch_row.detail
    assert "4D-Humans CUDA" not in rows  # no CUDA question without torch
    # The job, as a user starts it: the CLI, with the settings from the environment (tests/pose/test_hmr2_job.py
    # does the same through the server).
    monkeypatch.setenv("POSE_SERVICE_HMR2_PYTHON", str(bare_venv))
    monkeypatch.setenv("POSE_SERVICE_HMR2_DIR", str(tmp_path / "co"))
    code = cli.main(["analyze", str(spin_clip), "--backend", "hmr2", "--no-mesh", "--out", str(tmp_path / "out")])
    assert code == 1
    err = capsys.readouterr().err.strip()
    lines = err.splitlines()
    assert lines[0].startswith("pose-service: the 4D-Humans install is not ready")
    assert f"- import torch failed in {bare_venv}" in lines[1:][0]
    _assert_readable(err, [r for r in rows.values() if not r.ok])
    assert not (tmp_path / "out" / "hmr2" / "track.log").exists()  # track.py was never started


def test_missing_interpreter_is_named(tmp_path: Path, stand_in: Hmr2Install) -> None:
    gone = Hmr2Install(tmp_path / "no" / "python", stand_in.checkout)
    (row,) = preflight(gone).items
    assert not row.ok and f"POSE_SERVICE_HMR2_PYTHON is {gone.python}, which does not exist" in row.detail
    with pytest.raises(EnvironmentProblem, match="which does not exist"):
        run_track(gone, tmp_path / "x.mp4", tmp_path / "out", timeout_s=10)
    with pytest.raises(EnvironmentProblem, match="POSE_SERVICE_HMR2_PYTHON and POSE_SERVICE_HMR2_DIR not set"):
        Hmr2Install.configured(None, None)


def test_stand_in_passes_preflight(stand_in: Hmr2Install) -> None:
    ready = preflight(stand_in)
    assert ready.ok, [i for i in ready.items if not i.ok]
    rows = _by_name(ready.items)
    assert "Stand-in GPU: 11,264 of 24,576 MiB free" in rows["4D-Humans CUDA"].detail
    assert ready.versions()["hmr2"] == "0.0-stand-in"


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        # track.py dies with a traceback: its exception line is the message, the log tail the hint
        ("traceback", r"failed \(exit code 1\): RuntimeError: CUDA out of memory"),
        # PHALP catches its own errors and exits 0: no pickle is still a failure
        ("no_pickle", r"exited 0 but wrote no results .*demo_clip\.pkl"),
        # killed (the kernel's OOM killer, a user): the signal is named
        ("kill", r"killed by SIGKILL"),
    ],
)
def test_track_py_failures_are_clear(stand_in: Hmr2Install, tmp_path: Path, mode: str, error: str) -> None:
    set_mode(stand_in.checkout, mode)
    src = tmp_path / "clip.mp4"
    src.write_bytes(b"")
    with pytest.raises(PipelineError, match=error) as info:
        run_track(stand_in, src, tmp_path / "out", timeout_s=60)
    assert str(tmp_path / "out" / "track.log") in info.value.hint
    log = (tmp_path / "out" / "track.log").read_text()
    assert log.startswith(f"$ {PY} {stand_in.track_py} ") and "# exit code" in log
    if mode == "traceback":
        assert "RuntimeError: CUDA out of memory" in log  # stderr went to the log too


def test_track_py_time_limit_stops_it(stand_in: Hmr2Install, tmp_path: Path) -> None:
    set_mode(stand_in.checkout, "sleep")
    with pytest.raises(PipelineError, match="did not finish within 2 s and was stopped"):
        run_track(stand_in, tmp_path / "clip.mp4", tmp_path / "out", timeout_s=2)
    pid = json.loads((stand_in.checkout / "last_args.json").read_text())["pid"]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_hydra_values_keep_awkward_paths_whole() -> None:
    assert hydra_value("/a b/c=d,e.mp4") == "'/a b/c=d,e.mp4'"
    assert hydra_value("/it's\\x.mp4") == "'/it\\'s\\\\x.mp4'"


def test_stand_in_end_to_end(
    stand_in: Hmr2Install, tmp_path: Path, spin_clip: Path, spin_truth: dict, settings: Settings
) -> None:
    # A .mkv: track.py takes only .mp4, so the backend must transcode it first.
    mkv = tmp_path / "in put" / "spin.mkv"
    mkv.parent.mkdir()
    info = probe(spin_clip)
    with VideoReader(info) as reader, VideoWriter(mkv, width=info.width, height=info.height, fps=info.fps) as w:
        for frame in reader:
            w.write(frame.rgb, frame.time_s)
    s = settings.model_copy(update={"hmr2_python": stand_in.python, "hmr2_dir": stand_in.checkout})
    out = tmp_path / "out"
    outcome = analyze(mkv, out_dir=out, options=AnalyzeOptions(backend="hmr2", mesh=False), settings=s)
    doc = outcome.result
    validate_result(doc)
    n = spin_truth["video"]["frame_count"]
    ran = json.loads((stand_in.checkout / "last_args.json").read_text())
    assert ran["args"]["video.end_frame"] == "-1" and ran["cwd"] == str(stand_in.checkout)
    assert ran["args"]["video.source"].endswith("/hmr2/input/clip.mp4")
    assert ran["args"]["video.output_dir"] == str((out / "hmr2").resolve())
    assert len(doc["timestamps_s"]) == n and doc["backend"]["frames_seen"] == n
    assert doc["backend"]["name"] == "hmr2" and doc["backend"]["python"] == str(PY)
    assert doc["backend"]["gpu_memory"]["source"] == "unavailable"  # no NVIDIA driver on this machine
    assert doc["backend"]["shot_frames"] == [n // 3]
    assert doc["backend"]["ghost_entries_dropped"] == 5
    assert not (out / "hmr2" / "_DEMO").exists() and not (out / "hmr2" / "input" / "clip.mp4").exists()
    log = (out / "hmr2" / "track.log").read_text()
    assert "Tracking : clip" in log and "100%" in log and "# exit code 0" in log

    rider, small = doc["tracks"]
    assert rider["frames"] == list(range(n)) and small["frames"] == list(range(n // 2))  # ghosts dropped
    assert doc["analysis"]["rider_track"] == rider["id"] and rider["is_rider"]
    # 2D: the truth's pixels back (smoothing moves them a little), unmapped points at visibility 0.
    names = spin_truth["joint_names"]
    ours = [KEYPOINT_NAMES.index(nm) for nm in names if nm in KEYPOINT_NAMES]
    theirs = [names.index(nm) for nm in names if nm in KEYPOINT_NAMES]
    kp2 = np.array(rider["keypoints_2d"])
    err = np.linalg.norm(kp2[:, ours, :2] - np.array(spin_truth["keypoints_2d"])[:, theirs], axis=-1)
    assert np.median(err) < 1.5 and err.max() < 25, (np.median(err), err.max())
    assert (kp2[:, KEYPOINT_NAMES.index("left_thumb"), 2] == 0).all() and (kp2[:, ours, 2] == 1).all()
    # 3D: metres, mid-hip origin, y up, z towards the camera: camera-frame truth with y and z negated.
    j3 = np.array(spin_truth["joints_3d"])
    cam = np.stack([j @ np.array(p["R"]).T + np.array(p["t"]) for j, p in
                    zip(j3, spin_truth["camera"]["world_to_camera"], strict=True)])
    mid = cam[:, [names.index("left_hip"), names.index("right_hip")]].mean(axis=1, keepdims=True)
    want = (cam - mid) * [1, -1, -1]
    err3 = np.linalg.norm(np.array(rider["keypoints_3d"])[:, ours] - want[:, theirs], axis=-1)
    assert np.median(err3) < 0.01 and err3.max() < 0.15, (np.median(err3), err3.max())
    # SMPL per frame in the sidecar, real detections only.
    smpl = np.load(out / "smpl.npz")
    assert smpl[f"track{small['id']}_frames"].tolist() == list(range(n // 2))
    assert smpl[f"track{rider['id']}_body_pose"].shape == (n, 23, 3, 3)
    assert doc["backend"]["smpl"]["file"] == "smpl.npz"
    assert rider["smpl"] == {"file": "smpl.npz", "prefix": f"track{rider['id']}_"} and rider["phalp_tid"] == 1
    assert smpl[f"{rider['smpl']['prefix']}joints_3d_45"].shape == (n, 45, 3)  # the joints without a BlazePose name


def test_progress_is_read_from_phalps_rich_bar(stand_in: Hmr2Install, tmp_path: Path, spin_clip: Path,
                                               spin_truth: dict) -> None:
    src = tmp_path / "clip.mp4"
    src.symlink_to(spin_clip)
    n = spin_truth["video"]["frame_count"]
    steps: list[int] = []
    run = run_track(stand_in, src, tmp_path / "out", timeout_s=120, total_frames=n, advance=steps.append)
    assert sum(steps) == n and len(steps) >= 5, steps  # several updates while it ran, all frames at the end
    log = run.log.read_text()
    bar_lines = [line for line in log.splitlines() if line.startswith("Tracking : clip")]
    assert 5 <= len(bar_lines) <= 110 and "\x1b" not in log  # a redraw per percent at most, no escape codes
    assert run.gpu["source"] == "unavailable" and "nvidia-smi not on PATH" in run.gpu["reason"]


@pytest.mark.parametrize(
    ("line", "done"),
    [
        ("Tracking : clip  45%|████▌     | 27/60 [00:03<00:04,  8.1it/s]", 27),  # tqdm
        ("Tracking : clip ━━━━━━━╺━━━━━━━━━  50% 11.2 it/s eta : 0:00:03", 30),  # PHALP's rich columns
        ("Processing... ━━━━━━━━━━━━━━━━━━  245/1000 ETA: 0:00:16", None),  # another total: not our frames
        ("GPU memory 95% used", None),  # a percentage without a bar
        ("[2024-05-01 10:00:00,000][phalp][INFO] - Saving results", None),
    ],
)
def test_progress_lines(line: str, done: int | None) -> None:
    from pose_service.pose.hmr2_backend import _Counter

    assert _Counter(60, None).parse(line) == done


def test_a_plain_mp4_is_linked_not_copied_and_its_times_read_without_decoding(spin_clip: Path, tmp_path: Path) -> None:
    from pose_service.pose.hmr2_stage import prepare_input
    from pose_service.progress import NullProgress

    info = probe(spin_clip)
    source, times, transcoded = prepare_input(info, tmp_path / "input", NullProgress())
    assert not transcoded and source.is_symlink() and source.name == "clip.mp4"
    with VideoReader(info) as reader:
        decoded = [f.time_s for f in reader]
    np.testing.assert_allclose(times, decoded, atol=1e-6)


@pytest.mark.parametrize(
    ("script", "error"),
    [
        # not a Python at all (a wrapper script, a wrong path to some other program)
        ("#!/bin/sh\necho 'not python'\n", "the probe failed in .*: exit code 0: not python"),
        # an interpreter that hangs (a stuck network mount, an import waiting forever)
        ("#!/bin/sh\nsleep 30\n", "did not finish within 1 s"),
    ],
)
def test_a_broken_interpreter_is_named(tmp_path: Path, script: str, error: str) -> None:
    python = tmp_path / "python"
    python.write_text(script)
    python.chmod(0o755)
    (row,) = preflight(Hmr2Install(python, tmp_path), timeout_s=1).items
    assert not row.ok and row.name == "4D-Humans interpreter"
    assert re.search(error, row.detail), row.detail
