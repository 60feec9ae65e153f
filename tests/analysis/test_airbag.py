"""A jump into an airbag (`render_clip` with landing "airbag": a blue bag 0.5 m high on the landing, the rider
sinking into it and falling back): found and timed as any flight, its landing said to be in the airbag, not a
crash. The rule itself (`landing.landed_in_airbag`) on readings like the real clips': a landing on snow, one
against the sky, a run-in that never read snow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pose_service.analysis.landing import AIRBAG, AIRBAG_S, landed_in_airbag, took_off_in_airbag
from pose_service.config import Settings

# The takeoff is timed as on snow (the moving-camera suite's bar). The landing is the feet's bend, and the bag gives
# way: the feet go on falling into it and the bend comes 0-7 frames after the board met its top (`bench/moving_camera.py
# --suite airbag`; this clip 3-5 in five renderings), so its bar is wider.
TAKEOFF_FRAMES = 3
LANDING_FRAMES = 8

FPS = 30.0
TAKEOFF_S, LANDING_S = 1.0, 1.8


@pytest.fixture(scope="session")
def pan_airbag(session_dir: Path, settings: Settings) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """(the clip, result.json, truth.json) of a straight air into an airbag filmed by a camera on a tripod that
    turns with the rider (`pan`), 480x480, 30 fps. Found in each of five renderings (the renderer's pixels differ
    a little between processes). Not a follow-cam behind: its 360 into the bag went unfound in one rendering of
    six; nor smaller: a straight air at 320 and 400 px was found in one rendering and not in another, and at 256 px
    the rider stands 55 px tall, under the scoring gate."""
    from pose_service.pipeline import AnalyzeOptions, analyze
    from pose_service.synth import parse_trick, render_clip

    clip = session_dir / "pan_airbag.mp4"
    truth = render_clip(parse_trick("straight,airbag"), clip, width=480, height=480, fps=FPS, view="front",
                        camera="pan", anny_cache_dir=settings.anny_cache_dir)  # fmt: skip
    outcome = analyze(clip, out_dir=session_dir / "pan_airbag_pose", options=AnalyzeOptions(mesh=False),
                      settings=settings)  # fmt: skip
    return clip, outcome.result, json.loads(Path(truth).read_text())


def test_a_jump_into_an_airbag_is_timed_and_its_landing_said_to_be_in_the_bag(pan_airbag) -> None:  # type: ignore[no-untyped-def]
    _, result, truth = pan_airbag
    want = truth["jumps"][0]
    assert truth["expected"]["landing_shown"] == AIRBAG
    jumps = result["analysis"]["jumps"]
    assert len(jumps) == 1, [(j["takeoff_frame"], j["landing_frame"]) for j in jumps]
    jump = jumps[0]
    assert abs(jump["takeoff_frame"] - want["takeoff_frame"]) <= TAKEOFF_FRAMES, (jump["takeoff_frame"], want)
    assert 0 <= jump["landing_frame"] - want["landing_frame"] <= LANDING_FRAMES, (jump["landing_frame"], want)
    assert jump["trick"] == "straight air"
    # lying in the bag is no crash, and the grade says why
    assert jump["landing"]["grade"] == AIRBAG, jump["landing"]
    assert "no snow under the board" in jump["landing"]["reasons"][0]
    assert "Landed in an airbag" in jump["explanation"]
    from pose_service.cli import _jump_line

    assert "landed in an airbag" in _jump_line(jump)


def test_a_still_cameras_airbag_is_read_from_the_video_around_the_jump(pan_airbag) -> None:  # type: ignore[no-untyped-def]
    """Where the camera stood still the ground under the feet was not read for the flight; `find_jumps` reads it
    around the run-in and, where that was ridden on snow, the landing (`ground_reader`, without the ground's
    motion). Here on the same clip's rider, its readings taken away; a "flight" taking off from the bag reads its
    run-in only."""
    from pose_service.analysis.airborne import Airborne
    from pose_service.analysis.contact import read_ground
    from pose_service.analysis.jumps import _ground
    from pose_service.tracking.core import Track
    from pose_service.video import probe

    clip, result, truth = pan_airbag
    data = next(t for t in result["tracks"] if t["id"] == result["analysis"]["rider_track"])
    track = Track(id=int(data["id"]), frames=np.asarray(data["frames"]), bbox=np.asarray(data["bbox"], dtype=float),
                  keypoints_2d=np.asarray(data["keypoints_2d"], dtype=float),
                  keypoints_3d=np.asarray(data["keypoints_3d"], dtype=float),
                  interpolated=np.asarray(data["interpolated"], dtype=bool))  # fmt: skip
    times = np.asarray(result["timestamps_s"], dtype=float)[track.frames]
    jump = result["analysis"]["jumps"][0]
    start = int(np.searchsorted(track.frames, jump["takeoff_frame"]))
    end = int(np.searchsorted(track.frames, jump["landing_frame"]))
    flight = Airborne(start=start, end=end, takeoff_frame=jump["takeoff_frame"], landing_frame=jump["landing_frame"],
                      takeoff_s=float(times[start]), landing_s=float(times[end]), apex_m=0.0, drop_m=0.0,
                      accel_g=1.0, rms_m=0.0)  # fmt: skip
    windows: list[list[list[int]]] = []

    def reader(asked: list[list[int]]):  # type: ignore[no-untyped-def]
        windows.append(asked)
        ground = read_ground(probe(clip), track, asked, motion=False)
        assert np.isnan(ground.shift_px).all()  # the ground's motion is not read
        return ground

    def airbag(flight: Airborne, reader) -> str | None:  # type: ignore[no-untyped-def]
        ground = _ground(track, times, flight, FPS, reader)
        return None if ground is None else landed_in_airbag(times, *ground, takeoff_s=flight.takeoff_s,
                                                            landing_s=flight.landing_s)  # fmt: skip

    assert _ground(track, times, flight, FPS, None) is None  # nothing read, nothing said
    assert "coloured surface" in (airbag(flight, reader) or "")
    # only the run-in and the landing were read, not the clip
    reach = int(np.ceil(AIRBAG_S * FPS))
    assert windows == [[[jump["takeoff_frame"] - reach, jump["takeoff_frame"]]],
                       [[jump["landing_frame"], jump["landing_frame"] + reach]]]  # fmt: skip
    # from the bag (lying in it 16 frames after the board met it: its run-in, the 0.5 s before, all in the bag) there
    # is no run-in on snow: the landing is not read. Counted from the true landing, not the found one: the renders
    # differ between processes, and one whose landing read 4 frames late (64) put this run-in at 69-84, where the
    # rider lying back in the bag no longer shows it under the feet (12-20 frames after the true landing held on
    # that render and two others)
    windows.clear()
    start = int(np.searchsorted(track.frames, truth["jumps"][0]["landing_frame"] + 16))
    end = min(start + 15, len(track) - 1)
    off_bag = Airborne(start=start, end=end, takeoff_frame=int(track.frames[start]), landing_frame=int(track.frames[end]),
                       takeoff_s=float(times[start]), landing_s=float(times[end]), apex_m=0.0, drop_m=0.0,
                       accel_g=1.0, rms_m=0.0)  # fmt: skip
    assert airbag(off_bag, reader) is None
    assert windows == [[[off_bag.takeoff_frame - reach, off_bag.takeoff_frame]]]
    # ... and that run-in lay in the bag, where after an airbag landing nobody takes off (`find_jumps` drops such a
    # flight); the jump's own run-in did not
    assert took_off_in_airbag(times, *(_ground(track, times, off_bag, FPS, reader) or ()), takeoff_s=off_bag.takeoff_s)
    assert not took_off_in_airbag(times, *(_ground(track, times, flight, FPS, reader) or ()), takeoff_s=flight.takeoff_s)


def _readings(after_snow: float, after_colour: float, run_in: float = 0.95) -> tuple[np.ndarray, ...]:
    """Per sample at 30 fps over 3 s: times, snow and colourfulness under the feet; the run-in's snow before the
    takeoff, nan through the air, then the given readings from the landing on."""
    t = np.arange(90) / FPS
    snow = np.where(t <= TAKEOFF_S, run_in, np.where(t >= LANDING_S, after_snow, np.nan))
    colour = np.where(t <= TAKEOFF_S, 0.02, np.where(t >= LANDING_S, after_colour, np.nan))
    return t, snow, colour


@pytest.mark.parametrize(
    ("after_snow", "after_colour", "run_in", "airbag"),
    [
        (0.0, 0.85, 0.95, True),  # the synthetic bag's blue fabric
        (0.9, 0.03, 0.95, False),  # back on the snow (the real clips: 0.01-0.1 colourfulness)
        (0.0, 0.45, 0.95, False),  # sky under the board (seg6's second kicker read 0.48 in the air)
        (0.05, 0.1, 0.95, False),  # shade or trees: no snow, but no colour either
        (0.0, 0.85, 0.2, False),  # the run-in never read snow: the reading says nothing here
    ],
)
def test_an_airbag_is_a_coloured_surface_after_a_run_in_on_snow(after_snow, after_colour, run_in, airbag) -> None:  # type: ignore[no-untyped-def]
    t, snow, colour = _readings(after_snow, after_colour, run_in)
    found = landed_in_airbag(t, snow, colour, takeoff_s=TAKEOFF_S, landing_s=LANDING_S)
    assert (found is not None) == airbag, found


@pytest.mark.parametrize(
    ("snow_before", "colour_before", "in_bag"),
    [
        (0.0, 0.85, True),  # lying in the bag's fabric
        (0.95, 0.02, False),  # riding the snow
        (0.0, 0.45, False),  # the sky under the feet: in the air
        (0.0, 0.05, False),  # shade or trees
    ],
)
def test_a_takeoff_from_the_bag_is_told_by_its_run_in(snow_before: float, colour_before: float, in_bag: bool) -> None:
    t = np.arange(90) / FPS
    snow, colour = np.full(90, snow_before), np.full(90, colour_before)
    assert took_off_in_airbag(t, snow, colour, takeoff_s=2.0) == in_bag
    snow[(t >= 2.0 - AIRBAG_S) & (t <= 2.0)] = np.nan  # the run-in not read: nothing said
    assert not took_off_in_airbag(t, snow, colour, takeoff_s=2.0)


def test_an_airbag_needs_the_landing_seen() -> None:
    t, snow, colour = _readings(0.0, 0.85)
    snow[t >= LANDING_S + 0.1] = np.nan  # read in the first 0.1 s only
    assert landed_in_airbag(t, snow, colour, takeoff_s=TAKEOFF_S, landing_s=LANDING_S) is None
    assert landed_in_airbag(t, None, None, takeoff_s=TAKEOFF_S, landing_s=LANDING_S) is None


def test_the_generators_rider_lands_on_the_bag_and_sinks_into_it(pan_airbag) -> None:  # type: ignore[no-untyped-def]
    """The truth the suite is judged by: the ankles come down onto the bag's top at the landing frame, the body
    then sinks in and lies on it (never through the bag to the snow), and the picture shows the bag's fabric
    under the feet."""
    from pose_service.synth.spec import AIRBAG_SINK_M, AIRBAG_TOP_M

    clip, _, truth = pan_airbag
    names = truth["joint_names"]
    joints = np.asarray(truth["joints_3d"])
    landing = truth["jumps"][0]["landing_frame"]
    ankles = joints[:, [names.index("left_ankle"), names.index("right_ankle")], 1].min(axis=1)
    assert AIRBAG_TOP_M < ankles[landing] < AIRBAG_TOP_M + 0.2, ankles[landing - 2 : landing + 3]
    assert ankles[landing - 5] > ankles[landing] + 0.2  # still falling onto it
    lowest = joints[landing:, :, 1].min(axis=1)
    assert lowest[-1] < AIRBAG_TOP_M - AIRBAG_SINK_M + 0.15 and lowest.min() > 0.0, lowest[::5]
    # the fabric under the feet in the picture (BGR: blue well above red), past the board
    import cv2

    cap = cv2.VideoCapture(str(clip))
    cap.set(cv2.CAP_PROP_POS_FRAMES, landing + 3)
    ok, frame = cap.read()
    assert ok
    feet = np.asarray(truth["keypoints_2d"][landing + 3])[[names.index("left_ankle"), names.index("right_ankle")], :2]
    x, y = int(feet[:, 0].mean()), int(feet[:, 1].max())
    # the board (yellow) lies within 10 px under the ankles
    patch = frame[y + 12 : y + 22, x - 15 : x + 15].reshape(-1, 3).astype(int)
    b, _, r = np.median(patch, axis=0)
    assert b > r + 60, (b, r)
