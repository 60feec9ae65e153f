"""Issue 11's synthetic vocabulary rendered: stance and travel, rolls, crashes, dragged hands, spins landed short,
and the riders the scoring gate must refuse (tiny, hidden), each checked in the truth and in the picture."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from pose_service.cli import main

Render = Callable[..., tuple[Path, dict[str, Any]]]


def _joint(truth: dict[str, Any], name: str) -> np.ndarray:
    return np.asarray(truth["joints_3d"])[:, truth["joint_names"].index(name)]


def _pixel(truth: dict[str, Any], name: str) -> np.ndarray:
    return np.asarray(truth["keypoints_2d"])[:, truth["joint_names"].index(name)]


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def _trunk_from_vertical_deg(truth: dict[str, Any]) -> np.ndarray:
    up = 0.5 * (_joint(truth, "left_shoulder") + _joint(truth, "right_shoulder")) - _joint(truth, "pelvis")
    return np.degrees(np.arccos(up[:, 1] / np.linalg.norm(up, axis=1)))


@pytest.mark.parametrize(
    ("spec", "view", "leading"),
    [
        # goofy seen from the front: the right foot leads, so the rider travels to the image's left
        ("goofy,360", "front", "right"),
        # regular seen from the back: the left foot leads, travelling to the image's left as well
        ("regular,bs360", "back", "left"),
        # a regular rider riding switch, seen from the front: the right foot leads
        ("regular,cab180", "front", "right"),
    ],
)
def test_the_leading_foot_is_on_the_travel_side(trick_clip: Render, spec: str, view: str, leading: str) -> None:
    _, truth = trick_clip(spec, view=view, size=96)
    takeoff = truth["jumps"][0]["takeoff_frame"]
    approach = slice(0, takeoff - 4)  # riding in the stance, before the crouch
    pelvis_x = _pixel(truth, "pelvis")[approach, 0]
    travel = np.sign(pelvis_x[-1] - pelvis_x[0])  # the direction of travel in the picture
    assert travel != 0
    ahead = _pixel(truth, f"{leading}_ankle")[approach, 0] - _pixel(truth, f"{_other(leading)}_ankle")[approach, 0]
    assert np.all(ahead * travel > 5)  # the leading ankle is ahead along the travel, in every approach frame
    assert truth["stance"] == ("regular" if leading == "left" else "goofy")
    assert truth["expected"]["stance"] == truth["stance"]
    assert truth["expected"]["switch"] is ("switch" in spec or "cab" in spec)


def _other(side: str) -> str:
    return "right" if side == "left" else "left"


def test_a_crash_goes_down_to_the_snow_and_stays(trick_clip: Render) -> None:
    _, truth = trick_clip("regular,bs360,crash", view="back", size=96)
    jump = truth["jumps"][0]
    times = np.asarray(truth["timestamps_s"])
    pelvis_y = _joint(truth, "pelvis")[:, 1]
    riding_y = pelvis_y[: jump["takeoff_frame"] - 6].mean()
    down = times >= jump["landing_s"] + 0.9
    assert down.sum() >= 5  # the clip goes on long enough to see the rider stays down
    assert riding_y > 0.6 and np.all(pelvis_y[down] < 0.2)  # the hips on the snow (the pelvis joint within 20 cm)
    assert np.all(_trunk_from_vertical_deg(truth)[down] > 70)  # lying, not crouching
    # nothing sinks into the snow
    assert np.asarray(truth["joints_3d"])[..., 1].min() > -0.02
    # (a 96 px frame: the rider is too small to score, so the truth gives the name and grade as "shown")
    assert truth["expected"]["landing_shown"] == "crash" and truth["expected"]["trick_shown"] == "backside 360"


def test_a_sketchy_landing_drags_a_hand_on_the_snow(trick_clip: Render) -> None:
    _, truth = trick_clip("goofy,fs180,sketchy", view="front", size=96)
    jump = truth["jumps"][0]
    times = np.asarray(truth["timestamps_s"])
    after = (times > jump["landing_s"]) & (times < jump["landing_s"] + 1.0)
    wrist_y = np.minimum(_joint(truth, "left_wrist")[:, 1], _joint(truth, "right_wrist")[:, 1])
    assert wrist_y[after].min() < 0.12  # a wrist at the snow (the hand reaches below it)
    assert _trunk_from_vertical_deg(truth)[after].max() > 55  # the trunk bent far
    assert _joint(truth, "pelvis")[-1, 1] > 0.55  # and up riding again by the end
    assert truth["expected"]["landing_shown"] == "sketchy"


@pytest.mark.parametrize(("spec", "trailing"), [("regular,wildcat", "right"), ("goofy,wildcat", "left")])
def test_a_wildcat_turns_about_the_front_back_axis(trick_clip: Render, spec: str, trailing: str) -> None:
    _, truth = trick_clip(spec, view="front", size=96)
    jump = truth["jumps"][0]
    t0, t1 = jump["takeoff_frame"], jump["landing_frame"]
    left = _joint(truth, "left_shoulder") - _joint(truth, "right_shoulder")
    up = 0.5 * (_joint(truth, "left_shoulder") + _joint(truth, "right_shoulder")) - _joint(truth, "pelvis")
    forward = np.cross(left, up)
    forward /= np.linalg.norm(forward, axis=1, keepdims=True)
    # the chest keeps facing the camera (+z) all through the air: the rotation is about the front-back axis
    assert np.all(forward[t0 : t1 + 1, 2] > 0.9)
    # the torso turns a full turn in the picture's plane, the head first towards the trailing foot's side
    angle = np.degrees(np.unwrap(np.arctan2(up[:, 0], up[:, 1])))  # positive: head towards +x
    trailing_x = np.sign(_joint(truth, f"{trailing}_ankle")[0, 0] - _joint(truth, f"{_other(trailing)}_ankle")[0, 0])
    assert (angle[t1] - angle[t0]) * trailing_x == pytest.approx(360.0, abs=3.0)
    assert (angle[(t0 + t1) // 2 - 1] - angle[t0]) * trailing_x > 60
    assert truth["jumps"][0]["roll_direction"] == "wildcat" and truth["expected"]["trick_shown"] == "wildcat"
    assert truth["expected"]["rotation"]["roll"] == {"nominal_deg": 360, "measured_deg": 360.0, "direction": "wildcat"}


@pytest.mark.parametrize(
    ("spec", "at_touch", "landing"),
    [
        # 70 short at touch-down: the board pivots the rest on the snow; a big under-rotation is sketchy
        ("regular,fs360,under=70", 290.0, "sketchy"),
        # 30 past: the board pivots back
        ("goofy,bs360,over=30", 390.0, "stomped"),
    ],
)
def test_a_spin_landed_short_or_past_is_finished_on_the_snow(
    trick_clip: Render, spec: str, at_touch: float, landing: str
) -> None:
    _, truth = trick_clip(spec, view="front", size=96, fps=20.0)
    jump = truth["jumps"][0]
    line = _joint(truth, "left_shoulder") - _joint(truth, "right_shoulder")
    yaw = np.degrees(np.unwrap(np.arctan2(-line[:, 2], line[:, 0])))  # both spins turn left (counter-clockwise)
    times = np.asarray(truth["timestamps_s"])
    touch = int(np.argmax(times >= jump["landing_s"] - 1e-9))
    finished = int(np.argmax(times >= jump["landing_s"] + 0.3))
    assert yaw[touch] - yaw[0] == pytest.approx(at_touch, abs=3.0)
    assert yaw[finished] - yaw[0] == pytest.approx(360.0, abs=1.0)  # finished on the snow within 0.3 s
    assert yaw[-1] - yaw[0] == pytest.approx(360.0, abs=1.0)
    # the feet stay on the snow while it pivots
    ankles = np.minimum(_joint(truth, "left_ankle")[:, 1], _joint(truth, "right_ankle")[:, 1])
    assert ankles[touch:finished].max() < ankles[0] + 0.05
    spin = truth["expected"]["rotation"]["spin"]
    after = 360.0 - at_touch  # positive: still turning the same way on the snow; negative: pivoting back
    assert (spin["nominal_deg"], spin["measured_deg"], spin["after_landing_deg"]) == (360, at_touch, after)
    assert jump["spin_deg"] == 360.0 and jump["spin_in_air_deg"] == at_touch
    assert truth["expected"]["landing_shown"] == landing


def _rider_rows(frame: np.ndarray) -> np.ndarray:
    """Rows holding rider pixels (a red jacket, skin, the yellow board, or dark trousers and boots); the backdrop is
    sky, pale hills or snow, blue at least as strong as red."""
    rgb = frame.astype(np.int32)
    mask = (rgb[..., 0] - rgb[..., 2] > 40) | (rgb.max(axis=2) < 100)
    return np.flatnonzero(mask.any(axis=1))


def test_the_tiny_rider_is_under_60_pixels_in_the_picture(trick_clip: Render) -> None:
    video, truth = trick_clip("regular,fs360,tiny", view="front", size=480, fps=5.0)
    assert truth["video"]["width"] == 480
    assert truth["seen"]["rider_height_px"]["median"] < 60 and truth["seen"]["rider_height_px"]["max"] < 60
    heights = [rows[-1] - rows[0] + 1 for rows in map(_rider_rows, _frames(video)) if len(rows)]
    assert len(heights) == truth["video"]["frame_count"]  # seen in every frame, just small
    assert 20 < float(np.median(heights)) < 60
    assert truth["expected"]["scoreable"] is False and truth["expected"]["reason"] == "rider too small"


def test_a_small_frame_makes_the_rider_too_small_to_score(trick_clip: Render) -> None:
    _, small = trick_clip("regular,fs180,sketchy", view="front", size=96)  # shared with the sketchy test
    assert small["seen"]["rider_height_px"]["median"] < 60
    assert (small["expected"]["scoreable"], small["expected"]["reason"]) == (False, "rider too small")
    assert small["expected"]["trick"] is None and small["expected"]["landing"] is None  # no numbers it does not have
    _, large = trick_clip("goofy,bs360,hidden", view="front", size=128)  # shared with the hidden test
    assert large["seen"]["rider_height_px"]["median"] > 60  # ... a 128 px frame shows the rider over 60 px
    assert large["expected"]["reason"] == "rider hidden"


def test_the_hidden_rider_is_behind_the_banner_in_most_of_the_air(trick_clip: Render) -> None:
    video, truth = trick_clip("goofy,bs360,hidden", view="front", size=128)
    assert truth["seen"]["air_frames_hidden"] > 0.5
    frames = _frames(video)
    nose = _pixel(truth, "nose")
    jump = truth["jumps"][0]

    def banner_at(i: int) -> bool:
        x, y = (int(round(v)) for v in nose[i])
        if not (0 <= y < 128 and 0 <= x < 128):
            return True  # above the picture: hidden as well
        r, g, b = (int(c) for c in frames[i][y, x])
        return b - r > 80 and g < 140  # the banner's blue, not the pale sky

    apex = (jump["takeoff_frame"] + jump["landing_frame"]) // 2
    assert banner_at(apex)  # the face is behind the banner in the air...
    assert not banner_at(2)  # ...and in sight when riding in
    assert truth["expected"]["scoreable"] is False and truth["expected"]["reason"] == "rider hidden"


def _cli(argv: list[str]) -> tuple[int, str]:
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, errors.getvalue()


def test_cli_synth_reads_the_new_forms_and_refuses_bad_ones(tmp_path: Path) -> None:
    out = tmp_path / "c.mp4"
    code, err = _cli(["synth", "--trick", "backflip+wildcat", "--out", str(out)])
    assert code == 2 and "flip and a roll" in err and "goofy,switch,right540" in err  # the forms are listed
    code, err = _cli(["synth", "--trick", "goofy,360", "--view", "side", "--out", str(out)])
    assert code == 2 and "front or back view" in err
    assert not out.exists()
    code, err = _cli(["synth", "--trick", "goofy,switch,right540,air=0.5", "--out", str(out), "--size", "64x64",
                      "--fps", "5"])  # fmt: skip
    assert code == 0, err
    truth = json.loads(out.with_suffix(".truth.json").read_text())
    assert truth["expected"]["stance"] == "regular" and truth["expected"]["switch"] is True
    # ridden switch by a goofy rider: the left foot leads, so turning right (clockwise from above) is backside
    assert truth["expected"]["trick_shown"] == "switch backside 540"
