"""The multi-person BlazePose backend on real encoded video: synthetic ground truth and the real clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pose_service.config import Settings
from pose_service.errors import EnvironmentProblem
from pose_service.pose import KEYPOINT_NAMES, PoseLandmarkerBackend, Poses, ensure_bundle, suppress_duplicates
from pose_service.video import VideoReader, probe


@pytest.fixture(scope="module")
def bundle(settings: Settings) -> Path:
    return ensure_bundle(settings.models_dir)


def _run(bundle: Path, clip: Path, every: int = 1) -> list[Poses]:
    out: list[Poses] = []
    with PoseLandmarkerBackend(bundle) as backend, VideoReader(probe(clip)) as reader:
        for frame in reader:
            if frame.index % every == 0:
                out.append(backend.detect(frame.rgb, frame.time_s))
    return out


def test_finds_the_synthetic_rider_where_the_body_is(bundle: Path, spin_clip: Path, spin_truth: dict) -> None:
    found = _run(bundle, spin_clip)
    assert len(found) == spin_truth["video"]["frame_count"]
    hits = [i for i, p in enumerate(found) if len(p) >= 1]
    assert len(hits) >= 0.9 * len(found), f"rider found in {len(hits)} of {len(found)} frames"
    assert max(len(p) for p in found) == 1, "one body is never reported twice"
    names = spin_truth["joint_names"]
    hips = [names.index("left_hip"), names.index("right_hip")]
    ours = [KEYPOINT_NAMES.index("left_hip"), KEYPOINT_NAMES.index("right_hip")]
    truth_2d = np.array(spin_truth["keypoints_2d"])
    err = [
        np.linalg.norm(found[i].keypoints_2d[0, ours, :2].mean(0) - truth_2d[i, hips].mean(0)) for i in hits
    ]
    assert np.median(err) < 0.03 * spin_truth["video"]["height"], f"mid-hip median error {np.median(err):.1f} px"


def test_world_keypoints_are_metric_and_y_up(bundle: Path, spin_clip: Path) -> None:
    found = [p for p in _run(bundle, spin_clip, every=5) if len(p)]
    kp3 = np.stack([p.keypoints_3d[0] for p in found])
    head = kp3[:, KEYPOINT_NAMES.index("nose"), 1]
    ankles = kp3[:, [KEYPOINT_NAMES.index("left_ankle"), KEYPOINT_NAMES.index("right_ankle")], 1].mean(1)
    assert np.all(head > ankles), "y points up"
    height = np.median(head - ankles)
    assert 1.0 < height < 2.2, f"nose above ankles by {height:.2f} m"
    hip_mid = kp3[:, [KEYPOINT_NAMES.index("left_hip"), KEYPOINT_NAMES.index("right_hip")]].mean(1)
    assert np.abs(hip_mid).max() < 0.1, "origin at mid-hip"


def test_real_clip_sees_the_people_in_it(bundle: Path, media: Path) -> None:
    """sports2d_demo has two to three people; the old single-person graph found 221 of 230 frames."""
    found = _run(bundle, media / "sports2d_demo.mp4")
    assert len(found) == 230
    with_person = sum(len(p) > 0 for p in found)
    assert with_person >= 0.9 * len(found), f"someone found in {with_person} of {len(found)} frames"
    assert sum(len(p) >= 2 for p in found) >= 0.3 * len(found), "more than one person is found"


def test_frames_with_equal_timestamps_are_accepted(bundle: Path, spin_clip: Path, spin_truth: dict) -> None:
    """The Tasks graph refuses a timestamp that does not increase; frames of variable- or high-rate video that
    round to the same (or an earlier) millisecond must each still be analysed, not dropped or raised on."""
    with VideoReader(probe(spin_clip)) as reader:
        frame = next(f for f in reader if f.index == 10)  # the run-up: the rider upright in the picture
    with PoseLandmarkerBackend(bundle, num_poses=1) as backend:
        found = [backend.detect(frame.rgb, t) for t in (0.5, 0.5, 0.5004, 0.4)]
    assert [len(p) for p in found] == [1, 1, 1, 1]
    names = spin_truth["joint_names"]
    truth_hip = np.array(spin_truth["keypoints_2d"])[10, [names.index("left_hip"), names.index("right_hip")]].mean(0)
    hips = [KEYPOINT_NAMES.index("left_hip"), KEYPOINT_NAMES.index("right_hip")]
    tolerance = 0.03 * spin_truth["video"]["height"]
    for poses in found:  # the same frame read again: the same body, where the truth has it
        assert np.linalg.norm(poses.keypoints_2d[0, hips, :2].mean(0) - truth_hip) < tolerance


def test_bad_arguments_are_refused(bundle: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="num_poses"):
        PoseLandmarkerBackend(bundle, num_poses=0)
    with pytest.raises(ValueError, match="min_detection_confidence"):
        PoseLandmarkerBackend(bundle, min_detection_confidence=1.5)
    with pytest.raises(EnvironmentProblem, match="bundle missing") as missing:
        PoseLandmarkerBackend(tmp_path / "absent.task")
    assert "make models" in missing.value.one_line()
    with PoseLandmarkerBackend(bundle, num_poses=1) as backend, pytest.raises(ValueError, match="RGB uint8"):
        backend.detect(np.zeros((8, 8), dtype=np.uint8), 0.0)
    with pytest.raises(RuntimeError, match="close"):
        backend.detect(np.zeros((8, 8, 3), dtype=np.uint8), 1.0)


def _pose_at(x: float, y: float, size: float, score: float) -> Poses:
    kp = np.zeros((1, 33, 3), dtype=np.float32)
    rng = np.random.default_rng(0)
    kp[0, :, 0] = x + rng.uniform(0, size, 33)
    kp[0, :, 1] = y + rng.uniform(0, 2 * size, 33)
    kp[0, :, 2] = 1.0
    return Poses(kp, np.zeros_like(kp), np.array([score], dtype=np.float32))


def _cat(*poses: Poses) -> Poses:
    return Poses(
        np.concatenate([p.keypoints_2d for p in poses]),
        np.concatenate([p.keypoints_3d for p in poses]),
        np.concatenate([p.score for p in poses]),
    )


def test_suppress_duplicates_keeps_the_stronger_of_one_body() -> None:
    a = _pose_at(100, 100, 50, 0.9)
    twin = _pose_at(102, 101, 50, 0.6)
    other = _pose_at(400, 100, 50, 0.5)
    kept = suppress_duplicates(_cat(twin, a, other))
    assert len(kept) == 2
    assert sorted(kept.score.tolist()) == pytest.approx([0.5, 0.9])
