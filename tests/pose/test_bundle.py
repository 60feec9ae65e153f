"""The multi-person `.task` bundle, built from the models inside the mediapipe wheel."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from pose_service.pose import BUNDLE_NAME, bundle_status, ensure_bundle
from pose_service.pose.bundle import DETECTOR_NORM, LANDMARKS_NORM, read_bundle_normalization


@pytest.fixture(scope="module")
def fresh_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("models")
    ensure_bundle(models)
    return models


def _members(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_bundle_holds_both_models_uncompressed(fresh_models: Path) -> None:
    with zipfile.ZipFile(fresh_models / BUNDLE_NAME) as zf:
        infos = zf.infolist()
    assert sorted(i.filename for i in infos) == ["pose_detector.tflite", "pose_landmarks_detector.tflite"]
    assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
    assert all(i.file_size > 1_000_000 for i in infos)


def test_each_model_carries_its_own_input_range(fresh_models: Path) -> None:
    """The detector was trained on [-1, 1] pixels, the landmark model on [0, 1]."""
    norms = read_bundle_normalization(fresh_models / BUNDLE_NAME)
    assert norms["pose_detector.tflite"] == DETECTOR_NORM
    assert DETECTOR_NORM.range == (-1.0, 1.0)
    assert norms["pose_landmarks_detector.tflite"] == LANDMARKS_NORM
    assert LANDMARKS_NORM.range == (0.0, 1.0)


def test_status_reports_missing_then_ready(tmp_path: Path, fresh_models: Path) -> None:
    ok, message = bundle_status(tmp_path)
    assert not ok and "missing" in message and "make models" in message
    ok, message = bundle_status(fresh_models)
    assert ok, message


def test_a_damaged_bundle_is_reported_and_rebuilt(tmp_path: Path) -> None:
    bundle = ensure_bundle(tmp_path)
    good = _members(bundle)
    data = bundle.read_bytes()
    bundle.write_bytes(data[: len(data) // 3])
    ok, message = bundle_status(tmp_path)
    assert not ok and "damaged" in message
    calls: list[str] = []
    assert ensure_bundle(tmp_path, progress=calls.append) == bundle
    assert calls and bundle_status(tmp_path)[0]
    assert _members(bundle) == good, "the rebuilt models are the same bytes"


def test_ensure_bundle_does_not_rebuild_a_current_bundle(fresh_models: Path) -> None:
    calls: list[str] = []
    before = (fresh_models / BUNDLE_NAME).stat().st_mtime_ns
    ensure_bundle(fresh_models, progress=calls.append)
    assert calls == []
    assert (fresh_models / BUNDLE_NAME).stat().st_mtime_ns == before
