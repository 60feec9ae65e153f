"""Moving-camera clips (issue 16, item 5): the truth's camera path, a camera that really moves, every kind keeping
the rider in the picture, and the suite the bench scores."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from pose_service.config import Settings
from pose_service.errors import BadOption
from pose_service.synth import CAMERA_KINDS, CameraPath, moving_suite, parse_trick, render_clip
from pose_service.synth.camera_path import make_camera_path
from pose_service.synth.motion import make_timeline
from pose_service.synth.render import Camera, layout_camera

Clip = tuple[Path, dict[str, Any]]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def follow_clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    """A 256x256, 15 fps straight air filmed by a follow-cam riding ahead: (video path, truth document)."""
    out = tmp_path_factory.mktemp("moving") / "follow.mp4"
    truth_path = render_clip(parse_trick("straight"), out, width=256, height=256, fps=15.0, camera="follow-front",
                             anny_cache_dir=Settings().anny_cache_dir)  # fmt: skip
    return out, json.loads(truth_path.read_text())


def _frames(video: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            return frames
        frames.append(frame)


def _project(path: dict[str, Any], points: np.ndarray) -> np.ndarray:
    """The truth's camera model written out again here, independently of `CameraPath.project`."""
    R, t = np.asarray(path["R_world_to_camera"]), np.asarray(path["t_world_to_camera"])
    cam = np.einsum("nij,nkj->nki", R, points) + t[:, None, :]
    x, y = cam[..., 0] / cam[..., 2], cam[..., 1] / cam[..., 2]
    d = 1 + path["k1"] * (x * x + y * y)
    f = np.asarray(path["focal_px"])[:, None]
    cx, cy = path["principal_point_px"]
    return np.stack([f * x * d + cx, f * y * d + cy], -1)


def test_the_truth_camera_path_reproduces_the_keypoints(follow_clip: Clip) -> None:
    video, truth = follow_clip
    path = truth["camera_path"]
    n = truth["video"]["frame_count"]
    assert n == len(_frames(video))
    assert path["kind"] == "follow-front" and path["world_up"] == [0.0, 1.0, 0.0] and path["k1"] == 0.0
    R = np.asarray(path["R_world_to_camera"])
    assert R.shape == (n, 3, 3) and np.allclose(R @ R.transpose(0, 2, 1), np.eye(3), atol=1e-4)
    assert np.allclose(np.linalg.det(R), 1.0, atol=1e-4)
    # t = -R position, and the camera block carries the same pose per frame
    position, t = np.asarray(path["position_m"]), np.asarray(path["t_world_to_camera"])
    assert np.allclose(t, -np.einsum("nij,nj->ni", R, position), atol=1e-3)
    assert np.allclose([p["R"] for p in truth["camera"]["world_to_camera"]], R)
    uv = _project(path, np.asarray(truth["joints_3d"]))
    assert np.abs(uv - np.asarray(truth["keypoints_2d"])).max() < 1.0
    # gravity up at the picture's centre: world-up in camera coordinates, degrees clockwise from the image's up
    up = R[:, :, 1]
    assert np.allclose(path["gravity_up_deg"], np.degrees(np.arctan2(up[:, 0], -up[:, 1])), atol=1e-3)
    assert np.abs(path["gravity_up_deg"]).max() < 10  # a follower holds the camera about level


def test_the_jump_truth_is_kept_exact(follow_clip: Clip) -> None:
    _, truth = follow_clip
    timeline = make_timeline(parse_trick("straight"), 15.0)
    (jump,) = truth["jumps"]
    assert (jump["takeoff_frame"], jump["landing_frame"]) == (timeline.takeoff_frame, timeline.landing_frame)
    pelvis_y = np.asarray(truth["joints_3d"])[:, -1, 1]
    air = slice(jump["takeoff_frame"] + 1, jump["landing_frame"])
    assert pelvis_y[air].min() > pelvis_y[: jump["takeoff_frame"] + 1].max() - 1e-6


def test_the_camera_really_moves_and_rises_in_the_flight(follow_clip: Clip) -> None:
    video, truth = follow_clip
    frames = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in _frames(video)]
    keypoints = np.asarray(truth["keypoints_2d"])
    shifts = []
    for i in range(len(frames) - 1):
        # background only: everything but a box around the rider (and the shadow below)
        mask = np.full(frames[i].shape, 255, np.uint8)
        (x0, y0), (x1, y1) = keypoints[i].min(0) - 30, keypoints[i].max(0) + 30
        mask[max(int(y0), 0) : int(y1) + 20, max(int(x0), 0) : int(x1)] = 0
        points = cv2.goodFeaturesToTrack(frames[i], 200, 0.01, 5, mask=mask)
        assert points is not None and len(points) >= 10, f"too little texture in frame {i}"
        moved, status, _ = cv2.calcOpticalFlowPyrLK(frames[i], frames[i + 1], points, None)
        ok = status.ravel() == 1
        shifts.append(float(np.median(np.linalg.norm((moved - points).reshape(-1, 2)[ok], axis=1))))
    assert np.median(shifts) > 2.0 and sum(shifts) > 60.0, shifts
    # the follower travels with the rider and rises over the kicker during the flight
    position = np.asarray(truth["camera_path"]["position_m"])
    (jump,) = truth["jumps"]
    assert abs(position[-1, 0] - position[0, 0]) > 10.0
    flight = position[jump["takeoff_frame"] : jump["landing_frame"] + 1, 1]
    assert flight.max() - position[: jump["takeoff_frame"] - 3, 1].max() > 0.3


# Paths only (no rendering) for every moving kind, around the rendered clip's rider (the zoom needs the slower
# rider the still framing fits, so it is checked on its own below).
@pytest.mark.parametrize("kind", [k for k in CAMERA_KINDS if k not in ("still", "zoom")])
def test_every_camera_keeps_the_rider_in_the_picture(follow_clip: Clip, kind: str) -> None:
    _, truth = follow_clip
    joints, root = np.asarray(truth["joints_3d"]), np.asarray(truth["root_3d"])
    timeline = make_timeline(parse_trick("straight"), 15.0)
    still, _ = layout_camera(256, 256, rider_height_m=1.7, root_height_m=1.0, apex_m=0.8, run_s=2.0)
    lip = float(root[timeline.takeoff_frame, 0]) + 0.3
    path = make_camera_path(kind, still=still, root=root, joints=joints, timeline=timeline, travel=1.0, lip_x=lip,
                            seed=0)  # fmt: skip
    uv = path.project(joints)
    assert uv.min() > 0 and uv.max() < 256
    assert (path.position[:, 1] > 0.2).all()  # above the snow
    roll = path.gravity_up_deg()
    if kind == "roll":
        assert np.abs(roll).min() > 8.0 and np.abs(roll).max() < 38.0
        second = 15  # frames in a second (the timeline is at 15 fps)
        # it rocks, as a hand does: 22° within a second (the slow roll it replaced, 10°)
        assert np.max(np.abs(roll[second:] - roll[:-second])) > 15.0
    else:
        assert np.abs(roll).max() < 10.0
    if kind == "fisheye":
        assert path.k1 == pytest.approx(-0.25)


def test_the_zoom_keeps_the_rider_in_the_still_framing(small_spin: Clip) -> None:
    _, truth = small_spin
    joints = np.asarray(truth["joints_3d"])
    k = truth["camera"]["intrinsics"]
    pose = truth["camera"]["world_to_camera"][0]
    still = Camera(256, 256, k["fx"], k["fy"], k["cx"], k["cy"], np.asarray(pose["R"]), np.asarray(pose["t"]))
    timeline = make_timeline(parse_trick("360"), 15.0)
    path = make_camera_path("zoom", still=still, root=np.asarray(truth["root_3d"]), joints=joints,
                            timeline=timeline, travel=1.0, lip_x=0.0, seed=0)  # fmt: skip
    uv = path.project(joints)
    assert uv.min() > 0 and uv.max() < 256
    zoom = path.focal_px / k["fx"]
    assert zoom.min() >= 0.7 - 1e-9 and np.ptp(zoom) > 0.2  # it zooms
    assert np.allclose(path.position, path.position[0])  # from one place


def test_the_still_camera_path_is_the_static_camera(small_spin: Clip) -> None:
    _, truth = small_spin
    path = truth["camera_path"]
    assert path["kind"] == "still" and path["k1"] == 0.0
    pose = truth["camera"]["world_to_camera"][0]
    assert np.allclose(path["R_world_to_camera"], [pose["R"]] * len(path["focal_px"]))
    assert np.allclose(path["t_world_to_camera"], [pose["t"]] * len(path["focal_px"]), atol=1e-4)
    assert np.allclose(path["gravity_up_deg"], 0.0)
    assert np.abs(_project(path, np.asarray(truth["joints_3d"])) - truth["keypoints_2d"]).max() < 1e-3


def test_projection_matches_opencv_with_distortion() -> None:
    rng = np.random.default_rng(3)
    n = 5
    rotations = np.stack([cv2.Rodrigues(rng.normal(0, 0.3, 3))[0] for _ in range(n)])
    position = rng.normal(0, 1, (n, 3))
    path = CameraPath("fisheye", 320, 240, np.full(n, 300.0), 160.0, 120.0, -0.25, rotations, position)
    forward = rotations[:, 2, :]  # points in front of each camera
    points = position[:, None, :] + 4 * forward[:, None, :] + rng.normal(0, 0.8, (n, 7, 3))
    ours = path.project(points)
    K = np.array([[300.0, 0, 160], [0, 300, 120], [0, 0, 1]])
    for i in range(n):
        uv, _ = cv2.projectPoints(points[i], cv2.Rodrigues(rotations[i])[0], path.translation[i], K,
                                  np.array([-0.25, 0, 0, 0, 0.0]))  # fmt: skip
        assert np.allclose(ours[i], uv[:, 0], atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"camera": "helicopter"}, "follow-front"),  # an unknown kind lists the valid ones
        ({"camera": "pan", "trick": "360,tiny"}, "still camera only"),  # tiny and hidden are staged for still
        ({"camera": "still", "trick": "straight,airbag"}, "travels or turns"),  # the bag would lie under the takeoff
        ({"camera": "zoom", "trick": "straight,airbag"}, "travels or turns"),
    ],
)
def test_render_clip_refuses_bad_cameras(tmp_path: Path, kwargs: dict[str, Any], word: str) -> None:
    trick = parse_trick(kwargs.pop("trick", "360"))
    with pytest.raises(BadOption, match=word):
        render_clip(trick, tmp_path / "c.mp4", anny_cache_dir=Settings().anny_cache_dir, **kwargs)
    assert not (tmp_path / "c.mp4").exists()


def test_the_moving_suite_covers_every_moving_camera() -> None:
    suite = moving_suite()
    assert len(suite) >= 20
    assert {c.camera for c in suite} == set(CAMERA_KINDS) - {"still"}
    assert len({c.name for c in suite}) == len(suite)
    specs = [parse_trick(c.trick) for c in suite]
    assert any(s.spin_deg for s in specs) and any(s.flip_deg for s in specs) and any(s.roll_deg for s in specs)


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("moving_camera_bench", ROOT / "bench" / "moving_camera.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bench_table_says_none_when_nothing_is_found() -> None:
    bench = _bench()
    clip = moving_suite()[1]
    truth_jump = {"takeoff_frame": 36, "landing_frame": 60, "takeoff_s": 1.2, "landing_s": 2.0}
    rotation = {"spin": (360, "left"), "flip": (0, None), "roll": (0, None)}
    missed = {"clip": clip, "truth": truth_jump, "rotation": rotation, "got": None, "error": None, "n_jumps": 0}
    found = dict(missed, got={"takeoff_frame": 37, "landing_frame": 62, "spin_deg": 360, "spin_direction": "left",
                              "flip_deg": 0, "roll_deg": 0}, n_jumps=2)  # fmt: skip
    table = bench.table([missed, found])
    assert "| none |" in table and "| 1/2 |" in table
    summary = bench.summary([missed, found])
    assert "within 3 frames: 1/2 (50%)" in summary and "counts right: 1/2" in summary
    assert f"one): 1; {clip.name}: 1" in summary  # the second jump found in the clip is a false one


def test_cli_synth_refuses_an_unknown_camera(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pose_service.cli import main

    out = tmp_path / "c.mp4"
    assert main(["synth", "--trick", "360", "--camera", "helicopter", "--out", str(out)]) == 2
    assert "follow-front" in capsys.readouterr().err and not out.exists()
