"""The snow under the feet (`analysis.contact`): read from a drawn frame, and the flights it times when a moving
camera has taken the parabola out of the hips' height (measured on the real follow-cams: 0.1-0.5 g)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from pose_service.analysis import find_airborne
from pose_service.analysis.airborne import GRAVITY
from pose_service.analysis.contact import SHORT_GAP, read_ground, snow_past_board, snow_under_feet, white_colour
from pose_service.tracking.core import Track
from pose_service.video import probe
from pose_service.video.encode import VideoWriter
from tests.analysis.figures import orient, project

FPS = 30.0
SKY = (70, 130, 220)  # a clear sky: blue, saturated
SNOW = (235, 238, 242)
SHADED_SNOW = (120, 140, 170)  # snow in the rider's own shadow: the cue's known blind spot


def _frame(horizon: int, below: tuple[int, int, int] = SNOW) -> np.ndarray:
    rgb = np.empty((360, 640, 3), np.uint8)
    rgb[:horizon] = SKY
    rgb[horizon:] = below
    return rgb


def _rider(feet_y: float) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints of a standing figure 120 px tall whose lowest foot point is at feet_y, and its box."""
    kp3d = orient(np.zeros(1), np.zeros(1))
    kp2d = project(kp3d, np.zeros(1), scale=70.0)[0]
    kp2d[:, 0] += 320 - kp2d[:, 0].mean()
    kp2d[:, 1] += feet_y - kp2d[27:33, 1].max()
    box = np.array([kp2d[:, 0].min(), kp2d[:, 1].min(), kp2d[:, 0].max(), kp2d[:, 1].max()])
    return kp2d, box


def test_feet_on_the_snow_stand_on_snow_and_feet_in_the_sky_do_not() -> None:
    on_snow = snow_under_feet(_frame(200), *_rider(200))
    in_the_air = snow_under_feet(_frame(300), *_rider(200))  # the snow a body size below the board
    assert on_snow > 0.9 and in_the_air < 0.1, (on_snow, in_the_air)
    assert snow_under_feet(_frame(200, SHADED_SNOW), *_rider(200)) < 0.1  # the blind spot, stated in the module


def test_a_board_seen_from_below_fills_the_band_and_the_snow_past_it_is_read() -> None:
    # A camera below a kicker's lip sees the board's base under the feet as it rides the lip's last stretch: the band
    # under the feet lies on the board, the lip's snow right past it.
    kp2d, box = _rider(200)
    size = max(box[2] - box[0], box[3] - box[1])
    board = (40, 40, 50)
    on_the_lip, over_the_sky = _frame(200), _frame(300)
    for rgb in (on_the_lip, over_the_sky):
        rgb[200 : 200 + round(0.16 * size), 200:440] = board
    assert snow_under_feet(on_the_lip, kp2d, box) < 0.1
    assert snow_past_board(on_the_lip, kp2d, box) > 0.9
    assert snow_past_board(over_the_sky, kp2d, box) < 0.1  # the sky past the board in the air
    assert snow_past_board(_frame(200), kp2d, box) > 0.9  # no board seen: the snow right under the feet
    assert snow_past_board(_frame(300), kp2d, box) < 0.1  # nothing but sky under the feet


@pytest.mark.parametrize("gains", [(0.7, 0.7, 0.7), (0.85, 1.0, 1.1)], ids=["underexposed", "blue cast"])
def test_snow_in_a_dark_or_tinted_picture_is_judged_against_the_pictures_own_white(
    tmp_path: Path, gains: tuple[float, float, float]
) -> None:
    """An overcast or underexposed clip (every level at 0.7 of a sunny one: the snow at 164-169 of 255, under the
    daylight level) and a blue cast (shade, a phone's white balance: the snow's saturation 0.22, over the 0.2 of
    "colourless"). Against the picture's own white (the snow itself) it is snow and the sky is not; a snowless
    picture (sky over dark pines) has no white to judge by; through `read_ground` the same."""
    snow_colour = tuple(np.clip(np.array(SNOW) * gains, 0, 255).astype(np.uint8))
    sky_colour = tuple(np.clip(np.array(SKY) * gains, 0, 255).astype(np.uint8))

    def frame(horizon: int) -> np.ndarray:
        rgb = _frame(horizon, snow_colour)
        rgb[:horizon] = sky_colour
        return rgb

    white = white_colour(frame(200))
    assert np.abs(white - np.array(snow_colour)).max() <= 1, white
    assert snow_under_feet(frame(200), *_rider(200)) < 0.1  # the daylight level alone misses it
    assert snow_under_feet(frame(200), *_rider(200), white=white) > 0.9
    assert snow_under_feet(frame(300), *_rider(200), white=white) < 0.1  # the sky under the board
    assert np.isnan(white_colour(_frame(200, (30, 60, 30)))).all()  # sky and dark pines: nothing pale
    path = tmp_path / "dim.mp4"
    n = 10
    with VideoWriter(path, width=640, height=360, fps=FPS) as writer:
        for i in range(n):
            writer.write(frame(200 if i < 5 else 300), i / FPS)
    kp2d, box = _rider(200)
    track = Track(id=1, frames=np.arange(n), bbox=np.repeat(box[None], n, 0).astype(np.float32),
                  keypoints_2d=np.repeat(kp2d[None], n, 0).astype(np.float32),
                  keypoints_3d=np.zeros((n, 33, 3), np.float32), interpolated=np.zeros(n, dtype=bool))  # fmt: skip
    snow = read_ground(probe(path), track).snow
    assert (snow[:5] > 0.9).all() and (snow[5:] < 0.1).all(), snow


def test_in_a_darker_picture_the_slope_a_little_under_its_white_is_still_snow() -> None:
    """The white is the picture's brightest snow (a sunlit kicker), and the slope under the feet lies a little under
    it: seg6's first landing read 0.83-0.89 of its white. Darkened to 0.7 (the white at 160, under the daylight
    level), that slope is snow; a pale grey at 0.7 of the white (haze, a rock face) is not."""
    sunlit = (160, 160, 160)

    def frame(under_feet: tuple[int, int, int]) -> np.ndarray:
        rgb = _frame(200, under_feet)
        rgb[200:, 480:] = sunlit  # the brightest snow, beside the rider
        return rgb

    slope = frame((133, 133, 133))  # 0.83 of the white
    white = white_colour(slope)
    assert np.abs(white - np.array(sunlit)).max() <= 1, white
    assert snow_under_feet(slope, *_rider(200), white=white) > 0.9
    grey = frame((112, 112, 112))  # 0.7 of the white
    assert snow_under_feet(grey, *_rider(200), white=white_colour(grey)) < 0.1


def test_feet_outside_the_picture_are_unknown() -> None:
    assert np.isnan(snow_under_feet(_frame(200), *_rider(400)))


def test_the_snow_is_read_under_feet_filled_across_a_short_steady_gap_only(tmp_path: Path) -> None:
    """A rider standing on the snow through a written clip; the pose model 'missed' them for `SHORT_GAP` frames
    (dropped as upside down, say), later for longer, and once more for one frame across which the feet jumped
    half a body sideways. Across the short steady gap the filled feet are where the real ones were, and the snow
    under them is read; across the other two it stays unknown."""
    path = tmp_path / "standing.mp4"
    n = 20
    with VideoWriter(path, width=640, height=360, fps=FPS) as writer:
        for i in range(n):
            writer.write(_frame(200), i / FPS)
    kp2d, box = _rider(200)
    keypoints = np.repeat(kp2d[None], n, 0).astype(np.float32)
    boxes = np.repeat(box[None], n, 0).astype(np.float32)
    jump = 0.5 * float(box[3] - box[1])
    keypoints[16:, :, 0] += jump
    boxes[16:, [0, 2]] += jump
    interpolated = np.zeros(n, dtype=bool)
    short, long, jumpy = slice(3, 3 + SHORT_GAP), slice(8, 8 + SHORT_GAP + 2), slice(15, 16)
    for gap in (short, long, jumpy):
        interpolated[gap] = True
    track = Track(id=1, frames=np.arange(n), bbox=boxes, keypoints_2d=keypoints,
                  keypoints_3d=np.zeros((n, 33, 3), np.float32), interpolated=interpolated)  # fmt: skip
    snow = read_ground(probe(path), track).snow
    assert np.isnan(snow[long]).all() and np.isnan(snow[jumpy]).all(), snow
    assert (np.delete(snow, np.r_[long, jumpy]) > 0.9).all(), snow


def test_the_ground_is_read_inside_the_given_windows_only_and_as_a_whole_read_there(tmp_path: Path) -> None:
    """The adaptive frame rate's windows (`read_ground(..., windows)`): a rider on the snow for 10 frames, then over
    the sky, followed from frame 4 (the reader seeks there). Inside the windows the snow and the ground's shift read
    exactly as a read of the whole track; outside they are unknown; no window, no read (the clip is not opened)."""
    path = tmp_path / "windows.mp4"
    n = 20
    rng = np.random.default_rng(3)
    with VideoWriter(path, width=640, height=360, fps=FPS) as writer:
        for i in range(n):
            rgb = _frame(200 if i < 10 else 300)
            rgb[300:] = rng.integers(150, 255, size=(60, 640, 1), dtype=np.uint8)  # texture for the ground's motion
            writer.write(rgb, i / FPS)
    kp2d, box = _rider(200)
    frames = np.arange(4, n)
    m = len(frames)
    track = Track(id=1, frames=frames, bbox=np.repeat(box[None], m, 0).astype(np.float32),
                  keypoints_2d=np.repeat(kp2d[None], m, 0).astype(np.float32),
                  keypoints_3d=np.zeros((m, 33, 3), np.float32), interpolated=np.zeros(m, dtype=bool))  # fmt: skip
    info = probe(path)
    whole = read_ground(info, track)
    assert (whole.snow[frames < 10] > 0.9).all() and (whole.snow[frames >= 10] < 0.1).all(), whole.snow
    part = read_ground(info, track, windows=[[6, 8], [12, 14]])
    inside = ((frames >= 6) & (frames <= 8)) | ((frames >= 12) & (frames <= 14))
    np.testing.assert_array_equal(part.snow[inside], whole.snow[inside])
    np.testing.assert_array_equal(part.shift_px[inside & (frames != 6) & (frames != 12)],
                                  whole.shift_px[inside & (frames != 6) & (frames != 12)])  # fmt: skip
    assert np.isnan(part.snow[~inside]).all() and np.isnan(part.shift_px[~inside]).all()
    gone = probe(path)
    path.unlink()
    none = read_ground(gone, track, windows=[])
    assert np.isnan(none.snow).all() and np.isnan(none.shift_px).all()


def _follow_cam_clip(n: int, takeoff: int, air_s: float, absorbed: float) -> tuple[np.ndarray, ...]:
    """A flight whose parabola a tilting camera mostly absorbed: the hips show `1 - absorbed` of it."""
    t = np.arange(n) / FPS
    s = np.clip(t - takeoff / FPS, 0.0, air_s)
    heights = (1.0 - absorbed) * 0.5 * GRAVITY * s * (air_s - s)
    kp3d = orient(np.zeros(n), np.zeros(n))
    kp2d = project(kp3d, heights, scale=100.0)
    return np.arange(n), t, kp2d, kp3d


def test_a_flight_the_camera_hid_is_timed_by_the_snow_under_the_feet() -> None:
    takeoff, air_s = 40, 1.0
    landing = takeoff + round(air_s * FPS)
    frames, times, kp2d, kp3d = _follow_cam_clip(120, takeoff, air_s, absorbed=0.8)  # falls at 0.2 g
    contact = np.where((frames > takeoff) & (frames < landing), 0.0, 0.95)
    contact[[20, 60, 100]] = np.nan  # frames where the band left the picture
    contact[55] = 0.7  # a bright patch under the board in the air
    blind = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True)
    assert blind == []  # no parabola at 0.2 g
    flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True,
                            contact=contact)  # fmt: skip
    assert [(f.takeoff_frame, f.landing_frame) for f in flights] == [(takeoff, landing)]


def test_no_snow_under_feet_the_pose_model_does_not_see_is_no_flight() -> None:
    # seg6 upscaled: a crouched carve seen from behind, the feet drawn on the knees and the jacket for 0.4 s
    # (visibility 0.1-0.5): the band under them lies on the trousers and reads no snow, and the garbled body rises.
    # The same snow under feet the model sees is the flight the camera hid.
    takeoff, air_s = 40, 1.0
    landing = takeoff + round(air_s * FPS)
    frames, times, kp2d, kp3d = _follow_cam_clip(120, takeoff, air_s, absorbed=0.8)  # falls at 0.2 g: no parabola
    contact = np.where((frames > takeoff) & (frames < landing), 0.0, 0.95)
    garbled = kp2d.copy()
    garbled[takeoff + 1 : landing, 27:33, 2] = np.linspace(0.1, 0.5, landing - takeoff - 1)[:, None]
    assert find_airborne(frames, times, garbled, kp3d, image_height=480, fps=FPS, moving_camera=True,
                         contact=contact) == []  # fmt: skip
    seen = kp2d.copy()
    seen[takeoff + 1 : landing, 27:33, 2] = np.linspace(0.55, 0.9, landing - takeoff - 1)[:, None]
    flights = find_airborne(frames, times, seen, kp3d, image_height=480, fps=FPS, moving_camera=True, contact=contact)
    assert [(f.takeoff_frame, f.landing_frame) for f in flights] == [(takeoff, landing)]


def test_a_shadow_crossed_on_the_snow_is_not_a_flight() -> None:
    frames, times, kp2d, kp3d = _follow_cam_clip(120, 40, 1.0, absorbed=1.0)  # the hips stay level
    contact = np.full(120, 0.95)
    contact[50:57] = 0.0  # 0.23 s in a tree's shadow
    contact[80:100] = 0.0  # 0.67 s riding past dark trees with the camera low: the hips do not rise
    flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True,
                            contact=contact)  # fmt: skip
    assert flights == []


def test_snow_lost_under_a_rider_whose_hips_still_rise_at_its_return_is_no_flight() -> None:
    # The rendered drone rodeo 540 after its landing: seen from above, the rider rides away up the picture with the
    # board's coloured top in the band under the feet (no snow for 0.77 s), and the hips "rise" all the while, slowing
    # (0.2 g), highest where the snow comes back. The same snow over hips that come down at the end is a flight.
    takeoff, air_s = 40, 0.77
    landing = takeoff + round(air_s * FPS)
    frames, times, kp2d, kp3d = _follow_cam_clip(120, takeoff, air_s, absorbed=0.8)
    contact = np.where((frames > takeoff) & (frames < landing), 0.0, 0.95)
    flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True,
                            contact=contact)  # fmt: skip
    assert [(f.takeoff_frame, f.landing_frame) for f in flights] == [(takeoff, landing)]
    s = np.clip(times - takeoff / FPS, 0.0, air_s)
    riding_up = project(kp3d, 2.8 * s - 0.5 * 0.2 * GRAVITY * s**2, scale=100.0)
    assert find_airborne(frames, times, riding_up, kp3d, image_height=480, fps=FPS, moving_camera=True,
                         contact=contact) == []  # fmt: skip


def test_legs_tucked_up_show_a_flight_whose_hips_the_camera_levelled() -> None:
    # seg6 written again: the camera took the hips' whole rise out, the snow brackets 1.0 s off it, and only the
    # feet, drawn up under the body, rise above the line between takeoff and landing.
    takeoff, air_s = 40, 1.0
    landing = takeoff + round(air_s * FPS)
    frames, times, kp2d, kp3d = _follow_cam_clip(120, takeoff, air_s, absorbed=1.0)  # the hips stay level
    contact = np.where((frames > takeoff) & (frames < landing), 0.0, 0.95)
    s = np.clip(frames - takeoff, 0, landing - takeoff) / (landing - takeoff)
    tucked = kp2d.copy()
    tucked[:, 27:33, 1] -= 100.0 * 0.3 * np.sin(np.pi * s)[:, None]  # the feet 0.3 m up at the middle
    flights = find_airborne(frames, times, tucked, kp3d, image_height=480, fps=FPS, moving_camera=True,
                            contact=contact)  # fmt: skip
    assert [(f.takeoff_frame, f.landing_frame) for f in flights] == [(takeoff, landing)]
    # the same snow with the hips sinking into a crouch and the feet on the snow line: no flight
    crouch = kp2d.copy()
    crouch[:, :27, 1] += 100.0 * 0.3 * np.sin(np.pi * s)[:, None]
    assert find_airborne(frames, times, crouch, kp3d, image_height=480, fps=FPS, moving_camera=True,
                         contact=contact) == []  # fmt: skip


def test_where_the_snow_is_never_seen_the_parabolas_ends_stand() -> None:
    takeoff, air_s = 40, 0.8
    frames, times, kp2d, kp3d = _follow_cam_clip(120, takeoff, air_s, absorbed=0.0)
    contact = np.zeros(120)  # snow in shade all along: the cue never sees the rider on the snow
    flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True,
                            contact=contact)  # fmt: skip
    assert len(flights) == 1
    assert abs(flights[0].takeoff_frame - takeoff) <= 1 and abs(flights[0].landing_frame - takeoff - 24) <= 1


def test_a_landing_on_sunlit_snow_counts_inside_the_parabola_though_the_rider_rides_into_shade() -> None:
    from pose_service.analysis.airborne import _contact_scan

    t = np.arange(120) / FPS
    landing, end = 91, 95  # the stabilised hips keep falling 4 frames past the landing (the camera's own tilt)
    contact = np.zeros(120)
    contact[landing : landing + 7] = 0.97  # sunlit snow for 0.2 s after the landing ...
    contact[landing + 7 :] = 0.3  # ... then the rider's own shade (seg1)
    assert _contact_scan(t, contact, 80, +1, end) == (landing, None)
    # the slope behind the rider seen under the board for the last frames of the flight: middling, not pristine
    contact[landing - 4 : landing] = 0.6
    assert _contact_scan(t, contact, 80, +1, end) == (landing, None)


def _feet_over_a_kicker(n: int, takeoff: int, air_s: float, camera: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Times and the feet's height in a stabilised picture: up a ramp at 1 m/s, a flight of `air_s` seconds
    landing 0.3 m lower, then down the slope at 1 m/s; less what the camera's leftover motion took out of the
    picture (`camera`, metres per sample)."""
    t = np.arange(n) / FPS
    t0, t1 = takeoff / FPS, takeoff / FPS + air_s
    v0 = GRAVITY * air_s / 2 - 0.3 / air_s  # leaves the lip with this vertical speed: the ramp's and a pop
    ramp = 1.0 * (t - t0)
    flight = v0 * (t - t0) - 0.5 * GRAVITY * (t - t0) ** 2
    slope = flight[np.searchsorted(t, t1)] - 1.0 * (t - t1)
    feet = np.where(t <= t0, ramp, np.where(t <= t1, flight, slope))
    return t, feet - camera


def test_the_feet_bend_where_they_leave_and_meet_the_snow_whatever_the_camera_does_smoothly() -> None:
    from pose_service.analysis.airborne import _kink_at

    n, takeoff, air_s = 120, 40, 0.8
    landing = takeoff + round(air_s * FPS)
    need = 0.5 * GRAVITY * air_s / 2
    t = np.arange(n) / FPS
    _, rider = _feet_over_a_kicker(n, takeoff, air_s, np.zeros(n))
    lagging = np.zeros(n)
    for i in range(1, n):  # a follow-cam tilting after the rider, 0.2 s behind, taking out 80 % of the motion
        lagging[i] = lagging[i - 1] + (0.8 * rider[i - 1] - lagging[i - 1]) / (0.2 * FPS)
    swings = {"still": np.zeros(n), "lags": lagging}
    swings |= {f"sways at 0.2 g, phase {p}": 0.1 * np.sin(2 * np.pi * t / 1.5 + p) for p in (0, 2, 4)}
    swings |= {f"sways at 0.6 g, phase {p}": 0.35 * np.sin(2 * np.pi * t / 1.5 + p) for p in (0, 2, 4)}
    for name, camera in swings.items():
        times, feet = _feet_over_a_kicker(n, takeoff, air_s, camera)
        # the search starts where a parabola's end may lie: cut short inside the flight, or a frame past it
        for inside in (5, 0, -1):
            found = (_kink_at(times, feet, takeoff + inside, takeoff + 8, -1, need),
                     _kink_at(times, feet, landing - inside, takeoff + 8, +1, need))  # fmt: skip
            if "0.6 g" in name:  # a strong sway may hide a bend (the parabola's end then stands), never move it far
                assert all(f is None or abs(f - true) <= 2 for f, true in zip(found, (takeoff, landing), strict=True)), found
                continue
            # a sway bends the ground's line a little too: within a frame
            assert found[0] is not None and found[1] is not None, (name, inside)
            assert abs(found[0] - takeoff) <= 1 and abs(found[1] - landing) <= 1, (name, inside, found)
    # a bend well inside a parabola's end is the feet's own swing (a flip's legs coming round), not a contact: the
    # hips fall freely only in the air, so the parabola's end stands
    times, feet = _feet_over_a_kicker(n, takeoff, air_s, np.zeros(n))
    for outside in (3, 5):
        assert _kink_at(times, feet, takeoff - outside, takeoff + 8, -1, need) is None
        assert _kink_at(times, feet, landing + outside, takeoff + 8, +1, need) is None
    # riding on with the camera swaying gently: no bend as sharp as a flight's anywhere (a sway of 0.1 m at 1 Hz,
    # 0.4 g, can fake one: the docstring's known weakness)
    ride = 1.0 * t + 0.05 * np.sin(2 * np.pi * t / 1.0)
    assert all(_kink_at(t, ride, i, 0, +1, need) is None for i in range(10, 110, 10))
    # where the snow under the feet is seen and says they are off it, a bend there is not a contact
    times, feet = _feet_over_a_kicker(n, takeoff, air_s, np.zeros(n))
    contact = np.where((np.arange(n) >= takeoff - 10) & (np.arange(n) <= landing + 10), 0.0, 0.95)
    assert _kink_at(times, feet, landing, takeoff + 8, +1, need, contact) is None


def test_a_parabola_cut_short_beyond_one_reach_walks_back_to_the_takeoff() -> None:
    from pose_service.analysis.airborne import _kink_at, _kink_walk

    # The lowest foot's stabilised height (m), frames 25-68 of the rendered follow-front 360 (`bench/moving_camera.py`,
    # 480 px; takeoff 36, landing 60), as the pose model read it: the camera coming closer leaves the rise almost
    # straight, so the hips' parabola covers frames 50-60 only, and the feet's rise steepens at 44.
    feet = np.array([-1.10, -1.09, -1.06, -1.14, -1.21, -1.29, -1.37, -1.44, -1.53, -1.57, -1.59, -1.58, -1.48, -1.43,
                     -1.35, -1.20, -1.04, -0.91, -0.77, -0.66, -0.51, -0.39, -0.28, -0.17, -0.10, -0.07, -0.07, -0.17,
                     -0.31, -0.46, -0.60, -0.76, -0.89, -1.02, -1.14, -1.26, -1.26, -1.29, -1.28, -1.24, -1.22, -1.22,
                     -1.25, -1.25])  # fmt: skip
    first = 25
    t = (np.arange(len(feet)) + first) / FPS
    need = 0.5 * GRAVITY * (10 / FPS) / 2  # half g T / 2 of the parabola's 10 frames
    unknown = np.full(len(feet), np.nan)
    assert _kink_at(t, feet, 50 - first, 51 - first, -1, need) + first == 44  # one reach: where the rise steepens
    assert abs(_kink_walk(t, feet, 50 - first, 51 - first, -1, need, unknown) + first - 36) <= 1  # walked: the takeoff
    # a ride swaying gently never starts a walk
    ride = 1.0 * t + 0.05 * np.sin(2 * np.pi * t / 1.0)
    assert all(_kink_walk(t, ride, i, 0, +1, need, unknown) is None for i in range(5, 40, 5))


def test_pristine_snow_under_a_board_just_off_flat_snow_gives_way_to_a_whole_flights_bend() -> None:
    from pose_service.analysis.airborne import _airborne, _bent_ends

    n, takeoff, air_s = 120, 40, 0.8
    landing = takeoff + round(air_s * FPS)
    t = np.arange(n) / FPS
    s = np.clip(t - takeoff / FPS, 0.0, air_s)
    hips = 0.5 * GRAVITY * s * (air_s - s)  # off flat snow and back onto it: the feet leave at g T / 2
    frames = np.arange(n)
    # the snow under the board reads pristine for 4 frames after the takeoff (a camera above sees the snow behind)
    contact = np.where((frames > takeoff + 4) & (frames < landing), 0.0, 0.95)
    snow_only = _airborne(frames, t, hips, takeoff + 4, landing)
    bent = _bent_ends(snow_only, frames, t, hips, hips - 0.9, contact)
    assert (bent.takeoff_frame, bent.landing_frame) == (takeoff, landing)
    # over a kicker the feet leave with the ramp's own speed and bend less: the pristine snow's end stands
    _, feet = _feet_over_a_kicker(n, takeoff, air_s, np.zeros(n))
    kicker = _bent_ends(snow_only, frames, t, feet + 0.9, feet, contact)
    assert kicker.takeoff_frame == takeoff + 4


def test_the_ground_at_the_feet_is_followed_not_the_background_nor_the_rider() -> None:
    from pose_service.analysis.contact import ground_shift

    rng = np.random.default_rng(7)
    texture = (rng.random((360, 720)) * 255).astype(np.uint8)
    texture = np.repeat(np.repeat(texture[::4, ::4], 4, 0), 4, 1)[:360, :720]  # blobs a corner finder can hold
    kp2d, box = _rider(200)  # feet at row 200, the person about 120 px tall around x = 320

    def frame(ground_x: int, far_x: int, rider_x: int) -> np.ndarray:
        grey = np.empty((360, 640), np.uint8)
        grey[:150] = texture[:150, far_x : far_x + 640]  # the far background: trees, the far slope
        grey[150:] = texture[150:, ground_x : ground_x + 640]  # the ground at the rider's distance
        x0, x1 = int(box[0]) - 10, int(box[2]) + 10  # the rider (and the shadow) travel with the camera
        grey[int(box[1]) : int(box[3]) + 10, x0:x1] = texture[:10, rider_x : rider_x + x1 - x0].repeat(
            (int(box[3]) + 10 - int(box[1])) // 10 + 1, 0)[: int(box[3]) + 10 - int(box[1])]  # fmt: skip
        return grey

    # the ground moves 6 px left, the far background 9 px right, the rider stays: the ground's motion is read
    shift = ground_shift(frame(20, 40, 0), frame(26, 31, 0), kp2d, box)
    assert abs(shift + 6) < 1, shift
    # feet at the picture's bottom edge with nothing around them: unknown, never a guess
    blank = np.full((360, 640), 235, np.uint8)
    assert np.isnan(ground_shift(blank, blank, kp2d, box))


def test_with_the_horizon_rolled_the_ground_is_followed_along_the_riders_level() -> None:
    """A camera rolled 25° against the horizon (the synthetic rolled follow-cams): the picture's rows through the
    feet run from the near snow on one side to the far slope on the other, each at its own speed (near ground
    14 px left a frame, the rider's ground 6, the far slope 9 right), and their median said the rider hardly
    travelled, so no stance was read and a wildcat went without its direction. Read along the rider's own level
    (the line across the body through the feet), the ground at the rider's distance is followed."""
    from pose_service.analysis.contact import ground_shift

    rng = np.random.default_rng(11)
    texture = (rng.random((400, 760)) * 255).astype(np.uint8)
    texture = np.repeat(np.repeat(texture[::4, ::4], 4, 0), 4, 1)[:400, :760]
    kp2d, box = _rider(200)
    roll = np.radians(25.0)  # the picture's content turned clockwise: the rider leans right in it
    feet = np.array([kp2d[27:33, 0].mean(), kp2d[27:33, 1].max()])
    offset = kp2d[:, :2] - feet
    kp2d[:, 0] = feet[0] + offset[:, 0] * np.cos(roll) - offset[:, 1] * np.sin(roll)
    kp2d[:, 1] = feet[1] + offset[:, 0] * np.sin(roll) + offset[:, 1] * np.cos(roll)
    box = np.array([kp2d[:, 0].min(), kp2d[:, 1].min(), kp2d[:, 0].max(), kp2d[:, 1].max()])
    ys, xs = np.mgrid[0:360, 0:640]
    across = (ys - feet[1]) * np.cos(roll) - (xs - feet[0]) * np.sin(roll)  # below the rider's level: positive

    def frame(step: int) -> np.ndarray:
        near = texture[:360, 60 + 14 * step : 700 + 14 * step]
        level = texture[:360, 60 + 6 * step : 700 + 6 * step]
        far = texture[:360, 60 - 9 * step : 700 - 9 * step]
        grey = np.where(across > 40, near, np.where(across < -40, far, level)).astype(np.uint8)
        x0, x1, y0, y1 = int(box[0]) - 10, int(box[2]) + 10, int(box[1]), int(box[3]) + 10
        grey[y0:y1, x0:x1] = 128  # the rider travels with the camera
        return grey

    shift = ground_shift(frame(0), frame(1), kp2d, box)
    assert abs(shift + 6) < 1, shift


def test_the_grounds_motion_on_a_1080p_clip_is_read_in_full_size_pixels(tmp_path: Path) -> None:
    """`read_ground` follows the ground in a copy subsampled to `GROUND_SIDE` (a 1080p frame's corners and flow at
    full size took most of its time); the motion still comes back in the full frame's pixels."""
    rng = np.random.default_rng(3)
    texture = np.repeat(np.repeat((rng.random((100, 200)) * 255).astype(np.uint8), 12, 0), 12, 1)  # 12 px blobs
    path, n, step_px = tmp_path / "pan.mp4", 5, 12
    with VideoWriter(path, width=1920, height=1080, fps=FPS) as writer:
        for i in range(n):
            grey = texture[:1080, 60 + i * step_px : 60 + i * step_px + 1920]  # the ground moves 12 px left a frame
            writer.write(np.repeat(grey[:, :, None], 3, 2), i / FPS)
    kp2d, box = _rider(200)
    kp2d[:, :2] *= 3  # a rider 360 px tall, feet at row 600
    track = Track(id=1, frames=np.arange(n), bbox=np.repeat(box[None] * 3, n, 0).astype(np.float32),
                  keypoints_2d=np.repeat(kp2d[None], n, 0).astype(np.float32),
                  keypoints_3d=np.zeros((n, 33, 3), np.float32))  # fmt: skip
    shift = read_ground(probe(path), track).shift_px
    assert np.isnan(shift[0]) and np.all(np.abs(shift[1:] + step_px) < 2), shift


def test_where_the_snow_is_unknown_the_feet_bend_times_a_flight_the_camera_followed() -> None:
    n, takeoff, air_s = 120, 40, 0.8
    t = np.arange(n) / FPS
    s = np.clip(t - takeoff / FPS, 0.0, air_s)
    rise = 0.5 * GRAVITY * s * (air_s - s)
    camera = np.zeros(n)
    for i in range(1, n):  # a follow-cam tilting after the rider, 0.2 s behind, taking out 90 % of the rise
        camera[i] = camera[i - 1] + (rise[i - 1] - camera[i - 1]) / (0.2 * FPS)
    kp3d = orient(np.zeros(n), np.zeros(n))
    kp2d = project(kp3d, rise - 0.9 * camera, scale=100.0)
    frames = np.arange(n)
    parabola = find_airborne(frames, t, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True)
    unknown = np.full(n, np.nan)  # the snow never seen (the band out of the picture)
    bent = find_airborne(frames, t, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True, contact=unknown)
    assert [(f.takeoff_frame, f.landing_frame) for f in bent] == [(takeoff, takeoff + 24)]
    assert parabola[0].takeoff_frame != takeoff  # the parabola alone leaves it a frame early


def test_the_travel_is_read_against_the_grounds_own_motion_where_it_was_read() -> None:
    from pose_service.analysis.jumps import _ground_drift

    camera = np.array([0.0, 5.0, 10.0, 15.0, 20.0])  # the whole background: to the right
    shift = np.array([np.nan, -3.0, np.nan, -3.0, -3.0])  # the ground at the feet: to the left, one frame unread
    assert np.allclose(_ground_drift(shift, camera), [0.0, -3.0, 2.0, -1.0, -4.0])
    assert _ground_drift(None, camera) is camera


def test_a_flight_whose_stabilised_apex_bends_is_grown_from_its_longest_stretch() -> None:
    # The hips' stabilised height (m), frames 25-66 of the rendered follow-front nose grab (`bench/grab_report.py`,
    # 320 px; takeoff 36, landing 60), as the pose model read it: the apex bends (51), so the piece after it
    # (50-60) fits a parabola best, while the stretch grown from the rise carries 38-54. Grown best-fitting first,
    # the piece covered the apex and the flight read 50-59, a 0.3 s "frontside 1620".
    hips = np.array([-0.40, -0.41, -0.41, -0.52, -0.60, -0.70, -0.77, -0.82, -0.83, -0.82, -0.81, -0.80, -0.74, -0.68,
                     -0.58, -0.46, -0.34, -0.19, -0.08, 0.02, 0.10, 0.16, 0.22, 0.30, 0.34, 0.41, 0.47, 0.40, 0.32,
                     0.26, 0.15, 0.04, -0.07, -0.19, -0.31, -0.43, -0.46, -0.51, -0.55, -0.57, -0.60, -0.63])  # fmt: skip
    first, n = 25, len(hips)
    kp3d = orient(np.zeros(n), np.zeros(n))
    kp2d = project(kp3d, hips, scale=85.0, size=320)
    flights = find_airborne(np.arange(n) + first, (np.arange(n) + first) / FPS, kp2d, kp3d, image_height=320,
                            fps=FPS, moving_camera=True)  # fmt: skip
    assert len(flights) == 1, flights
    assert abs(flights[0].takeoff_frame - 36) <= 3 and abs(flights[0].landing_frame - 60) <= 3, flights


def test_two_middling_readings_as_the_board_leaves_the_lip_do_not_refuse_the_contact() -> None:
    """seg3 mirrored: the snow read 0.82 and 0.84 in the two frames after the last clear one, and the flight's
    highest sample came 4 frames later. Beyond those two the samples up to it are off the snow; with them the
    mean is 0.34 (over `_CONTACT_OFF`)."""
    from pose_service.analysis.airborne import _contact_scan

    t = np.arange(100) / FPS
    contact = np.ones(100)
    contact[55:57] = (0.82, 0.84)
    contact[57:80] = 0.0
    assert _contact_scan(t, contact, peak=60, direction=-1, end=48) == (54, None)
    contact[55:60] = 0.9  # the snow right under the feet up to the highest sample: no flight starts there
    assert _contact_scan(t, contact, peak=60, direction=-1, end=48) == (None, None)


def test_hips_that_only_fall_with_a_moving_camera_are_no_flight() -> None:
    """A step down in the stabilised hips (0.5 m in 0.37 s, as a crouched carve with the camera tilting read at
    1920x1080 on seg6) follows gravity's parabola down but never rises: no takeoff lifted them. The same fall after
    a rise is a flight."""
    n, start, fall_s = 120, 50, 0.37
    t = np.arange(n) / FPS
    s = np.clip(t - start / FPS, 0.0, fall_s)
    kp3d = orient(np.zeros(n), np.zeros(n))
    contact = np.full(n, 0.95)  # the snow under the feet all along, as on the carve
    falling = project(kp3d, -0.5 * GRAVITY * s**2, scale=100.0)
    assert find_airborne(np.arange(n), t, falling, kp3d, image_height=480, fps=FPS, moving_camera=True,
                         contact=contact) == []  # fmt: skip
    up, down = 0.35, fall_s  # a rise first (0.6 m in 0.35 s), then the fall: a flight
    s = np.clip(t - start / FPS, 0.0, up + down)
    rising = project(kp3d, 0.5 * GRAVITY * s * (2 * up - s), scale=100.0)
    contact[start + 1 : start + round((up + down) * FPS)] = 0.0
    flights = find_airborne(np.arange(n), t, rising, kp3d, image_height=480, fps=FPS, moving_camera=True,
                            contact=contact)  # fmt: skip
    assert len(flights) == 1 and abs(flights[0].takeoff_frame - start) <= 1, flights


def test_the_lip_still_under_the_board_does_not_hold_the_takeoff_back() -> None:
    # The board leaves a kicker's lip along its surface, so the lip fills the band under the feet for the first
    # frames of the flight (the rendered zoomed backflip: pristine snow 4 frames in). The feet's bend times it;
    # a bend further out is the ride up the kicker (`_LIP_S`).
    takeoff, air_s = 40, 1.0
    landing = takeoff + round(air_s * FPS)
    frames, times, kp2d, kp3d = _follow_cam_clip(120, takeoff, air_s, absorbed=0.0)
    kp2d[:, 27:33, 1] -= 100.0 * 2.0 * np.clip(frames - takeoff, 0, 8)[:, None] / FPS  # legs drawn up: 2 m/s more
    contact = np.where((frames > takeoff + 3) & (frames < landing), 0.0, 0.95)
    contact[takeoff + 1 : takeoff + 4] = 1.0
    flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True,
                            contact=contact)  # fmt: skip
    assert len(flights) == 1
    assert abs(flights[0].takeoff_frame - takeoff) <= 1 and flights[0].landing_frame == landing


def test_the_board_seen_from_below_on_the_lip_is_still_on_the_snow() -> None:
    # seg6's second kicker, filmed from below the lip: the band under the feet lay on the board's base for the
    # lip's last 3 frames (read 0.44, 0.00, 0.00) while the snow past the board read 0.91-0.93; the takeoff stood on
    # the last frame of the band's snow, 5 frames before the annotated one.
    takeoff, air_s = 40, 1.0
    landing = takeoff + round(air_s * FPS)
    frames, times, kp2d, kp3d = _follow_cam_clip(120, takeoff, air_s, absorbed=0.8)
    contact = np.where((frames > takeoff - 3) & (frames < landing), 0.0, 0.95)
    beyond = np.where((frames > takeoff) & (frames < landing), 0.05, 0.95)

    def timed(beyond: np.ndarray | None, snow: np.ndarray = contact) -> list[tuple[int, int]]:
        flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True,
                                contact=snow, beyond=beyond)  # fmt: skip
        return [(f.takeoff_frame, f.landing_frame) for f in flights]

    assert timed(None) == [(takeoff - 3, landing)]
    assert timed(beyond) == [(takeoff, landing)]
    # middling snow past the board is the slope seen beyond a board in the air, not the lip
    assert timed(np.where(beyond > 0.9, 0.7, beyond)) == [(takeoff - 3, landing)]
    # and pristine snow past it after a frame of none is not the lip's: the ride ended there
    gap = beyond.copy()
    gap[takeoff - 2] = 0.05
    assert timed(gap) == [(takeoff - 3, landing)]
    # frames where neither band was read neither end the lip nor stand on it (re-encoded seg6's second kicker: the lip's
    # snow to 179, nothing read over 180-183, the board's base over pristine snow at 184-185, truth 187: was 179)
    unread, unread_beyond = contact.copy(), beyond.copy()
    unread[takeoff - 6 : takeoff - 2] = unread_beyond[takeoff - 6 : takeoff - 2] = np.nan
    assert timed(unread_beyond, unread) == [(takeoff, landing)]
    # nor does the snow past the board move a landing
    late = contact.copy()
    late[landing : landing + 3] = 0.0
    flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True, contact=late,
                            beyond=np.where(frames >= landing, 0.95, beyond))  # fmt: skip
    assert [(f.takeoff_frame, f.landing_frame) for f in flights] == [(takeoff, landing + 3)]


def _into_a_bag(frames: np.ndarray, takeoff: int, landing: int, sky: float) -> tuple[np.ndarray, np.ndarray]:
    """The snow and colourfulness under the feet of a jump into an airbag: snow (0.95, colourless) up to the
    takeoff, then never again; the sky's colour (`sky`) through the air and the bag's fabric (0.86, the synthetic
    bag) from the landing on."""
    contact = np.where(frames <= takeoff, 0.95, 0.0)
    colour = np.where(frames <= takeoff, 0.02, np.where(frames < landing, sky, 0.86))
    return contact, colour


def test_a_jump_into_an_airbag_ends_where_the_fabric_comes_under_the_feet() -> None:
    """The snow opens the flight and never closes it; the bag's fabric does (`airborne._on_bag`). The rendered
    follow-below 360 and backflip into a bag, and the pan's backflip, went unfound so (now 36-59, 37-59 and 37-58
    against 36-60)."""
    takeoff, air_s = 40, 1.0
    landing = takeoff + round(air_s * FPS)
    frames, times, kp2d, kp3d = _follow_cam_clip(120, takeoff, air_s, absorbed=0.8)  # falls at 0.2 g
    contact, colour = _into_a_bag(frames, takeoff, landing, sky=0.35)
    assert find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True,
                         contact=contact) == []  # fmt: skip
    flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True,
                            contact=contact, colour=colour)  # fmt: skip
    assert [(f.takeoff_frame, f.landing_frame) for f in flights] == [(takeoff, landing)]
    # the board presses 0.6 m into the fabric over the 5 frames after touch-down, the legs folding, then stops: the
    # landing stays where the board met the fabric, not where the feet stop sinking (the feet's bend, which times a
    # landing on snow)
    sinking = kp2d.copy()
    sinking[:, 27:33, 1] += 100.0 * 0.6 * np.clip((frames - landing) / 5.0, 0.0, 1.0)[:, None]
    flights = find_airborne(frames, times, sinking, kp3d, image_height=480, fps=FPS, moving_camera=True,
                            contact=contact, colour=colour)  # fmt: skip
    assert [(f.takeoff_frame, f.landing_frame) for f in flights] == [(takeoff, landing)]
    # a flipping body drawing the fabric under its lowest foot for a frame before it lands does not end the flight
    colour[landing - 4] = 0.86
    flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True,
                            contact=contact, colour=colour)  # fmt: skip
    assert [(f.takeoff_frame, f.landing_frame) for f in flights] == [(takeoff, landing)]


@pytest.mark.parametrize("sky", [0.49, 0.52])
def test_a_deep_blue_sky_under_the_board_is_no_airbag(sky: float) -> None:
    """No snow and some colour is not a bag: the real clips' riders flew against a sky of 0.3-0.49 (the bag's
    fabric must read `landing.AIRBAG_COLOUR`, 0.55); a flight the snow never closes stays unfound there."""
    takeoff, air_s = 40, 1.0
    frames, times, kp2d, kp3d = _follow_cam_clip(120, takeoff, air_s, absorbed=0.8)
    contact, colour = _into_a_bag(frames, takeoff, 200, sky=sky)  # the sky to the clip's end
    assert find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True,
                         contact=contact, colour=colour) == []  # fmt: skip


def test_a_parabola_that_peaks_on_the_snow_carried_the_ride_up_the_kicker_not_the_takeoff() -> None:
    """seg6 mirrored, its rider read in more of the frames: the camera below the kicker tilted up as the rider rode
    up it, and the stabilised hips drew one parabola from the foot of the ramp (frame 28) through the lip into the
    air, highest at 43 with the snow under the feet until 47. The takeoff is where the snow ends, not where that
    parabola began."""
    n, start, top, takeoff, landing = 120, 28, 43, 47, 78
    t = np.arange(n) / FPS
    a = 0.5 * GRAVITY  # one parabola at 1 g through the ramp and the flight, highest at `top`
    s = np.clip(t, start / FPS, landing / FPS) - top / FPS
    heights = -a * s**2
    kp3d = orient(np.zeros(n), np.zeros(n))
    kp2d = project(kp3d, heights, scale=100.0)
    contact = np.where((np.arange(n) > takeoff) & (np.arange(n) < landing), 0.0, 0.95)
    flights = find_airborne(np.arange(n), t, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True,
                            contact=contact)  # fmt: skip
    assert [(f.takeoff_frame, f.landing_frame) for f in flights] == [(takeoff, landing)], flights
    # Seen from behind or beside, the ground beyond the board shows under it in mid-air, after the takeoff showed
    # something else (the rendered straight airs into a bag: 0.78-1.0 at the highest sample, 0.0-0.38 just after the
    # takeoff): the parabola's own ends stand.
    takeoff, top, landing = 36, 51, 66
    s = np.clip(t, takeoff / FPS, landing / FPS) - top / FPS
    kp2d = project(kp3d, -a * s**2, scale=100.0)
    frame = np.arange(n)
    contact = np.where((frame > takeoff) & (frame < landing), 0.0, 0.95)
    contact[takeoff + 1 : takeoff + 5] = 0.2
    contact[takeoff + 5 : top + 5] = 0.9
    flights = find_airborne(frame, t, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True, contact=contact)
    assert len(flights) == 1, flights
    assert abs(flights[0].takeoff_frame - takeoff) <= 1 and abs(flights[0].landing_frame - landing) <= 1, flights


def test_a_takeoff_lifts_the_hips_though_the_kickers_side_wall_fills_the_band() -> None:
    """seg6's first kicker, filmed from below: the stabilised hips ride up the ramp at 2.4 m/s, rise 0.13 m more in
    the first 2 frames of the air (41-43) and then fall (at 0.35 g: the camera's tilt took the rest), while the
    kicker's side wall fills the band under the feet to 47. No parabola fits, and the snow alone brackets 47-78,
    from where the hips only fall. Every takeoff lifts the hips: it moves back to the last sample they then rise
    `_MIN_RISE_M` above, one frame after the annotated takeoff (as measured: 42 against 41, where the snow put 47)."""
    n, takeoff, wall, landing = 120, 41, 47, 79
    t = np.arange(n) / FPS
    s = t - takeoff / FPS
    rise, top_s = 2.4, 2 / FPS  # the ramp's speed, and when the hips stop rising after the takeoff
    rising = rise * s - rise / (2 * top_s) * s**2
    air = np.where(s < top_s, rising, rise * top_s / 2 - 0.5 * 0.35 * GRAVITY * (s - top_s) ** 2)
    heights = np.where(s < 0, rise * s, air)
    land_s = (landing - takeoff) / FPS
    heights = np.where(s > land_s, air[landing] - 0.5 * (s - land_s), heights)  # riding away down the slope
    kp3d = orient(np.zeros(n), np.zeros(n))
    kp2d = project(kp3d, heights, scale=100.0)
    frame = np.arange(n)
    contact = np.where((frame > wall) & (frame < landing), 0.05, 0.95)
    flights = find_airborne(frame, t, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True, contact=contact)
    assert len(flights) == 1, flights
    assert takeoff <= flights[0].takeoff_frame <= takeoff + 2 and flights[0].landing_frame == landing, flights

def test_a_parabola_that_took_in_the_ride_up_the_ramp_takes_off_where_the_ramps_line_bends() -> None:
    """seg6's first kicker in four of the real clips' variants: the stabilised hips rode up the ramp in a straight
    line (2.6-3.3 m/s) that bent into the flight's parabola at the lip, the parabola grew back onto the ramp, and
    two frames where the pose model lost the feet (visibility 0.07-0.11) left the snow under them no pristine run
    inside it, so the takeoff stood on the parabola's start, 6-9 frames early. The ramp's last sample is the
    takeoff. A rise slower than `_RAMP_MIN_M_S`, or hips no line and parabola fit, leave the parabola's start."""
    from pose_service.analysis.airborne import _RAMP_MIN_M_S, _ramp_end

    n, takeoff, landing = 120, 41, 78
    t = np.arange(n) / FPS
    s = t - takeoff / FPS
    land_s = (landing - takeoff) / FPS
    kp3d = orient(np.zeros(n), np.zeros(n))
    frame = np.arange(n)
    contact = np.where((frame > takeoff) & (frame < landing), 0.05, 0.95)
    contact[[37, 39]] = 0.45  # the feet lost on the ramp
    contact[takeoff + 1 : takeoff + 4] = 0.65  # the lip's edge
    for rise, found in ((2.6, takeoff), (0.8 * _RAMP_MIN_M_S, None)):
        heights = rise * s - 0.5 * GRAVITY * np.maximum(s, 0.0) ** 2
        heights = np.where(s > land_s, heights[landing] - 0.5 * (s - land_s), heights)  # riding away
        kp2d = project(kp3d, heights, scale=100.0)
        flights = find_airborne(frame, t, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True, contact=contact)
        assert len(flights) == 1 and flights[0].landing_frame == landing, (rise, flights)
        if found is not None:
            assert flights[0].takeoff_frame == found, flights
        else:  # the parabola's own start, on the ramp before the lip
            assert flights[0].takeoff_frame < takeoff - 1, flights
    # the hips 0.1 m off any line and parabola (a drone's view of the ride): no ramp is read
    heights = 2.6 * s - 0.5 * GRAVITY * np.maximum(s, 0.0) ** 2 + 0.1 * np.where(frame % 2 == 0, 1.0, -1.0)
    assert _ramp_end(t, heights, 37, 49) is None
    assert _ramp_end(t, 2.6 * s - 0.5 * GRAVITY * np.maximum(s, 0.0) ** 2, 37, 49) == takeoff

def test_a_dip_in_the_snow_on_the_ride_up_does_not_hide_the_takeoff_after_it() -> None:
    """The rendered follow-front backflip: the snow under the feet read 0.42 one frame before the board left the lip,
    and middling through the air. A run off the snow opened at the dip took in the lip's pristine frame and read
    0.29 on average, no flight; the scan then went on past the takeoff, and the jump went unfound. The flight from
    the lip still counts."""
    takeoff, air_s = 40, 0.5
    landing = takeoff + round(air_s * FPS)
    frames, times, kp2d, kp3d = _follow_cam_clip(120, takeoff, air_s, absorbed=0.5)  # falls at 0.5 g: no parabola
    contact = np.where((frames > takeoff) & (frames < landing), 0.2, 0.95)
    contact[takeoff - 1] = 0.42
    flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True,
                            contact=contact)  # fmt: skip
    assert [(f.takeoff_frame, f.landing_frame) for f in flights] == [(takeoff, landing)], flights


def test_a_contact_the_snow_between_refused_still_bounds_the_takeoff() -> None:
    """seg6's first kicker, the pose model's outputs moved by a twentieth of a pixel (`bench/real_snow.py --jitter`):
    the stabilised hips drew one parabola from the foot of the ramp (29) through the lip, the snow read pristine up
    the ramp to 41 (the annotated takeoff), middling on the lip's edge (42-45) and 1.0 to 47. The scan from the
    highest sample found 41 on the snow but refused it, the samples between reading snow; the takeoff fell back to
    the feet's bend near the parabola's start, on the ramp. The board stood on the snow at 41: no earlier."""
    n, start, top, ridden, landing = 120, 29, 48, 41, 78
    t = np.arange(n) / FPS
    s = np.clip(t, start / FPS, landing / FPS) - top / FPS
    kp3d = orient(np.zeros(n), np.zeros(n))
    kp2d = project(kp3d, -0.5 * GRAVITY * s**2, scale=100.0)
    frame = np.arange(n)
    contact = np.where((frame > 47) & (frame < landing), 0.05, 0.95)
    contact[ridden + 1 : ridden + 5] = [0.7, 0.62, 0.64, 0.67]
    contact[ridden + 5 : 48] = 1.0
    flights = find_airborne(frame, t, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True, contact=contact)
    assert [(f.takeoff_frame, f.landing_frame) for f in flights] == [(ridden, landing)], flights
    # a refused contact on middling snow bounds nothing: the slope behind a board in the air reads so (the rendered
    # follow-behind cork 720 at 60 frames/s: 0.7-0.8 for 10 frames after the takeoff, and the bound put it 8 late)
    from pose_service.analysis.airborne import _contact_scan

    for run_in, bound in ((0.8, None), (0.95, 30)):
        contact = np.where(frame <= 30, run_in, 0.4)  # the samples between read too much snow: the contact is refused
        assert _contact_scan(t, contact, peak=60, direction=-1, end=30) == (None, bound), run_in


def test_feet_drawn_where_no_foot_can_be_are_not_read() -> None:
    """seg1 under the perturbed pose model: the small rider on the lip against the trees was lost for the last 4
    frames before the takeoff and drawn with the feet 0.6-1.8 m up (in one frame of the sky, no snow under them).
    The feet's bend read from those points moved the takeoff a frame further onto the run-in; the last sample seen
    on the snow stands."""
    takeoff, air_s = 59, 1.0
    landing = takeoff + round(air_s * FPS)
    frames, times, kp2d, kp3d = _follow_cam_clip(150, takeoff, air_s, absorbed=0.6)
    contact = np.where((frames > takeoff) & (frames < landing), 0.0, 0.95)
    lost = np.arange(takeoff - 3, takeoff + 1)
    for k, up in zip(lost, (60, 120, 180, 110), strict=True):  # pixels, at 100 px a metre
        kp2d[k, 25:33, 1] -= up
    contact[lost] = [np.nan, 0.0, np.nan, 0.0]
    flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True,
                            contact=contact)  # fmt: skip
    assert [(f.takeoff_frame, f.landing_frame) for f in flights] == [(takeoff - 4, landing)], flights
    # a flight's own feet, fast as they rise and fall, are never taken for such
    from pose_service.analysis.airborne import _garbled

    for fps in (30.0, 15.0):
        t = np.arange(int(2 * fps)) / fps
        feet = np.where(t < 0.5, 0.0, np.maximum(0.0, 5.0 * (t - 0.5) - 0.5 * GRAVITY * (t - 0.5) ** 2))
        assert not _garbled(t, feet).any(), fps


def test_a_moving_cameras_flight_may_fall_a_little_faster_than_a_still_ones() -> None:
    """The camera's own acceleration adds to gravity's in a stabilised picture: seg3's hips fall at 1.49-1.54 g
    across runs of the perturbed pose model, the rendered follow-behind cork 720's at 1.48-1.55 g. A still camera
    sees gravity alone (its scale a few per cent off), and keeps its range."""
    n, takeoff, air_s = 120, 40, 0.8
    t = np.arange(n) / FPS
    s = np.clip(t - takeoff / FPS, 0.0, air_s)
    kp3d = orient(np.zeros(n), np.zeros(n))
    found = {}
    for g in (1.45, 1.55, 1.8):
        kp2d = project(kp3d, g * 0.5 * GRAVITY * s * (air_s - s), scale=100.0)
        for moving in (True, False):
            flights = find_airborne(np.arange(n), t, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=moving)
            found[g, moving] = [(f.takeoff_frame, f.landing_frame) for f in flights]
    landing = takeoff + round(air_s * FPS)
    assert found[1.45, True] == found[1.45, False] == found[1.55, True] == [(takeoff, landing)], found
    assert found[1.55, False] == found[1.8, True] == found[1.8, False] == [], found


def _side_on_flip(n: int, takeoff: int, landing: int, turn_deg: np.ndarray, absorbed: float) -> tuple[np.ndarray, ...]:
    """A flight from `takeoff` to `landing` whose body turns by `turn_deg` (n,) about its left-right axis, seen
    side-on (the turn in the picture's plane), the hips showing `1 - absorbed` of their parabola."""
    t = np.arange(n) / FPS
    air_s = (landing - takeoff) / FPS
    s = np.clip(t - takeoff / FPS, 0.0, air_s)
    kp3d = orient(np.zeros(n), turn_deg, heading_deg=90.0)
    kp2d = project(kp3d, (1.0 - absorbed) * 0.5 * GRAVITY * s * (air_s - s), scale=100.0)
    return np.arange(n), t, kp2d, kp3d


def test_the_band_under_the_feet_of_a_body_upside_down_is_no_snow() -> None:
    """The rendered rolled backflip 360: the stabilised hips missed their parabola (the pose model draws an inverted
    body's hips 10-20 cm off), and through the inverted frames the band under the feet lay over the body itself
    and read 0.3-0.7 snow. A body upside down stands on nothing: the snow brackets the flight."""
    n, takeoff, landing = 120, 40, 64
    frames, times, kp2d, kp3d = _side_on_flip(n, takeoff, landing,
                                              360.0 * np.clip((np.arange(n) - takeoff) / (landing - takeoff), 0, 1),
                                              absorbed=0.8)  # fmt: skip
    contact = np.where((frames > takeoff) & (frames < landing), 0.0, 0.95)
    contact[47:58] = 0.7  # the turn from 105° to 255°: the jacket under the feet
    flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True,
                            contact=contact)  # fmt: skip
    assert [(f.takeoff_frame, f.landing_frame) for f in flights] == [(takeoff, landing)], flights
    # the same readings under a body that stays upright count as the snow they read: too much of it for a flight
    frames, times, kp2d, kp3d = _side_on_flip(n, takeoff, landing, np.zeros(n), absorbed=0.8)
    upright = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True,
                            contact=contact)  # fmt: skip
    assert upright == [], upright


def test_a_body_still_coming_round_has_not_landed() -> None:
    """The rendered drone wildcat: the snow read 0.78-0.91 under the board 4 frames before the landing, the slope
    behind it in view, while the body came round 42°, 34°, 24° and 13° from upright. The board meeting the snow
    stops the turn, so the landing is where the body stops turning; a body that turns slowly there (a camera
    rolling, a rider leaning back into the landing, 4° a frame) keeps the snow's landing."""
    n, takeoff, landing, early = 120, 40, 64, 60
    turn = 360.0 * np.clip((np.arange(n) - takeoff) / (landing - takeoff), 0, 1)
    frames, times, kp2d, kp3d = _side_on_flip(n, takeoff, landing, turn, absorbed=0.0)
    contact = np.where((frames > takeoff) & (frames < early), 0.0, 0.95)
    flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True,
                            contact=contact)  # fmt: skip
    assert len(flights) == 1 and flights[0].takeoff_frame == takeoff, flights
    assert landing - 1 <= flights[0].landing_frame <= landing, flights
    leaning = np.clip(4.0 * (np.arange(n) - (early - 4)), 0.0, 40.0)
    frames, times, kp2d, kp3d = _side_on_flip(n, takeoff, landing, leaning, absorbed=0.0)
    flights = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True,
                            contact=contact)  # fmt: skip
    assert [(f.takeoff_frame, f.landing_frame) for f in flights] == [(takeoff, early)], flights


def test_a_body_upside_down_is_off_the_snow_but_no_witness_of_what_lay_under_the_board() -> None:
    """The rendered drone wildcat at 60 frames/s: from above, the snow under the rider read middling (0.1-0.5) on the
    ride to the kicker, and a contact 0.3 s before the takeoff passed once the inverted samples, counted as no snow,
    brought the average between it and the apex under `_CONTACT_OFF`: a takeoff 19 frames early. The inverted
    samples are off the snow (no landing there) but say nothing of the band's other readings."""
    from pose_service.analysis.airborne import _contact_scan

    t = np.arange(80) / FPS
    contact = np.full(80, 0.95)
    contact[21:41] = 0.35  # the ride seen from above: middling
    contact[41:60] = 0.0  # upside down: no snow
    upside_down = np.zeros(80, dtype=bool)
    upside_down[41:60] = True
    assert _contact_scan(t, contact, peak=60, direction=-1, end=30)[0] == 20  # counted as no snow, a contact passes
    assert _contact_scan(t, contact, peak=60, direction=-1, end=30, upside_down=upside_down)[0] is None


def test_feet_drawn_where_no_foot_can_be_do_not_carry_a_landing_onto_them() -> None:
    # seg1 mirrored: the pose model lost the small rider for two frames and drew the feet 0.4 and 1.0 m under the
    # snow, falling 13-17 m/s; the rule that a landing waits for feet still falling fast carried the landing onto
    # them. Feet like that are not read.
    takeoff, air_s = 40, 0.8
    landing = takeoff + round(air_s * FPS)
    frames, times, kp2d, kp3d = _follow_cam_clip(120, takeoff, air_s, absorbed=0.0)
    clean = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True)
    assert [(f.takeoff_frame, f.landing_frame) for f in clean] == [(takeoff, landing)]
    garbled = kp2d.copy()
    garbled[landing + 1, 27:33, 1] += 100.0 * 0.5  # 100 px a metre: the feet half a metre under the snow ...
    garbled[landing + 2, 27:33, 1] += 100.0 * 1.0  # ... and a metre, 15 m/s apart
    flights = find_airborne(frames, times, garbled, kp3d, image_height=480, fps=FPS, moving_camera=True)
    assert [(f.takeoff_frame, f.landing_frame) for f in flights] == [(takeoff, landing)]


def _started_soon(takeoff: int, snow: float) -> tuple[int, Callable[..., list[tuple[int, int]]]]:
    """A follow-cam flight of 0.8 s taking off `takeoff` frames into the clip, the snow read `snow` under the feet
    but through the air: its landing frame, and `find_airborne` on it given the snow (or None: no snow read)."""
    air_s = 0.8
    frames, times, kp2d, kp3d = _follow_cam_clip(60, takeoff, air_s, absorbed=0.0)
    landing = takeoff + round(air_s * FPS)
    contact = np.where((frames > takeoff) & (frames < landing), 0.0, snow)

    def flights(before: float | None = snow) -> list[tuple[int, int]]:
        """The flights found with `before` read under the feet up to the takeoff (None: no snow read at all)."""
        read = None if before is None else np.where(frames <= takeoff, before, contact)
        found = find_airborne(frames, times, kp2d, kp3d, image_height=480, fps=FPS, moving_camera=True, contact=read)
        return [(f.takeoff_frame, f.landing_frame) for f in found]

    return landing, flights


def test_a_clip_cut_in_mid_air_times_no_takeoff_where_the_snow_was_never_under_the_feet() -> None:
    # The real seg1 cut 11 frames into its 1.07 s flight, its rider held from the clip's first frame: the hips read
    # level for 8 frames, then fell along a parabola, a "takeoff" 0.27 s after the first frame, and the snow under
    # the feet read 0.00-0.04 in every one of them. The same track ridden on snow before that parabola is a flight.
    takeoff = 8
    landing, flights = _started_soon(takeoff, 0.95)
    assert flights() == [(takeoff, landing)]
    assert flights(0.0) == []  # the board never seen on the snow: the clip started in the air


def test_a_takeoff_soon_after_the_clip_starts_is_timed_where_the_board_was_seen_on_the_snow() -> None:
    # The real seg1 cut 0.3 s before its takeoff: the snow under the feet read pristine (0.96-1.00) in every sample
    # before the takeoff, 0.23 s after the first frame, under the 0.25 s a rider must otherwise be seen before one.
    takeoff = 6
    landing, flights = _started_soon(takeoff, 0.97)
    assert flights() == [(takeoff, landing)]
    # no snow read, or middling snow under the feet (a board in the air over a bright slope): no witness
    assert flights(None) == []
    assert flights(0.6) == []
