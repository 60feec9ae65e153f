"""A jump's name in the riders' own words, from the stance and the judge count of each rotation axis.

Axes are the rider's own (as `rotation.py`): spin about the long (up) axis, flip about the left-right axis,
roll about the front-back axis (a cartwheel). Counts are judge counts (`judge_count`: spin to the nearest 180,
flip and roll to the nearest 360). `{N}` is the spin count, `{side}` frontside or backside.

Frontside or backside comes from the spin direction and the RIDING stance (the foot that leads on the approach):

    riding stance         spin left (counter-clockwise from above)   spin right (clockwise from above)
    regular (left leads)  frontside                                  backside
    goofy (right leads)   backside                                   frontside

Wildcat or tamedog likewise: a roll that takes the head towards the trailing foot's side (backwards against the
travel) is a wildcat, towards the leading foot's side a tamedog.

The naming table, first matching row wins (switch: ridden in the stance that is not the rider's natural one;
unknown switch names as forward):

    | spin     | flips + rolls counted        | forward                  | switch                          |
    |----------|------------------------------|--------------------------|---------------------------------|
    | 0        | none                         | straight air             | straight air                    |
    | N >= 180 | none, frontside              | frontside N              | cab N                           |
    | N >= 180 | none, backside               | backside N               | switch backside N               |
    | 0        | 1 flip back / front          | backflip / frontflip     | (same)                          |
    | 0        | 2 (3) flips                  | double (triple) backflip | (same)                          |
    | 0        | 1 roll wildcat / tamedog     | wildcat / tamedog        | (same)                          |
    | 0        | 2 (3) rolls                  | double (triple) wildcat  | (same)                          |
    | 0        | flips and rolls              | backflip + wildcat       | (same)                          |
    | N >= 180 | 1, a backflip                | {side} rodeo N           | switch {side} rodeo N           |
    | N >= 180 | 1, any other flip or roll    | {side} cork N            | switch {side} cork N            |
    | N >= 180 | 2 (3)                        | {side} double cork N     | switch {side} double cork N     |

When the riding stance could not be seen, `{side}` is left out ("cork 720", "spin 360 left") and a roll's
direction is unknown ("roll" in place of wildcat/tamedog).
"""

from __future__ import annotations

__all__ = ["NAMING_TABLE", "STANCES", "name_trick", "roll_direction", "spin_side"]

STANCES = ("regular", "goofy")
_MULTIPLE = {1: "", 2: "double ", 3: "triple ", 4: "quadruple "}

# (rule, forward name, switch name): the table of the module docstring, as data the tests walk row by row.
NAMING_TABLE: tuple[tuple[str, str, str], ...] = (
    ("no spin, no flip or roll", "straight air", "straight air"),
    ("spin, frontside", "frontside {N}", "cab {N}"),
    ("spin, backside", "backside {N}", "switch backside {N}"),
    ("flips only", "{multiple}{back|front}flip", "{multiple}{back|front}flip"),
    ("rolls only", "{multiple}{wildcat|tamedog}", "{multiple}{wildcat|tamedog}"),
    ("flips and rolls, no spin", "{flip} + {roll}", "{flip} + {roll}"),
    ("spin with one backflip", "{side} rodeo {N}", "switch {side} rodeo {N}"),
    ("spin with one other flip or roll", "{side} cork {N}", "switch {side} cork {N}"),
    ("spin with two or more flips or rolls", "{side} {multiple}cork {N}", "switch {side} {multiple}cork {N}"),
)


def spin_side(riding_stance: str | None, spin_direction: str | None) -> str | None:
    """'frontside' or 'backside' for a spin to the rider's `spin_direction` from `riding_stance`; None if unknown."""
    if riding_stance not in STANCES or spin_direction not in ("left", "right"):
        return None
    left_leads = riding_stance == "regular"
    return "frontside" if (spin_direction == "left") == left_leads else "backside"


def roll_direction(riding_stance: str | None, roll_to: str | None) -> str | None:
    """'wildcat' or 'tamedog' for a roll taking the head to the rider's `roll_to` side ('left' or 'right')."""
    if riding_stance not in STANCES or roll_to not in ("left", "right"):
        return None
    trailing = "right" if riding_stance == "regular" else "left"
    return "wildcat" if roll_to == trailing else "tamedog"


def _times(count_deg: float) -> int:
    return int(round(abs(count_deg) / 360.0))


def _multiple(n: int) -> str:
    return _MULTIPLE.get(n, f"{n}x ")


def name_trick(
    *,
    stance: str | None,
    switch: bool | None,
    spin_deg: float,
    spin_direction: str | None,
    flip_deg: float = 0.0,
    flip_direction: str | None = None,
    roll_deg: float = 0.0,
    roll_direction: str | None = None,
) -> str:
    """The trick's name by the module's table.

    stance: the riding stance on the approach ('regular', 'goofy' or None if unseen); switch: whether that is not
    the rider's natural stance (None: unknown, named as forward). spin_deg, flip_deg, roll_deg: judge counts
    (unsigned); directions as in result.json: spin 'left'/'right', flip 'back'/'front', roll 'wildcat'/'tamedog'.
    """
    spin = int(round(abs(spin_deg) / 180.0)) * 180
    flips, rolls = _times(flip_deg), _times(roll_deg)
    prefix = "switch " if switch else ""
    if spin == 0:
        parts = []
        if flips:
            parts.append(f"{_multiple(flips)}{'frontflip' if flip_direction == 'front' else 'backflip'}")
        if rolls:
            parts.append(f"{_multiple(rolls)}{roll_direction or 'roll'}")
        return " + ".join(parts) if parts else "straight air"
    side = spin_side(stance, spin_direction)
    count = flips + rolls
    if count == 0:
        if side is None:
            return f"spin {spin} {spin_direction}" if spin_direction else f"spin {spin}"
        if switch and side == "frontside":
            return f"cab {spin}"
        return f"{prefix}{side} {spin}"
    head = f"{prefix}{side} " if side else prefix
    if count == 1 and flips == 1 and flip_direction == "back":
        return f"{head}rodeo {spin}"
    return f"{head}{_multiple(count)}cork {spin}"
