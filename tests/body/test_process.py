"""The body stage in a process of its own (`body.process.BodyProcess`): the same fit as here, its log lines in
this process's log, its errors raised here, and a process that dies a clear error."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pose_service.body.process import BodyProcess
from pose_service.body.stage import run_body_stage
from pose_service.config import Settings
from pose_service.evaluation.body_fit import track_from_truth


def test_the_process_fits_as_the_stage_does_here_and_logs_here(
    flip_truth: dict[str, Any], settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    track = track_from_truth(flip_truth, track_id=4)
    here = run_body_stage([track], flip_truth["timestamps_s"], (480, 480), tmp_path / "here", settings.anny_cache_dir)
    caplog.set_level(logging.INFO)
    with BodyProcess(settings.anny_cache_dir) as process:
        there = process.run([track], flip_truth["timestamps_s"], (480, 480), tmp_path / "there")
        assert process._process.pid != 0
    assert process._process.poll() is not None  # ended with the context
    assert there.bodies == here.bodies
    assert there.glb_bytes == here.glb_bytes > 0
    for name in ("result.glb", "body.npz"):
        assert (tmp_path / "there" / name).is_file()
    with np.load(tmp_path / "here" / "body.npz") as a, np.load(tmp_path / "there" / "body.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:
            if a[key].dtype.kind in "fc":
                np.testing.assert_allclose(a[key], b[key], rtol=1e-4, atol=1e-5, err_msg=key)
            else:
                np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert any(r.name == "pose_service.body.stage" and "body fits: 1 tracks" in r.getMessage() for r in caplog.records)


def test_an_error_in_the_process_is_raised_here(flip_truth: dict[str, Any], settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("not a folder")
    track = track_from_truth(flip_truth, track_id=4)
    with BodyProcess(settings.anny_cache_dir) as process, pytest.raises(OSError):
        process.run([track], flip_truth["timestamps_s"], (480, 480), tmp_path / "a_file" / "out")


def test_a_process_that_dies_is_a_clear_error(settings: Settings, tmp_path: Path) -> None:
    with BodyProcess(settings.anny_cache_dir) as process:
        process._process.kill()
        process._process.wait()
        with pytest.raises(RuntimeError, match="ended before it answered .*--no-mesh"):
            process.run([], [0.0], (480, 480), tmp_path)
