"""The motion script of a synthetic jump: timing, articulated pose per frame, body orientation, path.

Frames of reference:
- Anny's frame: Z up, the body facing -Y, the person's left on +X, origin at the root bone (pelvis).
- Body frame: `ANNY_TO_Y_UP` applied: Y up, facing +Z, left +X.
- World: metres, y up, right-handed; the rider travels along +x, the camera stands on +z looking at -z.

Orientation per frame: R(t) = Ry(yaw0 + spin(t)) @ Rx(flip(t)) @ Rz(roll(t)) @ ANNY_TO_Y_UP. Ry is the world
vertical; Rx turns about the body's own left axis, positive sending the head forward (a front flip); Rz about the
body's own forward axis (out of the chest), positive sending the head to the rider's right (a cartwheel in the
body frame: a wildcat for a rider whose left foot leads). The angles grow from 0 at takeoff to their totals at
landing along one progress curve (`rotation_progress`: a constant rate, or a rate that varies as a sine or a
raised cosine, `TrickSpec.rate`) and are constant outside, so the body lands at rest orientation + total
rotation. An off-axis spin (`TrickSpec.axis_tilt_deg`) turns about an axis fixed in the body and in the world,
tilted from the body's up axis: R(t) = Ry(yaw0) @ Rot(axis, spin(t)) @ ANNY_TO_Y_UP. Two exceptions: a spin
landed short or past (`TrickSpec.spin_offset_deg`) stands at total + offset at touch-down and the board pivots the
rest on the snow in `FINISH_S`; a crash tips the body backwards to lying after touch-down.

Stance: a snowboarder stands sideways to the direction of travel with the leading foot on the travel side. The
front view shows the chest (the rider's left on +x), the back view the back (left on -x); so the rider travels
along +x or -x as the riding stance and the view make it (`travel_sign`). The side view (the rider facing the
direction of travel, +x) has no leading foot in the picture and no stance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pose_service.body.model import ANNY_TO_Y_UP
from pose_service.synth.spec import AIRBAG_SINK_M, AIRBAG_TOP_M, TrickSpec

__all__ = [
    "Timeline",
    "Motion",
    "make_timeline",
    "make_motion",
    "rot_x",
    "rot_y",
    "rot_z",
    "rotation_progress",
    "spin_axis",
    "travel_sign",
    "VIEW_YAW_DEG",
    "GRAVITY",
    "FINISH_S",
]

GRAVITY = 9.81
RUN_UP_S = 1.2
RIDE_OUT_S = 1.0
CRASH_OUT_S = 1.6  # a crash: the fall, then lying on the snow long enough to see the rider stays down
AIRBAG_TAU_S = 0.1  # an airbag brings the falling rider to rest in a few times this
FINISH_S = 0.25  # a spin landed short or past: the board pivots the rest on the snow in this time
# The rider's heading at takeoff, about world +y, for each camera view: "front" faces the camera (+z).
VIEW_YAW_DEG = {"front": 0.0, "side": 90.0, "back": 180.0}


def rot_x(deg: np.ndarray | float) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about +x by `deg` degrees (right-handed)."""
    a = np.radians(np.asarray(deg, dtype=np.float64))
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def rot_y(deg: np.ndarray | float) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about +y by `deg` degrees (right-handed: +z turns towards +x)."""
    a = np.radians(np.asarray(deg, dtype=np.float64))
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def rot_z(deg: np.ndarray | float) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about +z by `deg` degrees (right-handed: +x turns towards +y)."""
    a = np.radians(np.asarray(deg, dtype=np.float64))
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def travel_sign(trick: TrickSpec, view: str) -> float:
    """+1 when the rider travels along +x, -1 along -x: the leading foot on the travel side (see the module)."""
    riding = trick.riding_stance(view)
    if riding is None:  # the side view: facing the direction of travel, +x
        return 1.0
    left_on_plus_x = view == "front"
    left_leads = riding == "regular"
    return 1.0 if left_on_plus_x == left_leads else -1.0


def rot_axis(axis: np.ndarray, deg: float) -> np.ndarray:
    """Rotation matrix (3, 3) about `axis` by `deg` degrees (Rodrigues)."""
    k = np.asarray(axis, dtype=np.float64)
    k = k / np.linalg.norm(k)
    a = math.radians(deg)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(a) * kx + (1 - math.cos(a)) * (kx @ kx)


def rotation_progress(rate: str, u: np.ndarray) -> np.ndarray:
    """How much of the rotation is done at flight fraction `u` (0 at takeoff, 1 at landing), for `TrickSpec.rate`:
    "steady" u; "varyNN" the rate 1 + a sin(2 pi u) times the mean (a = NN / 100: faster while tucked early,
    slower opening to spot the landing); "smooth" the rate 1 - cos(2 pi u) (from rest, twice the mean mid-air,
    to rest). Monotone, 0 at 0 and 1 at 1."""
    x = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
    if rate == "smooth":
        return x - np.sin(2 * np.pi * x) / (2 * np.pi)
    if rate.startswith("vary"):
        a = float(rate[4:]) / 100.0
        return x + a * (1 - np.cos(2 * np.pi * x)) / (2 * np.pi)
    return x


def spin_axis(trick: TrickSpec) -> np.ndarray:
    """(3,) the spin axis in the body frame (x left, y up, z forward): up, tilted `axis_tilt_deg` towards
    `axis_toward`."""
    toward = {"front": (0.0, 0.0, 1.0), "back": (0.0, 0.0, -1.0), "left": (1.0, 0.0, 0.0), "right": (-1.0, 0.0, 0.0)}
    a = math.radians(trick.axis_tilt_deg)
    return math.cos(a) * np.array([0.0, 1.0, 0.0]) + math.sin(a) * np.array(toward[trick.axis_toward])


@dataclass(frozen=True)
class Timeline:
    """When each frame is shown and when the rider is in the air.

    takeoff_s lies on a frame time so that the takeoff frame shows the body before any rotation;
    landing_s = takeoff_s + air_time_s exactly; the frame indices are the first frames at or after them.
    """

    fps: float
    times: np.ndarray  # (N,) seconds
    takeoff_s: float
    landing_s: float
    takeoff_frame: int
    landing_frame: int

    @property
    def frame_count(self) -> int:
        return len(self.times)

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.fps


def make_timeline(trick: TrickSpec, fps: float) -> Timeline:
    takeoff_frame = max(1, round(RUN_UP_S * fps))
    takeoff_s = takeoff_frame / fps
    landing_s = takeoff_s + trick.air_time_s
    ride_out = CRASH_OUT_S if trick.landing in ("crash", "airbag") else RIDE_OUT_S
    frame_count = int(math.ceil((landing_s + ride_out) * fps - 1e-9)) + 1
    times = np.arange(frame_count, dtype=np.float64) / fps
    landing_frame = int(np.searchsorted(times, landing_s - 1e-9, side="left"))
    return Timeline(fps, times, takeoff_s, landing_s, takeoff_frame, landing_frame)


# Pose channels (degrees): hip flexion (thigh forward is positive), knee bend, spine bend forward,
# arm raise sideways, arm forward, elbow bend, spine bend sideways (positive to the rider's left), and "drag":
# the left arm reaching down and forward, a hand to the snow. Key poses, then the script places them in time.
_CHANNELS = ("hip", "knee", "spine", "arm_raise", "arm_fwd", "elbow", "side_bend", "drag")
_STANCE = (18.0, 35.0, 8.0, 10.0, -6.0, 10.0, 0.0, 0.0)
_CROUCH = (45.0, 80.0, 22.0, 0.0, 6.0, 20.0, 0.0, 0.0)
_EXTENDED = (6.0, 12.0, 4.0, 25.0, -6.0, 10.0, 0.0, 0.0)
_TUCK_ADD = (55.0, 75.0, 14.0, 10.0, 0.0, 10.0, 0.0, 0.0)
_ABSORB = (50.0, 85.0, 24.0, 20.0, 0.0, 15.0, 0.0, 0.0)
_DEEP_CROUCH = (70.0, 110.0, 30.0, 15.0, 10.0, 25.0, 0.0, 0.0)  # lower than the pop's crouch: goes nowhere
# A sketchy landing: folded deep, the trunk bent far forward and to the left, the left hand down on the snow.
_SKETCHY = (90.0, 125.0, 90.0, 20.0, 0.0, 0.0, 25.0, 85.0)
# A crash: down to sitting as the body tips backwards, then lying on the back, knees up, arms out.
_SIT = (85.0, 95.0, 25.0, 45.0, 20.0, 25.0, 0.0, 0.0)
_LYING = (35.0, 50.0, 5.0, 70.0, 0.0, 15.0, 0.0, 0.0)
CRASH_TIP_DEG = 85.0  # how far the body tips backwards from upright, lying on the snow
_STANCE_WIDTH_DEG = 5.0  # each leg abducted: feet about shoulder width apart


def _smooth_keys(t: np.ndarray, keys: Sequence[tuple[float, Sequence[float]]]) -> np.ndarray:
    """Channel values (N, C) eased (smoothstep) between key poses at increasing times."""
    times = np.array([k[0] for k in keys])
    values = np.array([k[1] for k in keys], dtype=np.float64)
    idx = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(keys) - 2)
    t0, t1 = times[idx], times[idx + 1]
    u = np.clip((t - t0) / np.maximum(t1 - t0, 1e-9), 0.0, 1.0)
    u = u * u * (3 - 2 * u)
    return values[idx] * (1 - u)[:, None] + values[idx + 1] * u[:, None]


def _ease(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def pose_channels(
    times: np.ndarray, takeoff_s: float, landing_s: float, kind: str = "jump", landing: str = "stomped"
) -> np.ndarray:
    """(N, 8) pose channel values in degrees; identical at takeoff and landing (the extended pose).

    kind "ride": the stance throughout; "crouch": down to a deep crouch by `takeoff_s`, held until
    `landing_s`, up to the stance again (no pop, no flight). landing: "stomped" absorbs and rides away,
    "sketchy" folds deep with a hand dragged on the snow before riding away, "crash" goes down and stays, as does
    "airbag" (into the bag).
    """
    t0, t1 = takeoff_s, landing_s
    if kind == "ride":
        return np.tile(np.array(_STANCE, dtype=np.float64), (len(times), 1))
    if kind == "crouch":
        held = [(0.0, _STANCE), (max(t0 - 0.5, 0.01), _STANCE), (t0, _DEEP_CROUCH), (t1, _DEEP_CROUCH),
                (t1 + 0.5, _STANCE), (t1 + 100.0, _STANCE)]  # fmt: skip
        return _smooth_keys(times, held)
    keys: list[tuple[float, Sequence[float]]] = [
        (0.0, _STANCE),
        (max(t0 - 0.6, 0.01), _STANCE),
        (t0 - 0.16, _CROUCH),
        (t0, _EXTENDED),
        (t1, _EXTENDED),
    ]
    if landing == "sketchy":
        keys += [(t1 + 0.2, _ABSORB), (t1 + 0.4, _SKETCHY), (t1 + 0.7, _SKETCHY), (t1 + 1.0, _ABSORB)]
        keys += [(t1 + 1.3, _STANCE), (t1 + 100.0, _STANCE)]
    elif landing in ("crash", "airbag"):
        keys += [(t1 + 0.2, _ABSORB), (t1 + 0.5, _SIT), (t1 + 0.9, _LYING), (t1 + 100.0, _LYING)]
    else:
        keys += [(t1 + 0.2, _ABSORB), (t1 + 0.75, _STANCE), (t1 + 100.0, _STANCE)]
    values = _smooth_keys(times, keys)
    u = np.clip((times - t0) / (t1 - t0), 0.0, 1.0)
    tuck = np.sin(np.pi * u) ** 2  # zero, with zero slope, at takeoff and landing
    return values + tuck[:, None] * np.array(_TUCK_ADD)


def airbag_sink_m(after_s: np.ndarray, fall_m_s: float) -> np.ndarray:
    """(N,) how deep a rider landing on an airbag has sunk into it `after_s` seconds after touch-down: critically
    damped (`AIRBAG_TAU_S`) from the fall's speed (`fall_m_s`, down) at touch-down to rest at `AIRBAG_SINK_M` (a
    fast fall overshoots it by a centimetre or so)."""
    t = np.clip(after_s, 0.0, None)
    b = fall_m_s - AIRBAG_SINK_M / AIRBAG_TAU_S
    return AIRBAG_SINK_M - (AIRBAG_SINK_M - b * t) * np.exp(-t / AIRBAG_TAU_S)


def crash_tip_deg(times: np.ndarray, landing_s: float) -> np.ndarray:
    """(N,) how far a crashing body has tipped backwards (degrees): 0 until just after touch-down, then over
    0.7 s to `CRASH_TIP_DEG`, and held (lying on the snow)."""
    return CRASH_TIP_DEG * _ease((times - landing_s - 0.15) / 0.7)


@dataclass(frozen=True)
class Motion:
    """Everything the script decides before the body model runs.

    pose: (N, B, 4, 4) float32 bone deltas in Anny's 'local-ref' parameterisation, root left at identity.
    rotation: (N, 3, 3) world-from-Anny rotation of the whole body.
    x: (N,) world x of the root (the travel direction); the root's height is set after skinning,
        from the feet on the ground and the ballistic arc in the air.
    spin_deg, flip_deg: (N,) signed rotation so far (spin about +y, or about the tilted axis of an off-axis spin;
        flip about the body's left axis).
    roll_deg: (N,) signed rotation about the body's forward axis (positive: head to the rider's right).
    lying: (N,) frames where the body rests on its lowest point (a crash) instead of on the board.
    rest_m: (N,) the height of what a lying body rests on: 0 on the snow; an airbag's surface as the rider sinks in.
    """

    timeline: Timeline
    pose: np.ndarray
    rotation: np.ndarray
    x: np.ndarray
    spin_deg: np.ndarray
    flip_deg: np.ndarray
    yaw0_deg: float
    jumps: bool = True  # False for the no-jump clips (riding on, a crouch): never airborne
    drop_m: float = 0.0  # a drop: the rider rides this high (on a box) until takeoff and lands on the snow
    roll_deg: np.ndarray | None = None
    lying: np.ndarray | None = None
    travel: float = 1.0  # +1: the rider travels along +x, -1 along -x
    rest_m: np.ndarray | None = None

    @property
    def airborne(self) -> np.ndarray:
        t = self.timeline
        return (t.times > t.takeoff_s) & (t.times < t.landing_s) & self.jumps


def make_motion(
    trick: TrickSpec,
    timeline: Timeline,
    *,
    bone_labels: list[str],
    rest_heads: np.ndarray,
    view: str,
    speed_m_s: float,
) -> Motion:
    """The script: stance, run-up, crouch, pop, rotation in the air with a tuck, landing, absorb, ride-out.

    rest_heads: (B, 3) bone head positions of the rest body in Anny's frame (used for the elbow axes).
    speed_m_s: horizontal speed; the root passes x = 0 in the middle of the air time.
    """
    times = timeline.times
    t0, t1 = timeline.takeoff_s, timeline.landing_s
    u = rotation_progress(trick.rate, (times - t0) / (t1 - t0))
    sign = trick.spin_signed_deg / trick.spin_deg if trick.spin_deg else 1.0
    spin = sign * trick.spin_in_air_deg * u
    if trick.spin_offset_deg:  # the board pivots the rest of the spin (or back) on the snow
        spin = spin - sign * trick.spin_offset_deg * _ease((times - t1) / FINISH_S)
    flip = trick.flip_signed_deg * u
    roll = trick.roll_signed_deg(view) * u
    lying = np.zeros(len(times), dtype=bool)
    travel = travel_sign(trick, view)
    x = travel * speed_m_s * (times - 0.5 * (t0 + t1))
    rest = None
    if trick.landing in ("crash", "airbag"):  # tips backwards to lying, sliding to a stop (the bag stops it sooner)
        flip = flip - crash_tip_deg(times, t1)
        lying = times >= t1
        after = np.clip(times - t1, 0.0, None)
        tau = 0.35 if trick.landing == "crash" else 0.15
        x = np.where(lying, x[timeline.landing_frame] + travel * speed_m_s * tau * (1 - np.exp(-after / tau)), x)
        if trick.landing == "airbag":
            fall = GRAVITY * trick.air_time_s / 2 - AIRBAG_TOP_M / trick.air_time_s  # m/s down at touch-down
            rest = np.where(lying, AIRBAG_TOP_M - airbag_sink_m(after, fall), 0.0)
    yaw0 = VIEW_YAW_DEG[view]
    if trick.axis_tilt_deg:  # about the tilted axis (whole turns: upright again at landing)
        axis = spin_axis(trick)
        turn = np.stack([rot_axis(axis, float(a)) for a in spin])
        rotation = rot_y(yaw0) @ turn @ rot_x(flip) @ rot_z(roll) @ np.array(ANNY_TO_Y_UP)
    else:
        rotation = rot_y(yaw0 + spin) @ rot_x(flip) @ rot_z(roll) @ np.array(ANNY_TO_Y_UP)
    channels = pose_channels(times, t0, t1, trick.kind, trick.landing)
    pose = _bone_deltas(channels, bone_labels, rest_heads)
    return Motion(timeline, pose, rotation, x, spin, flip, yaw0, jumps=trick.jumps, drop_m=trick.drop_m, roll_deg=roll,
                  lying=lying, travel=travel, rest_m=rest)  # fmt: skip


def _bone_deltas(channels: np.ndarray, labels: list[str], heads: np.ndarray) -> np.ndarray:
    """(N, B, 4, 4) 'local-ref' deltas: rotations in Anny's rest axes, composed down the chain."""
    n = len(channels)
    index = {label: i for i, label in enumerate(labels)}
    deltas = np.tile(np.eye(4, dtype=np.float64), (n, len(labels), 1, 1))

    def put(label: str, rotations: np.ndarray) -> None:
        deltas[:, index[label], :3, :3] = rotations

    hip, knee, spine, raise_, fwd, elbow, side_bend, drag = (channels[:, i] for i in range(8))
    # Anny: +X is the person's left, -Y forward, +Z up. A positive turn about X tips a bone pointing down
    # backwards, so hip flexion is negative about X and knee bend positive.
    for side, sign in (("L", 1.0), ("R", -1.0)):
        abduct = _rot_anny_y(np.full(n, -sign * _STANCE_WIDTH_DEG))
        thigh = abduct @ _rot_anny_x(-hip)
        shank = _rot_anny_x(knee)
        put(f"upperleg01.{side}", thigh)
        put(f"lowerleg01.{side}", shank)
        # The foot's total turn is undone so the soles stay flat on the board.
        put(f"foot.{side}", np.linalg.inv(thigh @ shank))
        # Arms: out to the side (about Anny's Y) and a little forward (about X), never across the chest.
        # The left arm's "drag" brings it in under the shoulder and forward, reaching for the snow.
        reach = drag if side == "L" else np.zeros(n)
        arm = _rot_anny_x(-(fwd + reach)) @ _rot_anny_y(-sign * (raise_ - 0.6 * reach))
        put(f"upperarm01.{side}", arm)
        forearm = heads[index[f"wrist.{side}"]] - heads[index[f"lowerarm01.{side}"]]
        axis = np.cross(forearm, np.array([0.0, -1.0, 0.0]))
        put(f"lowerarm01.{side}", np.stack([rot_axis(axis, a) for a in elbow]))
    spine_bones = [b for b in ("spine05", "spine04", "spine03", "spine02", "spine01") if b in index]
    for bone in spine_bones:
        # a positive turn about Anny's Y tips the top towards +X, the rider's left
        put(bone, _rot_anny_x(spine / len(spine_bones)) @ _rot_anny_y(side_bend / len(spine_bones)))
    # Keep the eyes level with the horizon a little: the neck undoes part of the spine bend.
    if "neck01" in index:
        put("neck01", _rot_anny_x(-0.5 * spine))
    return deltas.astype(np.float32)


def _rot_anny_x(deg: np.ndarray) -> np.ndarray:
    return rot_x(deg)


def _rot_anny_y(deg: np.ndarray) -> np.ndarray:
    return rot_y(deg)


def ballistic_height(times: np.ndarray, takeoff_s: float, landing_s: float, y0: float, y1: float) -> np.ndarray:
    """Height of a body thrown at takeoff_s from y0 that lands at y1 at landing_s under gravity (only air)."""
    s = times - takeoff_s
    span = landing_s - takeoff_s
    return y0 + (y1 - y0) * s / span + 0.5 * GRAVITY * s * (span - s)


def apex_height(air_time_s: float) -> float:
    """How far a ballistic arc of this duration rises above its end points (takeoff and landing level)."""
    return GRAVITY * air_time_s**2 / 8.0
