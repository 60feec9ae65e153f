"""The naming table of trick.py, row by row, with the frontside/backside and wildcat/tamedog rules."""

from __future__ import annotations

import pytest

from pose_service.analysis.trick import NAMING_TABLE, name_trick, roll_direction, spin_side


def _name(stance="regular", switch=False, spin=0, spin_dir=None, flip=0, flip_dir=None, roll=0, roll_dir=None):  # type: ignore[no-untyped-def]
    return name_trick(stance=stance, switch=switch, spin_deg=spin, spin_direction=spin_dir, flip_deg=flip,
                      flip_direction=flip_dir, roll_deg=roll, roll_direction=roll_dir)  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "want"),
    [
        # row 1: no spin, no flip or roll
        ({}, "straight air"),
        ({"switch": True}, "straight air"),
        # row 2: spin, frontside (regular, to the left = counter-clockwise from above); switch: cab
        ({"spin": 360, "spin_dir": "left"}, "frontside 360"),
        ({"stance": "goofy", "spin": 540, "spin_dir": "right"}, "frontside 540"),
        ({"switch": True, "spin": 180, "spin_dir": "left"}, "cab 180"),
        ({"stance": "goofy", "switch": True, "spin": 1080, "spin_dir": "right"}, "cab 1080"),
        # row 3: spin, backside (a regular rider's backside 360 is clockwise from above); switch: switch backside
        ({"spin": 360, "spin_dir": "right"}, "backside 360"),
        ({"stance": "goofy", "spin": 540, "spin_dir": "left"}, "backside 540"),
        ({"switch": True, "spin": 720, "spin_dir": "right"}, "switch backside 720"),
        ({"spin": 1440, "spin_dir": "right"}, "backside 1440"),
        # row 4: flips only, switch or not
        ({"flip": 360, "flip_dir": "back"}, "backflip"),
        ({"flip": 360, "flip_dir": "front", "switch": True}, "frontflip"),
        ({"flip": 720, "flip_dir": "back"}, "double backflip"),
        ({"flip": 720, "flip_dir": "front"}, "double frontflip"),
        # row 5: rolls only
        ({"roll": 360, "roll_dir": "wildcat"}, "wildcat"),
        ({"roll": 360, "roll_dir": "tamedog"}, "tamedog"),
        ({"roll": 720, "roll_dir": "wildcat"}, "double wildcat"),
        # row 6: a flip and a roll, no spin
        ({"flip": 360, "flip_dir": "back", "roll": 360, "roll_dir": "wildcat"}, "backflip + wildcat"),
        # row 7: spin with one backflip: rodeo
        ({"spin": 540, "spin_dir": "right", "flip": 360, "flip_dir": "back"}, "backside rodeo 540"),
        ({"switch": True, "spin": 540, "spin_dir": "left", "flip": 360, "flip_dir": "back"},
         "switch frontside rodeo 540"),
        # row 8: spin with one other flip or roll: cork
        ({"spin": 720, "spin_dir": "left", "roll": 360, "roll_dir": "wildcat"}, "frontside cork 720"),
        ({"spin": 360, "spin_dir": "right", "flip": 360, "flip_dir": "front"}, "backside cork 360"),
        ({"switch": True, "spin": 720, "spin_dir": "right", "roll": 360, "roll_dir": "tamedog"},
         "switch backside cork 720"),
        # row 9: spin with two flips or rolls: double cork
        ({"spin": 1080, "spin_dir": "right", "roll": 720, "roll_dir": "wildcat"}, "backside double cork 1080"),
        ({"spin": 1080, "spin_dir": "left", "flip": 720, "flip_dir": "back"}, "frontside double cork 1080"),
        ({"switch": True, "stance": "goofy", "spin": 1440, "spin_dir": "right", "roll": 720, "roll_dir": "wildcat"},
         "switch frontside double cork 1440"),  # off-axis switch is "switch {side}", never "cab"
    ],
)
def test_every_row_of_the_table(kwargs: dict, want: str) -> None:  # type: ignore[type-arg]
    assert _name(**kwargs) == want


# One example per row of NAMING_TABLE, keyed by the row's rule: the rotation (regular stance; the switch column is
# the same rotation ridden switch) and the values of the row's placeholders in both name columns.
ROW_EXAMPLES: dict[str, tuple[dict, dict[str, str]]] = {  # type: ignore[type-arg]
    "no spin, no flip or roll": ({}, {}),
    "spin, frontside": ({"spin": 540, "spin_dir": "left"}, {"N": "540"}),
    "spin, backside": ({"spin": 360, "spin_dir": "right"}, {"N": "360"}),
    "flips only": ({"flip": 720, "flip_dir": "front"}, {"multiple": "double ", "back|front": "front"}),
    "rolls only": ({"roll": 360, "roll_dir": "tamedog"}, {"multiple": "", "wildcat|tamedog": "tamedog"}),
    "flips and rolls, no spin": ({"flip": 360, "flip_dir": "back", "roll": 360, "roll_dir": "wildcat"},
                                 {"flip": "backflip", "roll": "wildcat"}),
    "spin with one backflip": ({"spin": 540, "spin_dir": "right", "flip": 360, "flip_dir": "back"},
                               {"side": "backside", "N": "540"}),
    "spin with one other flip or roll": ({"spin": 720, "spin_dir": "left", "roll": 360, "roll_dir": "wildcat"},
                                         {"side": "frontside", "N": "720"}),
    "spin with two or more flips or rolls": ({"spin": 1080, "spin_dir": "right", "roll": 720, "roll_dir": "wildcat"},
                                             {"side": "backside", "multiple": "double ", "N": "1080"}),
}  # fmt: skip


def _fill(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    assert "{" not in template, f"placeholder left in {template!r}: add its value to ROW_EXAMPLES"
    return template


@pytest.mark.parametrize(("rule", "forward", "switch"), NAMING_TABLE, ids=[row[0] for row in NAMING_TABLE])
def test_name_trick_follows_each_row_of_naming_table(rule: str, forward: str, switch: str) -> None:
    assert rule in ROW_EXAMPLES, f"NAMING_TABLE row {rule!r} has no example in ROW_EXAMPLES"
    rotation, values = ROW_EXAMPLES[rule]
    assert _name(**rotation) == _fill(forward, values)
    assert _name(**rotation, switch=True) == _fill(switch, values)


def test_every_example_is_a_row_of_the_table() -> None:
    assert set(ROW_EXAMPLES) == {row[0] for row in NAMING_TABLE}
    assert all(len(row) == 3 and all(row) for row in NAMING_TABLE)


def test_counts_round_like_a_judge() -> None:
    # Counts arrive as judge counts; a stray 170 or 190 still names the 180.
    assert _name(spin=190, spin_dir="left") == "frontside 180"
    assert _name(spin=80, spin_dir="left") == "straight air"


def test_unknown_stance_leaves_the_side_out() -> None:
    assert _name(stance=None, spin=360, spin_dir="left") == "spin 360 left"
    assert _name(stance=None, spin=720, spin_dir="left", flip=360, flip_dir="front") == "cork 720"
    assert _name(stance=None, roll=360) == "roll"
    # switch unknown (no --stance given): the forward names
    assert _name(switch=None, spin=360, spin_dir="right") == "backside 360"


@pytest.mark.parametrize(
    ("stance", "spin", "side"),
    [("regular", "left", "frontside"), ("regular", "right", "backside"), ("goofy", "left", "backside"),
     ("goofy", "right", "frontside"), (None, "left", None), ("regular", None, None)],
)  # fmt: skip
def test_spin_side(stance: str | None, spin: str | None, side: str | None) -> None:
    assert spin_side(stance, spin) == side


@pytest.mark.parametrize(
    ("stance", "head_to", "name"),
    [("regular", "right", "wildcat"), ("regular", "left", "tamedog"), ("goofy", "left", "wildcat"),
     ("goofy", "right", "tamedog"), (None, "right", None)],
)  # fmt: skip
def test_roll_direction_follows_the_trailing_foot(stance: str | None, head_to: str, name: str | None) -> None:
    assert roll_direction(stance, head_to) == name
