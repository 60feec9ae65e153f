"""What the camera did around a jump (`analysis/camera.py`), from camera paths built by hand."""

from __future__ import annotations

import numpy as np
import pytest

from pose_service.analysis.camera import (
    FOCAL_PER_DIAGONAL,
    camera_around,
    camera_pan,
    camera_roll,
    stabilise,
    unrolled,
)
from pose_service.analysis.jumps import find_jumps
from pose_service.synth.motion import rot_z
from pose_service.tracking.core import Track
from tests.analysis.figures import orient, project, template
from tests.analysis.test_airborne import _flight

FPS = 30.0
SIZE = (640, 360)


def _path(n: int, *, dx_per_frame: float = 0.0, roll_deg_per_frame: float = 0.0, zoom_per_frame: float = 1.0,
          jitter_px: float = 0.0) -> np.ndarray:  # fmt: skip
    """(n, 3, 3) first-frame-to-frame-k similarities: the content sliding, turning about the centre and scaling."""
    rng = np.random.default_rng(0)
    centre = np.array([SIZE[0] / 2, SIZE[1] / 2])
    out = []
    for k in range(n):
        a, s = np.radians(roll_deg_per_frame * k), zoom_per_frame**k
        rot = s * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        shift = centre - rot @ centre + np.array([dx_per_frame * k, 0.0]) + rng.normal(0, jitter_px, 2)
        out.append(np.vstack([np.hstack([rot, shift[:, None]]), [0, 0, 1]]))
    return np.stack(out)


@pytest.mark.parametrize(
    ("kind", "path", "moving"),
    [
        ("a tripod, the flow's noise", _path(90, jitter_px=0.5), False),
        ("a slow drift (a shadow in the flow)", _path(90, dx_per_frame=1.0), False),
        ("a follow-cam's pan, 0.28 frame widths per second", _path(90, dx_per_frame=6.0), True),
        ("the horizon rolling 0.5° a frame", _path(90, roll_deg_per_frame=0.5), True),
        ("a zoom of 0.5 % a frame", _path(90, zoom_per_frame=1.005), True),
    ],
)
def test_a_moving_camera_is_told_from_a_still_one(kind: str, path: np.ndarray, moving: bool) -> None:
    times = np.arange(len(path)) / FPS
    cam = camera_around(path, times, takeoff_s=1.0, landing_s=2.0, frame_size=SIZE)
    assert cam is not None and cam.moving is moving, (kind, cam)
    assert (cam.reason is not None) is moving
    if moving:
        assert "the camera" in cam.reason and "around the jump" in cam.reason  # type: ignore[operator]


def test_the_numbers_are_the_cameras() -> None:
    times = np.arange(90) / FPS
    cam = camera_around(_path(90, dx_per_frame=6.4, roll_deg_per_frame=0.25), times, takeoff_s=1.0, landing_s=2.0,
                        frame_size=SIZE)  # fmt: skip
    assert cam is not None
    # The window runs 0.5 s either side: frames 15..75, 60 steps of 0.25° = 15°.
    assert cam.roll_deg == pytest.approx(15.0, abs=0.3)
    assert cam.speed == pytest.approx(6.4 * FPS / SIZE[0], rel=0.05)
    assert camera_around(None, times, takeoff_s=1.0, landing_s=2.0, frame_size=SIZE) is None


def test_stabilise_carries_each_frame_back_to_the_first() -> None:
    # A point fixed in the scene, seen through a camera that pans, rolls and zooms, comes back to where the first
    # frame saw it; a point that moves in the scene keeps its own motion. Other channels are left alone.
    path = _path(30, dx_per_frame=5.0, roll_deg_per_frame=0.7, zoom_per_frame=1.01)
    fixed = np.array([400.0, 120.0, 1.0])
    seen = np.einsum("nij,j->ni", path, fixed)
    keypoints = np.zeros((30, 2, 3), np.float32)
    keypoints[:, 0, :2] = seen[:, :2] / seen[:, 2:]
    mover = np.stack([fixed[0] + 3.0 * np.arange(30), np.full(30, fixed[1]), np.ones(30)], 1)
    seen_mover = np.einsum("nij,nj->ni", path, mover)
    keypoints[:, 1, :2] = seen_mover[:, :2] / seen_mover[:, 2:]
    keypoints[..., 2] = 0.7
    out = stabilise(keypoints, np.arange(30), path)
    assert np.allclose(out[:, 0, :2], fixed[:2], atol=1e-2)
    assert np.allclose(out[:, 1, 0], mover[:, 0], atol=1e-2) and np.allclose(out[:, 1, 1], fixed[1], atol=1e-2)
    assert np.allclose(out[..., 2], 0.7) and out.dtype == np.float32


def test_the_cameras_turn_is_read_from_the_pictures_motion() -> None:
    # A camera turning right 2 degrees a frame for 45 frames moves the picture left by f tan(2°) a frame at its
    # centre, then turns back at 1 degree a frame; a still camera turns by nothing.
    focal = FOCAL_PER_DIAGONAL * float(np.hypot(*SIZE))
    steps = np.r_[np.full(45, -focal * np.tan(np.radians(2.0))), np.full(90, focal * np.tan(np.radians(1.0)))]
    path = _path(136)
    path[:, 0, 2] = SIZE[0] / 2 - SIZE[0] / 2 + np.r_[0.0, np.cumsum(steps)]
    turned = camera_pan(path, np.array([0, 45, 90, 135, 500]), frame_size=SIZE)
    assert turned == pytest.approx([0.0, 90.0, 45.0, 0.0, 0.0], abs=1e-6)
    assert camera_pan(_path(90, jitter_px=0.5), np.arange(90), frame_size=SIZE) == pytest.approx(np.zeros(90), abs=1.0)


def test_the_cameras_roll_is_read_from_the_pictures_turn() -> None:
    # The picture turning clockwise half a degree a frame, then back (unwrapped past +-180 degrees).
    path = _path(400, roll_deg_per_frame=0.5)
    assert camera_roll(path, np.array([0, 10, 360, 399, 900])) == pytest.approx([0.0, 5.0, 180.0, 199.5, 199.5])
    # a body standing upright, turned with the picture 20 degrees clockwise, is stood upright again
    upright = template()[None]
    seen_3d = np.einsum("ij,nkj->nki", rot_z(-20.0), upright)
    k2, k3 = unrolled(project(seen_3d, np.zeros(1), size=360), seen_3d, np.array([20.0]), (360, 360))
    assert k3 == pytest.approx(upright)
    assert k2 == pytest.approx(project(upright, np.zeros(1), size=360))


@pytest.mark.parametrize(("spin", "flip"), [(0.0, 0.0), (0.0, -360.0), (-540.0, 0.0)])
def test_find_jumps_takes_the_cameras_roll_out_of_the_rotation(spin: float, flip: float) -> None:
    # A side-on stick figure (straight air, backflip, 540) filmed by a camera whose picture turns 30 degrees
    # clockwise over the flight, its path saying so: read as seen, the turn is a flip (30° and -330° measured).
    n, takeoff, air_s, size = 90, 30, 0.8, 480
    u = np.clip((np.arange(n) - takeoff) / (air_s * FPS), 0.0, 1.0)
    turn = np.radians(30.0 * u)
    world = orient(spin * u, flip * u, 90.0)
    seen_3d = np.einsum("nij,nkj->nki", rot_z(-30.0 * u), world)
    rot = np.stack([np.stack([np.cos(turn), -np.sin(turn)], -1), np.stack([np.sin(turn), np.cos(turn)], -1)], -2)
    centre = np.array([size / 2, size / 2])
    seen_2d = project(world, _flight(n, takeoff, air_s), size=size)
    seen_2d[..., :2] = np.einsum("nij,nkj->nki", rot, seen_2d[..., :2] - centre) + centre
    path = np.tile(np.eye(3), (n, 1, 1))
    path[:, :2, :2] = rot
    path[:, :2, 2] = centre - np.einsum("nij,j->ni", rot, centre)
    track = Track(id=1, frames=np.arange(n), bbox=np.zeros((n, 4), np.float32),
                  keypoints_2d=seen_2d.astype(np.float32), keypoints_3d=seen_3d.astype(np.float32))  # fmt: skip
    track.extras["camera_path"] = path
    (jump,) = find_jumps(track, np.arange(n) / FPS, image_height=size, image_width=size, fps=FPS)
    assert jump.camera is not None and jump.camera.moving
    fit = jump.rotation
    assert fit.spin_deg == pytest.approx(spin, abs=3) and fit.flip_deg == pytest.approx(flip, abs=3)
    assert fit.roll_deg == pytest.approx(0.0, abs=3)
