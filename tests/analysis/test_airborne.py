"""Flights found from 2D keypoints of a stick figure whose vertical motion is written down exactly."""

from __future__ import annotations

import numpy as np
import pytest

from pose_service.analysis import find_airborne
from pose_service.analysis.airborne import GRAVITY, pixels_per_metre
from tests.analysis.figures import orient, project

FPS = 30.0


def _clip(heights: np.ndarray, *, scale: float | np.ndarray = 100.0, feet_fixed: bool = False):  # type: ignore[no-untyped-def]
    n = len(heights)
    kp3d = orient(np.zeros(n), np.zeros(n))
    kp2d = project(kp3d, heights, scale=scale)
    if feet_fixed:  # the feet keep their standing place: the body bends over them
        kp2d[:, 25:33] = project(kp3d, np.zeros(n), scale=scale)[:, 25:33]
    frames = np.arange(n)
    return frames, frames / FPS, kp2d, kp3d


def _flight(n: int, takeoff: int, air_s: float, *, drop_m: float = 0.0) -> np.ndarray:
    """Hip heights: standing, a ballistic flight from takeoff lasting air_s, landing drop_m lower."""
    t = np.arange(n) / FPS
    t0, t1 = takeoff / FPS, takeoff / FPS + air_s
    s = np.clip(t - t0, 0.0, air_s)
    h = -drop_m * s / air_s + 0.5 * GRAVITY * s * (air_s - s)
    h[t > t1] = -drop_m
    return h


@pytest.mark.parametrize(
    ("air_s", "drop_m"),
    [
        (0.8, 0.0),  # a kicker: 0.8 s, rises 0.78 m and comes back
        (0.3, 0.0),  # an ollie: 0.3 s, 11 cm
        (0.6, 1.2),  # a drop off a box 1.2 m high
    ],
)
def test_a_ballistic_flight_is_found_to_the_frame(air_s: float, drop_m: float) -> None:
    takeoff = 30
    frames, times, kp2d, kp3d = _clip(_flight(90, takeoff, air_s, drop_m=drop_m))
    flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS)
    assert len(flights) == 1
    f = flights[0]
    landing = takeoff + round(air_s * FPS)
    assert abs(f.takeoff_frame - takeoff) <= 1 and abs(f.landing_frame - landing) <= 1
    assert f.air_time_s == pytest.approx(air_s, abs=1.5 / FPS)
    assert f.drop_m == pytest.approx(drop_m, abs=0.05)
    assert f.accel_g == pytest.approx(1.0, abs=0.2)  # one stance sample more or less moves a short fit


@pytest.mark.parametrize("tolerance_m", [0.069, 0.070, 0.071, 0.08])
def test_the_takeoff_does_not_hang_on_the_last_digit_of_the_tolerance(
    monkeypatch: pytest.MonkeyPatch, tolerance_m: float
) -> None:
    # Grown a sample a side in turn, the parabola of a 0.8 s flight took in the last sample on the ground while it
    # still spanned 30-42 (0.0697 m off it, against the 0.070 m tolerance) and kept it, 0.096 m off the whole
    # flight's parabola: one CPU timed the takeoff at 29, another at 30. The whole flight's parabola decides.
    import pose_service.analysis.airborne as airborne

    monkeypatch.setattr(airborne, "_POINT_TOL_M", tolerance_m)
    frames, times, kp2d, kp3d = _clip(_flight(90, 30, 0.8))
    flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS)
    assert [(f.takeoff_frame, f.landing_frame) for f in flights] == [(30, 54)]


def test_a_zooming_camera_does_not_change_the_flight() -> None:
    # The picture scale grows 30 % over the clip (a zoom), so pixel heights alone would bend the parabola.
    scale = np.linspace(100.0, 130.0, 90)
    frames, times, kp2d, kp3d = _clip(_flight(90, 30, 0.7), scale=scale)
    flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS)
    assert len(flights) == 1 and abs(flights[0].takeoff_frame - 30) <= 1 and abs(flights[0].landing_frame - 51) <= 1


def test_the_image_scale_comes_from_the_limbs() -> None:
    _, _, kp2d, kp3d = _clip(np.zeros(10), scale=120.0)
    assert pixels_per_metre(kp2d, kp3d, smooth=3) == pytest.approx(np.full(10, 120.0), rel=1e-6)


@pytest.mark.parametrize(
    "case",
    [
        "crouch",  # the hips sink 35 cm and come back while the feet stay on the snow
        "walk",  # a 4 cm bob twice a second
        "still",  # standing still with 5 mm of keypoint jitter
    ],
)
def test_no_flight_without_leaving_the_ground(case: str) -> None:
    t = np.arange(120) / FPS
    rng = np.random.default_rng(0)
    if case == "crouch":
        u = np.clip((t - 1.0) / 0.8, 0.0, 1.0)
        heights = -0.35 * np.sin(np.pi * u) ** 2
    elif case == "walk":
        heights = 0.02 * np.sin(2 * np.pi * 2.0 * t)
    else:
        heights = rng.normal(0.0, 0.005, len(t))
    frames, times, kp2d, kp3d = _clip(heights, feet_fixed=case == "crouch")
    assert find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS) == []


def test_a_flight_bridges_frames_where_the_person_was_lost() -> None:
    frames, times, kp2d, kp3d = _clip(_flight(90, 30, 0.8))
    keep = np.ones(90, dtype=bool)
    keep[[40, 41, 45, 46, 47]] = False  # lost while tumbling
    flights = find_airborne(frames[keep], times[keep], kp2d[keep], kp3d[keep], image_height=480, fps=FPS)
    assert len(flights) == 1 and abs(flights[0].takeoff_frame - 30) <= 1 and abs(flights[0].landing_frame - 54) <= 1


def test_a_track_that_begins_in_the_air_has_no_measured_takeoff() -> None:
    frames, times, kp2d, kp3d = _clip(_flight(90, 30, 0.8))
    sl = slice(36, 90)
    assert find_airborne(frames[sl], times[sl], kp2d[sl], kp3d[sl], image_height=480, fps=FPS) == []


def test_a_camera_tilting_steadily_does_not_change_the_flight() -> None:
    # The camera tilts down at a steady rate: everything drifts up the picture by 0.6 m/s.
    heights = _flight(90, 30, 0.7) + 0.6 * np.arange(90) / FPS
    frames, times, kp2d, kp3d = _clip(heights)
    flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS)
    assert len(flights) == 1 and abs(flights[0].takeoff_frame - 30) <= 1 and abs(flights[0].landing_frame - 51) <= 1
    assert flights[0].air_time_s == pytest.approx(0.7, abs=1.5 / FPS)


def test_two_misread_frames_at_the_apex_do_not_split_the_flight() -> None:
    # The rendered follow-front frontside 540: the hips read high while the back turned to the camera.
    heights = _flight(90, 30, 0.8)
    heights[[41, 42]] += 0.2
    frames, times, kp2d, kp3d = _clip(heights)
    flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True)
    assert len(flights) == 1 and abs(flights[0].takeoff_frame - 30) <= 1 and abs(flights[0].landing_frame - 54) <= 1


def _turned(kp2d: np.ndarray, start: int, degrees_per_frame: float, most: float) -> np.ndarray:
    """The picture's keypoints turned about the hips from sample `start` on, by `degrees_per_frame` a frame up to
    `most` degrees (the hips' height unchanged)."""
    out = kp2d.copy()
    for i in range(start, len(out)):
        a = np.radians(min(most, degrees_per_frame * (i - start)))
        hips = (out[i, 23, :2] + out[i, 24, :2]) / 2
        turn = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        out[i, :, :2] = (out[i, :, :2] - hips) @ turn.T + hips
    return out


@pytest.mark.parametrize(
    ("degrees_per_frame", "most", "flight"),
    [
        (15.0, 360.0, True),  # a backflip's turn, 450° a second, starting at the takeoff
        (30.0, 360.0, True),  # a double backflip's, 900° a second
        (60.0, 150.0, False),  # tipped over onto the back, legs up, in 3 frames: falling into an airbag
    ],
)
def test_a_body_that_tips_over_at_its_takeoff_is_not_flying(degrees_per_frame: float, most: float, flight: bool) -> None:
    # A synthetic rider sitting in an airbag fell back, legs up, while a pan's stabilised hips drew a parabola.
    frames, times, kp2d, kp3d = _clip(_flight(90, 30, 0.7))
    kp2d = _turned(kp2d, 30, degrees_per_frame, most)
    for moving in (False, True):
        flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=moving)
        assert (len(flights) == 1) == flight, (moving, [(f.takeoff_frame, f.landing_frame) for f in flights])


@pytest.mark.parametrize("seen_before", [2, 4, 6, 9])
def test_a_clip_that_starts_with_the_rider_in_the_air_times_no_takeoff(seen_before: int) -> None:
    """The rider first seen a few frames before a takeoff the analysis would find is a clip that starts (or a
    track that begins) in the air: the real seg1 cut 70 frames in read a 0.40 s "straight air" 4 samples after
    its first frame, where the flight it saw the end of lasted 1.07 s. Seen riding for 0.3 s (9 frames) before
    it, the flight stands."""
    takeoff = 30
    frames, times, kp2d, kp3d = _clip(_flight(90, takeoff, 0.8))
    first = takeoff - seen_before
    flights = find_airborne(frames[first:], times[first:], kp2d[first:], kp3d[first:], image_height=480, fps=FPS)
    if seen_before < 8:
        assert flights == []
    else:
        assert len(flights) == 1 and abs(flights[0].takeoff_frame - takeoff) <= 1


def test_a_step_in_the_pictures_scale_is_no_flight_of_feet_standing_still() -> None:
    """sports2d_demo in two chunks on an AMD EPYC: as the jumper stood up from his landing, the scale from the limbs'
    2D against 3D lengths went from 291 to 237 px/m, his feet on one row of the picture, and their height (the
    picture's distance from its middle over the scale) drew a bulge: a 0.47 s "flight". Measured at the stretch's
    own scale, feet that stand still in the picture stand still; a flight drawn in the picture still counts."""
    from pose_service.analysis.airborne import GRAVITY, _validate

    n, start, end = 60, 20, 40
    t = np.arange(n) / 30.0
    air = t[end] - t[start]
    s = np.clip(t - t[start], 0.0, air)
    hips_px, feet_px = 200.0, 110.0  # above the picture's middle, still
    k = GRAVITY / (2 * hips_px / 100.0)  # the scale's dip that draws the hips a 1 g parabola
    scale = 100.0 / (1.0 + k * s * (air - s))
    frames = np.arange(n)
    assert _validate(frames, t, hips_px / scale, feet_px / scale, start, end) is not None  # read as the code once did
    assert _validate(frames, t, hips_px / scale, feet_px / scale, start, end, scale=scale) is None
    rise = 0.5 * GRAVITY * s * (air - s)  # a real flight: the body rises and falls in the picture, at one scale
    steady = np.full(n, 100.0)
    flight = _validate(frames, t, hips_px / 100.0 + rise, feet_px / 100.0 + rise, start, end, scale=steady)
    assert flight is not None and (flight.takeoff_frame, flight.landing_frame) == (start, end)
