"""Grabs: a hand on the board in the air, which hand, where, for how long, and the grab's name.

The board is read from the feet (BlazePose's ankle, heel and foot index of each foot, 3D world keypoints):
its axis runs from the back foot's centre to the front foot's (which foot is the front one comes from the
riding stance: regular, the left foot leads and the nose is on the left), its toe edge is on the side the
toes point to (heel to foot index, the body's facing), its centre is midway between the feet, and it reaches
`BOARD_HALF_LENGTH_M` either way from the centre, `BOARD_HALF_WIDTH_M` across.

A hand (wrist, pinky, index and thumb points) is on the board in a frame when its nearest point lies within
`REACH_M` of the board's outline in 3D, or the picture shows it within `PICTURE_REACH_M` of the board's line
through the feet (at the rider's scale), the line widened by the board's half width as far as the board is turned
towards the camera (where it points at the camera the picture shows its whole width: a synthetic indy seen from
the side held the toe edge 0.25 m from the feet in the picture). A hand grips within a few centimetres, but the pose model's hands and
feet wander by more than that, most in depth, and a hand hidden behind the body is put where the model guesses:
on synthetic grabs the 3D distance read 0.02-0.33 m while the hand held the board and 0.7-1.1 m while it did
not, so the margins sit between; 0.28 m in 3D read a real rider's hand held low beside the knees (snow_seg3,
about 0.3 m from the board in the picture) as a grab, 0.22 m did not, and lost no synthetic grab. A grab is such a run of airborne frames whose first and last
frames lie `MIN_HOLD_S` or more apart (a hand brushing past the board is not one; nor the 3 frames, at 30 fps, in
which the pose model garbles a tucked, inverted body in a flip and puts a hand on the feet: on the still and
moving-camera trick suites' 68 ungrabbed jumps that rule left 2 reported grabs, where 3 frames left 9); where a
hand holds more than one run, the longest counts. A hand the body hides is often drawn on the visible one: both
hands within `SAME_PLACE_M` of each other in the picture over their runs are one hand, the more visible. An arm
reaching across the body is drawn on both sides: both hands on the same end of the board are the crossing one
(`_crossing_hand`: a crail's back hand at the nose, a seatbelt's front hand at the tail).
Each hand's grab is read where it holds:

- edge: "toe" or "heel" (the hand's side of the board's axis, across the board), "unsure" within
  `EDGE_MARGIN_M` of the axis (only the table's rows that take any edge can name such a grab). Where the board
  points at the camera (the feet under `ACROSS_PICTURE_M` apart in the picture) its edges lie left and right in
  the picture, which reads them while the board lies flat (not where it is tweaked: pulled back behind the legs it
  turns its edges up and down); where it lies across the picture the edge rests on the pose model's depth, a
  weak reading (hence the margin), and only where that depth puts the hand on the board (within `REACH_M`): a hand
  the picture shows on the board but the depth puts 0.3-0.7 m off it is where the model guessed, and the guess
  is no guide (on the synthetic grab suite's front and back views such hands read the heel side whichever edge
  they held: 7 heel, 7 toe grabs). Seen from the front or the back, the picture itself cannot tell the edges
  apart: the generator's toe and heel grabs put the wrist within a few pixels of the same place; with the chest
  towards the camera the forearm drawn over the legs or hidden behind them does (`analysis.forearm`), tweaked or not,
  and a hand drawn between the knees, whose arm the pose model does not see, holds the toe edge (`_between_knees`);
  with the back towards it and the rider broadside, a hand between the bindings whose wrist the pose model sees
  (`WRIST_SEEN`) is on the near (heel) edge, one it half loses behind the legs (under `WRIST_HIDDEN`) on the toe edge;
- zone: "nose" or "tail" (beyond the front or back foot, the feet taken at least `MIN_HALF_FEET_M` from their
  centre, by `END_ZONE_M`), else "middle" (between the bindings); along the board in the picture where it lies
  across it, in 3D where it points at the camera; where the rider is seen broadside (the hips drawn `BROADSIDE` of
  their width or more), by the hand's offset from the hips in the picture, beyond `HIPS_END_M` the nose or tail;
- route: "front" or "behind": the elbow inside the knee on the hand's own end of the board (the arm reaching
  between the legs) or beyond it (wrapped around the outside of that leg); with the stance unseen, the elbow's side
  of the board's axis.

A tweak is the board pulled out of line with the legs: the hips-to-feet line swung back behind the torso's
down axis, in degrees, over the grab; `TWEAK_DEG` or more counts as tweaked.

The naming table (regular stance; a goofy rider mirrors, which the front and back hands already do), first
matching row wins; both hands on the board is a two-hand grab:

    | grab         | hand(s)      | edge  | zone          | route  | tweaked |
    |--------------|--------------|-------|---------------|--------|---------|
    | truck driver | front + back | any   | nose + tail, or middle toe + middle toe | any | any |
    | method       | front        | heel  | middle        | any    | yes     |
    | Japan        | front        | toe   | middle        | any    | yes     |
    | mute         | front        | toe   | middle        | any    | no      |
    | melon        | front        | heel  | middle        | any    | no      |
    | indy         | back         | toe   | middle        | any    | any     |
    | roast beef   | back         | heel  | middle        | front  | any     |
    | stalefish    | back         | heel  | middle        | behind | any     |
    | nose         | front        | any   | nose          | any    | any     |
    | crail        | back         | toe   | nose          | any    | any     |
    | tail         | back         | any   | tail          | any    | any     |
    | seatbelt     | front        | any   | tail          | any    | any     |
    | grab         | anything else, an "unsure" edge where the row needs one, or the riding stance unseen |

`find_grab` is the entry: a jump's airborne samples in, a `Grab` (or None) out.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from pose_service.analysis.rotation import torso_frames

__all__ = ["GRAB_TABLE", "GRAB_NAMES", "Grab", "HandGrab", "board_frames", "find_grab", "name_grab"]

BOARD_HALF_LENGTH_M = 0.75
BOARD_HALF_WIDTH_M = 0.13
REACH_M = 0.22  # a hand point this close to the board's outline is on it (the pose model's error included)
MIN_HOLD_S = 0.1
END_ZONE_M = 0.1  # beyond a foot by this much along the board is the nose or the tail
TWEAK_DEG = 25.0
PICTURE_REACH_M = 0.15  # in the picture: a hand this close to the board's line (metres at the rider's scale)
SECOND_HAND_M = 0.1  # a second hand counts (a two-hand grab) only this close to the board, 3D or picture
EDGE_MARGIN_M = 0.06  # the hand this close to the board's axis (across it): which edge is not known
MIN_HALF_FEET_M = 0.22  # half the feet's distance apart is at least this (a stance 0.44 m wide): the pose model
# often draws the feet closer, most when the board points at the camera
SAME_PLACE_M = 0.1  # both hands this close in the picture: one hand, the other drawn on it by the pose model
ACROSS_PICTURE_M = 0.25  # feet this far apart in the picture: the board lies across it, the picture says "along"
HIPS_END_M = 0.3  # along the board from the hips' middle, in the picture: beyond this is the nose or the tail
BROADSIDE = 0.55  # the hips drawn at least this share of their 3D width apart: the board lies across the picture
FACING_CAMERA = 0.5  # the chest faces the camera: its forward at least this far along the camera axis (cos 60°)
WRIST_SEEN = 0.9  # back to the camera, a hand between the bindings, its wrist this visible or more: the heel edge
WRIST_HIDDEN = 0.85  # ... under this: the toe edge, reached for past the legs (synthetic suite, back view, over the
# held run: heel-edge hands 0.96-0.98, toe-edge hands 0.70-0.79)
FOREARM_SHOWN = 0.6  # the forearm drawn over the legs in this share of its points or more: the near (toe) edge
FOREARM_HIDDEN = 0.5  # ... in this share or less: hidden behind the legs, the far (heel) edge (over a held run, the
# synthetic suite's front view: heel-edge hands 0.25-0.50, toe-edge hands 0.67-1.00 but for two held between the knees)
BETWEEN_KNEES = 0.5  # a hand drawn this share of half the knees' distance apart from their middle: between them
# The hand that reaches across the body for each end of the board (`_crossing_hand`): a crail's back hand at the
# nose, a seatbelt's front hand at the tail.
CROSSING = {"nose": "back", "tail": "front"}
# The pose model blinks: a hand drawn off the board for this long or less inside a hold does not end it (a hold is
# still seen on the board in as many frames as `MIN_HOLD_S` spans). On the synthetic grab suite a truck driver's two
# hands and a seatbelt's one left the board together for 2-3 frames at 30 frames/s and their holds read 0.2 and
# 0.17 s of 0.43; bridging 1 frame, as before, broke them.
BLINK_S = 0.1
# A hold, once the hand has reached the board, lasts while it stays within this many times the reach (in 3D or in the
# picture): the pose model draws a hand holding on as wandering off by a little more than the reach for a few frames
# before the release. On the synthetic grab suite, seen from the side, a melon's hand read 0.23-0.35 m in 3D over
# the last 5 of its 13 held frames, and its hold read 0.30 s of 0.43; a tail's 0.27 s. Only the span moves: which
# hand holds longest, and what is read of it (edge, zone, route, the second hand's distance), stand on the frames
# within the reach (the tweak is read over the whole span); on the suite no grab's name changed.
RELEASE = 1.35

# BlazePose indices.
_FOOT = {"left": (27, 29, 31), "right": (28, 30, 32)}  # ankle, heel, foot index
_HAND = {"left": (15, 17, 19, 21), "right": (16, 18, 20, 22)}  # wrist, pinky, index, thumb
_ELBOW = {"left": 13, "right": 14}
_KNEE = {"left": 25, "right": 26}

# (name, front hand's (edge, zone, route), back hand's, tweaked): the module's table as data; None: that hand is
# not on the board; "any" matches every value; tweaked None matches either.
GRAB_TABLE: tuple[tuple[str, tuple[str, str, str] | None, tuple[str, str, str] | None, bool | None], ...] = (
    ("truck driver", ("any", "nose", "any"), ("any", "tail", "any"), None),
    ("truck driver", ("toe", "middle", "any"), ("toe", "middle", "any"), None),
    ("method", ("heel", "middle", "any"), None, True),
    ("Japan", ("toe", "middle", "any"), None, True),
    ("mute", ("toe", "middle", "any"), None, False),
    ("melon", ("heel", "middle", "any"), None, False),
    ("indy", None, ("toe", "middle", "any"), None),
    ("roast beef", None, ("heel", "middle", "front"), None),
    ("stalefish", None, ("heel", "middle", "behind"), None),
    ("nose", ("any", "nose", "any"), None, None),
    ("crail", None, ("toe", "nose", "any"), None),
    ("tail", None, ("any", "tail", "any"), None),
    ("seatbelt", ("any", "tail", "any"), None, None),
)
GRAB_NAMES = tuple(dict.fromkeys(row[0] for row in GRAB_TABLE)) + ("grab",)


@dataclass(frozen=True)
class HandGrab:
    """One hand on the board: 'front'/'back' (by the stance; 'left'/'right' when it is unseen), the body side,
    edge 'toe'/'heel', zone 'nose'/'middle'/'tail', route 'front'/'behind', the held run (sample indices into
    the arrays `find_grab` was given, frames of the clip, seconds) and the median distance to the board (m)."""

    hand: str
    side: str
    edge: str
    zone: str
    route: str
    start: int
    end: int
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    distance_m: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_result(self) -> dict[str, Any]:
        return {
            "hand": self.hand, "side": self.side, "edge": self.edge, "zone": self.zone, "route": self.route,
            "start_frame": self.start_frame, "end_frame": self.end_frame, "start_s": round(self.start_s, 4),
            "end_s": round(self.end_s, 4), "duration_s": round(self.duration_s, 4),
            "distance_m": round(self.distance_m, 3),
        }  # fmt: skip


@dataclass(frozen=True)
class Grab:
    """A jump's grab: its name (`GRAB_TABLE`), the hands on the board, the held span (the union of the hands'
    runs) and the tweak (degrees the feet swung back behind the torso's down axis, the most over the hold)."""

    name: str
    hands: tuple[HandGrab, ...]
    tweak_deg: float

    @property
    def start_s(self) -> float:
        return min(h.start_s for h in self.hands)

    @property
    def end_s(self) -> float:
        return max(h.end_s for h in self.hands)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def start_frame(self) -> int:
        return min(h.start_frame for h in self.hands)

    @property
    def end_frame(self) -> int:
        return max(h.end_frame for h in self.hands)

    @property
    def tweaked(self) -> bool:
        return bool(np.isfinite(self.tweak_deg) and self.tweak_deg >= TWEAK_DEG)

    def to_result(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "start_s": round(self.start_s, 4),
            "end_s": round(self.end_s, 4),
            "duration_s": round(self.duration_s, 4),
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "tweak_deg": None if not np.isfinite(self.tweak_deg) else round(float(self.tweak_deg), 1),
            "tweaked": self.tweaked,
            "hands": [h.to_result() for h in self.hands],
        }


def _matches(want: str, got: str) -> bool:
    return want == "any" or want == got


def name_grab(hands: dict[str, tuple[str, str, str]], tweaked: bool) -> str:
    """The grab's name by `GRAB_TABLE`: hands maps 'front'/'back' to (edge, zone, route); 'grab' when no row
    matches (or the hands are 'left'/'right': the stance was not seen)."""
    for name, front, back, tweak in GRAB_TABLE:
        if (front is None) != ("front" not in hands) or (back is None) != ("back" not in hands):
            continue
        if tweak is not None and tweak != tweaked:
            continue
        ok = all(
            all(_matches(w, g) for w, g in zip(want, hands[hand], strict=True))
            for hand, want in (("front", front), ("back", back))
            if want is not None
        )
        if ok:
            return name
    return "grab"


def board_frames(keypoints_3d: np.ndarray, riding_stance: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sample the board's centre (m, 3) and its unit axes (m, 3, 3), columns: along (back foot to front foot;
    left foot to right foot when the stance is unseen), across (towards the toe edge), normal (along x across,
    out of the board's top when the feet point the toes along `across`); and the half distance between the
    feet's centres (m,)."""
    k = np.asarray(keypoints_3d, dtype=np.float64)
    left = k[:, list(_FOOT["left"])].mean(axis=1)
    right = k[:, list(_FOOT["right"])].mean(axis=1)
    front, back = (right, left) if riding_stance == "goofy" else (left, right)
    centre = (front + back) / 2
    along = front - back
    half = np.linalg.norm(along, axis=1) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        along = along / np.linalg.norm(along, axis=1, keepdims=True)
        toes = sum(k[:, _FOOT[s][2]] - k[:, _FOOT[s][1]] for s in ("left", "right"))
        across = toes - np.einsum("ij,ij->i", toes, along)[:, None] * along
        across = across / np.linalg.norm(across, axis=1, keepdims=True)
    normal = np.cross(along, across)
    return centre, np.stack([along, across, normal], axis=2), half


def _to_board(points: np.ndarray, centre: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """(m, p, 3) points in board coordinates: along, across, normal (metres)."""
    return np.einsum("mpi,mij->mpj", points - centre[:, None, :], axes)


def _outline_distance(b: np.ndarray) -> np.ndarray:
    """Distance (...,) from board-coordinate points (..., 3) to the board, a flat rectangle."""
    da = np.maximum(np.abs(b[..., 0]) - BOARD_HALF_LENGTH_M, 0.0)
    dc = np.maximum(np.abs(b[..., 1]) - BOARD_HALF_WIDTH_M, 0.0)
    return np.sqrt(da**2 + dc**2 + b[..., 2] ** 2)


def _runs(mask: np.ndarray, gap: int = 1) -> list[tuple[int, int]]:
    """(first, last) index of each run of True, gaps of up to `gap` samples bridged."""
    m = mask.copy()
    for i in range(1, len(m) - 1):
        if not m[i] and m[i - 1] and m[i + 1 : i + 1 + gap].any():
            m[i] = True
    runs, start = [], None
    for i, on in enumerate(m):
        if on and start is None:
            start = i
        elif not on and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(m) - 1))
    return runs


def _held_to(loose: np.ndarray, last: int) -> int:
    """The last sample of a hold ending at `last`, carried on over the samples after it where `loose` holds."""
    while last + 1 < len(loose) and loose[last + 1]:
        last += 1
    return last


def tweak_angles(keypoints_3d: np.ndarray) -> np.ndarray:
    """(m,) degrees the hips-to-feet line swings back behind the torso's down axis (negative: feet in front)."""
    k = np.asarray(keypoints_3d, dtype=np.float64)
    frames = torso_frames(k)
    legs = k[:, [27, 28, 29, 30]].mean(axis=1) - (k[:, 23] + k[:, 24]) / 2
    down = -np.einsum("mi,mi->m", legs, frames[:, :, 1])
    back = -np.einsum("mi,mi->m", legs, frames[:, :, 2])
    return np.degrees(np.arctan2(back, down))


def _picture_distance(
    keypoints_2d: np.ndarray, scale_px_per_m: np.ndarray, riding_stance: str | None, half_m: np.ndarray,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """In the picture: per sample and hand ('left', 'right': (m,) each) the nearest hand point's distance to the
    board as the picture shows it (metres at the rider's scale): the line through the feet, reaching
    `BOARD_HALF_LENGTH_M` past the feet's centre either way, widened by `BOARD_HALF_WIDTH_M` towards the toes and the
    heels as far as the board is turned towards the camera (the feet's distance apart in the picture against their
    distance in 3D, `half_m`: the whole width where the board points at the camera, none where it lies across);
    the hand's position along it (0 the back foot, 1 the front foot), its offset from the feet's centre towards
    the toes (heel to foot index in the picture; metres), and the feet's distance apart in the picture (m,),
    metres."""
    k = np.asarray(keypoints_2d, dtype=np.float64)[..., :2]
    scale = np.asarray(scale_px_per_m, dtype=np.float64)
    left = k[:, list(_FOOT["left"])].mean(axis=1)
    right = k[:, list(_FOOT["right"])].mean(axis=1)
    front, back = (right, left) if riding_stance == "goofy" else (left, right)
    ab = front - back
    length = np.linalg.norm(ab, axis=1)
    dist, along, across = {}, {}, {}
    toes = sum(k[:, _FOOT[s][2]] - k[:, _FOOT[s][1]] for s in ("left", "right"))
    centre = (front + back) / 2
    # samples with no feet or hands seen are NaN and stay so (no "all-NaN slice" warning for them)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # how far the board is turned towards the camera: the feet's distance apart in the picture against in 3D
        # (the foot's own length in the picture is no guide: in the air the toes point down, drawing the feet long)
        apart_m = 2 * np.maximum(np.nan_to_num(half_m, nan=MIN_HALF_FEET_M), MIN_HALF_FEET_M)
        turned = np.nan_to_num(np.clip(1.0 - length / scale / apart_m, 0.0, 1.0), nan=0.0)
        width = BOARD_HALF_WIDTH_M * turned * scale
        toes = toes / np.linalg.norm(toes, axis=1, keepdims=True)
        # the board's ends in feet units (0 the back foot, 1 the front one): foreshortened as the feet are, their
        # distance in the picture against the pose model's own in 3D, never longer than the board (seen from behind, a
        # crouched rider's feet were drawn 0.15-0.2 m apart in the picture and 0.16 m in 3D where they stood 0.5 m
        # apart: with the 3D distance taken at least `MIN_HALF_FEET_M` either side, the board ended 0.27 m from its
        # centre in the picture and a hand on the tail lay past it)
        span = BOARD_HALF_LENGTH_M / np.maximum(length / scale, 2 * np.nan_to_num(half_m, nan=MIN_HALF_FEET_M))
        for side in ("left", "right"):
            hand = k[:, list(_HAND[side])]
            u = np.einsum("mpi,mi->mp", hand - back[:, None], ab) / np.maximum(length**2, 1e-9)[:, None]
            u = np.clip(u, 0.5 - span[:, None], 0.5 + span[:, None])
            foot = back[:, None] + u[..., None] * ab[:, None]
            off = hand - foot
            c = np.nan_to_num(np.einsum("mpi,mi->mp", off, toes))
            off = off - np.clip(c, -width[:, None], width[:, None])[..., None] * np.nan_to_num(toes)[:, None]
            d = np.linalg.norm(off, axis=2) / scale[:, None]
            dist[side] = np.nan_to_num(d, nan=np.inf).min(axis=1)
            along[side] = np.nanmedian(u, axis=1)
            across[side] = np.nanmedian(np.einsum("mpi,mi->mp", hand - centre[:, None], toes), axis=1) / scale
    return dist, along, across, length / scale


def _one_hand_drawn_twice(found: list[Any], keypoints_2d: np.ndarray, scale: np.ndarray) -> list[Any]:
    """Both hands' runs (side, first, last, ...) as `find_grab` found them, or only the one the pose model saw: a
    hand the body hides is drawn where the model guesses, often on the visible hand (on a synthetic indy seen from
    the side, the hidden hand 2-5 px from the holding one); where both hands lie within `SAME_PLACE_M` of each other
    in the picture over the frames both hold, they are one hand, the one with the higher wrist visibility."""
    first, last = max(f[1] for f in found), min(f[2] for f in found)
    if first > last:
        return found
    both = slice(first, last + 1)
    centres = {f[0]: keypoints_2d[both][:, list(_HAND[f[0]]), :2].mean(axis=1) for f in found}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        apart = float(np.nanmedian(np.linalg.norm(centres["left"] - centres["right"], axis=1) / scale[both]))
        if not apart < SAME_PLACE_M:
            return found
        seen = [float(np.nanmedian(keypoints_2d[f[1] : f[2] + 1, _HAND[f[0]][0], 2])) for f in found]
    return [found[int(np.nanargmax(seen))]] if np.isfinite(seen).any() else found


def _broadside(keypoints_2d: np.ndarray, scale: np.ndarray, keypoints_3d: np.ndarray) -> bool:
    """Whether the rider is seen broadside: the hips drawn at least `BROADSIDE` of their 3D width apart in the
    picture (median over the samples; the hips line up with the board, the shoulders turn with a reaching arm)."""
    k = keypoints_2d
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        width = np.linalg.norm(k[:, 23, :2] - k[:, 24, :2], axis=1) / scale
        width = width / np.linalg.norm(keypoints_3d[:, 23] - keypoints_3d[:, 24], axis=1)
        return bool(np.nanmedian(width) >= BROADSIDE)


def _along_from_hips(keypoints_2d: np.ndarray, scale: np.ndarray, keypoints_3d: np.ndarray, side: str,
                     riding_stance: str) -> float:
    """Where the `side` hand holds along the board in the picture: metres (at the rider's scale) from the hips' middle
    towards the leading hip (the nose), median over the samples; nan unless the rider is seen broadside: the hips
    drawn at least `BROADSIDE` of their 3D width apart in the picture (median; the hips line up with the board, the
    shoulders turn with a reaching arm). On the synthetic grab suite over the flight: front view 0.56-0.89, back view
    0.58-1.58, side view (the board pointing at the camera) 0.11-0.53."""
    k = keypoints_2d
    if not _broadside(keypoints_2d, scale, keypoints_3d):
        return float("nan")
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lead, trail = (23, 24) if riding_stance == "regular" else (24, 23)
        nose = k[:, lead, :2] - k[:, trail, :2]
        nose = nose / np.linalg.norm(nose, axis=1, keepdims=True)
        hand = k[:, list(_HAND[side]), :2].mean(axis=1) - (k[:, 23, :2] + k[:, 24, :2]) / 2
        return float(np.nanmedian(np.einsum("mi,mi->m", hand, nose) / scale))


def _facing_camera(keypoints_3d: np.ndarray) -> bool:
    """Whether the chest faces the camera (more towards it than across): the torso's forward (`torso_frames`)
    along the camera axis, median over the samples."""
    towards = torso_frames(keypoints_3d)[:, 2, 2]
    return bool(np.isfinite(towards).any() and np.nanmedian(towards) >= FACING_CAMERA)


def _back_to_camera(keypoints_3d: np.ndarray) -> bool:
    """Whether the back faces the camera: the torso's forward (`torso_frames`) against the camera axis, at least
    `FACING_CAMERA` of it (median over the samples)."""
    towards = torso_frames(keypoints_3d)[:, 2, 2]
    return bool(np.isfinite(towards).any() and np.nanmedian(towards) <= -FACING_CAMERA)


def _edge_by_wrist(visibility: np.ndarray, depth_edge: str) -> str:
    """The edge a hand between the bindings holds, seen from behind, by the pose model's visibility of its wrist
    (median over the held run): `WRIST_SEEN` or more the near (heel) edge, in plain view over the back of the legs;
    under `WRIST_HIDDEN` the far (toe) edge, the hand reaching past the legs and half hidden by them; `depth_edge`
    between or where unknown."""
    seen = float(np.nanmedian(visibility)) if np.isfinite(visibility).any() else float("nan")
    if seen >= WRIST_SEEN:
        return "heel"
    if seen < WRIST_HIDDEN:
        return "toe"
    return depth_edge


def _edge_by_forearm(shown: np.ndarray, depth_edge: str) -> str:
    """The edge a hand holds by whether its forearm is drawn over the legs (the near edge: the toe's, the chest
    facing the camera) or hidden behind them (the heel's), median over the held run; `depth_edge` where the
    picture cannot tell (unknown, or between `FOREARM_HIDDEN` and `FOREARM_SHOWN`)."""
    share = float(np.nanmedian(shown)) if np.isfinite(shown).any() else float("nan")
    if share >= FOREARM_SHOWN:
        return "toe"
    if share <= FOREARM_HIDDEN:
        return "heel"
    return depth_edge


def _between_knees(keypoints_2d: np.ndarray, side: str) -> bool:
    """Whether the `side` hand is drawn between the knees in the picture: its wrist's offset across from the knees'
    middle under `BETWEEN_KNEES` of half their distance apart (median over the samples). With the chest towards
    the camera, a hand held there reaches down in front of the legs for the toe edge between the bindings, and
    the forearm reading (`_edge_by_forearm`) fails on it: the pose model does not see the arm (wrist and elbow
    visibility 0.06-0.10) and draws the forearm over the legs' gap. On the synthetic grab suite's front view, of
    14 hands between the bindings, the two toe-edge hands whose forearm read 0.08 and 0.17 lay at 0.22 and 0.28,
    every other hand, heel edge or toe, at 0.70 or more (roast beefs, the arm between the legs from behind, 0.90
    and 1.03)."""
    k = keypoints_2d
    wrist = _HAND[side][0]
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        middle = (k[:, _KNEE["left"], 0] + k[:, _KNEE["right"], 0]) / 2
        half = np.abs(k[:, _KNEE["left"], 0] - k[:, _KNEE["right"], 0]) / 2
        offset = np.abs(k[:, wrist, 0] - middle) / np.maximum(half, 1.0)
        return bool(np.isfinite(offset).any() and np.nanmedian(offset) < BETWEEN_KNEES)


def _edge(across_m: float) -> str:
    """'toe' or 'heel' by the hand's side of the board's axis; 'unsure' within `EDGE_MARGIN_M` of it (the pose
    model's depth, which decides the edge when the board points at the camera, is not better than that)."""
    if not np.isfinite(across_m) or abs(across_m) < EDGE_MARGIN_M:
        return "unsure"
    return "toe" if across_m > 0 else "heel"


def _crossing_hand(hands: list[HandGrab]) -> list[HandGrab]:
    """Both hands drawn on the same end of the board (the nose, or the tail) are one hand reaching across the body
    (`CROSSING`): the pose model draws an arm crossing the body on both sides. At the nose it is the back hand (a
    crail), at the tail the front hand (a seatbelt); it holds the toe edge, in front of the body, where an arm
    reaching across it ends (the heel edge lies behind the legs). On the synthetic grab suite, front and back views,
    5 of the 10 crails and seatbelts drew both hands on the held end (each hand's edge read as anything: toe, heel,
    unsure), and none of the 20 nose and tail grabs did. Other hands, or an unseen stance, as they are."""
    if len(hands) != 2 or hands[0].zone != hands[1].zone or hands[0].zone not in CROSSING:
        return hands
    holder = CROSSING[hands[0].zone]
    kept = [replace(h, edge="toe") for h in hands if h.hand == holder]
    return kept if len(kept) == 1 else hands


def find_grab(
    times_s: np.ndarray,
    frames: np.ndarray,
    keypoints_3d: np.ndarray,
    *,
    takeoff_s: float,
    landing_s: float,
    riding_stance: str | None,
    fps: float,
    keypoints_2d: np.ndarray | None = None,
    scale_px_per_m: np.ndarray | None = None,
    forearm: Callable[[np.ndarray, str], np.ndarray] | None = None,
) -> Grab | None:
    """The grab of the jump between `takeoff_s` and `landing_s`, or None (no hand held the board long enough).

    times_s, frames: (m,) seconds and clip frame of each sample of one tracked person; keypoints_3d: (m, 33, 3);
    keypoints_2d: (m, 33, 3) pixels and scale_px_per_m (m,) the picture's scale, when known: a hand is also on
    the board when the picture shows it on the board's line within `PICTURE_REACH_M` (a hand the body hides
    from the camera is where the pose model guesses it in depth, but the picture still places it), and where
    the feet lie across the picture it says where along the board the hand holds.
    A run's end time is its last frame's time plus one frame (a run of one frame lasts 1 / fps).
    forearm: (sample indices, side) -> the share of that forearm drawn over the legs rather than hidden behind them
    (`analysis.forearm.ForearmReader`): with the chest towards the camera and the board across the picture, it
    tells the edge (`_edge_by_forearm`) where the depth cannot.
    """
    t = np.asarray(times_s, dtype=np.float64)
    air = np.flatnonzero((t > takeoff_s) & (t < landing_s))
    if len(air) < 2:
        return None
    k = np.asarray(keypoints_3d, dtype=np.float64)[air]
    centre, axes, half = board_frames(k, riding_stance)
    picture = None
    if keypoints_2d is not None and scale_px_per_m is not None:
        picture = _picture_distance(
            np.asarray(keypoints_2d)[air], np.asarray(scale_px_per_m)[air], riding_stance, half
        )
    found = []
    loose: dict[str, np.ndarray] = {}  # per hand: within `RELEASE` times the reach (a hold goes on there)
    blink = max(1, int(round(BLINK_S * fps)))  # samples a hand may blink off the board inside a hold
    for side in ("left", "right"):
        points = _to_board(k[:, list(_HAND[side])], centre, axes)  # (m, 4, 3)
        dist = np.nan_to_num(_outline_distance(points), nan=np.inf).min(axis=1)
        near = dist <= REACH_M
        loose[side] = dist <= RELEASE * REACH_M
        close = dist
        if picture is not None:
            near |= picture[0][side] <= PICTURE_REACH_M
            loose[side] |= picture[0][side] <= RELEASE * PICTURE_REACH_M
            close = np.minimum(dist, picture[0][side])
        best = None
        for a, b in _runs(near, blink):
            if t[air[b]] - t[air[a]] + 1e-6 < MIN_HOLD_S:  # first to last frame on the board: 4 frames at 30 fps
                continue
            if near[a : b + 1].sum() < int(round(MIN_HOLD_S * fps)) + 1:  # on the board in as many frames
                continue
            duration = t[air[b]] - t[air[a]] + 1.0 / fps
            if best is None or duration > best[2]:
                best = (a, b, duration)
        if best is not None:
            a, b, duration = best
            found.append((side, a, b, duration, float(np.median(close[a : b + 1])), points,
                          float(np.median(dist[a : b + 1]))))  # fmt: skip
    if not found:
        return None
    if picture is not None and len(found) == 2:
        found = _one_hand_drawn_twice(found, np.asarray(keypoints_2d, dtype=np.float64)[air],
                                      np.asarray(scale_px_per_m, dtype=np.float64)[air])  # fmt: skip
    # the hand that held longest (then closest) grabs; the other joins only when it is clearly on the board too
    found.sort(key=lambda f: (-f[3], f[4]))
    found = [found[0]] + [f for f in found[1:] if f[4] <= SECOND_HAND_M]
    hands: list[HandGrab] = []
    for side, a, b, _, closeness, points, depth_on_board in found:
        held = slice(a, b + 1)
        grip = np.nanmedian(points[held].mean(axis=1), axis=0)  # the hand's centre, board coordinates
        elbow = np.nanmedian(_to_board(k[held, [_ELBOW[side]]], centre[held], axes[held])[:, 0], axis=0)
        feet = max(float(np.nanmedian(half[held])), MIN_HALF_FEET_M)
        along = float(grip[0])  # metres from the feet's centre towards the front foot
        if picture is not None and np.nanmedian(picture[3][held]) >= ACROSS_PICTURE_M:
            along = float(np.nanmedian((picture[1][side][held] - 0.5) * picture[3][held]))
        # the depth tells the edge only where it puts the hand on the board: a hand the picture shows on the board
        # but the 3D reading puts off it is where the pose model guessed (on synthetic grabs seen from the front or
        # the back, 0.3-0.7 m off, always on the heel side, whichever edge the hand held)
        edge = _edge(float(grip[1])) if depth_on_board <= REACH_M else "unsure"
        if picture is not None and np.nanmedian(picture[3][held]) < ACROSS_PICTURE_M:
            # the board points at the camera: its edges lie left and right in the picture, which tells them apart, as
            # long as it lies flat under the feet; pulled back behind the legs (a tweak) it turns its edges up and
            # down (synthetic Japan grabs seen from the side read the heel edge)
            tweaks = tweak_angles(k[held])
            flat = not (np.isfinite(tweaks).any() and np.nanpercentile(tweaks, 75) >= TWEAK_DEG)
            if flat:
                edge = _edge(float(np.nanmedian(picture[2][side][held])))
            elif forearm is not None and _facing_camera(k[held]):
                # tweaked with the chest towards the camera: the board swung back behind the legs is what brought
                # the feet together in the picture, and the arm still reaches in front of the legs for the toe edge
                # (a Japan) or behind them for the heel edge (a method): synthetic Japans seen from the front read
                # 1.00 and 1.00, methods 0.25 and 0.50, their feet 0.23-0.25 m apart in the picture
                edge = _edge_by_forearm(forearm(air[a : b + 1], side), "unsure")
            else:
                edge = "unsure"
        elif forearm is not None and picture is not None and _facing_camera(k[held]):
            edge = _edge_by_forearm(forearm(air[a : b + 1], side), edge)
            if edge != "toe" and _between_knees(np.asarray(keypoints_2d, dtype=np.float64)[air][held], side):
                edge = "toe"
        zone = "nose" if along > feet + END_ZONE_M else "tail" if along < -feet - END_ZONE_M else "middle"
        # seen broadside, the picture's offset from the hips says the zone better than the feet: the rider stands
        # over the board's centre and the pose model draws the hips where they are, where it draws the feet of a
        # crouched rider reaching for an end anywhere (a seatbelt's back foot drawn at the hand on the tail). On the
        # synthetic grab suite, front and back views, the hand's offset from the hips along the board: nose, tail,
        # crail, seatbelt and truck driver hands 0.35-0.60 m, hands between the bindings 0.20 m or less (from the
        # feet' centre: the seatbelts and crails 0.01-0.36 m)
        if picture is not None and riding_stance in ("regular", "goofy"):
            from_hips = _along_from_hips(np.asarray(keypoints_2d, dtype=np.float64)[air][held],
                                         np.asarray(scale_px_per_m, dtype=np.float64)[air][held], k[held], side,
                                         riding_stance)  # fmt: skip
            if np.isfinite(from_hips):
                zone = "nose" if from_hips > HIPS_END_M else "tail" if from_hips < -HIPS_END_M else "middle"
        # seen from behind and broadside (the hips across the picture), the depth cannot tell the edges (on the
        # synthetic grab suite's back view it read "unsure" or the wrong edge on 7 of 7 hands between the bindings),
        # nor the forearm (the sleeve over the jacket's back either way: toe-edge hands 0.58-1.00, heel 0.67-1.00), but
        # the legs hide a hand reaching past them for the toe edge and the pose model says so: the wrist's
        # visibility over the held run, heel-edge hands 0.96-0.98, toe-edge hands 0.70-0.79. Between the bindings
        # only: at the nose or the tail the hand reaches round the legs into plain view whichever edge it holds
        # (nose and tail grabs 0.97-0.99, toe edge)
        if picture is not None and zone == "middle" and _back_to_camera(k[held]):
            k2 = np.asarray(keypoints_2d, dtype=np.float64)[air][held]
            if _broadside(k2, np.asarray(scale_px_per_m, dtype=np.float64)[air][held], k[held]):
                edge = _edge_by_wrist(k2[:, _HAND[side][0], 2], edge)
        hand = side
        route = "front" if elbow[1] >= 0 else "behind"
        if riding_stance in ("regular", "goofy"):
            leading = "left" if riding_stance == "regular" else "right"
            hand = "front" if side == leading else "back"
            # the route by the elbow against the knee on the hand's own end of the board (the back knee for the back
            # hand): an arm wrapped around the outside of that leg has its elbow beyond the knee, towards that end;
            # one reaching between the legs has it inside. The elbow's side of the board's axis is no guide: the
            # pose model draws the toes pointing down in the air, so `across` mostly points down the legs (on the
            # synthetic grab suite its cosine with the feet-to-hips line read -0.3 to -0.99). There, front and back
            # views, the elbow past the back knee towards the tail (3D, along the board, as a share of the feet's
            # distance apart): stalefish 0.03-0.37, roast beef -0.44 to -0.10
            knee = float(np.nanmedian(_to_board(k[held, [_KNEE[side]]], centre[held], axes[held])[:, 0, 0]))
            past = float(elbow[0]) - knee if hand == "front" else knee - float(elbow[0])
            if np.isfinite(past):
                route = "behind" if past > 0 else "front"
        b = _held_to(loose[side], b)
        hands.append(HandGrab(
            hand=hand, side=side, edge=edge, zone=zone,
            route=route, start=int(air[a]), end=int(air[b]),
            start_frame=int(frames[air[a]]), end_frame=int(frames[air[b]]), start_s=float(t[air[a]]),
            end_s=float(t[air[b]] + 1.0 / fps), distance_m=closeness,
        ))  # fmt: skip
    hands = _crossing_hand(hands)
    first = min(h.start for h in hands) - air[0]
    last = max(h.end for h in hands) - air[0]
    tweaks = tweak_angles(k[first : last + 1])
    tweak = float(np.nanpercentile(tweaks, 75)) if np.isfinite(tweaks).any() else float("nan")
    tweaked = bool(np.isfinite(tweak) and tweak >= TWEAK_DEG)
    name = name_grab({h.hand: (h.edge, h.zone, h.route) for h in hands}, tweaked)
    return Grab(name, tuple(sorted(hands, key=lambda h: h.start_s)), tweak)
