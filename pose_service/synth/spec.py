"""What trick a synthetic clip shows: `TrickSpec`, and `parse_trick` for the readable forms people type."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from pose_service.errors import BadOption

__all__ = ["KINDS", "TrickSpec", "parse_trick", "TRICK_FORMS"]

MAX_SPIN_DEG = 2160.0
MAX_FLIP_DEG = 1080.0
MIN_AIR_S, MAX_AIR_S = 0.3, 2.0

TRICK_FORMS = (
    "straight",
    "360, spin360, left360, right540 (a spin; left when no direction is given)",
    "backflip, frontflip, backflip720",
    "backflip+360, frontflip+right180 (a flip with a spin)",
    "spin=540,spin_dir=right,flip=360,flip_dir=back,air=1.0",
    "ride (riding on, no jump), crouch (a deep crouch and up again, no jump), drop (off a box onto the snow)",
    "any of the above followed by ,air=SECONDS (for ride and crouch: how long the crouch is held)",
)

KINDS = ("jump", "ride", "crouch", "drop")
DROP_BOX_M = 0.8  # the box a "drop" rides off: its top above the snow


@dataclass(frozen=True)
class TrickSpec:
    """One jump: unsigned rotation totals over the airborne phase, as a judge counts them, and the air time.

    spin_deg: rotation about the world vertical; spin_direction "left" is counter-clockwise seen from above.
    flip_deg: rotation about the rider's own left-right axis, a multiple of 360 (a rider lands on the feet);
        flip_direction "front" sends the head forward (towards the chest) first, "back" backward.
    A direction is given exactly when its total is above zero. `spec` is the text it was parsed from.
    kind: "jump", or a clip with no jump that the analysis must not call one: "ride" (riding on in the
        stance) and "crouch" (down to a deep crouch over `air_time_s` and up again, the feet on the snow);
        or "drop": riding off a box `DROP_BOX_M` high, landing on the snow below.
    """

    spin_deg: float = 0.0
    spin_direction: str | None = None
    flip_deg: float = 0.0
    flip_direction: str | None = None
    air_time_s: float = 0.8
    spec: str | None = field(default=None, compare=False)
    kind: str = "jump"

    def __post_init__(self) -> None:
        for name in ("spin_deg", "flip_deg", "air_time_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            object.__setattr__(self, name, float(value))
        if not 0.0 <= self.spin_deg <= MAX_SPIN_DEG:
            raise ValueError(f"spin_deg must be between 0 and {MAX_SPIN_DEG:.0f}, got {self.spin_deg!r}")
        if not 0.0 <= self.flip_deg <= MAX_FLIP_DEG:
            raise ValueError(f"flip_deg must be between 0 and {MAX_FLIP_DEG:.0f}, got {self.flip_deg!r}")
        if self.flip_deg % 360.0:
            raise ValueError(f"flip_deg must be a multiple of 360 (the rider lands on the feet), got {self.flip_deg!r}")
        if not MIN_AIR_S <= self.air_time_s <= MAX_AIR_S:
            raise ValueError(f"air_time_s must be between {MIN_AIR_S} and {MAX_AIR_S} s, got {self.air_time_s!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind != "jump" and (self.spin_deg or self.flip_deg):
            raise ValueError(f"a {self.kind} clip has no spin or flip; got spin {self.spin_deg:.0f}°, "
                             f"flip {self.flip_deg:.0f}°")  # fmt: skip
        _check_direction("spin_direction", self.spin_direction, ("left", "right"), self.spin_deg, "spin_deg")
        _check_direction("flip_direction", self.flip_direction, ("front", "back"), self.flip_deg, "flip_deg")

    @property
    def spin_signed_deg(self) -> float:
        """Spin as a rotation about +y (world up): positive to the left."""
        return self.spin_deg if self.spin_direction == "left" else -self.spin_deg

    @property
    def flip_signed_deg(self) -> float:
        """Flip as a rotation about the rider's own left axis: positive sends the head forward."""
        return self.flip_deg if self.flip_direction == "front" else -self.flip_deg

    @property
    def jumps(self) -> bool:
        """Whether the clip shows a jump (an airborne phase)."""
        return self.kind in ("jump", "drop")

    @property
    def drop_m(self) -> float:
        """How far below the takeoff the landing is (the box's height for a drop, else 0)."""
        return DROP_BOX_M if self.kind == "drop" else 0.0

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
        if self.spin_deg:
            spin = f"spin {self.spin_deg:.0f}° to the {self.spin_direction}"
            parts.append(spin if parts else spin[0].upper() + spin[1:])
        head = " with a ".join(parts) if parts else "Straight air, no rotation"
        return f"{head}, {self.air_time_s:.2f} s in the air."

    def to_dict(self) -> dict[str, object]:
        return {
            "spin_deg": self.spin_deg,
            "spin_direction": self.spin_direction,
            "flip_deg": self.flip_deg,
            "flip_direction": self.flip_direction,
            "air_time_s": self.air_time_s,
            "spec": self.spec,
            "kind": self.kind,
        }


def _check_direction(name: str, value: str | None, valid: tuple[str, str], total: float, total_name: str) -> None:
    if total == 0.0:
        if value is not None:
            raise ValueError(f"{name} must be None when {total_name} is 0, got {value!r}")
    elif value not in valid:
        raise ValueError(f"{name} must be one of {valid} when {total_name} is above 0, got {value!r}")


_SPIN = re.compile(r"^(?:(spin|left|right)[-_ ]?)?(\d+(?:\.\d+)?)$")
_FLIP = re.compile(r"^(back|front)[-_ ]?flip[-_ ]?(\d+(?:\.\d+)?)?$")
_KEYS = {"spin", "spin_dir", "flip", "flip_dir", "air"}


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
    readable = [part.strip() for part in text.split(",") if "=" not in part]
    pairs = [part.strip() for part in text.split(",") if "=" in part]
    if len(readable) > 1 or (readable and not readable[0]):
        raise ValueError("give one trick name, then key=value options")
    if readable:
        values.update(_parse_readable(readable[0]))
    for pair in pairs:
        key, _, raw = (s.strip() for s in pair.partition("="))
        if key not in _KEYS:
            raise ValueError(f"unknown key {key!r} (known: {', '.join(sorted(_KEYS))})")
        if key in ("spin_dir", "flip_dir"):
            values[key] = raw
        else:
            try:
                values[key] = float(raw)
            except ValueError:
                raise ValueError(f"{key} must be a number, got {raw!r}") from None
    spin = float(values.get("spin", 0.0))  # type: ignore[arg-type]
    flip = float(values.get("flip", 0.0))  # type: ignore[arg-type]
    out: dict[str, object] = {
        "spin_deg": spin,
        "spin_direction": values.get("spin_dir", "left" if spin else None),
        "flip_deg": flip,
        "flip_direction": values.get("flip_dir", "back" if flip else None),
    }
    if "air" in values:
        out["air_time_s"] = values["air"]
    if "kind" in values:
        out["kind"] = values["kind"]
    return out


def _parse_readable(text: str) -> dict[str, object]:
    if text == "straight":
        return {}
    if text in KINDS[1:]:
        return {"kind": text}
    values: dict[str, object] = {}
    for part in (p.strip() for p in text.split("+")):
        spin, flip = _SPIN.match(part), _FLIP.match(part)
        if spin and "spin" not in values:
            values["spin"] = float(spin.group(2))
            if spin.group(1) in ("left", "right"):
                values["spin_dir"] = spin.group(1)
        elif flip and "flip" not in values:
            values["flip"] = float(flip.group(2) or 360.0)
            values["flip_dir"] = flip.group(1)
        else:
            raise ValueError(f"{part!r} is not a spin or flip this reads (or repeats one)")
    return values
