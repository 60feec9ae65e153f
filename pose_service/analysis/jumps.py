"""Jumps of the rider: each flight with its rotation, the body at takeoff, peak and landing, and what it means.

`find_jumps(track, timestamps_s, image_height=..., fps=..., natural_stance=...)` is the stage's entry: a tracked
person in, a list of `Jump` out, each with its trick report (stance, name, per-axis rotation against nominal,
landing grade, height, confidence); `gate_jumps` applies the scoreability gate. `Jump.to_result()` is the
`analysis.jumps[]` entry of result.json (docs/design.md's fields first, then extra measured fields).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from pose_service.analysis.airborne import Airborne, find_airborne, pixels_per_metre
from pose_service.analysis.angles import ANGLE_NAMES, body_angles, stance_width_m
from pose_service.analysis.camera import (
    WINDOW_S,
    CameraAround,
    camera_around,
    camera_pan,
    camera_roll,
    stabilise,
    unrolled,
)
from pose_service.analysis.contact import Ground
from pose_service.analysis.explain import explain_sentences
from pose_service.analysis.grab import Grab, find_grab
from pose_service.analysis.landing import (
    AIRBAG,
    AIRBAG_S,
    LandingGrade,
    grade_landing,
    landed_in_airbag,
    ran_in_on_snow,
    took_off_in_airbag,
)
from pose_service.analysis.quality import (
    MIN_AIR_SEEN,
    MIN_RIDER_PX,
    Confidence,
    HeightEstimate,
    confidence,
    cut_by_edge,
    estimate_height,
    hidden_span,
    rotation_doubt,
    scoring,
)
from pose_service.analysis.rotation import RotationFit, body_turn, fit_rotation, judge_count, spin_count
from pose_service.analysis.stance import StanceReading, landing_stance, riding_stance
from pose_service.analysis.trick import STANCES, name_trick, roll_direction
from pose_service.tracking.core import Track
from pose_service.tracking.inversion import body_axis_deg

__all__ = ["AxisTurn", "Jump", "find_jumps", "gate_jumps", "overlay_labels", "rider_chain", "MOMENT_NAMES"]

MOMENT_NAMES = ("takeoff", "peak", "landing")
_GROUND_BEFORE_S = 0.15  # ground frames before takeoff and after landing that the rotation fit also sees
_GROUND_AFTER_S = 0.25
_ROTATION_SLACK_S = 0.14  # the rotation may start or end up to 4 frames (at 30 fps) inside the measured flight
_ABSORB_S = 0.4  # how long after landing the knees are watched for the absorbing bend
_PRE_S = 0.3  # the pre-rotation: how far the body turned in this long on the snow before takeoff
_AFTER_S = 0.4  # the rotation still going on the snow: from touch-down to this long after
AXES = ("spin", "flip", "roll")
_UPRIGHT_DEG = 45.0  # the gate's rider height is read on the upright samples (`_rider_height_px`) ...
_UPRIGHT_SHARE = 0.3  # ... where at least this share of them are


@dataclass(frozen=True)
class AxisTurn:
    """One body axis of a jump: the fitted total (signed: spin + left, flip + front, roll + head to the right),
    the judge count, and the turn already done before takeoff and still going after landing (degrees, positive
    in the jump's own direction of that axis; None where not read)."""

    measured_deg: float
    nominal_deg: float
    pre_rotation_deg: float | None
    after_landing_deg: float | None

    @property
    def difference_deg(self) -> float:
        """Measured minus nominal: negative is short (under-rotated)."""
        return abs(self.measured_deg) - self.nominal_deg


@dataclass(frozen=True)
class Jump:
    """One jump of one person.

    flight: when and how high (see `Airborne`); rotation: the fitted steady rotation (signed, measured).
    moments: body angles in degrees (names as `ANGLE_NAMES`, plus "stance_width_m") at takeoff, peak (the hip's
        highest sample) and landing; NaN where the person was not seen.
    landing_knee_min_deg: the deepest knee bend (mean of both knees) within 0.4 s after landing: the absorb.
    """

    flight: Airborne
    rotation: RotationFit
    moments: dict[str, dict[str, float]]
    landing_knee_min_deg: float
    sentences: tuple[str, ...] = field(default=())
    stance: StanceReading | None = None
    switch: bool | None = None
    turns: dict[str, AxisTurn] = field(default_factory=dict)
    landing: LandingGrade | None = None
    height: HeightEstimate | None = None
    confidence: Confidence | None = None
    unscored: str | None = None  # why this jump carries no trick numbers (the scoreability gate), else None
    camera: CameraAround | None = None  # what the camera did around the jump (None: not measured)
    grab: Grab | None = None  # a hand held on the board in the air (`grab.py`), None: no grab
    landed: StanceReading | None = None  # the stance ridden away from the landing in (`stance.landing_stance`)

    @property
    def explanation(self) -> str:
        return " ".join(self.sentences)

    @property
    def cue(self) -> str:
        """The first coaching sentence (after the ones that say what the jump was and its grab), or ''."""
        return next((s for s in self.sentences[1:] if not s.startswith("Grab:")), "")

    @property
    def landed_switched(self) -> bool | None:
        """Whether the rider rode away from the landing in the other stance than the approach's; None where
        either was not read."""
        return _switched(self.stance, self.landed)

    @property
    def spin_deg(self) -> float:
        return spin_count(self.rotation.spin_deg, self.landed_switched)

    @property
    def flip_deg(self) -> float:
        return judge_count(self.rotation.flip_deg, 360.0)

    @property
    def spin_direction(self) -> str | None:
        if not self.spin_deg:
            return None
        return "left" if self.rotation.spin_deg > 0 else "right"

    @property
    def flip_direction(self) -> str | None:
        if not self.flip_deg:
            return None
        return "front" if self.rotation.flip_deg > 0 else "back"

    @property
    def roll_deg(self) -> float:
        return judge_count(self.rotation.roll_deg, 360.0)

    @property
    def roll_direction(self) -> str | None:
        """'wildcat' or 'tamedog' (from the riding stance); None without a counted roll or a seen stance."""
        if not self.roll_deg:
            return None
        return roll_direction(self.riding_stance, "right" if self.rotation.roll_deg > 0 else "left")

    @property
    def riding_stance(self) -> str | None:
        return self.stance.stance if self.stance is not None else None

    @property
    def trick(self) -> str:
        """The trick's name (see `trick.py`'s table), then the grab's (`grab.py`): "frontside 360 indy",
        "straight air, melon"."""
        name = name_trick(
            stance=self.riding_stance, switch=self.switch, spin_deg=self.spin_deg, spin_direction=self.spin_direction,
            flip_deg=self.flip_deg, flip_direction=self.flip_direction, roll_deg=self.roll_deg,
            roll_direction=self.roll_direction,
        )  # fmt: skip
        if self.grab is None:
            return name
        return f"{name}, {self.grab.name}" if name == "straight air" else f"{name} {self.grab.name}"

    def with_gate(self, reason: str) -> Jump:
        """This jump with no trick numbers: the clip cannot be scored for `reason`."""
        sentences = (f"{self.flight.air_time_s:.2f} s in the air; not scored: {reason}.",)
        return Jump(self.flight, self.rotation, self.moments, self.landing_knee_min_deg, sentences, self.stance,
                    self.switch, self.turns, self.landing, self.height, self.confidence, reason,
                    self.camera, self.grab, self.landed)  # fmt: skip

    def _rotation_result(self) -> dict[str, Any]:
        directions = {"spin": self.spin_direction, "flip": self.flip_direction, "roll": self.roll_direction}
        out = {}
        for axis in AXES:
            turn = self.turns.get(axis)
            if turn is None:
                continue
            out[axis] = {
                "measured_deg": round(abs(turn.measured_deg), 1),
                "nominal_deg": turn.nominal_deg,
                "difference_deg": round(turn.difference_deg, 1),
                "direction": directions[axis],
                "pre_rotation_deg": _num(turn.pre_rotation_deg),
                "after_landing_deg": _num(turn.after_landing_deg),
            }
        return out

    def to_result(self) -> dict[str, Any]:
        f, r = self.flight, self.rotation
        return {
            "takeoff_s": round(f.takeoff_s, 4),
            "landing_s": round(f.landing_s, 4),
            "air_time_s": round(f.air_time_s, 4),
            "spin_deg": self.spin_deg,
            "spin_direction": self.spin_direction,
            "flip_deg": self.flip_deg,
            "flip_direction": self.flip_direction,
            "takeoff_frame": f.takeoff_frame,
            "landing_frame": f.landing_frame,
            "explanation": self.explanation,
            "cue": self.cue,
            "spin_measured_deg": round(abs(r.spin_deg), 1),
            "flip_measured_deg": round(abs(r.flip_deg), 1),
            "rotation_agreement": round(r.agreement, 3),
            "height_m": round(self.height.height_m if self.height else f.apex_m, 3),
            # with a moving camera the stabilised picture's drop is the camera's as much as the rider's: withheld
            "drop_m": None if self.camera is not None and self.camera.moving else round(f.drop_m, 3),
            "landing_knee_min_deg": _num(self.landing_knee_min_deg),
            "angles": {moment: {k: _num(v) for k, v in values.items()} for moment, values in self.moments.items()},
            "roll_deg": self.roll_deg,
            "roll_direction": self.roll_direction,
            "roll_measured_deg": round(abs(r.roll_deg), 1),
            "trick": None if self.unscored else self.trick,
            "stance": self.riding_stance,
            "switch": self.switch,
            "landing_stance": self.landed.stance if self.landed is not None else None,
            "rotation": None if self.unscored else self._rotation_result(),
            "landing": None if self.unscored or self.landing is None else self.landing.to_result(),
            "height": self.height.to_result() if self.height else None,
            "confidence": self.confidence.to_result() if self.confidence else None,
            "unscored": self.unscored,
            "camera": self.camera.to_result() if self.camera else None,
            "grab": self.grab.to_result() if self.grab else None,
        }


def _switched(approach: StanceReading | None, landed: StanceReading | None) -> bool | None:
    """Whether `landed` is the other stance than `approach`; None where either was not read."""
    if approach is None or landed is None or approach.stance is None or landed.stance is None:
        return None
    return landed.stance != approach.stance


def _num(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 1)


def find_jumps(
    track: Track,
    timestamps_s: np.ndarray | list[float],
    *,
    image_height: int,
    fps: float,
    natural_stance: str | None = None,
    image_width: int | None = None,
    forearm: Callable[[np.ndarray, str], np.ndarray] | None = None,
    ground_reader: Callable[[list[list[int]]], Ground] | None = None,
) -> list[Jump]:
    """Every jump of `track` (a tracked person), named, graded and explained, in time order.

    natural_stance: the rider's own stance ('regular' or 'goofy') when the user gave it: a jump ridden in the
    other one is switch. Without it `switch` is None and the names are the forward names.
    image_width: the picture's width in pixels (the camera's speed is measured in frame widths; default: the
    height).
    forearm: the picture's reading of a grabbing hand's forearm, drawn over the legs or hidden behind them, for
    samples of `track` (`analysis.forearm.ForearmReader`; `find_grab`); None: the grab's edge from the depth alone.
    ground_reader: reads what lies under the track's feet in windows of frames (first, last), `contact.read_ground`,
    where the track carries no reading of it (`extras['ground_contact']`, read where the camera moved): an airbag
    landing is told by it (`landing.landed_in_airbag`); None: not looked for there.
    """
    if natural_stance is not None and natural_stance not in STANCES:
        raise ValueError(f"natural_stance must be one of {STANCES} or None, got {natural_stance!r}")
    if len(track) == 0:
        return []
    times = np.asarray(timestamps_s, dtype=np.float64)[track.frames]
    full_path = track.extras.get("camera_path")
    all_times = np.asarray(timestamps_s, dtype=np.float64)
    flight_2d = _flight_keypoints(track, full_path, all_times, image_width or image_height, image_height)
    contact = track.extras.get("ground_contact")  # the snow under the feet per sample (`analysis.contact`)
    colour = track.extras.get("ground_colour")  # ... and the colourfulness there (an airbag's fabric)
    beyond = track.extras.get("ground_beyond")  # ... and just past the board (a lip's last frames)
    flights = find_airborne(track.frames, times, flight_2d, track.keypoints_3d, image_height=image_height, fps=fps,
                            moving_camera=flight_2d is not track.keypoints_2d,
                            contact=contact if isinstance(contact, np.ndarray) else None,
                            colour=colour if isinstance(colour, np.ndarray) else None,
                            beyond=beyond if isinstance(beyond, np.ndarray) else None)  # fmt: skip
    if not flights:
        return []
    scale = pixels_per_metre(track.keypoints_2d, track.keypoints_3d, smooth=max(3, round(fps * 0.5)) | 1)
    frame_size = (image_width or image_height, image_height)
    # a body the picture's edge cuts is squeezed into the part in view: its orientation and joint angles are no
    # reading of the rider's
    cut = cut_by_edge(track.keypoints_2d, scale, frame_size)
    whole_3d = np.where(cut[:, None, None], np.nan, track.keypoints_3d)
    angles = body_angles(whole_3d)
    width = stance_width_m(track.keypoints_3d)
    path = track.extras.get("camera_path_x")  # the tracker's camera path, per frame of the clip
    camera = path[np.clip(track.frames, 0, len(path) - 1)] if isinstance(path, np.ndarray) and len(path) else None
    ground = _ground_drift(track.extras.get("ground_shift_px"), camera)  # the travel is read against this
    raw_scale = pixels_per_metre(track.keypoints_2d, track.keypoints_3d, smooth=1)
    turned = camera_pan(full_path, track.frames, frame_size=frame_size) if isinstance(full_path, np.ndarray) else None
    rolled = camera_roll(full_path, track.frames) if isinstance(full_path, np.ndarray) else None
    jumps: list[Jump] = []
    for n, flight in enumerate(flights):
        under = _ground(track, times, flight, fps, ground_reader)  # snow and colour under the feet
        in_bag = bool(jumps) and jumps[-1].landing is not None and jumps[-1].landing.grade == AIRBAG
        if in_bag and under is not None and took_off_in_airbag(times, *under, takeoff_s=flight.takeoff_s):
            continue  # landed in an airbag and thrown about in it: nobody takes off from one
        cam = camera_around(
            full_path if isinstance(full_path, np.ndarray) else None, all_times, takeoff_s=flight.takeoff_s,
            landing_s=flight.landing_s, frame_size=frame_size,
        )  # fmt: skip
        up_unknown = cam.reason if cam is not None and cam.moving else None
        near = (times >= flight.takeoff_s - _GROUND_BEFORE_S) & (times <= flight.landing_s + _GROUND_AFTER_S)
        # the camera's own turn since takeoff, where it moved (a still camera's path is its flow's noise)
        pan = turned - turned[flight.start] if turned is not None and up_unknown is not None else None
        # and its own roll since takeoff, taken out of the readings (`camera.unrolled`)
        seen_2d, seen_3d = track.keypoints_2d, track.keypoints_3d
        if rolled is not None and up_unknown is not None:
            seen_2d, seen_3d = unrolled(seen_2d, seen_3d, rolled - rolled[flight.start], frame_size)
        fit_2d = np.where(cut[:, None, None], np.nan, seen_2d)
        fit_3d = np.where(cut[:, None, None], np.nan, seen_3d)
        rotation = fit_rotation(
            times[near],
            fit_2d[near],
            fit_3d[near],
            scale[near],
            takeoff_s=flight.takeoff_s,
            landing_s=flight.landing_s,
            slack_s=_ROTATION_SLACK_S,
            pan_deg=None if pan is None else pan[near],
        )
        rotation = _face_on_flip(rotation, times, track.keypoints_2d, flight)
        rotation = _side_on_flip(rotation, times, flight_2d, track.interpolated, flight)
        peak = _peak_index(track, flight)
        moments = {
            name: _moment(angles[i], width[i], withhold_lean=up_unknown is not None)
            for name, i in zip(MOMENT_NAMES, (flight.start, peak, flight.end), strict=True)
        }
        after = (times >= flight.landing_s) & (times <= flight.landing_s + _ABSORB_S)
        with np.errstate(all="ignore"), warnings.catch_warnings():  # a sample with neither knee (cut by the edge)
            warnings.simplefilter("ignore", RuntimeWarning)
            knees = np.nanmean(angles[after][:, :2], axis=1) if after.any() else np.array([np.nan])
        knee_min = float(np.nanmin(knees)) if np.isfinite(knees).any() else float("nan")
        stance = riding_stance(
            times, track.keypoints_2d, track.keypoints_3d, scale, takeoff_s=flight.takeoff_s,
            camera_dx_px=ground,
        )  # fmt: skip
        switch = None if natural_stance is None or stance.stance is None else stance.stance != natural_stance
        airbag = None if under is None else landed_in_airbag(times, *under, takeoff_s=flight.takeoff_s,
                                                             landing_s=flight.landing_s)  # fmt: skip
        # the stance ridden away in (not out of an airbag, where nobody rides away)
        landed = None if airbag is not None else landing_stance(
            times, track.keypoints_2d, track.keypoints_3d, scale, landing_s=flight.landing_s,
            next_takeoff_s=flights[n + 1].takeoff_s if n + 1 < len(flights) else np.inf, camera_dx_px=ground,
        )  # fmt: skip
        turns = _axis_turns(times, seen_3d, rotation, flight, pan, _switched(stance, landed))
        landing = grade_landing(times, track.keypoints_3d, landing_s=flight.landing_s,
                                residual_rotation_deg=_residual(turns["spin"]), up_unknown=up_unknown, cut=cut)  # fmt: skip
        if airbag is not None:
            landing = replace(landing, grade=AIRBAG, reasons=(airbag,))
        conf = confidence(track.frames, track.interpolated, track.bbox, track.keypoints_2d,
                          takeoff_frame=flight.takeoff_frame, landing_frame=flight.landing_frame,
                          agreement=rotation.agreement, scale_px_per_m=raw_scale, fps=fps,
                          camera_motion=_camera_motion(camera, times, track.bbox, flight),
                          camera_moving=up_unknown is not None, cut=cut)  # fmt: skip
        # the hands are named front and back by the stance seen, else by the rider's own (given) stance. Not read
        # with a moving camera: on the real follow-cams 3 of 4 airs read a grab and by eye at least 2 were hands
        # held out at the sides; the synthetic follow-cam grabs were right in 1 of 4.
        grab = None if up_unknown is not None else find_grab(times, track.frames, track.keypoints_3d, takeoff_s=flight.takeoff_s,
                         landing_s=flight.landing_s, riding_stance=stance.stance or natural_stance, fps=fps,
                         keypoints_2d=track.keypoints_2d, scale_px_per_m=scale, forearm=forearm)  # fmt: skip
        jump = Jump(flight, rotation, moments, knee_min, (), stance, switch, turns, landing,
                    estimate_height(flight, camera_moving=up_unknown is not None), conf, None, cam, grab, landed)  # fmt: skip
        jumps.append(replace(jump, sentences=tuple(explain_sentences(jump))))
    return jumps


def _ground(
    track: Track, times: np.ndarray, flight: Airborne, fps: float, reader: Callable[[list[list[int]]], Ground] | None
) -> tuple[np.ndarray, np.ndarray] | None:
    """(snow, colour) under the feet per sample of `track` around `flight` (`contact.Ground`; nan where not read):
    the ground the track carries, else read by `reader` over the run-in and, where the run-in was ridden on snow,
    the landing (a clip off the snow, sports2d_demo's four hops on a still camera, decodes half a second a jump,
    not a second); None where neither is there."""
    snow, colour = track.extras.get("ground_contact"), track.extras.get("ground_colour")
    if isinstance(snow, np.ndarray) and isinstance(colour, np.ndarray):
        return snow, colour
    if reader is None:
        return None
    reach = int(np.ceil(AIRBAG_S * fps))
    run_in = reader([[flight.takeoff_frame - reach, flight.takeoff_frame]])
    if not ran_in_on_snow(times, run_in.snow, takeoff_s=flight.takeoff_s):
        return run_in.snow, run_in.colour
    landing = reader([[flight.landing_frame, flight.landing_frame + reach]])
    return (np.where(np.isfinite(run_in.snow), run_in.snow, landing.snow),
            np.where(np.isfinite(run_in.colour), run_in.colour, landing.colour))  # fmt: skip


def _plain_flip_facing(rotation: RotationFit) -> float | None:
    """How far (degrees, 0-180) the rider faced from the camera at takeoff (0: the chest to it, 180: the back)
    where the fit is a plain flip of half a turn or more with no half spin; None for anything else (spins, rolls,
    tilted axes, small flips), whose direction the picture's cues below leave to the fit."""
    if abs(rotation.flip_deg) < 180.0 or abs(rotation.spin_deg) >= 180.0 or rotation.model != "flip":
        return None
    return abs((rotation.heading_deg + 180.0) % 360.0 - 180.0)


_FACE_PITCH_MIN = 0.04  # torso lengths: the nose's move along the body that tells a flip's direction face-on
_FACE_PITCH_SWING = 0.3  # torso lengths: a reading swung this far is the head end-on to the camera
_FACE_PITCH_JUMP = 0.1  # torso lengths: a reading jumping back across the start this far in a frame is too
_FACE_PITCH_TURN_DEG = 90.0  # read while the body turns this far into the flip (past it the picture inverts)


def _face_on_flip(rotation: RotationFit, times: np.ndarray, keypoints_2d: np.ndarray, flight: Airborne) -> RotationFit:
    """The flip's direction from the head's pitch, where the flip's axis runs across the picture.

    Filmed face-on or from behind, a front flip and a backflip project to the same torso in the picture, and
    the pose model's depth, which alone tells them apart in 3D, is the reading it mirrors most (a backflip read
    as a front flip). The face does not mirror: as a flip starts, the head pitches with the body, and seen from
    in front or behind the nose moves along the body towards the feet in a front flip (the face turns down to
    the snow) and towards the top of the head in a backflip (the chin comes up), by about a fifth of the torso's
    length at 60° into the turn. The move from just before takeoff to the first 90° of the turn (the second half
    of that stretch, median, before the first wild swing) overrules the fit's sign when it is clear (`_FACE_PITCH_MIN`). Left alone: a flip
    seen side-on (the picture shows its turn and the fit reads it), spins of a half turn or more, rolls and
    tilted axes, where the nose moves across the body too."""
    flip = rotation.flip_deg
    facing = _plain_flip_facing(rotation)
    if facing is None or 45.0 < facing < 135.0:
        return rotation
    span = min(0.25, _FACE_PITCH_TURN_DEG / abs(flip)) * flight.air_time_s
    before = (times >= flight.takeoff_s - 0.15) & (times <= flight.takeoff_s)
    early = np.flatnonzero((times > flight.takeoff_s) & (times <= flight.takeoff_s + span))
    if before.sum() < 2 or len(early) < 2:
        return rotation
    k = np.asarray(keypoints_2d, dtype=np.float64)
    hips, shoulders = k[:, [23, 24], :2].mean(axis=1), k[:, [11, 12], :2].mean(axis=1)
    ears = k[:, [7, 8], :2].mean(axis=1)
    body = shoulders - hips
    length = np.maximum(np.linalg.norm(body, axis=1), 1e-6)
    along = np.einsum("ij,ij->i", k[:, 0, :2] - ears, body) / length**2  # the nose from the ears, towards the head
    moves = along[early] - np.nanmedian(along[before])
    # Near 90° the head lies along the line of sight and the reading swings wildly, either way: the readings
    # stop before the first swing, a reading past `_FACE_PITCH_SWING` or one that jumps back across the start by
    # `_FACE_PITCH_JUMP` in a frame (the rendered follow-below backflip, takeoff found 2 frames late: +0.10, +0.11,
    # +0.06, then -0.07; the late half of the stretch read the front flip's way).
    jumped = np.r_[False, (np.sign(moves[1:]) * np.sign(moves[:-1]) < 0) & (np.abs(np.diff(moves)) > _FACE_PITCH_JUMP)]
    swing = np.flatnonzero((np.abs(moves) > _FACE_PITCH_SWING) | jumped)
    kept = early[: swing[0]] if len(swing) else early
    if len(kept) == 0:
        return rotation
    late = kept[times[kept] > flight.takeoff_s + span / 2]
    moved = float(np.nanmedian(along[late if len(late) else kept[-1:]] - np.nanmedian(along[before])))
    if not np.isfinite(moved) or abs(moved) < _FACE_PITCH_MIN:
        return rotation
    forward = moved < 0  # towards the feet: the face turns down, a front flip
    if forward == (flip > 0):
        return rotation
    return replace(rotation, flip_deg=-flip)


_SIDE_TURN_SHARE = 0.5  # the picture shows at least this share of a side-on flip's turn ...
_SIDE_STEP_DEG = 120.0  # ... read between seen samples less than this far apart (else the turn's way is unknown)
_SIDE_FACING = 0.05  # torso lengths: the nose ahead of the ears and the toes ahead of the heels, the same way
_SIDE_BEFORE_S = 0.3  # ... in the picture, read over this long before takeoff


def _side_on_flip(
    rotation: RotationFit, times: np.ndarray, keypoints_2d: np.ndarray, interpolated: np.ndarray, flight: Airborne
) -> RotationFit:
    """The flip's direction from the picture, where the flip's axis points at the camera (filmed side-on).

    Side-on, a flip turns the body in the picture's own plane: the ankles-to-shoulders line goes right round, and
    which way it goes, against the way the rider faced in the picture before takeoff (the nose ahead of the ears,
    the toes ahead of the heels), tells a front flip (the head goes forward and down) from a backflip. The fit
    reads the direction from the pose model's 3D keypoints, whose depth mirrors: sports2d_demo's front flip, seen
    at 112-116° (side-on), read +370 in the original and -374 (a backflip) with the pictures changed by one level
    of noise, while the picture turned +338° and +339° and the rider faced the same way in both. Used where the
    fit is a flip of half a turn or more with no spin of a half turn, the rider side-on (45-135° from facing the
    camera, exclusive), the picture shows at least `_SIDE_TURN_SHARE` of the flip between seen samples never more than
    `_SIDE_STEP_DEG` apart, and both facing readings agree by `_SIDE_FACING` torso lengths or more; else the
    fit stands. Seen face-on or from behind, the flip's axis runs across the picture and the body only shortens
    and inverts in it (`_face_on_flip`)."""
    flip = rotation.flip_deg
    facing = _plain_flip_facing(rotation)
    if facing is None or not 45.0 < facing < 135.0:
        return rotation
    seen = ~np.asarray(interpolated, dtype=bool)
    k = np.asarray(keypoints_2d, dtype=np.float64)
    air = np.flatnonzero(seen & (times >= flight.takeoff_s) & (times <= flight.landing_s))
    before = np.flatnonzero(seen & (times >= flight.takeoff_s - _SIDE_BEFORE_S) & (times <= flight.takeoff_s))
    if len(air) < 3 or len(before) < 2:
        return rotation
    angle = body_axis_deg(k[air])
    steps = (np.diff(angle) + 180.0) % 360.0 - 180.0  # each step the short way round
    if not np.isfinite(steps).all() or np.abs(steps).max() >= _SIDE_STEP_DEG:
        return rotation
    turn = float(steps.sum())
    if abs(turn) < _SIDE_TURN_SHARE * abs(flip):
        return rotation
    kb = k[before]
    torso = np.maximum(np.linalg.norm(kb[:, [11, 12], :2].mean(axis=1) - kb[:, [23, 24], :2].mean(axis=1), axis=1), 1e-6)
    nose = (kb[:, 0, 0] - kb[:, [7, 8], 0].mean(axis=1)) / torso  # the nose ahead of the ears
    toes = (kb[:, [31, 32], 0].mean(axis=1) - kb[:, [29, 30], 0].mean(axis=1)) / torso  # the toes ahead of the heels
    ahead = np.array([np.nanmedian(nose), np.nanmedian(toes)])
    if not (np.isfinite(ahead).all() and np.abs(ahead).min() >= _SIDE_FACING and np.sign(ahead[0]) == np.sign(ahead[1])):
        return rotation
    # image x grows to the right and y down: the line's angle grows as its top swings towards +x
    front = turn * ahead[0] > 0
    if front == (flip > 0):
        return rotation
    return replace(rotation, flip_deg=-flip)


def _flight_keypoints(track: Track, path: object, times_s: np.ndarray, width: int, height: int) -> np.ndarray:
    """The 2D keypoints the flights are found in: the picture's own where the camera stood still over the track,
    else carried into the first frame's pixels (`camera.stabilise`). A follow-cam or a pan that keeps the rider
    centred takes the parabola out of the picture (the hips rise and fall a third as far as they do); the
    background's motion puts it back. A still camera keeps the picture's numbers exactly."""
    if not camera_moved(track, times_s, width, height):
        return track.keypoints_2d
    return stabilise(track.keypoints_2d, track.frames, np.asarray(path))


def _ground_drift(shift_px: object, camera: np.ndarray | None) -> np.ndarray | None:
    """How far the ground at the rider's feet has moved across the picture since the first sample, pixels, per
    sample: the ground's own motion frame to frame where it was read (`contact.ground_shift`, with a moving
    camera), the whole background's (`camera`) where not; `camera` as it is without the ground's."""
    if not isinstance(shift_px, np.ndarray) or camera is None or len(shift_px) != len(camera):
        return camera
    steps = np.diff(camera, prepend=camera[:1])
    return np.cumsum(np.where(np.isfinite(shift_px), shift_px, steps))


def camera_moved(track: Track, timestamps_s: np.ndarray | list[float], width: int, height: int) -> bool:
    """Whether the camera moved (`CameraAround.moving`) over the track's time, by the tracker's camera path in
    its extras (False where there is none)."""
    path = track.extras.get("camera_path")
    if not isinstance(path, np.ndarray) or len(path) < 2 or len(track) < 2:
        return False
    times_s = np.asarray(timestamps_s, dtype=np.float64)
    t = times_s[np.clip(track.frames, 0, len(times_s) - 1)]
    span = camera_around(path, times_s, takeoff_s=float(t[0]) + WINDOW_S, landing_s=float(t[-1]) - WINDOW_S,
                         frame_size=(width, height))  # fmt: skip
    return span is not None and span.moving


def _camera_motion(camera_x: np.ndarray | None, times: np.ndarray, bbox: np.ndarray, flight: Airborne) -> float | None:
    """How fast the camera panned around the jump (0.5 s either side of the flight), in rider heights per second:
    the content's net horizontal travel over the window (frame-to-frame jitter of the flow estimate cancels)
    per second, over the rider's median box height; None if not measured."""
    if camera_x is None:
        return None
    near = (times >= flight.takeoff_s - 0.5) & (times <= flight.landing_s + 0.5)
    if near.sum() < 2:
        return None
    t, x = times[near], camera_x[near]
    height = float(np.median(bbox[near, 3] - bbox[near, 1]))
    span = float(t[-1] - t[0])
    if span <= 0 or height <= 0:
        return None
    return round(abs(float(x[-1] - x[0])) / span / height, 3)


def _residual(spin: AxisTurn) -> float:
    """How far the spin was off its count when the board touched down (finished or turned back on the snow): the
    mean of two readings of it, the turn still going after touch-down and the fitted total against the count
    (the fit, held steady after landing, takes in part of the turn on the snow, so each alone reads it short)."""
    after = abs(spin.after_landing_deg) if spin.after_landing_deg is not None else None
    if not spin.nominal_deg:
        return after if after is not None else float("nan")
    off = abs(spin.difference_deg)
    return off if after is None else (off + after) / 2


def _axis_turns(
    times: np.ndarray,
    keypoints_3d: np.ndarray,
    rotation: RotationFit,
    flight: Airborne,
    pan_deg: np.ndarray | None,
    landed_switched: bool | None = None,
) -> dict[str, AxisTurn]:
    """Per axis: the fitted total, its judge count (the spin's by the stance landed in where the total lies between
    two counts: `spin_count`), the pre-rotation and the rotation still going after landing (pan_deg: the camera's
    turn per sample, `fit_rotation`)."""
    pre = body_turn(times, keypoints_3d, rotation, flight.takeoff_s - _PRE_S, flight.takeoff_s, pan_deg=pan_deg)
    end = min(flight.landing_s + _AFTER_S, float(times[-1]))
    post = (body_turn(times, keypoints_3d, rotation, flight.landing_s, end, pan_deg=pan_deg)
            if end > flight.landing_s else None)  # fmt: skip
    totals = {"spin": rotation.spin_deg, "flip": rotation.flip_deg, "roll": rotation.roll_deg}
    index = {"flip": 0, "spin": 1, "roll": 2}  # body_turn's order: left, up, forward axes
    out = {}
    for axis in AXES:
        total = totals[axis]
        sign = -1.0 if total < 0 else 1.0

        def part(vec: np.ndarray | None, axis: str = axis, sign: float = sign) -> float | None:
            return None if vec is None else float(sign * vec[index[axis]])

        count = spin_count(total, landed_switched) if axis == "spin" else judge_count(total, 360.0)
        out[axis] = AxisTurn(total, count, part(pre), part(post))
    return out


def gate_jumps(jumps: list[Jump], rider: Track | None, *, fps: float = 30.0) -> tuple[list[Jump], dict[str, Any]]:
    """The scoreability gate (`quality.py`): `analysis.scoring` and the jumps, those that cannot be scored
    without their trick numbers (`Jump.unscored` says why)."""
    height = _rider_height_px(rider) if rider is not None and len(rider) else None
    hidden = None
    if rider is not None and len(rider) and not jumps:
        scale = pixels_per_metre(rider.keypoints_2d, rider.keypoints_3d, smooth=1)
        hidden = hidden_span(rider.frames, rider.interpolated, scale, fps)
    results = [j.to_result() for j in jumps]
    verdict = scoring(height, results, hidden=hidden, fps=fps)
    small = height is not None and height < MIN_RIDER_PX
    gated = []
    for jump, result in zip(jumps, results, strict=True):
        seen = jump.confidence.air_frames_seen if jump.confidence else 1.0
        if small:
            jump = jump.with_gate(f"rider under {MIN_RIDER_PX:.0f} px tall (median {height:.0f} px)")
        elif seen < MIN_AIR_SEEN:
            c = jump.confidence
            assert c is not None
            jump = jump.with_gate(f"rider seen in {c.seen_frames} of {c.air_frames} air frames" + _edge_note(c.edge_frames))
        elif doubt := rotation_doubt(result):
            jump = jump.with_gate(doubt)
        gated.append(jump)
    return gated, verdict


def _edge_note(edge_frames: int) -> str:
    return f" (cut by the picture's edge in {edge_frames})" if edge_frames else ""


def _rider_height_px(rider: Track) -> float:
    """The rider's height in the picture for the gate: the box's median height over the samples where the body
    stands upright in the picture (ankles to shoulders within `_UPRIGHT_DEG` of the picture's up), where there are
    `_UPRIGHT_SHARE` of them or more; else over every sample. A rider lying in an airbag after the landing, or
    down after a crash, is as big as before (a synthetic airbag clip at 256 px: its 1.6 s lying in the bag put the
    median at 50 px, 55 over the upright samples)."""
    heights = rider.bbox[:, 3] - rider.bbox[:, 1]
    upright = np.abs(body_axis_deg(rider.keypoints_2d)) <= _UPRIGHT_DEG
    if upright.sum() >= _UPRIGHT_SHARE * len(rider):
        heights = heights[upright]
    return float(np.median(heights))


def overlay_labels(jumps: list[Jump], timestamps_s: list[float] | np.ndarray, *, hold_s: float = 1.0) -> dict[int, str]:
    """Text per video frame for the overlay: during a flight the air time and rotation counting up (the fitted
    steady rotation at that moment), then the totals for `hold_s` after landing."""
    times = np.asarray(timestamps_s, dtype=np.float64)
    labels: dict[int, str] = {}
    for n, jump in enumerate(jumps, start=1):
        f, r = jump.flight, jump.rotation
        for frame in np.flatnonzero((times >= f.takeoff_s) & (times <= f.landing_s + hold_s)):
            u = min(1.0, (times[frame] - f.takeoff_s) / max(f.air_time_s, 1e-9))
            air = min(times[frame], f.landing_s) - f.takeoff_s
            text = f"jump {n}: {air:.2f} s air, spin {abs(r.spin_deg) * u:.0f} deg, flip {abs(r.flip_deg) * u:.0f} deg"
            if u >= 1.0:
                text = f"jump {n}: {f.air_time_s:.2f} s air, " + (jump.trick if not jump.unscored else "not scored")
            labels[int(frame)] = text
    return labels


def rider_chain(tracks: list[Track], rider: int, *, fps: float, max_gap_s: float = 0.5) -> Track:
    """The rider's track joined with the tracks that continue it: a tracker may split a person where the pose
    model lost them, and that is exactly mid-flip.

    A track continues the chain when its samples after the chain's last frame start within `max_gap_s` of it,
    one body height or less from the chain's last box (and the same backwards in time). Samples of a neighbour
    that overlap the chain in time are left out: the chain keeps its own, unless the chain's own samples there
    are no longer a body (`_takes_over`): then the neighbour takes the chain over from its first frame.
    """
    by_id = {t.id: t for t in tracks}
    # The rider's own track may hold a stray sample or two long after it lost the rider (another track took
    # over meanwhile): its runs are chained like any other piece, starting from the longest.
    runs = _runs(by_id[rider], max(1, round(max_gap_s * fps)))
    chain = max(runs, key=len)
    others = [t for t in tracks if t.id != rider] + [r for r in runs if r is not chain]
    for other in sorted(others, key=lambda t: int(t.frames[0])):
        if _takes_over(chain, other):
            others.remove(other)
            keep = chain.frames < other.frames[0]
            chain = Track(
                id=rider,
                frames=np.concatenate([chain.frames[keep], other.frames]),
                bbox=np.concatenate([chain.bbox[keep], other.bbox]),
                keypoints_2d=np.concatenate([chain.keypoints_2d[keep], other.keypoints_2d]),
                keypoints_3d=np.concatenate([chain.keypoints_3d[keep], other.keypoints_3d]),
                is_rider=True,
                interpolated=np.concatenate([chain.interpolated[keep], other.interpolated]),
                extras=dict(chain.extras),
            )
    for direction in (1, -1):
        while others:
            parts = [(t, _beyond(chain, t, direction)) for t in others]
            near = [
                (t, part)
                for t, part in parts
                if part is not None
                and _continues(chain, part, fps, _OWN_GAP_S if t.id == rider else max_gap_s, direction)
            ]
            if not near:
                break
            track, part = min(near, key=lambda tp: _gap(chain, tp[1], direction))
            others.remove(track)
            # only the part's run next to the chain joins it; the rest waits its turn: a track that held the rider for
            # a while and a stray sample long after must not stretch the chain over another track's samples between
            runs = _runs(part, max(1, round(_PIECE_GAP_S * fps)))
            part = runs[0] if direction > 0 else runs[-1]
            others += [r for r in runs if r is not part]
            pieces = (chain, part) if direction > 0 else (part, chain)
            chain = Track(
                id=rider,
                frames=np.concatenate([p.frames for p in pieces]),
                bbox=np.concatenate([p.bbox for p in pieces]),
                keypoints_2d=np.concatenate([p.keypoints_2d for p in pieces]),
                keypoints_3d=np.concatenate([p.keypoints_3d for p in pieces]),
                is_rider=True,
                interpolated=np.concatenate([p.interpolated for p in pieces]),
                extras=dict(chain.extras),
            )
    return chain


# The rider's own track, cut where the pose model lost them (`_runs`), joins back over a longer gap: the tracker
# already took both sides for one person, and a small rider can be lost through a whole flight (the real seg6's
# first kicker: 0.8 s).
_OWN_GAP_S = 1.0
# A piece joining the chain joins up to its first skip of more than this (`rider_chain`): the real seg6 cut to start
# 25 frames in, where the camera passes under the rider on the second kicker, split the rider between two tracks;
# one held frames 182-197 and a stray sample at 212, the other 190-214, and the chain took 184-197 and 212 from the
# first, leaving out the second's 198-211 (the landing), and the jump went unfound.
_PIECE_GAP_S = 0.2
_TAKEOVER_MIN_OVERLAP = 4  # frames both tracks hold before the rider's track ends or degrades
_TAKEOVER_MARGIN = 3  # how many more body-like samples the other track must hold over the overlap
_TAKEOVER_TAIL = 2  # ... which goes on as long as the rider's track, but for this many detected samples of it


def _takes_over(chain: Track, other: Track) -> bool:
    """Whether `other`, starting while the chain still runs and going on at least as long, is the rider there.

    When the camera passes under a rider in the air, the pose model can keep a shred of the body (a box a
    third of the rider's size, hips above the frame) under the rider's id while a second track picks the
    whole body up beside it. Over the frames both hold, a sample counts as a body when it was detected (not
    gap-filled), its hips lie inside its own box and the frame's top half-height, and its box's longer side is
    within 0.5-2x the chain's own before the other track began. The other track takes over when it starts
    within one body height of the chain's box at that frame and holds clearly more such samples. The chain may
    hold next to nothing there: a track that lost the rider mid-flip (a double cork 1080, frame 59) and took one
    stray sample 15 frames later (74), while a new track held the body from frame 60 on; the stray sample stretched
    the chain over the new track's start, which was then left out up to it, and the flight ended at the gap.
    """
    start = int(other.frames[0])
    if not chain.frames[0] < start <= chain.frames[-1]:
        return False
    # the other track goes on as long as the chain, but for a detected sample or two at the chain's very end (the
    # real seg6 at 1920x1080: the rider's track lost the landing at 217 and held 4 detected samples to the clip's
    # end, the last 1 frame after the track that held the landing)
    if np.sum(~chain.interpolated[chain.frames > other.frames[-1]]) > _TAKEOVER_TAIL:
        return False
    before = np.flatnonzero((chain.frames < start) & ~chain.interpolated)[-10:]
    overlap_chain = np.flatnonzero(chain.frames >= start)
    overlap_other = np.flatnonzero(other.frames <= chain.frames[-1])
    if len(before) < 5 or len(overlap_other) < _TAKEOVER_MIN_OVERLAP:
        return False
    size = float(np.median(_long_side(chain.bbox[before])))
    # where the other track starts, the chain's box nearest in time: its first over the overlap, or, where the chain
    # lost the body just before (a gap, then a stray sample or two), its last before it
    at = overlap_chain[0]
    if start - chain.frames[before[-1]] < chain.frames[at] - start:
        at = before[-1]
    box0, box1 = chain.bbox[at], other.bbox[0]
    centre0 = np.array([box0[0] + box0[2], box0[1] + box0[3]]) / 2
    centre1 = np.array([box1[0] + box1[2], box1[1] + box1[3]]) / 2
    if np.linalg.norm(centre1 - centre0) > size:
        return False
    return _bodies(other, overlap_other, size) >= _bodies(chain, overlap_chain, size) + _TAKEOVER_MARGIN


def _long_side(boxes: np.ndarray) -> np.ndarray:
    return np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])


def _bodies(track: Track, idx: np.ndarray, size: float) -> int:
    """How many of `track`'s samples `idx` look like a whole body of about `size` (see `_takes_over`)."""
    box = track.bbox[idx]
    hips = (track.keypoints_2d[idx, 23, :2] + track.keypoints_2d[idx, 24, :2]) / 2
    inside = (hips[:, 0] >= box[:, 0]) & (hips[:, 0] <= box[:, 2]) & (hips[:, 1] >= np.maximum(box[:, 1], 0.0))
    inside &= hips[:, 1] <= box[:, 3]
    ratio = _long_side(box) / max(size, 1.0)
    return int(np.sum(inside & ~track.interpolated[idx] & (ratio >= 0.5) & (ratio <= 2.0)))


def _runs(track: Track, max_gap: int) -> list[Track]:
    """The track cut where it skips more than `max_gap` frames."""
    cuts = np.flatnonzero(np.diff(track.frames) > max_gap) + 1
    if len(cuts) == 0:
        return [track]
    return [
        Track(id=track.id, frames=track.frames[sl], bbox=track.bbox[sl], keypoints_2d=track.keypoints_2d[sl],
              keypoints_3d=track.keypoints_3d[sl], is_rider=track.is_rider, interpolated=track.interpolated[sl],
              extras=dict(track.extras))  # fmt: skip
        for sl in (slice(a, b) for a, b in zip([0, *cuts], [*cuts, len(track)], strict=True))
    ]


def _beyond(chain: Track, other: Track, direction: int) -> Track | None:
    """The samples of `other` after the chain's last frame (direction 1) or before its first (-1), or None."""
    keep = other.frames > chain.frames[-1] if direction > 0 else other.frames < chain.frames[0]
    if not keep.any():
        return None
    return Track(
        id=other.id,
        frames=other.frames[keep],
        bbox=other.bbox[keep],
        keypoints_2d=other.keypoints_2d[keep],
        keypoints_3d=other.keypoints_3d[keep],
        interpolated=other.interpolated[keep],
    )


def _gap(chain: Track, part: Track, direction: int) -> int:
    return int(part.frames[0] - chain.frames[-1]) if direction > 0 else int(chain.frames[0] - part.frames[-1])


def _continues(chain: Track, part: Track, fps: float, max_gap_s: float, direction: int) -> bool:
    """Whether `part` picks up close in time and place to where the chain ends (1) or starts (-1): within one body
    size, the boxes' longer side (a body lying across the picture mid-flip is as long as it is wide: sports2d_demo's
    flipper, inverted at frame 174 in a box 333 px wide and 103 px tall, was picked up 194 px away and lost)."""
    if not 0 < _gap(chain, part, direction) <= max(1, round(max_gap_s * fps)):
        return False
    box0, box1 = (chain.bbox[-1], part.bbox[0]) if direction > 0 else (part.bbox[-1], chain.bbox[0])
    size = max(float(box0[2] - box0[0]), float(box0[3] - box0[1]), float(box1[2] - box1[0]),
               float(box1[3] - box1[1]), 1.0)  # fmt: skip
    centre0 = np.array([box0[0] + box0[2], box0[1] + box0[3]]) / 2
    centre1 = np.array([box1[0] + box1[2], box1[1] + box1[3]]) / 2
    return bool(np.linalg.norm(centre1 - centre0) <= size)


def _peak_index(track: Track, flight: Airborne) -> int:
    """The sample where the hip is highest in the picture within the flight."""
    hip_y = (
        track.keypoints_2d[flight.start : flight.end + 1, 23, 1]
        + track.keypoints_2d[flight.start : flight.end + 1, 24, 1]
    )
    return flight.start + int(np.argmin(hip_y))


def _moment(angles: np.ndarray, width: float, *, withhold_lean: bool = False) -> dict[str, float]:
    values = {name: float(v) for name, v in zip(ANGLE_NAMES, angles, strict=True)}
    if withhold_lean:  # measured against the picture's up, which is not gravity's in a moving camera
        values["trunk_lean"] = float("nan")
    values["stance_width_m"] = float(width)
    return values
