"""render_clip end to end: the encoded video, its truth file, and the truth checked against the picture."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from pose_service.config import Settings
from pose_service.errors import BadOption
from pose_service.synth import TrickSpec, parse_trick, render_clip

Clip = tuple[Path, dict[str, Any]]


def _decode(path: Path) -> tuple[list[np.ndarray], list[float]]:
    frames, times = [], []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
            times.append(float(frame.time))
    return frames, times


def _yaw_deg(vectors: np.ndarray) -> np.ndarray:
    """Angle of horizontal vectors about +y (counter-clockwise seen from above), unwrapped, degrees."""
    return np.degrees(np.unwrap(np.arctan2(-vectors[:, 2], vectors[:, 0])))


def _joint(truth: dict[str, Any], name: str) -> np.ndarray:
    return np.asarray(truth["joints_3d"])[:, truth["joint_names"].index(name)]


def test_truth_describes_the_encoded_video(small_spin: Clip) -> None:
    video, truth = small_spin
    frames, times = _decode(video)
    n = len(frames)
    assert truth["schema_version"] == 1
    assert truth["video"] == {
        "name": "spin360.mp4",
        "width": 256,
        "height": 256,
        "fps": 15.0,
        "frame_count": n,
        "duration_s": pytest.approx(n / 15.0, abs=1e-4),
        "rotation_deg": 0,
        "codec": "h264",
    }
    assert frames[0].shape == (256, 256, 3)
    assert truth["fps"] == 15.0
    assert np.allclose(truth["timestamps_s"], times, atol=1e-3)
    assert len(truth["joints_3d"]) == len(truth["keypoints_2d"]) == len(truth["camera"]["world_to_camera"]) == n
    assert len(truth["joint_names"]) == 18 and truth["joint_names"][-1] == "pelvis"
    assert np.asarray(truth["joints_3d"]).shape == (n, 18, 3)
    assert set(truth["camera"]["intrinsics"]) == {"fx", "fy", "cx", "cy", "width", "height"}
    assert truth["trick"]["spec"] == "360"
    assert truth["_progress_calls"][-1] == (n, n) and len(truth["_progress_calls"]) == n


def test_jump_timing_is_consistent(small_spin: Clip) -> None:
    _, truth = small_spin
    (jump,) = truth["jumps"]
    times = np.asarray(truth["timestamps_s"])
    assert jump["landing_s"] - jump["takeoff_s"] == pytest.approx(jump["air_time_s"]) == pytest.approx(0.8)
    # first frame at or after each event
    assert jump["takeoff_frame"] == int(np.argmax(times >= jump["takeoff_s"] - 1e-9))
    assert jump["landing_frame"] == int(np.argmax(times >= jump["landing_s"] - 1e-9))
    assert (jump["spin_deg"], jump["spin_direction"], jump["flip_deg"], jump["flip_direction"]) == (
        360.0,
        "left",
        0.0,
        None,
    )
    assert jump["explanation"] == "Spin 360° to the left, 0.80 s in the air."
    # the body is above its riding height in the air only
    pelvis_y = _joint(truth, "pelvis")[:, 1]
    air = slice(jump["takeoff_frame"] + 1, jump["landing_frame"])
    assert pelvis_y[air].min() > pelvis_y[: jump["takeoff_frame"]].max()


def test_keypoints_are_the_projection_of_the_joints(small_spin: Clip) -> None:
    _, truth = small_spin
    k = truth["camera"]["intrinsics"]
    pose = truth["camera"]["world_to_camera"][0]
    cam = np.asarray(truth["joints_3d"]) @ np.asarray(pose["R"]).T + np.asarray(pose["t"])
    uv = np.stack([k["fx"] * cam[..., 0] / cam[..., 2] + k["cx"], k["fy"] * cam[..., 1] / cam[..., 2] + k["cy"]], -1)
    assert np.allclose(uv, truth["keypoints_2d"], atol=1e-3)
    # the whole rider stays in frame
    assert uv.min() > 0 and uv[..., 0].max() < k["width"] and uv[..., 1].max() < k["height"]


def _on_rider(rgb: np.ndarray) -> bool:
    """The backdrop is sky, pale hills or snow (blue at least as strong as red, and bright); the rider is
    a red jacket, skin, or dark trousers and boots."""
    r, g, b = (float(c) for c in np.median(rgb.reshape(-1, 3), axis=0))
    return r - b > 25 or max(r, g, b) < 110


def test_hip_keypoints_land_on_the_rider(small_spin: Clip) -> None:
    video, truth = small_spin
    frames, _ = _decode(video)
    names = truth["joint_names"]
    hits = total = 0
    for frame, keypoints in zip(frames, truth["keypoints_2d"], strict=True):
        for name in ("pelvis", "left_hip", "right_hip"):
            x, y = (int(round(v)) for v in keypoints[names.index(name)])
            hits += _on_rider(frame[y - 1 : y + 2, x - 1 : x + 2])
            total += 1
    assert hits / total > 0.9


def test_shoulder_line_turns_by_the_spin(small_spin: Clip) -> None:
    _, truth = small_spin
    (jump,) = truth["jumps"]
    line = _joint(truth, "left_shoulder") - _joint(truth, "right_shoulder")
    yaw = _yaw_deg(line)
    turned = yaw[jump["landing_frame"]] - yaw[jump["takeoff_frame"]]
    assert turned == pytest.approx(360.0, abs=2.0)  # positive: to the left, counter-clockwise from above
    # the rate is steady in the air: a judge's count, no turning on the snow
    assert abs(yaw[jump["takeoff_frame"]] - yaw[0]) < 2.0
    assert abs(yaw[-1] - yaw[jump["landing_frame"]]) < 2.0


def test_flip_turns_the_torso_backwards_once(small_backflip: Clip) -> None:
    video, truth = small_backflip
    (jump,) = truth["jumps"]
    assert (jump["flip_deg"], jump["flip_direction"], jump["spin_deg"]) == (360.0, "back", 0.0)
    t0, t1 = jump["takeoff_frame"], jump["landing_frame"]
    up_axis = np.array([0.0, 1.0, 0.0])
    left = _joint(truth, "left_shoulder")[t0] - _joint(truth, "right_shoulder")[t0]
    left = left - left.dot(up_axis) * up_axis
    forward = np.cross(left / np.linalg.norm(left), up_axis)
    torso = 0.5 * (_joint(truth, "left_shoulder") + _joint(truth, "right_shoulder")) - _joint(truth, "pelvis")
    # positive angle: the head towards the chest side (a front flip)
    angle = np.degrees(np.unwrap(np.arctan2(torso @ forward, torso @ up_axis)))
    assert angle[t1] - angle[t0] == pytest.approx(-360.0, abs=2.0)
    # side view: the rider faces the direction of travel (+x, the image's right)
    assert forward @ np.array([1.0, 0.0, 0.0]) > 0.95
    assert len(_decode(video)[0]) == truth["video"]["frame_count"]


def test_left_is_the_persons_left(small_spin: Clip) -> None:
    _, truth = small_spin
    names = truth["joint_names"]
    first = np.asarray(truth["keypoints_2d"][0])
    # facing the camera at the start: the person's left side is on the image's right
    for a, b in (("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"), ("left_eye", "right_eye")):
        assert first[names.index(a), 0] > first[names.index(b), 0]
    # and the nose is nearer the camera (+z) than the ears
    joints = np.asarray(truth["joints_3d"][0])
    assert joints[names.index("nose"), 2] > joints[names.index("left_ear"), 2]


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"view": "top"}, "view"),  # not a view this renders
        ({"width": 10}, "width"),  # too small
        ({"fps": 0}, "fps"),  # no time
    ],
)
def test_render_clip_refuses_bad_options(tmp_path: Path, kwargs: dict[str, Any], word: str) -> None:
    with pytest.raises(BadOption, match=word):
        render_clip(TrickSpec(), tmp_path / "x.mp4", anny_cache_dir=Settings().anny_cache_dir, **kwargs)
    assert not (tmp_path / "x.mp4").exists()


def test_portrait_frame_and_another_rider_stay_in_frame(tmp_path: Path) -> None:
    # a phone's portrait frame, a long combo seen from the side, and a rider of another build (seed)
    out = tmp_path / "portrait.mov"
    truth_path = render_clip(
        parse_trick("backflip+540,air=1.2"),
        out,
        width=90,
        height=160,
        fps=8.0,
        view="side",
        seed=3,
        anny_cache_dir=Settings().anny_cache_dir,
    )
    truth = json.loads(truth_path.read_text())
    assert truth_path == tmp_path / "portrait.truth.json"
    # nothing left behind but the two files (the partial video was renamed)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["portrait.mov", "portrait.truth.json"]
    uv = np.asarray(truth["keypoints_2d"])
    assert uv.min() > 0 and uv[..., 0].max() < 90 and uv[..., 1].max() < 160
    assert truth["jumps"][0]["air_time_s"] == 1.2
    assert len(_decode(out)[0]) == truth["video"]["frame_count"]


def test_render_clip_refuses_an_output_that_cannot_hold_h264(tmp_path: Path) -> None:
    with pytest.raises(BadOption, match="webm"):
        render_clip(TrickSpec(), tmp_path / "x.webm", anny_cache_dir=Settings().anny_cache_dir)
