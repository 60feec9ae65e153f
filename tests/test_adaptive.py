"""The adaptive frame rate (`analyze --frame-rate adaptive`): the first look's windows, the tracker skipping
frames, and a rendered jump analysed at both rates.

Tolerances (adaptive against full, on a 256 px 30 fps 360 rendered here): the same number of jumps, takeoff and
landing within 2 frames, the same judged spin and direction (measured: equal frames and spin), and fewer frames
posed: at most 90 % of them (measured 75 of 91: the flight's window covers frames 15-81).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pose_service.adaptive import FlightWatch
from pose_service.config import Settings
from pose_service.errors import BadOption
from pose_service.export import validate_result
from pose_service.pipeline import AnalyzeOptions, analyze
from pose_service.tracking import PoseTracker, TrackerConfig
from tests.tracking.bodies import frame, person


def test_plain_riding_opens_no_window() -> None:
    watch = FlightWatch(step=3, margin=15)
    for k in range(10):  # riding across the picture at a steady height
        assert not watch.add(3 * k, k * 0.1, frame(person(100 + 20 * k, 300)))
    assert watch.windows == []
    assert not watch.full_rate(12)


@pytest.mark.parametrize(
    ("look", "why"),
    [
        (frame(person(140, 240)), "the hips rose 60 px (0.16 body lengths) in 0.1 s"),
        (frame(person(140, 300, height=260)), "the body grew by 30 %"),
        (frame(person(140, 300), score=0.3), "an unsure pose"),
        (frame(), "the rider was lost"),
    ],
)
def test_a_look_that_is_not_plain_opens_a_window_reaching_back(look: Any, why: str) -> None:
    watch = FlightWatch(step=3, margin=15)
    assert not watch.add(27, 0.9, frame(person(120, 300)))
    assert watch.add(30, 1.0, look), why
    assert watch.windows == [[12, 45]]  # from the look before it, less the margin, to the margin after
    assert watch.full_rate(12) and watch.full_rate(45) and not watch.full_rate(46)


def test_somebody_lost_opens_a_window_somebody_new_does_not() -> None:
    watch = FlightWatch(step=3, margin=15)
    watch.add(0, 0.0, frame(person(120, 300)))
    assert not watch.add(3, 0.1, frame(person(120, 300), person(500, 300)))  # the detector found someone more
    assert watch.add(6, 0.2, frame(person(500, 300)))  # the first one lost (a flipping rider is, upside down)


def test_somebody_lost_keeps_the_looks_unplain_for_a_while() -> None:
    """seg6's rider, lost by the look on the run-in and found by nobody until after the kicker: the looks that find
    fewer people stay unplain for `LOST_S`, so the window holds the flight; then the person is taken as gone."""
    watch = FlightWatch(step=3, margin=6)
    watch.add(0, 0.0, frame(person(120, 300)))
    for k in range(1, 20):  # nobody found from 0.1 s to 1.9 s
        assert watch.add(3 * k, 0.1 * k, frame()), k
    assert watch.windows == [[0, 63]]
    assert not watch.add(90, 3.0, frame())  # 3 s after the loss: gone, nobody is plain again
    assert not watch.add(93, 3.1, frame(person(500, 300)))  # and somebody new is too


def _picture(snow_from: int | None) -> np.ndarray:
    """A 640x640 picture: a clear sky, and snow from row `snow_from` down (None: no snow)."""
    rgb = np.empty((640, 640, 3), np.uint8)
    rgb[:] = (70, 130, 220)
    if snow_from is not None:
        rgb[snow_from:] = (235, 238, 242)
    return rgb


def test_feet_off_the_snow_open_a_window_once_a_look_has_seen_them_on_it() -> None:
    """A follow-cam keeps the rider's height and pose steady in the picture through a flight (seg6's first kicker):
    the snow under the feet tells. The person's feet stand at row 496; with snow from row 480 they are on it."""
    rider = frame(person(320, 300))
    watch = FlightWatch(step=3, margin=6)
    assert not watch.add(0, 0.0, rider, _picture(480))
    assert not watch.add(3, 0.1, rider, _picture(480))
    assert watch.add(6, 0.2, rider, _picture(600))  # the sky under the board: in the air
    assert watch.windows == [[0, 12]]
    never = FlightWatch(step=3, margin=6)  # no snow under anyone's feet, ever (phalp_vid's runner): plain
    for k in range(5):
        assert not never.add(3 * k, 0.1 * k, rider, _picture(None))
    assert never.windows == []


def test_windows_that_touch_merge() -> None:
    watch = FlightWatch(step=3, margin=6)
    rising = [frame(person(100, 300 - 60 * k)) for k in range(3)]
    for k, look in enumerate(rising):
        watch.add(3 * k, 0.1 * k, look)
    watch.add(9, 0.9, frame(person(100, 180)))  # steady again
    watch.add(30, 1.0, frame(person(100, 300)))  # falling far: a second window
    assert watch.windows == [[0, 12], [21, 36]]


def test_tracker_skip_keeps_time_and_fills_the_frames_between() -> None:
    tracker = PoseTracker(30.0, TrackerConfig(smoothing=None, min_frames=3))
    for f in range(12):
        if f % 3 == 0:
            tracker.update(f, frame(person(100 + 5 * f, 300)))
        else:
            tracker.skip(f)
    (track,) = tracker.finish()
    assert list(track.frames) == list(range(10))
    assert list(np.flatnonzero(~track.interpolated)) == [0, 3, 6, 9]
    assert track.keypoints_2d[4, 23, 0] == pytest.approx(person(120, 300)[23, 0], abs=0.01)
    with pytest.raises(ValueError, match="frames must increase"):
        tracker.skip(5)


def test_frame_rate_option_is_checked() -> None:
    with pytest.raises(BadOption, match="frame_rate"):
        AnalyzeOptions(frame_rate="half")
    with pytest.raises(BadOption, match="mediapipe backend only"):
        AnalyzeOptions(frame_rate="adaptive", backend="hmr2")


@pytest.fixture(scope="session")
def jump_clip(session_dir: Path, settings: Settings) -> Path:
    """A 256x256, 30 fps rendered 360 (takeoff frame 36, landing 60 of 91), made once."""
    from pose_service.synth import parse_trick, render_clip

    path = session_dir / "adaptive_360.mp4"
    if not path.is_file():
        render_clip(parse_trick("360"), path, width=256, height=256, fps=30.0, anny_cache_dir=settings.anny_cache_dir)
    return path


@pytest.fixture(scope="session")
def both_rates(jump_clip: Path, session_dir: Path, settings: Settings) -> dict[str, dict[str, Any]]:
    return {
        rate: analyze(jump_clip, out_dir=session_dir / f"adaptive_360_{rate}",
                      options=AnalyzeOptions(mesh=False, frame_rate=rate, jobs=1), settings=settings).result
        for rate in ("full", "adaptive")
    }  # fmt: skip


def test_adaptive_rate_times_the_jump_as_the_full_rate(both_rates: dict[str, dict[str, Any]]) -> None:
    full, adaptive = (both_rates[r]["analysis"]["jumps"] for r in ("full", "adaptive"))
    assert len(full) == 1 and len(adaptive) == len(full)
    for a, b in zip(full, adaptive, strict=True):
        assert abs(a["takeoff_frame"] - b["takeoff_frame"]) <= 2
        assert abs(a["landing_frame"] - b["landing_frame"]) <= 2
        assert (a["spin_deg"], a["spin_direction"]) == (b["spin_deg"], b["spin_direction"])
        assert (a["flip_deg"], a["flip_direction"]) == (b["flip_deg"], b["flip_direction"])


def test_adaptive_rate_poses_fewer_frames_and_says_so(both_rates: dict[str, dict[str, Any]]) -> None:
    full, adaptive = (both_rates[r]["backend"]["frame_rate"] for r in ("full", "adaptive"))
    n = len(both_rates["full"]["timestamps_s"])
    assert full == {"mode": "full", "frames": n, "frames_posed": n, "pose_runs": n}
    assert adaptive["mode"] == "adaptive" and adaptive["frames"] == n
    assert adaptive["frames_posed"] <= 0.9 * n
    # Every window holds the flight (truth: frames 36-60).
    assert any(first <= 36 and last >= 60 for first, last in adaptive["windows"])
    for result in both_rates.values():
        validate_result(result)
    # The rider's skipped frames are filled and marked.
    rider = next(t for t in both_rates["adaptive"]["tracks"] if t["is_rider"])
    assert sum(rider["interpolated"]) >= n - adaptive["frames_posed"] - 5
