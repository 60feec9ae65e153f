"""The generator's riders rotating as riders do: rate= (a rate that varies in the air) and axis= (a spin about a
tilted axis), their spec forms, the motion they make (no body posed, no video) and the names the truth gives."""

from __future__ import annotations

import numpy as np
import pytest

from pose_service.body.model import ANNY_TO_Y_UP
from pose_service.errors import BadOption
from pose_service.synth import TRICK_FORMS, TrickSpec, parse_trick
from pose_service.synth.motion import make_motion, make_timeline, rotation_progress
from pose_service.synth.truth import expected_block, trick_name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the default: one rate from takeoff to landing
        ("720", TrickSpec(720, "left")),
        # 30 % faster early, slower late
        ("1080,rate=vary30", TrickSpec(1080, "left", rate="vary30")),
        # from rest to rest
        ("right540,rate=smooth", TrickSpec(540, "right", rate="smooth")),
        # a varying flip
        ("backflip,rate=vary25", TrickSpec(flip_deg=360, flip_direction="back", rate="vary25")),
        # an axis tilted 35 degrees, towards the rider's front by default
        ("720,axis=35", TrickSpec(720, "left", axis_tilt_deg=35.0)),
        # towards the left, with a varying rate
        (
            "right720,axis=50left,rate=smooth",
            TrickSpec(720, "right", rate="smooth", axis_tilt_deg=50.0, axis_toward="left"),
        ),
    ],
)
def test_rate_and_axis_forms_are_read(text: str, expected: TrickSpec) -> None:
    assert parse_trick(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "360,rate=fast",  # not a rate this knows
        "360,rate=vary0",  # no variation
        "360,rate=vary80",  # more than the 60 % allowed
        "straight,rate=smooth",  # nothing rotates
        "540,axis=35",  # half a turn about a tilted axis lands the rider tilted
        "720,axis=70",  # tilted past 65: more a flip than a spin
        "cork720,axis=35",  # the axis is the whole rotation: no roll with it
        "720,axis=35,under=40",  # nor a spin landed short
        "720,axis=35up",  # towards front, back, left or right only
    ],
)
def test_bad_rate_and_axis_are_refused_listing_the_forms(text: str) -> None:
    with pytest.raises(BadOption) as info:
        parse_trick(text)
    assert "rate=vary30" in str(info.value.hint) and "axis=35" in str(info.value.hint)


def test_forms_list_documents_rate_and_axis() -> None:
    forms = " ".join(TRICK_FORMS)
    assert all(word in forms for word in ("rate=steady", "rate=vary30", "rate=smooth", "axis=35", "axis=35left"))


@pytest.mark.parametrize(
    ("rate", "early", "late"),
    [
        ("steady", 1.0, 1.0),  # one rate
        ("vary30", 1.3, 0.7),  # 30 % above the mean a quarter in, 30 % below at three quarters
        ("smooth", 1.0, 1.0),  # from rest, twice the mean at half way (here, a quarter in, the mean again)
    ],
)
def test_progress_is_monotone_from_0_to_1_with_the_rate_asked(rate: str, early: float, late: float) -> None:
    u = np.linspace(0.0, 1.0, 2001)
    w = rotation_progress(rate, u)
    rate_of = np.gradient(w, u)
    assert w[0] == 0.0 and w[-1] == pytest.approx(1.0) and np.all(np.diff(w) >= 0)
    assert rate_of[500] == pytest.approx(early, abs=0.01) and rate_of[1500] == pytest.approx(late, abs=0.01)
    if rate == "smooth":
        assert rate_of[0] == pytest.approx(0.0, abs=0.01) and rate_of[1000] == pytest.approx(2.0, abs=0.01)


def _rotation(text: str, view: str = "front") -> tuple[np.ndarray, object]:
    trick = parse_trick(text)
    line = make_timeline(trick, 30.0)
    labels = ["upperleg01.L", "lowerleg01.L", "foot.L", "upperleg01.R", "lowerleg01.R", "foot.R", "upperarm01.L",
              "upperarm01.R", "lowerarm01.L", "lowerarm01.R", "wrist.L", "wrist.R"]  # fmt: skip
    motion = make_motion(trick, line, bone_labels=labels, rest_heads=np.random.default_rng(0).normal(size=(12, 3)),
                         view=view, speed_m_s=2.0)  # fmt: skip
    return motion.rotation @ np.linalg.inv(np.array(ANNY_TO_Y_UP)), line


@pytest.mark.parametrize(
    ("text", "tilt"),
    [
        ("720,axis=20", 20.0),  # 20 degrees off vertical
        ("right720,axis=35back", 35.0),  # 35, towards the back, turning right
        ("720,axis=50left,rate=vary30", 50.0),  # 50, with the rate varying
    ],
)
def test_off_axis_spin_turns_about_one_tilted_axis(text: str, tilt: float) -> None:
    body, line = _rotation(text)
    air = np.flatnonzero((line.times > line.takeoff_s) & (line.times < line.landing_s))
    start = body[line.takeoff_frame - 1]
    axes = []
    for i in air[::3]:
        rel = body[i] @ start.T  # the turn so far, in the world
        w, v = np.linalg.eig(rel)
        axis = np.real(v[:, np.argmin(np.abs(w - 1.0))])
        axes.append(axis * np.sign(axis[1]))
    axes_arr = np.array(axes)
    assert np.allclose(axes_arr, axes_arr[0], atol=1e-6)  # one axis throughout: fixed in the world
    assert np.degrees(np.arccos(axes_arr[0][1])) == pytest.approx(tilt, abs=1e-6)
    assert np.allclose(body[line.landing_frame + 2], start, atol=1e-9)  # upright again at landing
    ups = body[air][:, :, 1]  # the body's up axis in the world
    assert np.degrees(np.arccos(ups[:, 1].min())) == pytest.approx(2 * tilt, abs=3.0)  # twice the tilt at most


@pytest.mark.parametrize(
    ("text", "view", "name", "roll", "flip"),
    [
        ("720,axis=35", "front", "frontside 720", None, None),  # 35 off: the head stays above the hips
        ("720,axis=50", "front", "frontside double cork 720", "wildcat", None),  # upside down twice: two rolls
        ("right720,axis=50left", "front", "backside double cork 720", None, "back"),  # two flips (backwards)
        ("goofy,720,axis=50back", "back", "backside double cork 720", "wildcat", None),  # goofy, leaning back
        ("360,axis=55left", "front", "frontside cork 360", None, "front"),  # once upside down, a front flip
        ("1080,rate=vary30", "front", "frontside 1080", None, None),  # a varying rate changes no count
    ],
)
def test_truth_counts_an_off_axis_spin_by_its_tilt(
    text: str, view: str, name: str, roll: str | None, flip: str | None
) -> None:
    trick = parse_trick(text)
    assert trick_name(trick, view) == name
    rotation = expected_block(trick, view)["rotation"]
    assert rotation["roll"]["direction"] == roll and rotation["flip"]["direction"] == flip
    assert rotation["spin"]["nominal_deg"] == trick.spin_deg
