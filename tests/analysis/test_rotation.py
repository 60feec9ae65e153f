"""The steady-rotation fit on a stick figure whose orientation is known, with the pose model's mirror readings
injected the way BlazePose produces them mid-rotation."""

from __future__ import annotations

import numpy as np
import pytest

from pose_service.analysis import fit_rotation, judge_count, torso_frames
from pose_service.analysis.camera import unrolled
from pose_service.analysis.rotation import spin_count
from pose_service.synth.motion import rot_z
from tests.analysis.figures import SWAP, orient, project

FPS = 30.0
TAKEOFF, LANDING = 10, 34  # frames; 0.8 s of air


def _readings(spin: float, flip: float, heading: float = 0.0):  # type: ignore[no-untyped-def]
    n = 46
    t = np.arange(n) / FPS
    u = np.clip((np.arange(n) - TAKEOFF) / (LANDING - TAKEOFF), 0.0, 1.0)
    kp3d = orient(spin * u, flip * u, heading)
    kp2d = project(kp3d, np.zeros(n))
    return t, kp2d, kp3d


def _fit(t, kp2d, kp3d):  # type: ignore[no-untyped-def]
    return fit_rotation(t, kp2d, kp3d, np.full(len(t), 100.0), takeoff_s=TAKEOFF / FPS, landing_s=LANDING / FPS)


@pytest.mark.parametrize(
    ("spin", "flip", "heading"),
    [
        (0.0, 0.0, 0.0),  # straight air facing the camera
        (360.0, 0.0, 0.0),  # a 360 to the left
        (-540.0, 0.0, 90.0),  # a 540 to the right, side-on
        (0.0, -360.0, 90.0),  # a backflip seen side-on
        (0.0, 360.0, 0.0),  # a frontflip seen from the front: the flip turns in depth
        (360.0, -360.0, 180.0),  # a cork: backflip with a 360, from behind
    ],
)
def test_clean_readings_give_the_rotation(spin: float, flip: float, heading: float) -> None:
    fit = _fit(*_readings(spin, flip, heading))
    assert fit.spin_deg == pytest.approx(spin, abs=8) and fit.flip_deg == pytest.approx(flip, abs=8)
    assert fit.agreement == 1.0


@pytest.mark.parametrize(
    "mirror",
    [
        "swap",  # left and right labels swapped (the torso read as facing the other way)
        "depth",  # the depth of every keypoint reversed (a chest turned away read as turned towards)
    ],
)
def test_mirror_readings_mid_spin_do_not_lose_half_turns(mirror: str) -> None:
    t, kp2d, kp3d = _readings(540.0, 0.0)
    bad = np.arange(TAKEOFF + 3, LANDING - 3, 3)  # every third airborne frame
    if mirror == "swap":
        kp3d[bad] = kp3d[bad][:, SWAP]
    else:
        kp3d[bad, :, 2] *= -1
    # Frame-to-frame unwrapping of the facing direction goes wrong on these readings...
    fwd = torso_frames(kp3d)[:, :, 2]
    yaw = np.degrees(np.unwrap(np.arctan2(fwd[:, 0], fwd[:, 2])))
    assert abs(yaw[LANDING] - yaw[TAKEOFF] - 540.0) > 60.0
    # ...the steady-rotation fit does not.
    fit = _fit(t, kp2d, kp3d)
    assert fit.spin_deg == pytest.approx(540.0, abs=10) and abs(fit.flip_deg) < 10


def test_frames_lost_mid_flip_are_bridged() -> None:
    t, kp2d, kp3d = _readings(0.0, -720.0, 90.0)
    keep = np.ones(len(t), dtype=bool)
    keep[16:24] = False  # the pose model lost the inverted body for a quarter of a second
    fit = _fit(t[keep], kp2d[keep], kp3d[keep])
    assert judge_count(fit.flip_deg, 360) == 720 and fit.flip_deg < 0


@pytest.mark.parametrize(("measured", "step", "want"), [(331, 180, 360), (-520, 180, 540), (100, 180, 180),
                                                         (80, 180, 0), (344, 360, 360), (170, 360, 0)])  # fmt: skip
def test_judge_count_rounds_to_the_called_multiple(measured: float, step: float, want: float) -> None:
    assert judge_count(measured, step) == want


@pytest.mark.parametrize(
    ("measured", "switched", "want"),
    [
        (241, False, 360),  # between 180 and 360, ridden away in the approach's stance: an even count
        (241, True, 180),
        (241, None, 180),  # no stance read after the landing: the nearest
        (-300, True, 180),  # a direction's sign does not matter
        (99, False, 0),  # a half turn read on a straight air or a flip that lands as it took off
        (99, True, 180),
        (470, False, 360),
        (470, True, 540),
        (200, False, 180),  # near a count: the rotation read holds against the stance read
        (20, True, 0),
    ],
)
def test_a_spin_between_two_counts_is_counted_by_the_stance_it_lands_in(
    measured: float, switched: bool | None, want: float
) -> None:
    assert spin_count(measured, switched) == want


def _rolled(spin: float, roll: float, heading: float):  # type: ignore[no-untyped-def]
    from pose_service.synth.motion import rot_y, rot_z
    from tests.analysis.figures import template

    n = 46
    u = np.clip((np.arange(n) - TAKEOFF) / (LANDING - TAKEOFF), 0.0, 1.0)
    kp3d = np.einsum("nij,kj->nki", rot_y(heading + spin * u) @ rot_z(roll * u), template())
    return np.arange(n) / FPS, project(kp3d, np.zeros(n)), kp3d


@pytest.mark.parametrize(
    ("spin", "roll", "heading"),
    [
        (0.0, 360.0, 0.0),  # a cartwheel facing the camera: it turns in the picture
        (0.0, -360.0, 90.0),  # side-on: the roll turns in depth
        (0.0, 720.0, 180.0),  # a double, from behind
        (720.0, 360.0, 0.0),  # a cork 720: a roll with the spin
    ],
)
def test_rolls_are_told_from_flips(spin: float, roll: float, heading: float) -> None:
    t, kp2d, kp3d = _rolled(spin, roll, heading)
    bad = np.arange(TAKEOFF + 3, LANDING - 3, 4)
    kp3d[bad] = kp3d[bad][:, SWAP]  # some mirror readings too
    fit = _fit(t, kp2d, kp3d)
    assert fit.roll_deg == pytest.approx(roll, abs=10) and fit.spin_deg == pytest.approx(spin, abs=10)
    assert fit.flip_deg == 0.0 and judge_count(fit.roll_deg, 360.0) == abs(roll)


@pytest.mark.parametrize(("spin", "flip", "heading"), [(360.0, 0.0, 0.0), (-540.0, 0.0, 90.0), (0.0, -360.0, 90.0)])
def test_a_camera_that_turns_with_the_rider_is_taken_out(spin: float, flip: float, heading: float) -> None:
    # The camera beside the lip turns 90 degrees to follow the rider over it: the pose model reads the body against
    # the camera, so the turn adds to the spin it sees.
    n = 46
    t = np.arange(n) / FPS
    u = np.clip((np.arange(n) - TAKEOFF) / (LANDING - TAKEOFF), 0.0, 1.0)
    pan = 90.0 * u
    kp3d = orient(spin * u + pan, flip * u, heading)
    kp2d = project(kp3d, np.zeros(n))
    seen = _fit(t, kp2d, kp3d)
    assert abs(seen.spin_deg - (spin + 90.0)) < 20  # what the camera shows
    fit = fit_rotation(t, kp2d, kp3d, np.full(n, 100.0), takeoff_s=TAKEOFF / FPS, landing_s=LANDING / FPS, pan_deg=pan)
    assert fit.spin_deg == pytest.approx(spin, abs=8) and fit.flip_deg == pytest.approx(flip, abs=8)
    assert fit.agreement == 1.0


@pytest.mark.parametrize(("toward", "axis"), [(0.0, "roll"), (90.0, "flip")])
def test_an_axis_beyond_the_tilted_familys_bound_is_a_roll_or_a_flip(toward: float, axis: str) -> None:
    # A turn about an axis 75 degrees off the body's up axis: the tilted family stops at 70 and its fit there, a
    # cork 360 (a spin and a roll), is not kept; the upright family's roll (or flip) is.
    from pose_service.analysis.rotation import _tilt_axis, _turns
    from tests.analysis.figures import template

    n = 46
    u = np.clip((np.arange(n) - TAKEOFF) / (LANDING - TAKEOFF), 0.0, 1.0)
    kp3d = np.einsum("nij,kj->nki", _turns(_tilt_axis(75.0, toward), 360.0 * u), template())
    fit = _fit(np.arange(n) / FPS, project(kp3d, np.zeros(n)), kp3d)
    assert fit.model == axis and judge_count(fit.spin_deg, 180.0) == 0.0
    assert abs(fit.roll_deg if axis == "roll" else fit.flip_deg) == pytest.approx(360.0, abs=10)


@pytest.mark.parametrize(("spin", "flip", "heading"), [(0.0, 0.0, 90.0), (0.0, -360.0, 90.0), (360.0, 0.0, 0.0)])
def test_a_camera_that_rolls_through_the_flight_is_taken_out(spin: float, flip: float, heading: float) -> None:
    # A follow-cam rolls anticlockwise 30 degrees between takeoff and landing (the real follow-cams rolled 10-27):
    # the pose model reads the body against the camera, so the scene, the body with it, turns clockwise in the
    # picture, and a body seen side-on reads the turn as a flip.
    n = 46
    t = np.arange(n) / FPS
    u = np.clip((np.arange(n) - TAKEOFF) / (LANDING - TAKEOFF), 0.0, 1.0)
    roll = 30.0 * u  # the picture's turn, clockwise as seen (`camera_roll`)
    seen_3d = np.einsum("nij,nkj->nki", rot_z(-roll), orient(spin * u, flip * u, heading))
    seen_2d = project(seen_3d, np.zeros(n))
    seen = _fit(t, seen_2d, seen_3d)
    # the camera's roll read as the body's
    assert abs(seen.spin_deg - spin) + abs(seen.flip_deg - flip) + abs(seen.roll_deg) > 10
    kp2d, kp3d = unrolled(seen_2d, seen_3d, roll, (480, 480))
    assert kp2d == pytest.approx(project(orient(spin * u, flip * u, heading), np.zeros(n)))
    fit = _fit(t, kp2d, kp3d)
    assert fit.spin_deg == pytest.approx(spin, abs=8) and fit.flip_deg == pytest.approx(flip, abs=8)
    assert fit.roll_deg == pytest.approx(0.0, abs=8) and fit.agreement == 1.0
