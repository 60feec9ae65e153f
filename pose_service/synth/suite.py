"""The moving-camera suite (issue 16, item 5): clips across every moving camera with spins, flips and rolls,
rendered and scored by `bench/moving_camera.py`."""

from __future__ import annotations

from dataclasses import dataclass

from pose_service.synth.camera_path import CAMERA_KINDS

__all__ = ["MovingClip", "airbag_suite", "moving_suite"]


@dataclass(frozen=True)
class MovingClip:
    """One clip of the suite: a trick spec (`parse_trick`), the camera kind and the rider's view at takeoff."""

    trick: str
    camera: str
    view: str = "front"

    @property
    def name(self) -> str:
        """A file-name-safe name, e.g. 'follow-front_regular_fs540_front'."""
        spec = self.trick.replace(",", "_").replace("+", "_").replace("=", "")
        return f"{self.camera}_{spec}_{self.view}"


# Each camera with a spin, a flip or roll, and (most) a combination; stances where the spec needs one.
_SUITE: tuple[tuple[str, ...], ...] = (
    ("straight", "follow-front"),
    ("360", "follow-front"),
    ("backflip", "follow-front"),
    ("regular,fs540", "follow-front"),
    ("360", "follow-behind"),
    ("cork720", "follow-behind"),
    ("goofy,bs360", "follow-behind", "back"),  # the rider's back to the camera side
    ("backflip", "follow-below"),
    ("360", "follow-below"),
    ("wildcat", "follow-below"),
    ("360", "pan"),
    ("frontflip", "pan"),
    ("right540", "pan"),
    ("360", "roll"),
    ("backflip+360", "roll"),
    ("wildcat", "roll"),
    ("360", "zoom"),
    ("backflip", "zoom"),
    ("360", "fisheye"),
    ("cork720", "fisheye"),
    ("straight", "fisheye"),
    ("360", "drone"),
    ("rodeo540", "drone"),
    ("wildcat", "drone", "back"),
)


def moving_suite() -> list[MovingClip]:
    """The suite's clips, in a fixed order (24 clips, every moving camera kind at least twice)."""
    clips = [MovingClip(*row) for row in _SUITE]
    assert {c.camera for c in clips} == set(CAMERA_KINDS) - {"still"}
    return clips


# Jumps into an airbag (landing "airbag"): the cameras the bag is staged for, a straight air, a spin and a flip each.
_AIRBAG = tuple((f"{trick},airbag", camera) for camera in ("pan", "follow-front", "follow-behind", "follow-below")
                for trick in ("straight", "360", "backflip"))  # fmt: skip


def airbag_suite() -> list[MovingClip]:
    """Jumps landing in an airbag (12 clips): no snow comes back under the board, so the landing is timed by the
    feet alone, and the grade must say airbag, not crash."""
    return [MovingClip(*row) for row in _AIRBAG]
