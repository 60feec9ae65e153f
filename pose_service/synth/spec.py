"""What trick a synthetic clip shows: `TrickSpec`, and `parse_trick` for the readable forms people type."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from pose_service.errors import BadOption

__all__ = ["AXIS_TOWARDS", "KINDS", "LANDINGS", "STANCES", "VISIBILITIES", "TrickSpec", "parse_trick", "TRICK_FORMS"]

MAX_SPIN_DEG = 2160.0
MAX_FLIP_DEG = 1080.0
MAX_OFFSET_DEG = 90.0
MIN_AIR_S, MAX_AIR_S = 0.3, 2.0
MAX_VARY_PCT = 60.0  # rate=varyNN: the rate swings by at most this share either way
MAX_AXIS_TILT_DEG = 65.0  # further over, a turn is more a flip than a spin
INVERTED_TILT_DEG = 45.0  # a spin axis tilted past this turns the rider upside down once a turn (see off_axis_turns)

TRICK_FORMS = (
    "straight",
    "360, spin360, left360, right540 (a spin; left when no direction is given)",
    "backflip, frontflip, backflip720",
    "wildcat, tamedog, wildcat720 (a roll about the rider's front-back axis)",
    "backflip+360, frontflip+right180, wildcat+360 (a flip or roll with a spin)",
    "cork720 (a 720 spin with a wildcat roll), doublecork1080 (two rolls), rodeo540 (a backflip with a 540)",
    "regular or goofy (the rider's natural stance; default: what the view shows, front regular, back goofy), "
    "switch (ridden in the other stance): goofy,switch,right540",
    "frontside360, backside540, fs180, bs360, cab360 (switch frontside): need regular or goofy",
    "landings: stomped (default), sketchy (a hand dragged on the snow), crash (the body goes down and stays), "
    "airbag (onto an airbag's top, sinking in and falling back onto it)",
    "360,under=40 or 360,over=30 (the spin lands 40 deg short or 30 deg past, finished on the snow)",
    "tiny (the rider under 60 px tall: filmed from far away), hidden (a banner hides the rider in the air)",
    "rate=steady (default: one rate from takeoff to landing), rate=vary30 (the rate 30 % above the mean at a "
    "quarter of the flight, 30 % below at three quarters: tucked early, opened to spot the landing), rate=smooth "
    "(from rest at takeoff up to twice the mean mid-air and back to rest at landing)",
    "720,axis=35 (the spin about an axis tilted 35 deg off vertical, towards the rider's front; axis=35back, "
    "axis=35left, axis=35right; a spin of whole turns, no flip or roll given; past 45 deg each turn goes upside "
    "down and counts as a cork: 720,axis=50 is a double cork 720)",
    "spin=540,spin_dir=right,flip=360,flip_dir=back,roll=360,roll_dir=wildcat,air=1.0,stance=goofy,switch=yes,"
    "landing=crash,rider=tiny,rate=vary20",
    "360,grab=indy or straight,indy,hold=0.5 (a grab held 0.5 s mid-air, default 0.4; indy, mute, melon, "
    "stalefish, method, japan, nose, tail, crail, seatbelt, truck_driver, roast_beef)",
    "ride (riding on, no jump), crouch (a deep crouch and up again, no jump), drop (off a box onto the snow)",
    "any of the above followed by ,air=SECONDS (for ride and crouch: how long the crouch is held)",
)

KINDS = ("jump", "ride", "crouch", "drop")
LANDINGS = ("stomped", "sketchy", "crash", "airbag")
STANCES = ("regular", "goofy")
VISIBILITIES = ("clear", "tiny", "hidden")
AXIS_TOWARDS = ("front", "back", "left", "right")
_RATE = re.compile(r"^(steady|smooth|vary(\d+(?:\.\d+)?))$")
DROP_BOX_M = 0.8  # the box a "drop" rides off: its top above the snow
AIRBAG_TOP_M = 0.5  # an airbag's landing surface above the snow the rider took off from
AIRBAG_SINK_M = 0.35  # how deep the rider sinks into it
# The stance a view shows when the spec names none: the leading foot is on the travel side, the rider travels
# along +x, so facing the camera (left on +x) the left foot leads.
VIEW_STANCE = {"front": "regular", "back": "goofy"}


@dataclass(frozen=True)
class TrickSpec:
    """One jump: unsigned rotation totals over the airborne phase, as a judge counts them, and the air time.

    spin_deg: rotation about the world vertical; spin_direction "left" is counter-clockwise seen from above.
    flip_deg: rotation about the rider's own left-right axis, a multiple of 360 (a rider lands on the feet);
        flip_direction "front" sends the head forward (towards the chest) first, "back" backward.
    roll_deg: rotation about the rider's own front-back axis (a cartwheel in the body frame), a multiple of 360;
        roll_direction "wildcat" sends the head towards the trailing foot's side (backward relative to travel),
        "tamedog" towards the leading foot's side.
    A direction is given exactly when its total is above zero. `spec` is the text it was parsed from.
    kind: "jump", or a clip with no jump that the analysis must not call one: "ride" (riding on in the
        stance) and "crouch" (down to a deep crouch over `air_time_s` and up again, the feet on the snow);
        or "drop": riding off a box `DROP_BOX_M` high, landing on the snow below.
    stance: the rider's natural stance, "regular" (left foot leads) or "goofy"; None: the stance the view
        shows (`VIEW_STANCE`). switch: ridden in the other stance. Stance needs the front or back view: seen
        from the side, the rider faces the direction of travel and no foot leads in the picture.
    spin_offset_deg: where the spin stands at touch-down against its total: -40 lands 40 degrees short (the
        board pivots the rest on the snow in `FINISH_S`), +30 lands 30 degrees past (and pivots back).
    landing: "stomped", "sketchy" (trunk bent far, one hand dragged on the snow) or "crash" (the body goes down
        to the snow and stays). visibility: "clear", "tiny" (filmed from far away: the rider under 60 px tall)
        or "hidden" (a banner in front hides the rider's upper body in most of the air).
    rate: how the rotation runs in time (`motion.rotation_progress`): "steady" (one rate), "varyNN" (the rate
        NN % above the mean a quarter into the flight and NN % below at three quarters, a sine), "smooth" (from
        rest at takeoff to twice the mean mid-air and back to rest at landing, a raised cosine).
    axis_tilt_deg, axis_toward: the spin turns about an axis fixed in the body (and in the world: angular
        momentum) tilted this far off the body's up axis towards its "front", "back", "left" or "right" at
        takeoff; the spin's total is then the turn about that axis (whole turns, so the rider lands upright) and
        no flip or roll is given: past 45 degrees each turn takes the head below the hips once, a cork
        (`off_axis_turns`).
    grab, grab_hold_s: a grab (`synth.grab.GRABS`) held this long in the middle of the flight (eased in and out
        over `synth.grab.EASE_S` either side); None: no grab.
    """

    spin_deg: float = 0.0
    spin_direction: str | None = None
    flip_deg: float = 0.0
    flip_direction: str | None = None
    air_time_s: float = 0.8
    spec: str | None = field(default=None, compare=False)
    kind: str = "jump"
    roll_deg: float = 0.0
    roll_direction: str | None = None
    stance: str | None = None
    switch: bool = False
    spin_offset_deg: float = 0.0
    landing: str = "stomped"
    visibility: str = "clear"
    rate: str = "steady"
    axis_tilt_deg: float = 0.0
    axis_toward: str = "front"
    grab: str | None = None
    grab_hold_s: float = 0.4

    def __post_init__(self) -> None:
        for name in ("spin_deg", "flip_deg", "roll_deg", "air_time_s", "spin_offset_deg", "axis_tilt_deg"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            object.__setattr__(self, name, float(value))
        if not 0.0 <= self.spin_deg <= MAX_SPIN_DEG:
            raise ValueError(f"spin_deg must be between 0 and {MAX_SPIN_DEG:.0f}, got {self.spin_deg!r}")
        for name in ("flip_deg", "roll_deg"):
            value = getattr(self, name)
            if not 0.0 <= value <= MAX_FLIP_DEG:
                raise ValueError(f"{name} must be between 0 and {MAX_FLIP_DEG:.0f}, got {value!r}")
            if value % 360.0:
                raise ValueError(f"{name} must be a multiple of 360 (the rider lands on the feet), got {value!r}")
        if self.flip_deg and self.roll_deg:
            raise ValueError("a flip and a roll in one jump is not a trick this draws: give one of them")
        if not MIN_AIR_S <= self.air_time_s <= MAX_AIR_S:
            raise ValueError(f"air_time_s must be between {MIN_AIR_S} and {MAX_AIR_S} s, got {self.air_time_s!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind != "jump" and (self.spin_deg or self.flip_deg or self.roll_deg):
            raise ValueError(f"a {self.kind} clip has no spin, flip or roll; got spin {self.spin_deg:.0f}°, "
                             f"flip {self.flip_deg:.0f}°, roll {self.roll_deg:.0f}°")  # fmt: skip
        _check_direction("spin_direction", self.spin_direction, ("left", "right"), self.spin_deg, "spin_deg")
        _check_direction("flip_direction", self.flip_direction, ("front", "back"), self.flip_deg, "flip_deg")
        _check_direction("roll_direction", self.roll_direction, ("wildcat", "tamedog"), self.roll_deg, "roll_deg")
        if self.stance is not None and self.stance not in STANCES:
            raise ValueError(f"stance must be one of {STANCES} or None, got {self.stance!r}")
        if not isinstance(self.switch, bool):
            raise ValueError(f"switch must be True or False, got {self.switch!r}")
        if self.switch and self.stance is None:
            raise ValueError("switch needs the rider's natural stance: add regular or goofy")
        if self.spin_offset_deg:
            if not self.spin_deg:
                raise ValueError("under= and over= need a spin (the board finishes the spin on the snow)")
            if abs(self.spin_offset_deg) > MAX_OFFSET_DEG:
                raise ValueError(f"under= and over= must be at most {MAX_OFFSET_DEG:.0f}°, got "
                                 f"{abs(self.spin_offset_deg):.0f}")  # fmt: skip
        if self.landing not in LANDINGS:
            raise ValueError(f"landing must be one of {LANDINGS}, got {self.landing!r}")
        if not self.jumps and self.landing != "stomped":
            raise ValueError(f"a {self.kind} clip has no landing; got landing={self.landing}")
        if self.visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {VISIBILITIES}, got {self.visibility!r}")
        self._check_rate_and_axis()
        self._check_grab()

    def _check_grab(self) -> None:
        if isinstance(self.grab_hold_s, bool) or not isinstance(self.grab_hold_s, int | float):
            raise ValueError(f"grab_hold_s must be a number, got {self.grab_hold_s!r}")
        object.__setattr__(self, "grab_hold_s", float(self.grab_hold_s))
        if self.grab is None:
            return
        from pose_service.synth.grab import EASE_S, grab_places

        grab_places(self.grab)
        if self.kind != "jump":
            raise ValueError(f"a grab needs a jump, not a {self.kind}")
        longest = self.air_time_s - 2 * EASE_S - 0.1
        if not 0.1 <= self.grab_hold_s <= longest:
            raise ValueError(f"hold= must be from 0.1 s to {longest:.2f} s (the air time less the reach to the "
                             f"board and back), got {self.grab_hold_s!r}")  # fmt: skip

    def _check_rate_and_axis(self) -> None:
        rate = _RATE.match(self.rate) if isinstance(self.rate, str) else None
        if rate is None:
            raise ValueError(f"rate must be steady, smooth or varyNN (NN: percent), got {self.rate!r}")
        if rate.group(2) is not None and not 0.0 < float(rate.group(2)) <= MAX_VARY_PCT:
            raise ValueError(f"rate=varyNN must vary by more than 0 and at most {MAX_VARY_PCT:.0f} %, got {self.rate}")
        if self.rate != "steady" and not (self.spin_deg or self.flip_deg or self.roll_deg):
            raise ValueError(f"rate={self.rate} needs a rotation (a spin, flip or roll)")
        if self.axis_toward not in AXIS_TOWARDS:
            raise ValueError(f"axis_toward must be one of {AXIS_TOWARDS}, got {self.axis_toward!r}")
        if not self.axis_tilt_deg:
            return
        if not 0.0 < self.axis_tilt_deg <= MAX_AXIS_TILT_DEG:
            raise ValueError(f"axis= must be above 0 and at most {MAX_AXIS_TILT_DEG:.0f}°, got {self.axis_tilt_deg!r}")
        if not self.spin_deg or self.spin_deg % 360.0:
            raise ValueError(f"axis= needs a spin of whole turns (360, 720, ...: the rider lands upright), got "
                             f"{self.spin_deg:.0f}")  # fmt: skip
        if self.flip_deg or self.roll_deg or self.spin_offset_deg:
            raise ValueError("axis= is the whole rotation: no flip, roll, under= or over= with it")

    @property
    def spin_signed_deg(self) -> float:
        """Spin as a rotation about +y (world up): positive to the left."""
        return self.spin_deg if self.spin_direction == "left" else -self.spin_deg

    @property
    def flip_signed_deg(self) -> float:
        """Flip as a rotation about the rider's own left axis: positive sends the head forward."""
        return self.flip_deg if self.flip_direction == "front" else -self.flip_deg

    def natural_stance(self, view: str) -> str | None:
        """The rider's natural stance: the spec's, else the one the view shows (None seen from the side)."""
        return self.stance if self.stance is not None else VIEW_STANCE.get(view)

    def riding_stance(self, view: str) -> str | None:
        """Which foot leads on the approach: "regular" (left) or "goofy" (right); None seen from the side."""
        natural = self.natural_stance(view)
        if natural is None or not self.switch:
            return natural
        return "goofy" if natural == "regular" else "regular"

    def roll_signed_deg(self, view: str) -> float:
        """Roll as a rotation about the rider's own forward axis (out of the chest); positive sends the head to
        the rider's right. A wildcat sends the head to the trailing foot's side: the right for a rider whose left
        foot leads."""
        if not self.roll_deg:
            return 0.0
        towards_trailing = self.roll_direction == "wildcat"
        left_leads = self.riding_stance(view) != "goofy"
        return self.roll_deg if towards_trailing == left_leads else -self.roll_deg

    @property
    def jumps(self) -> bool:
        """Whether the clip shows a jump (an airborne phase)."""
        return self.kind in ("jump", "drop")

    @property
    def drop_m(self) -> float:
        """How far below the takeoff the landing is (the box's height for a drop; an airbag's landing is above
        it: minus the bag's height; else 0)."""
        if self.landing == "airbag":
            return -AIRBAG_TOP_M
        return DROP_BOX_M if self.kind == "drop" else 0.0

    @property
    def rate_variation(self) -> float:
        """rate=varyNN: NN / 100; 0 otherwise."""
        return float(self.rate[4:]) / 100.0 if self.rate.startswith("vary") else 0.0

    @property
    def off_axis_turns(self) -> int:
        """How many times a spin about a tilted axis takes the head below the hips: the body's up axis sweeps a
        cone about the spin axis, reaching twice the tilt from vertical half a turn in; past 45 degrees that is
        below the horizontal, once per whole turn. 0 for an upright spin or a tilt of 45 or less."""
        if self.axis_tilt_deg <= INVERTED_TILT_DEG:
            return 0
        return int(round(self.spin_deg / 360.0))

    def counted_flip(self) -> tuple[float, str | None]:
        """(degrees, direction) of the flip a judge counts: the spec's, or an off-axis spin's inversions when the
        axis tilts towards the rider's left or right (the turn has a part about the left-right axis)."""
        if self.off_axis_turns and self.axis_toward in ("left", "right"):
            front = (self.axis_toward == "left") == (self.spin_direction == "left")
            return 360.0 * self.off_axis_turns, "front" if front else "back"
        return self.flip_deg, self.flip_direction

    def counted_roll(self, view: str) -> tuple[float, str | None]:
        """(degrees, direction) of the roll a judge counts: the spec's, or an off-axis spin's inversions when the
        axis tilts towards the rider's front or back (a part about the front-back axis: positive, head to the
        right, for a spin to the left about an axis tilted to the front)."""
        if self.off_axis_turns and self.axis_toward in ("front", "back"):
            head_right = (self.axis_toward == "front") == (self.spin_direction == "left")
            left_leads = self.riding_stance(view) != "goofy"
            return 360.0 * self.off_axis_turns, "wildcat" if head_right == left_leads else "tamedog"
        return self.roll_deg, self.roll_direction

    @property
    def spin_in_air_deg(self) -> float:
        """The spin the body really turns in the air (the total plus the offset: 320 for a 360 landed 40 short)."""
        return self.spin_deg + self.spin_offset_deg if self.spin_deg else 0.0

    def explanation(self) -> str:
        """One sentence a person reads, e.g. "Spin 360° to the left, 0.80 s in the air."."""
        if self.kind == "ride":
            return "Riding on, no jump."
        if self.kind == "crouch":
            return f"A deep crouch held {self.air_time_s:.2f} s and up again, no jump."
        if self.kind == "drop":
            return f"A drop off a {self.drop_m:.1f} m box, {self.air_time_s:.2f} s in the air."
        parts = []
        if self.flip_deg:
            name = "Frontflip" if self.flip_direction == "front" else "Backflip"
            parts.append(f"{name} {self.flip_deg:.0f}°")
        if self.roll_deg:
            parts.append(f"{(self.roll_direction or '').capitalize()} {self.roll_deg:.0f}°")
        if self.spin_deg:
            spin = f"spin {self.spin_deg:.0f}° to the {self.spin_direction}"
            if self.axis_tilt_deg:
                spin += f" about an axis tilted {self.axis_tilt_deg:.0f}° to the rider's {self.axis_toward}"
            parts.append(spin if parts else spin[0].upper() + spin[1:])
        head = " with a ".join(parts) if parts else "Straight air, no rotation"
        text = f"{head}, {self.air_time_s:.2f} s in the air."
        if self.spin_offset_deg:
            how = "short" if self.spin_offset_deg < 0 else "past"
            text += f" Landed {abs(self.spin_offset_deg):.0f}° {how}, finished on the snow."
        if self.rate != "steady":
            text += (" The rotation starts from rest, fastest mid-air, ends at rest." if self.rate == "smooth" else
                     f" The rotation runs {self.rate[4:]} % faster early and slower late.")  # fmt: skip
        if self.landing == "sketchy":
            text += " Sketchy landing: a hand dragged on the snow."
        elif self.landing == "crash":
            text += " Crashed: the body went down to the snow."
        elif self.landing == "airbag":
            text += " Landed in an airbag."
        if self.grab:
            text += f" Grab: {self.grab.replace('_', ' ')}, held {self.grab_hold_s:.2f} s."
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "spin_deg": self.spin_deg,
            "spin_direction": self.spin_direction,
            "flip_deg": self.flip_deg,
            "flip_direction": self.flip_direction,
            "roll_deg": self.roll_deg,
            "roll_direction": self.roll_direction,
            "air_time_s": self.air_time_s,
            "spec": self.spec,
            "kind": self.kind,
            "stance": self.stance,
            "switch": self.switch,
            "spin_offset_deg": self.spin_offset_deg,
            "landing": self.landing,
            "visibility": self.visibility,
            "rate": self.rate,
            "axis_tilt_deg": self.axis_tilt_deg,
            "axis_toward": self.axis_toward,
            "grab": self.grab,
            "grab_hold_s": self.grab_hold_s if self.grab else None,
        }


def _check_direction(name: str, value: str | None, valid: tuple[str, str], total: float, total_name: str) -> None:
    if total == 0.0:
        if value is not None:
            raise ValueError(f"{name} must be None when {total_name} is 0, got {value!r}")
    elif value not in valid:
        raise ValueError(f"{name} must be one of {valid} when {total_name} is above 0, got {value!r}")


_NUM = r"(\d+(?:\.\d+)?)"
_SIDE = r"(?:(spin|left|right|fs|bs|frontside|backside|cab)[-_ ]?)?"
_SPIN = re.compile(rf"^{_SIDE}{_NUM}$")
_FLIP = re.compile(rf"^(back|front)[-_ ]?flip[-_ ]?{_NUM}?$")
_ROLL = re.compile(rf"^(wildcat|tamedog)[-_ ]?{_NUM}?$")
_OFF_AXIS = re.compile(rf"^{_SIDE}(double[-_ ]?)?(cork|rodeo)[-_ ]?{_NUM}$")
_KEYS = {"spin", "spin_dir", "flip", "flip_dir", "roll", "roll_dir", "air", "stance", "switch", "landing", "under",
         "over", "rider", "rate", "axis", "grab", "hold"}  # fmt: skip
_WORD_KEYS = {"spin_dir", "flip_dir", "roll_dir", "stance", "switch", "landing", "rider", "rate", "axis", "grab"}
_GRAB_WORDS = ("indy", "mute", "melon", "stalefish", "method", "japan", "nose", "tail", "crail", "seatbelt",
               "truck_driver", "roast_beef")
_AXIS = re.compile(rf"^{_NUM}[-_ ]?(front|back|left|right)?$")
_MODIFIERS = {
    **{s: ("stance", s) for s in STANCES},
    "switch": ("switch", "yes"),
    "forward": ("switch", "no"),
    **{g: ("landing", g) for g in LANDINGS},
    "tiny": ("rider", "tiny"),
    "hidden": ("rider", "hidden"),
    **{g: ("grab", g) for g in _GRAB_WORDS},
}
_YES, _NO = ("yes", "true", "1", "on"), ("no", "false", "0", "off")


def parse_trick(spec: str) -> TrickSpec:
    """Read a trick as people type it (see `TRICK_FORMS`); anything else raises `BadOption` listing the forms."""
    text = spec.strip().lower() if isinstance(spec, str) else ""
    try:
        values = _parse(text)
        return TrickSpec(**values, spec=spec.strip())  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        raise BadOption(
            f"cannot read the trick {spec!r}: {exc}", hint="valid forms: " + "; ".join(TRICK_FORMS)
        ) from None


def _parse(text: str) -> dict[str, object]:
    if not text:
        raise ValueError("it is empty")
    values: dict[str, object] = {}
    parts = [part.strip() for part in text.split(",")]
    if any(not part for part in parts):
        raise ValueError("an empty part between commas")
    pairs = [part for part in parts if "=" in part]
    for word in (part for part in parts if "=" not in part and part in _MODIFIERS):
        pairs.append("=".join(_MODIFIERS[word]))
    readable = [part for part in parts if "=" not in part and part not in _MODIFIERS]
    if len(readable) > 1:
        raise ValueError("give one trick name (with stance, switch, landing or rider words), then key=value options")
    if readable:
        values.update(_parse_readable(readable[0]))
    seen: set[str] = set()
    for pair in pairs:
        key, _, raw = (s.strip() for s in pair.partition("="))
        if key not in _KEYS:
            raise ValueError(f"unknown key {key!r} (known: {', '.join(sorted(_KEYS))})")
        if key in seen:
            raise ValueError(f"{key} is given twice")
        seen.add(key)
        if key in _WORD_KEYS:
            values[key] = raw
        else:
            try:
                values[key] = float(raw)
            except ValueError:
                raise ValueError(f"{key} must be a number, got {raw!r}") from None
    return _resolve(values)


def _resolve(values: dict[str, object]) -> dict[str, object]:
    """The parsed words and keys as TrickSpec arguments (frontside/backside turned into left/right)."""
    spin = float(values.get("spin", 0.0))  # type: ignore[arg-type]
    flip = float(values.get("flip", 0.0))  # type: ignore[arg-type]
    roll = float(values.get("roll", 0.0))  # type: ignore[arg-type]
    switch = values.get("switch", "no")
    if switch not in _YES + _NO:
        raise ValueError(f"switch must be yes or no, got {switch!r}")
    is_switch = switch in _YES or bool(values.get("cab"))
    stance = values.get("stance")
    spin_dir = values.get("spin_dir", "left" if spin else None)
    if spin_dir in ("frontside", "backside", "fs", "bs"):
        if stance not in STANCES:
            raise ValueError(f"{spin_dir} needs the rider's stance: add regular or goofy")
        riding_left_leads = (stance == "regular") != is_switch
        frontside = spin_dir in ("frontside", "fs")
        spin_dir = "left" if frontside == riding_left_leads else "right"
    if "under" in values and "over" in values:
        raise ValueError("give under= or over=, not both")
    offset = -float(values["under"]) if "under" in values else float(values.get("over", 0.0))  # type: ignore[arg-type]
    if "under" in values and offset > 0 or "over" in values and offset < 0:
        raise ValueError("under= and over= are positive numbers of degrees")
    out: dict[str, object] = {
        "spin_deg": spin,
        "spin_direction": spin_dir,
        "flip_deg": flip,
        "flip_direction": values.get("flip_dir", "back" if flip else None),
        "roll_deg": roll,
        "roll_direction": values.get("roll_dir", "wildcat" if roll else None),
        "stance": stance,
        "switch": is_switch,
        "spin_offset_deg": offset,
        "landing": values.get("landing", "stomped"),
        "visibility": values.get("rider", "clear"),
    }
    if "rate" in values:
        out["rate"] = values["rate"]
    if "axis" in values:
        axis = _AXIS.match(str(values["axis"]))
        if axis is None:
            raise ValueError(f"axis must be degrees off vertical, optionally followed by front, back, left or right "
                             f"(35, 35left), got {values['axis']!r}")  # fmt: skip
        out["axis_tilt_deg"] = float(axis.group(1))
        out["axis_toward"] = axis.group(2) or "front"
    if "air" in values:
        out["air_time_s"] = values["air"]
    if "grab" in values:
        out["grab"] = values["grab"]
    if "hold" in values:
        out["grab_hold_s"] = values["hold"]
    if "kind" in values:
        out["kind"] = values["kind"]
    return out


def _spin_side(values: dict[str, object], side: str | None) -> None:
    if side == "cab":
        values["cab"] = True
        values["spin_dir"] = "frontside"
    elif side in ("left", "right", "fs", "bs", "frontside", "backside"):
        values["spin_dir"] = side


def _parse_readable(text: str) -> dict[str, object]:
    if text == "straight":
        return {}
    if text in KINDS[1:]:
        return {"kind": text}
    values: dict[str, object] = {}
    off_axis = _OFF_AXIS.match(text)
    if off_axis:
        side, double, kind, number = off_axis.groups()
        values["spin"] = float(number)
        _spin_side(values, side)
        turns = 720.0 if double else 360.0
        if kind == "cork":
            values["roll"] = turns
        else:
            values["flip"], values["flip_dir"] = turns, "back"
        return values
    for part in (p.strip() for p in text.split("+")):
        spin, flip, roll = _SPIN.match(part), _FLIP.match(part), _ROLL.match(part)
        if spin and "spin" not in values:
            values["spin"] = float(spin.group(2))
            _spin_side(values, spin.group(1))
        elif flip and "flip" not in values:
            values["flip"] = float(flip.group(2) or 360.0)
            values["flip_dir"] = flip.group(1)
        elif roll and "roll" not in values:
            values["roll"] = float(roll.group(2) or 360.0)
            values["roll_dir"] = roll.group(1)
        else:
            raise ValueError(f"{part!r} is not a spin, flip or roll this reads (or repeats one)")
    return values
