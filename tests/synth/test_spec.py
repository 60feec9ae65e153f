"""parse_trick and TrickSpec: the readable trick forms, and the ones refused."""

from __future__ import annotations

import pytest

from pose_service.errors import BadOption
from pose_service.synth import TrickSpec, parse_trick

CASES = [
    # no rotation at all
    ("straight", TrickSpec()),
    # a bare number is a spin, to the left by default
    ("360", TrickSpec(360, "left")),
    # the spin prefix changes nothing
    ("spin360", TrickSpec(360, "left")),
    # an explicit direction
    ("left360", TrickSpec(360, "left")),
    ("right540", TrickSpec(540, "right")),
    # case and surrounding blanks are ignored
    ("  Right180 ", TrickSpec(180, "right")),
    # flips are 360 unless a number follows
    ("backflip", TrickSpec(flip_deg=360, flip_direction="back")),
    ("frontflip", TrickSpec(flip_deg=360, flip_direction="front")),
    ("backflip720", TrickSpec(flip_deg=720, flip_direction="back")),
    # a flip with a spin, in either order
    ("backflip+360", TrickSpec(360, "left", 360, "back")),
    ("right180+frontflip", TrickSpec(180, "right", 360, "front")),
    # key=value form, every key
    ("spin=540,spin_dir=right,flip=360,flip_dir=back,air=1.0", TrickSpec(540, "right", 360, "back", 1.0)),
    # key=value with default directions
    ("spin=720", TrickSpec(720, "left")),
    # a readable form with the air time added
    ("360,air=1.2", TrickSpec(360, "left", air_time_s=1.2)),
    # the clips with no jump: riding on, and a crouch held for the air time
    ("ride", TrickSpec(kind="ride")),
    ("crouch,air=0.6", TrickSpec(kind="crouch", air_time_s=0.6)),
    # a drop off a box: a jump, landing lower
    ("drop", TrickSpec(kind="drop")),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0].strip() for c in CASES])
def test_parse_trick_reads_the_documented_forms(text: str, expected: TrickSpec) -> None:
    spec = parse_trick(text)
    assert spec == expected
    assert spec.spec == text.strip()


BAD = [
    # empty
    "",
    # not a trick
    "kickflip",
    # two spins
    "360+540",
    # a flip that would land on the head
    "flip=180",
    # spin over the limit
    "spin=5000",
    # unknown key
    "spin=360,twist=2",
    # a direction that does not exist
    "spin=360,spin_dir=up",
    # a direction for no rotation
    "spin=0,spin_dir=left",
    # air time out of range
    "360,air=9",
    # not a number
    "spin=lots",
    # two readable names
    "360,backflip",
]


@pytest.mark.parametrize("text", BAD)
def test_parse_trick_refuses_with_the_valid_forms(text: str) -> None:
    with pytest.raises(BadOption) as info:
        parse_trick(text)
    assert "backflip+360" in info.value.hint  # the hint lists the forms
    assert repr(text) in info.value.message


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [
        # negative totals are refused: totals are unsigned, the direction carries the sign
        ({"spin_deg": -360, "spin_direction": "left"}, "spin_deg"),
        # a spin needs a direction
        ({"spin_deg": 360}, "spin_direction"),
        # flips come in whole turns
        ({"flip_deg": 540, "flip_direction": "back"}, "flip_deg"),
        # air time bounds
        ({"air_time_s": 0.0}, "air_time_s"),
        # not a number
        ({"spin_deg": "360", "spin_direction": "left"}, "spin_deg"),
    ],
)
def test_trickspec_names_the_bad_argument(kwargs: dict, arg: str) -> None:
    with pytest.raises(ValueError, match=arg):
        TrickSpec(**kwargs)


def test_explanation_reads_like_a_sentence() -> None:
    assert TrickSpec(360, "left").explanation() == "Spin 360° to the left, 0.80 s in the air."
    assert parse_trick("backflip+right540").explanation() == (
        "Backflip 360° with a spin 540° to the right, 0.80 s in the air."
    )
    assert TrickSpec().explanation() == "Straight air, no rotation, 0.80 s in the air."


def test_a_clip_with_no_jump_has_no_rotation() -> None:
    with pytest.raises(ValueError, match="no spin, flip or roll"):
        TrickSpec(360, "left", kind="crouch")
    with pytest.raises(ValueError, match="kind must be one of"):
        TrickSpec(kind="walk")
    assert not parse_trick("ride").jumps and parse_trick("straight").jumps and parse_trick("drop").jumps
    assert parse_trick("drop").drop_m > 0 and parse_trick("straight").drop_m == 0
