"""Airborne phases of one tracked person, found from the 2D track as free fall: a parabola under gravity.

The 3D keypoints have their origin at the mid-hip in every frame, so they tell the body's orientation but not
where it is. Height comes from the 2D track instead:

- scale: pixels per metre in each frame, from the 2D length of the limbs against their 3D length (the
  larger ratios: a limb pointing at the camera looks short, never long), smoothed over half a second, so a
  camera that zooms changes the scale and not the measured height;
- height: the mid-hip's height above the image centre in metres, (cy - y_px) / scale;
- free flight: an interval where that height follows h(t) = a + b t - g t^2 / 2 within a few centimetres.
  A crouch, a step or a walking bob never follows gravity's parabola for long: walking moves the hip by a few
  centimetres with accelerations well under g, a crouch ends on the ground, not on a parabola.

A slow camera pan adds a smooth drift to the height, which a parabola fitted to a short flight absorbs in
its linear term.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from pose_service.analysis.landing import AIRBAG_COLOUR, AIRBAG_NO_SNOW, AIRBAG_OFF
from pose_service.tracking.inversion import body_axis_deg

__all__ = ["APART_S", "Airborne", "find_airborne", "pixels_per_metre", "hip_height_m", "GRAVITY"]

GRAVITY = 9.81
# Limbs and torso edges whose 2D length against 3D length gives the image scale (BlazePose indices).
_SCALE_BONES = ((11, 13), (13, 15), (12, 14), (14, 16), (23, 25), (25, 27), (24, 26), (26, 28),
                (11, 23), (12, 24), (11, 12), (23, 24))  # fmt: skip
MIN_AIR_S = 0.2  # shorter "flights" are a running stride or noise; an ollie is about 0.3 s
MAX_AIR_S = 3.0
_SEED_S = 0.2  # length of the windows that seed a flight
_ACC_RANGE = (0.75, 1.5)  # fitted downward acceleration of a flight, in units of g (scale is approximate)
# ... in a moving camera's stabilised picture, where the camera's own acceleration adds to gravity's: seg3's hips fall
# at 1.49-1.54 g (the parabola ended 4 frames earlier in the runs over 1.5), the rendered follow-behind cork 720's at
# 1.48-1.55 g (unfound in both perturbed runs over 1.5). At 1.6, over the real clips' 20 runs (`bench/real_snow.py
# --jitter`) and the synthetic suites' 108 flights (their inputs replayed): 2 and 3 more timed within 5 frames;
# at 1.7 and over, flights the stabilised picture bends took in the wrong samples (the fisheye cork 720 unfound, the
# follow-front 360 taking off 3 frames late).
_MOVING_ACC_RANGE = (0.75, 1.6)
# A seed's own fall, in units of g: wider than a flight's (`_ACC_RANGE`), since a seed only starts the growth and the
# grown flight's fall must lie in `_ACC_RANGE`. Five samples (at 15 frames/s, 0.27 s) or seven (30 frames/s,
# 0.2 s) read the fall to a few tenths of g with the hips' centimetres of noise, and a follow-cam's stabilised apex
# bends: seg3 kept at every other frame read 1.9-2.0 g on every seed at its apex and went unfound with 1.5. Up to
# 3.0 changed no flight on the real clips, their variants or the still, moving-camera and airbag suites.
_SEED_ACC = (0.75, 2.5)
_POINT_TOL_M = 0.07  # a sample further than this from the flight's parabola is not in free flight
_RMS_TOL_M = 0.035
_MAX_GAP_S = 0.34  # the pose model may lose a tumbling body for a few frames: the flight bridges them
_SKIP_S = 0.11  # a parabola grows past two misread samples where they and the next one span this long (`_grow`)
_PAST_SKIP = 2  # ... and keeps what it grew past them where it holds at least this many samples
_GROUND_S = 0.3  # the feet's ground level: their median height over this long before takeoff / after landing,
_GROUND_GAP_S = 0.15  # starting this long away from the parabola's ends (which may lie a little off)
_EXTEND_S = 0.25  # how far the feet may move a takeoff or landing outwards from the parabola's ends
_FALL_EXTEND_S = 0.45  # how far feet still falling fast may move a landing outwards
_FEET_FALLING_M_S = 1.5  # feet dropping faster than this are still in the air
_FOOT_CONTACT_M = 0.04  # feet within this of their ground level are taken as still in contact
_FOOT_AIRBORNE_M = 0.12  # feet this far above their ground level are surely in the air
_EDGE_S = 0.1  # seen for at least this long before takeoff and after landing (a parabola's ends) ...
_IN_VIEW_S = 0.25  # ... and for this long before a flight's takeoff as found (`_in_view`)
_STARTED_IN_AIR_S = 1.0  # ... and where the snow was read off the feet all that while, for longer than this
# At a takeoff the body has not tipped over: its ankles-to-shoulders axis in the picture (`body_axis_deg`), median
# over the `_TAKEOFF_SAMPLES` from the takeoff sample on (0.1 s at 30 frames/s, in which a double backflip of 0.8 s
# turns 0, 30, 60 and 90°: a median of 45°; a rider falling back into an airbag 0, 60, 120 and 150°: 90°), within
# this of its median over the `_RIDE_S` before (`_tipped_at`).
_MAX_TAKEOFF_TURN_DEG = 65.0
_TAKEOFF_SAMPLES = 4
_RIDE_S = 0.3
_MIN_HIP_BULGE_M = 0.08  # a flight of 0.26 s rises g T^2 / 8 = 8 cm above its chord: less is a bob or a step
_MIN_DESCENT = 0.25  # with a moving camera, a flight comes down at least this share of its rise
APART_S = 0.7  # with a moving camera, two flights closer than this are one (and a bend of the run-in or run-out)
_CONTACT_ON = 0.5  # snow under the feet (`analysis.contact`): at least this share is on the snow ...
_CONTACT_CLEAR = 0.9  # ... and where it would shorten a parabola's flight, at least this (pristine)
_CONTACT_OFF = 0.25  # ... and through a flight at most this on average
_LEAVING = 2  # samples next to a contact left out of that average (`_contact_scan`)
_REFUSED_READINGS = 2  # ... a contact refused on at least this many samples between (`_contact_scan`) bounds a takeoff
_MIN_RISE_M = 0.05  # a moving camera's flight: its hips rise at least this far above the takeoff
_RAMP_S = 0.5  # a kicker's ramp is looked for in the stabilised hips this long before a parabola's start ...
_RAMP_MIN_M_S = 2.0  # ... rising at least this fast (`_ramp_end`) ...
_RAMP_RMS_M = 0.08  # ... and, with the parabola it bends into, within this of the hips (root mean square)
# A flight the snow alone brackets (`_contact_flights`) comes down: its hips (or its feet, where the camera levelled
# the hips and the legs tuck up) stand at least this far under their highest sample at the landing. Seen from a
# drone, a rider riding away up the picture after a landing had the board's yellow top under the feet (the band's
# snow 0.04-0.40, mean 0.23) while the hips and feet "rose" 2.2 m and stood highest at the snow's return: a 0.77 s
# flight on the rendered drone rodeo 540. The snow-only flights of the real clips, their variants and the rendered
# suites came down 0.14-2.1 m. Not their rise: a camera rising with the rider took all of seg6's first kicker's out
# (0.04 m), and a ride up the picture rises all the way.
_MIN_FALL_M = 0.05
_CLEAR_RUN_S = 0.2  # ... pristine snow, this long (`_contact_scan`)
_CONTACT_RUN_S = 0.3  # a contact holds on average this long outward of it (the run-in, the run-out)
_CONTACT_REACH_S = 1.5  # how far from a flight's highest sample its contacts are looked for
_CONTACT_MIN_AIR_S = 0.4  # a flight found by the contact cue alone: at least this long (a shadow crossed is shorter)
# ... and its feet seen by the pose model: their points' visibility, mean of the six per sample, median over the
# flight at least this. The snow is read under the feet as drawn: seg6 upscaled to 1280x720 rode a crouched toe-side
# carve seen from behind over frames 137-149 with the feet drawn on the knees and the jacket (visibility 0.10-0.53,
# median 0.27), the band on the trousers read no snow, and the garbled hips and feet rose: a 0.57 s "jump". The
# snow-only flights of the real clips and their variants read 0.67-0.79, the moving-camera suite's 0.62, the airbag
# suite's 0.64-0.87.
_CONTACT_FEET_SEEN = 0.5
_KINK_REACH_S = 0.27  # a takeoff or landing is looked for in the feet's height this far either side of the parabola's
_KINK_INWARD_S = 0.05  # ... but at most this far inside it (the hips fall freely only in the air)
_KINK_SHARE = 0.5  # ... where their vertical speed changes by at least this share of the flight's g T / 2
_KINK_WALK = 3  # ... and looked for again from a bend this many times, while each search moves the end outward
_KINK_STEP_S = 0.05  # ... by at least this much
_LIP_S = 0.1  # a takeoff the snow shows moves to the feet's bend at most this far out (`_contact_ends`)
_CLEAR_OVERRULE = 2.0  # ... and where the snow alone found an end on pristine snow, twice that: a whole g T / 2
_MIN_FOOT_TRAVEL_M = 0.05  # the feet must leave their place: a hip that moves while the feet stay is a crouch
_GARBLED_HALF = 4  # a foot's height is judged against the median of this many samples either side (`_garbled`) ...
_GARBLED_M_S = 12.0  # ... and is no foot's further off than this many metres a second times the sampling interval
# A body upside down in the picture (its ankles-to-shoulders axis, `body_axis_deg`, this far or further from upright:
# the shoulders well below the ankles) stands on nothing: the band under its feet (`analysis.contact`) lies over
# the body itself, and reads as much snow as the clothes are pale (the rendered rolled backflip 360: 0.3-0.7 through
# its inverted frames, and the flight went unfound). Off the snow, then, but no witness of what lies under the board
# elsewhere: left out of the averages that confirm the board was off it between a contact and the apex (`_contact_scan`;
# counted there as no snow, they let a contact 0.3 s before the rendered drone wildcat's takeoff at 60 frames/s pass,
# the ride seen from above reading 0.1-0.5), and of a flight the snow alone brackets (`_contact_flights`) they count as
# seen and off it.
_INVERTED_DEG = 120.0
_SETTLING_DEG_S = 200.0  # a body turning over faster than this in the picture has not landed yet (`_settled`)


@dataclass(frozen=True)
class Airborne:
    """One flight of a tracked person.

    start, end: indices into the track's arrays of the takeoff and landing samples (both on the parabola:
        the last frame in contact at takeoff and the first in contact at landing).
    takeoff_frame, landing_frame: the video frame indices of those samples; takeoff_s, landing_s their times.
    apex_m: how far the hip rose above its takeoff height (negative never; 0 for a pure drop).
    drop_m: takeoff height minus landing height (positive for a drop off a box).
    accel_g: the downward acceleration a free parabola fitted to the flight has, in units of g (near 1 when
        the scale is right); rms_m: how far the hip strays from the gravity parabola, on average.
    """

    start: int
    end: int
    takeoff_frame: int
    landing_frame: int
    takeoff_s: float
    landing_s: float
    apex_m: float
    drop_m: float
    accel_g: float
    rms_m: float

    @property
    def air_time_s(self) -> float:
        return self.landing_s - self.takeoff_s


def pixels_per_metre(keypoints_2d: np.ndarray, keypoints_3d: np.ndarray, *, smooth: int = 15) -> np.ndarray:
    """(m,) image scale per sample: the 80th percentile of 2D/3D bone length ratios, rolling median of `smooth`."""
    k2 = np.asarray(keypoints_2d, dtype=np.float64)[..., :2]
    k3 = np.asarray(keypoints_3d, dtype=np.float64)
    ratios = []
    for a, b in _SCALE_BONES:
        l2 = np.linalg.norm(k2[:, a] - k2[:, b], axis=-1)
        l3 = np.linalg.norm(k3[:, a] - k3[:, b], axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios.append(np.where(l3 > 0.05, l2 / l3, np.nan))
    per_frame = np.nanpercentile(np.stack(ratios, 1), 80, axis=1) if len(k2) else np.zeros(0)
    return _rolling_median(per_frame, smooth)


def _rolling_median(x: np.ndarray, window: int) -> np.ndarray:
    if len(x) == 0:
        return x
    half = max(0, window // 2)
    padded = np.pad(x, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    out = np.nanmedian(windows, axis=1)
    return np.where(np.isfinite(out), out, np.nanmedian(x))


def hip_height_m(keypoints_2d: np.ndarray, scale_px_per_m: np.ndarray, image_height: int) -> np.ndarray:
    """(m,) height of the mid-hip above the image centre, metres (up positive)."""
    hip_y = (np.asarray(keypoints_2d[:, 23, 1], np.float64) + keypoints_2d[:, 24, 1]) / 2
    return (image_height / 2.0 - hip_y) / scale_px_per_m


def _lowest_foot_m(keypoints_2d: np.ndarray, scale: np.ndarray, image_height: int) -> np.ndarray:
    """(m,) height of the lowest ankle or heel above the image centre, metres."""
    feet_y = np.max(np.asarray(keypoints_2d[:, [27, 28, 29, 30], 1], np.float64), axis=1)
    return (image_height / 2.0 - feet_y) / scale


def _fit_gravity(
    t: np.ndarray, h: np.ndarray, fall: tuple[float, float] = _ACC_RANGE
) -> tuple[np.ndarray, float]:
    """Fit h = a + b t - k g t^2/2 with k held inside the flight range (`fall`, in g); return the residuals and their
    RMS.

    k absorbs the error of the image scale (a few per cent to twenty): a fixed g would make a long flight
    miss its parabola by several centimetres at the apex.
    """
    tc = t - t.mean()
    k = float(np.clip(-_free_accel(t, h) / GRAVITY, *fall)) if len(t) >= 4 else 1.0
    y = h + 0.5 * k * GRAVITY * tc**2
    design = np.stack([np.ones_like(tc), tc], 1)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    res = y - design @ coef
    return res, float(np.sqrt(np.mean(res**2)))


def _free_accel(t: np.ndarray, h: np.ndarray) -> float:
    """Acceleration of a free parabola fitted to (t, h), m/s^2 (negative downwards)."""
    c = np.polyfit(t - t.mean(), h, 2)
    return float(2 * c[0])


def find_airborne(
    frames: np.ndarray,
    times_s: np.ndarray,
    keypoints_2d: np.ndarray,
    keypoints_3d: np.ndarray,
    *,
    image_height: int,
    fps: float,
    moving_camera: bool = False,
    contact: np.ndarray | None = None,
    colour: np.ndarray | None = None,
    beyond: np.ndarray | None = None,
) -> list[Airborne]:
    """Every flight of one person, in time order.

    frames, times_s: (m,) video frame indices and their times for the samples where the person is seen.
    keypoints_2d: (m, 33, 3) pixels; keypoints_3d: (m, 33, 3) metres; image_height: pixels.
    moving_camera: the keypoints were carried into a stabilised picture from a camera that moved. Flights closer
    than `APART_S` are then one flight or one flight and a bend of the trajectory (`_apart`), and the ground
    the feet leave or come back to is read as a line through their heights around it (a kicker's ramp, a
    landing slope), not their median. A still camera keeps every flight (hops in a rhythm follow each other
    closely) and a level ground.
    contact: (m,) with a moving camera, the share of snow under the feet per sample (`analysis.contact`; nan where
    unknown): where it confirms the snow on either side of a flight, the takeoff and landing are its last and
    first frames on the snow (`_contact_ends`), and a flight it brackets is found even when the stabilised hips
    miss their parabola (`_contact_flights`).
    colour: (m,) with `contact`, the colourfulness of the band under the feet (`contact.Ground.colour`): a flight
    from the snow into an airbag, which the snow never closes, ends where the bag's fabric comes under the feet
    (`_on_bag`).
    beyond: (m,) with `contact`, the share of snow just past the board (`contact.Ground.beyond`): a takeoff moves on
    over the lip's last samples where the band under the feet lies on the board seen from below (`_over_lip`).
    """
    m = len(frames)
    times_s = np.asarray(times_s, dtype=np.float64)
    if m < 5 or fps <= 0:
        return []
    scale = pixels_per_metre(keypoints_2d, keypoints_3d, smooth=max(3, round(fps * 0.5)) | 1)
    h = hip_height_m(keypoints_2d, scale, image_height)
    feet = _lowest_foot_m(keypoints_2d, scale, image_height)
    # Feet drawn where no foot can be are not read (`_garbled`): neither their height, from the parabolas' ends on
    # (a moving camera's flight is bounded by the feet; seg1 mirrored had the feet of two misread frames after the
    # parabola of a rise on the run-in drawn falling 13-17 m/s, and the landing carried onto them passed the flight's
    # descent: a false 0.37 s jump), nor the snow under them.
    garbled = _garbled(times_s, feet) if moving_camera else np.zeros(m, dtype=bool)
    feet = np.where(garbled, np.nan, feet)
    ok = np.isfinite(h)
    axis = body_axis_deg(keypoints_2d)
    fall = _MOVING_ACC_RANGE if moving_camera else _ACC_RANGE
    seed_n = max(5, round(_SEED_S * fps) + 1)
    seeds: list[tuple[float, int]] = []
    for i in range(0, m - seed_n + 1):
        sl = slice(i, i + seed_n)
        t = times_s[sl]
        if not ok[sl].all() or t[-1] - t[0] > 1.5 * (seed_n - 1) / fps:
            continue
        acc = -_free_accel(t, h[sl]) / GRAVITY
        _, rms = _fit_gravity(t - t[0], h[sl], fall)
        if _SEED_ACC[0] <= acc <= _SEED_ACC[1] and rms < _RMS_TOL_M:
            seeds.append((rms, i))
    covered = np.zeros(m, dtype=bool)
    flights: list[Airborne] = []
    for start, end in _stretches(times_s, h, ok, seeds, seed_n, covered, longest_first=moving_camera):
        if covered[start : end + 1].any():
            continue
        flight = _validate(frames, times_s, h, feet, start, end, ramp=moving_camera, axis_deg=axis, scale=scale,
                           fall=fall)  # fmt: skip
        if flight is not None:
            flights.append(flight)
            covered[start : end + 1] = True
    flights.sort(key=lambda f: f.start)
    if not moving_camera:
        return _in_view(flights, times_s)
    flights = _apart(flights, frames, times_s, h, feet, APART_S)
    if contact is None or len(contact) != m:
        return _in_view(flights, times_s)
    contact = np.asarray(contact, dtype=np.float64)
    # A body upside down stands on nothing, and the band under its feet lies over the body itself (`_INVERTED_DEG`)
    with np.errstate(invalid="ignore"):
        upside_down = (np.abs(axis) >= _INVERTED_DEG) & np.isfinite(contact)
    contact = np.where(upside_down, 0.0, contact)
    contact = np.where(garbled, np.nan, contact)
    if beyond is not None and len(beyond) == m:
        beyond = np.where(upside_down | garbled, np.nan, np.asarray(beyond, dtype=np.float64))
    else:
        beyond = None
    ended = [_contact_ends(f, frames, times_s, h, feet, contact, upside_down, beyond) for f in flights]
    # Every takeoff, off a kicker or flat, lifts the hips: a flight whose stabilised hips never rise above its
    # takeoff (its ends where the snow and the feet put them) is a fall the camera took part in (seg6 at 1920x1080,
    # a crouched carve while the camera tilted: 0.37 s, 0.5 m down, 0.0 up; every real and rendered flight rose
    # 0.11 m or more). Not before the ends are found: seg1's parabola carried only its descent (apex 0.04 m).
    ended = [f for f in ended if f.apex_m >= _MIN_RISE_M]
    bag = None if colour is None or len(colour) != m else _bag_under(contact, np.asarray(colour, dtype=np.float64))
    # the pose model's visibility of the feet points (ankles, heels, foot tips), their mean (0 where none is known)
    feet_seen = None
    if keypoints_2d.shape[-1] > 2:
        vis = np.asarray(keypoints_2d[:, 27:33, 2], dtype=np.float64)
        known = np.isfinite(vis)
        feet_seen = np.where(known, vis, 0.0).sum(axis=1) / np.maximum(known.sum(axis=1), 1)
    snow_only = _contact_flights(frames, times_s, h, feet, contact, ended, bag, feet_seen)
    ended += [_risen(_bent_ends(f, frames, times_s, h, feet, contact, beyond), frames, times_s, h) for f in snow_only]
    # ... and a body still turning over has not landed, but for one in an airbag, which gives way: it falls back in it
    ended = [f if bag is not None and bag[f.end] == 1 else _settled(f, frames, times_s, h, axis) for f in ended]
    return _in_view(_merged(sorted(ended, key=lambda f: f.start), frames, times_s, h), times_s, contact)


def _in_view(flights: list[Airborne], t: np.ndarray, contact: np.ndarray | None = None) -> list[Airborne]:
    """The flights with the rider seen for `_IN_VIEW_S` before the takeoff: a clip that starts (or a track that
    begins) with the rider already in the air has no takeoff to time. Cut 70 frames into the real seg1, 11 frames
    before its landing, the first frames' middling snow under the board in the air and the hips' fall made a
    0.40 s "straight air" 4 samples after the rider was first seen; the flight lasted 1.07 s. Not after the
    landing, where a clip often stops soon (the real seg6 darkened to 0.7 lands its second kicker 0.27 s before
    the clip's end, 8 frames late); there `_EDGE_S` holds.

    With the snow under the feet (`contact`), a flight whose takeoff comes within `_STARTED_IN_AIR_S` of the track's
    first sample, and whose every sample up to it read off the snow (3 or more read), started in the air too: since
    a clip's first frames are seeded (`chunks.follow_frames`) the rider of that cut seg1 is held from its first
    frame, 8 samples before the "takeoff", and the snow under the feet read 0.00-0.04 in all of them.

    Where the snow was read pristine (`_CONTACT_CLEAR`) under the feet in every sample up to the takeoff (3 or more
    read), the board was seen on the snow, and the takeoff is timed however soon it comes: the real seg1 cut 0.3 s
    before its takeoff (`bench/real_snow.py --trim 0.3,0.3`) showed the rider on pristine snow (0.96-1.00) in all 8
    samples before the takeoff the snow timed, 0.23 s after the clip's first frame, and its jump went unfound."""
    if contact is None:
        return [f for f in flights if f.takeoff_s - t[0] >= _IN_VIEW_S]

    def read_before(f: Airborne) -> np.ndarray:
        before = contact[: f.start + 1]
        return before[np.isfinite(before)]

    def seen_on_snow(f: Airborne) -> bool:
        before = read_before(f)
        return before.size >= 3 and bool((before >= _CONTACT_CLEAR).all())

    kept = [f for f in flights if f.takeoff_s - t[0] >= _IN_VIEW_S or seen_on_snow(f)]

    def started_in_air(f: Airborne) -> bool:
        before = read_before(f)
        return f.takeoff_s - t[0] <= _STARTED_IN_AIR_S and before.size >= 3 and bool((before <= _CONTACT_OFF).all())

    return [f for f in kept if not started_in_air(f)]


def _stretches(
    t: np.ndarray,
    h: np.ndarray,
    ok: np.ndarray,
    seeds: list[tuple[float, int]],
    seed_n: int,
    covered: np.ndarray,
    *,
    longest_first: bool,
) -> Iterator[tuple[int, int]]:
    """The stretches the parabola carries, grown from the seeds (rms, first sample), in the order they are tried.

    A still camera's: best-fitting seed first, each grown as it comes, skipping seeds inside a flight already
    taken (`covered`, which the caller fills). `longest_first` (a moving camera): every seed grown (seeds inside
    one stretch can grow into different ones), then the stretches longest first. Best-fitting first let a short
    piece of a flight win there: the stabilised apex can bend (a follow-cam coming closer), and a grab's tucked
    feet rise like a ramp, so on the rendered follow-front nose grab the piece after the apex (50-60 of 36-60)
    fitted best and covered the apex, and the stretch grown from the rise (38-54) was never tried. A still
    camera's clean parabola has no such bend, and its best-fitting stretch times the takeoff to the frame.
    """
    if not longest_first:
        for _, i in sorted(seeds):
            if not covered[i : i + seed_n].any():
                yield from _grow(t, h, ok, i, i + seed_n - 1)
        return
    grown = dict.fromkeys(
        se for _, i in sorted(seeds) for se in _grow(t, h, ok, i, i + seed_n - 1, _MOVING_ACC_RANGE)
    )
    yield from sorted(grown, key=lambda se: (se[0] - se[1], se[0]))


def _apart(
    flights: list[Airborne], frames: np.ndarray, t: np.ndarray, h: np.ndarray, feet: np.ndarray, apart_s: float
) -> list[Airborne]:
    """Flights at least `apart_s` apart: two closer ones are one flight when one gravity parabola carries the
    hips through both (the pose model lost the body between them), else the likelier stays (longer, with a
    fall nearer g: `_likelihood`).

    A rider cannot take off again in the moment after a landing (the legs are still absorbing it) nor just
    before a takeoff (the run-in): a short "flight" that close to a long one is the ride up the kicker or away
    from the landing bending the trajectory (a moving camera's leftover motion, the slope). Used where the
    camera moves (`APART_S`); a still camera's flights are its picture's own.
    """
    kept: list[Airborne] = []
    for flight in flights:
        if kept and flight.takeoff_s - kept[-1].landing_s < apart_s:
            first = kept[-1]
            idx = np.r_[first.start : first.end + 1, flight.start : flight.end + 1]
            acc = -_free_accel(t[idx], h[idx]) / GRAVITY
            _, rms = _fit_gravity(t[idx] - t[idx[0]], h[idx], _MOVING_ACC_RANGE)
            joined = (
                _validate(frames, t, h, feet, first.start, flight.end, ramp=True, fall=_MOVING_ACC_RANGE)
                if _MOVING_ACC_RANGE[0] <= acc <= _MOVING_ACC_RANGE[1] and rms < _RMS_TOL_M
                else None
            )
            if joined is not None:
                kept[-1] = joined
            elif _likelihood(flight) > _likelihood(first):
                kept[-1] = flight
            continue
        kept.append(flight)
    return kept


def _garbled(t: np.ndarray, feet: np.ndarray) -> np.ndarray:
    """(m,) the samples whose feet the pose model drew where no foot can be: further than `_GARBLED_M_S` times the
    sampling interval (0.4 m at 30 frames/s, a foot moving 12 m/s) from the median of the `_GARBLED_HALF` samples
    either side. A run of such samples pulls the median towards itself, so they are taken out worst first (the
    largest deviation within a window), and the medians read again without them, until none is left.

    A snowboarder's feet rise off a lip at 3-6 m/s and land at as much; the median of a smooth flight lies within a
    few centimetres of it. On seg1 the pose model lost the small rider against the trees as the board rode up the lip
    (frames 56-59, in every run, unperturbed or with the pose model's outputs moved by a twentieth of a pixel,
    `bench/real_snow.py --jitter`) and drew the feet 0.5-1.8 m above it. Where the last of those frames read no snow
    under the garbled feet, the scan's contact was the run-in's last (55), and the feet's bend read from the garbled
    points moved the takeoff 1-2 frames further onto the run-in: 5-6 frames early in 12 of 19 perturbed runs."""
    m = len(t)
    out = np.zeros(m, dtype=bool)
    if m < 2 * _GARBLED_HALF + 1:
        return out
    tol = _GARBLED_M_S * float(np.median(np.diff(t)))
    width = 2 * _GARBLED_HALF + 1
    while True:
        kept = np.where(out, np.nan, feet)
        near = np.lib.stride_tricks.sliding_window_view(np.pad(kept, _GARBLED_HALF, constant_values=np.nan), width)
        enough = np.isfinite(near).sum(axis=1) > _GARBLED_HALF
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # windows with nothing known: dev 0 below
            median = np.nanmedian(near, axis=1)
        dev = np.where(enough & np.isfinite(kept), np.abs(kept - median), 0.0)
        dev = np.nan_to_num(dev, nan=0.0)
        worst = np.lib.stride_tricks.sliding_window_view(np.pad(dev, _GARBLED_HALF), width).max(axis=1)
        new = (dev > tol) & (dev >= worst)
        if not new.any():
            return out
        out |= new


def _on_snow(
    t: np.ndarray, contact: np.ndarray, i: int, outward: int, least: float = _CONTACT_ON, run_s: float = _CONTACT_RUN_S
) -> bool:
    """Sample i stands on the snow: at least `least` snow under its feet, and under theirs on average over the
    `run_s` outward of it (towards the run-in for a takeoff, -1; the run-out for a landing, +1), so one
    bright patch under a board in the air is not a landing, nor one garbled pose on the run-in a flight."""
    if not contact[i] >= least:
        return False
    # The samples within `run_s` outward of i (times increase: a slice, not a pass over the whole track).
    if outward > 0:
        window = contact[i + 1 : int(np.searchsorted(t, t[i] + run_s, side="right"))]
    else:
        window = contact[int(np.searchsorted(t, t[i] - run_s, side="left")) : i]
    window = window[np.isfinite(window)]
    return bool(window.size) and float(window.mean()) >= least


def _contact_scan(
    t: np.ndarray,
    contact: np.ndarray,
    peak: int,
    direction: int,
    end: int,
    *,
    off_at_peak: bool = False,
    upside_down: np.ndarray | None = None,
) -> tuple[int | None, int | None]:
    """From the flight's highest sample outwards: the first sample on the snow within `_CONTACT_REACH_S`, if the
    samples between were off it (at most `_CONTACT_OFF` snow on average, leaving out the `_LEAVING` samples next to
    the contact: two middling readings as the board leaves the lip outweigh the rest when the highest sample comes
    soon after; seg3 mirrored read 0.82 and 0.84 there, the mean with them 0.34 refused the contact, and its
    takeoff fell back 9 frames to the feet's bend. Not their median: through the synthetic follow-behind cork the
    snow read 0.4-0.6 in half the air frames, and a contact 2 frames late then passed).

    Inside the parabola's own end (`end`: its takeoff or landing sample) the contact must be pristine
    (`_CONTACT_CLEAR`, on the sample and for `_CLEAR_RUN_S` outward, as on a groomed run-in in daylight; not
    longer: seg1's rider lands on sunlit snow and rides into shade 0.2 s later, and its landing stood 4 frames
    late on the parabola's end with 0.3 s, 1 frame early with 0.2 s): a camera near the
    snow sees the slope behind the rider right under the board for the first and last few frames of a flight
    (on the synthetic follow-cams, where the ground runs on behind the kicker, 2-6 frames), and a parabola that
    fits the whole flight is then the better witness. Outside it, the parabola has stopped short of the flight
    (the camera took part of it out) and the snow decides.

    Returns the contact (None: none found), and where a contact was found but refused because `_REFUSED_READINGS`
    or more samples between read the snow on average, that contact where its snow is pristine (`_CONTACT_CLEAR`;
    else None): the feet stood on the snow there, so a takeoff lies no earlier, whatever else places it
    (`_contact_ends`; not a landing, where the synthetic follow-cams see the slope behind the rider under the board
    in the flight's last frames). Middling snow is no such witness: the slope behind a board in the air reads so (the
    rendered follow-behind cork 720 at 60 frames/s: 0.7-0.8 for the first 10 frames of the flight; bounded there,
    its takeoff stood 8 frames late)."""
    i = peak
    while 0 <= i + direction < len(t) and abs(t[i + direction] - t[peak]) <= _CONTACT_REACH_S:
        i += direction
        inside = (i - end) * direction < 0
        least, run_s = (_CONTACT_CLEAR, _CLEAR_RUN_S) if inside else (_CONTACT_ON, _CONTACT_RUN_S)
        if _on_snow(t, contact, i, direction, least, run_s):
            lo, hi = sorted((peak, i))
            between = contact[lo + 1 : hi]
            if upside_down is not None:  # off the snow, but no reading of what lay under the board
                between = np.where(upside_down[lo + 1 : hi], np.nan, between)
            # the first samples off the contact may still read middling snow (the board leaving the lip)
            beyond = between[_LEAVING:] if direction < 0 else between[: len(between) - _LEAVING]
            between, beyond = between[np.isfinite(between)], beyond[np.isfinite(beyond)]
            between = beyond if beyond.size else between
            if off_at_peak and not between.size:  # the contact next to a peak read off the snow
                return i, None
            if between.size and float(between.mean()) <= _CONTACT_OFF:
                return i, None
            return None, (i if between.size >= _REFUSED_READINGS and contact[i] >= _CONTACT_CLEAR else None)
    return None, None


def _airborne(frames: np.ndarray, t: np.ndarray, h: np.ndarray, start: int, end: int) -> Airborne:
    sl = slice(start, end + 1)
    ok = np.isfinite(h[sl])
    acc = -_free_accel(t[sl][ok], h[sl][ok]) / GRAVITY if ok.sum() >= 3 else float("nan")
    rms = _fit_gravity(t[sl][ok] - t[start], h[sl][ok])[1] if ok.sum() >= 4 else float("nan")
    return Airborne(start=start, end=end, takeoff_frame=int(frames[start]), landing_frame=int(frames[end]),
                    takeoff_s=float(t[start]), landing_s=float(t[end]),
                    apex_m=float(max(0.0, np.nanmax(h[sl]) - h[start])), drop_m=float(h[start] - h[end]),
                    accel_g=acc, rms_m=rms)  # fmt: skip


def _contact_ends(
    flight: Airborne,
    frames: np.ndarray,
    t: np.ndarray,
    h: np.ndarray,
    feet: np.ndarray,
    contact: np.ndarray,
    upside_down: np.ndarray | None = None,
    beyond: np.ndarray | None = None,
) -> Airborne:
    """The flight with its takeoff and landing moved to the last and first samples on the snow around its apex,
    where the snow under the feet shows them (`_contact_scan`); an end it does not show goes to the feet's bend
    there (`_kink_walk`), else stays the parabola's.

    With a follow-cam the stabilised hips fit a parabola over part of the flight only (on the real clips: its
    last third, or from a few frames before the takeoff), so its ends can be anywhere inside the flight.

    A takeoff the snow shows then moves to the feet's bend near it (`_kink_at`; a whole g T / 2 on pristine snow,
    `_overrule`) where there is one within `_LIP_S`: the board leaves a kicker's lip along its surface, so for the
    first frames of the flight the lip still fills the band under the feet (the rendered zoomed backflip read
    pristine snow 4 frames into the air, the follow-behind cork 720 0.82 at 4 frames in; both then timed 4 frames
    late). Not further: leaving the lip's plane under gravity alone, the board is 5 cm above it after 0.1 s, about
    where the band begins (`contact.BAND`); and the ride up a kicker bends the feet as sharply (seg1 mirrored: with
    0.15 s its takeoff moved from 1 frame late to 3 early, to where the feet met the ramp; with the whole reach, 5
    early). Not the landing: the board comes down onto the slope across it, and on
    the real clips the bend there stood 2-4 frames after the annotated landings."""
    peak = flight.start + int(np.nanargmax(h[flight.start : flight.end + 1]))
    first, last, moved = flight.start, flight.end, False
    if contact[peak] >= _CONTACT_ON:
        # The parabola's highest sample stands on the snow, as every sample from its start (or up to its end) does:
        # it carried the ride up a kicker (or on along the run-out) with part of the flight, so its end on that side
        # is no witness. The flight is where the snow is not: the scan starts from the highest sample off it, and
        # on the snow's side takes any contact, not only pristine. (A camera behind or beside the rider sees the
        # ground beyond the board under it in mid-air, but not from the takeoff on: the board leaving the lip
        # shows something else under it first.)
        span = np.arange(flight.start, flight.end + 1)
        off = span[(contact[span] <= _CONTACT_OFF) & np.isfinite(h[span])]
        if off.size:
            above = int(off[int(np.nanargmax(h[off]))])
            ridden = contact[flight.start : peak + 1] if above > peak else contact[peak : flight.end + 1]
            ridden = ridden[np.isfinite(ridden)]
            if ridden.size and bool((ridden >= _CONTACT_ON).all()):
                first, last = (above, last) if above > peak else (first, above)
                peak, moved = above, True
    start, ridden_to = _contact_scan(t, contact, peak, -1, first, off_at_peak=moved, upside_down=upside_down)
    end, _ = _contact_scan(t, contact, peak, +1, last, off_at_peak=moved, upside_down=upside_down)
    need = _KINK_SHARE * GRAVITY * flight.air_time_s / 2
    if start is not None and beyond is not None:
        start = _over_lip(start, peak, contact, beyond)
    if start is not None:
        start = _kink_at(t, feet, start, peak, -1, need * _overrule(contact[start]), contact, within_s=_LIP_S) or start
    if start is None:
        start = _ramp_end(t, h, flight.start, peak)
    start = _kink_walk(t, feet, flight.start, peak, -1, need, contact) if start is None else start
    if ridden_to is not None:  # the board was on the snow there: the flight starts no earlier
        start = max(flight.start if start is None else start, ridden_to)
    end = _kink_walk(t, feet, flight.end, peak, +1, need, contact) if end is None else end
    return _with_ends(flight, frames, t, h, start, end)


def _ramp_end(t: np.ndarray, h: np.ndarray, first: int, peak: int) -> int | None:
    """Where a parabola starting at `first` took in the ride up a kicker: the last sample of the hips' straight
    rise up the ramp (`_RAMP_MIN_M_S` or faster, over `_RAMP_S` before `first`) that bends into the flight's
    parabola before its highest sample `peak`, if line and parabola fit the hips within `_RAMP_RMS_M`.

    For the scan back to the snow that finds no contact inside the parabola: a camera below a kicker tilts up as
    the rider rides up it, and the stabilised hips can fit one parabola from the ramp through the lip. seg6's
    first kicker in 4 of the real clips' variants (darkened, upscaled, rocked, one jittered run): the parabola
    started at 32-35 on the ramp, the pose model lost the feet for a frame or two there (visibility 0.07-0.11)
    and the snow under them read no pristine run, and the takeoff stood at the parabola's start; the hips rose
    2.6-3.3 m/s up to the lip and their line and parabola fitted within 0.034-0.073 m, breaking at 38-43 (truth 41).
    Over the rendered moving-camera and airbag suites no flight moved; without the two bounds two drone flights
    did, one lost and one 10 frames late (their hips rising 1.9 m/s before the takeoff, the fit 0.106 m off)."""
    lo = int(np.searchsorted(t, t[first] - _RAMP_S, side="left"))
    seen = np.flatnonzero(np.isfinite(h[lo : peak + 1])) + lo
    best: tuple[float, int, float] | None = None
    for b in seen[3:-2]:  # three samples of ramp at least, two of flight
        dt = t[seen] - t[b]
        design = np.stack([np.ones_like(dt), dt, np.maximum(dt, 0.0) ** 2], 1)  # a line bending into a parabola at b
        coef, *_ = np.linalg.lstsq(design, h[seen], rcond=None)
        sse = float(np.sum((design @ coef - h[seen]) ** 2))
        if coef[2] < 0.0 and (best is None or sse < best[0]):
            best = (sse, int(b), float(coef[1]))
    if best is None or best[2] < _RAMP_MIN_M_S or np.sqrt(best[0] / len(seen)) > _RAMP_RMS_M:
        return None
    return best[1]


def _over_lip(start: int, peak: int, contact: np.ndarray, beyond: np.ndarray) -> int:
    """The takeoff sample `start` moved on to the last sample after it, before the highest, where the snow just past
    the board is pristine (`contact.Ground.beyond`), as long as every sample up to it stands on the snow by one
    band or the other: a camera below a kicker's lip sees the board's base in the band under the feet as it rides
    the lip's last stretch, with the lip's snow right past it.

    A sample where neither band was read (nan in both: the band left the picture or its white was unknown) neither
    stands on the snow nor leaves it, and the walk passes it: re-encoded seg6's second kicker read the lip's snow to
    179, nothing over 180-183 and the board's base over pristine snow past it at 184-185 (truth 187); its takeoff
    stood at 179, now 185. No other flight of the real clips' variants or the rendered suites moved (replayed)."""
    last, i = start, start

    def unread(j: int) -> bool:
        return bool(np.isnan(contact[j]) and np.isnan(beyond[j]))

    while i + 1 < peak and (contact[i + 1] >= _CONTACT_ON or beyond[i + 1] >= _CONTACT_CLEAR or unread(i + 1)):
        i += 1
        if beyond[i] >= _CONTACT_CLEAR:
            last = i
    return last


def _settled(flight: Airborne, frames: np.ndarray, t: np.ndarray, h: np.ndarray, axis_deg: np.ndarray) -> Airborne:
    """The flight with its landing moved on past the samples where the body still turns over in the picture: its
    ankles-to-shoulders axis (`body_axis_deg`) turning at `_SETTLING_DEG_S` or more, the same way, from the landing
    sample to each of the next two, at most `_EXTEND_S` on. The board meeting the snow stops a flip or a roll, so a
    body still coming round is still in the air; a steady turn of the picture itself (a camera rolling) is slower.
    The landing sample is what the snow or the feet put there, and a camera near the snow sees the slope behind the
    board in a flight's last frames: on the rendered drone wildcat the snow read 0.78 while the body came round 42°,
    34°, 24° and 13° from upright, and the landing stood 4 frames early. Over the real clips' landings the axis
    turned 0-8° a sample (seg6's second, its camera rolling: 8° then 3°)."""
    end, reach = flight.end, t[flight.end] + _EXTEND_S
    while end + 2 < len(t) and t[end + 1] <= reach:
        turns = (axis_deg[end + 1 : end + 3] - axis_deg[end : end + 2] + 180.0) % 360.0 - 180.0
        fast = np.abs(turns) >= _SETTLING_DEG_S * np.diff(t[end : end + 3])
        if not (fast.all() and np.sign(turns[0]) == np.sign(turns[1])):
            break
        end += 1
    return flight if end == flight.end else _airborne(frames, t, h, flight.start, end)


def _kink_walk(
    t: np.ndarray, feet: np.ndarray, near: int, peak: int, side: int, need: float, contact: np.ndarray
) -> int | None:
    """`_kink_at` from a parabola's end, then again from the bend it found while each search moves the end outward
    by `_KINK_STEP_S` or more (at most `_KINK_WALK` searches after the first): the end where the feet bend last.

    A camera can cut a flight's parabola short by more than one reach (the synthetic follow-front 360: the
    stabilised hips rise almost straight, the parabola starts 14 frames after the takeoff): the first search then
    finds where the feet's rise steepens, not where it began, and the next one, from there, the takeoff (on the
    rendered suite 24 of 24 clips within 3 frames against 23, mean error 0.8 frames against 1.0; the real clips
    unchanged). Each step needs a bend as sharp as the first one's (half the flight's g T / 2)."""
    found = _kink_at(t, feet, near, peak, side, need, contact)
    for _ in range(_KINK_WALK):
        if found is None or (t[found] - t[near]) * side < _KINK_STEP_S:
            break
        near = found
        found = _kink_at(t, feet, near, peak, side, need, contact)
        found = near if found is None else found
    return found


def _with_ends(
    flight: Airborne, frames: np.ndarray, t: np.ndarray, h: np.ndarray, start: int | None, end: int | None
) -> Airborne:
    """The flight with its takeoff and landing samples moved to `start` and `end` (None: where they are), unless
    that makes it no flight (`MIN_AIR_S`, `MAX_AIR_S`)."""
    start = flight.start if start is None else start
    end = flight.end if end is None else end
    if (start, end) == (flight.start, flight.end) or not MIN_AIR_S <= t[end] - t[start] <= MAX_AIR_S:
        return flight
    return _airborne(frames, t, h, start, end)


def _bent_ends(
    flight: Airborne,
    frames: np.ndarray,
    t: np.ndarray,
    h: np.ndarray,
    feet: np.ndarray,
    contact: np.ndarray,
    beyond: np.ndarray | None = None,
) -> Airborne:
    """A flight the snow alone found (`_contact_flights`), each end moved to the feet's bend near it (`_kink_at`),
    where there is one: a bend of half a flight's g T / 2 where the end stands on less than pristine snow
    (`_CONTACT_CLEAR`), of a whole g T / 2 where it stands on pristine snow (`_overrule`).

    A camera near the snow sees the ground behind the rider under the board for the first and last few frames of
    a flight where nothing drops away behind a kicker (the synthetic world: 4-6 frames); the share of snow there
    is middling (0.6 on the synthetic pan and zoom clips) where a real run-in or landing reads above 0.9, but
    the synthetic zoom clip's backflip reads pristine snow (1.0) for 4 frames after leaving flat snow, where the
    feet bend by 6.8 times half g T / 2. On the real clips a pristine end's bend is weaker (seg6's second
    landing: 1.6 times, 2 frames late): the snow's end stands there. The factor is set on those few clips; a
    kicker's lip, where the feet leave with the ramp's own vertical speed, bends less than a flat take-off."""
    peak = flight.start + int(np.nanargmax(h[flight.start : flight.end + 1]))
    need = _KINK_SHARE * GRAVITY * flight.air_time_s / 2
    first = flight.start if beyond is None else _over_lip(flight.start, peak, contact, beyond)
    start = _kink_at(t, feet, first, peak, -1, need * _overrule(contact[first]), contact)
    start = first if start is None else start
    end = _kink_at(t, feet, flight.end, peak, +1, need * _overrule(contact[flight.end]), contact)
    return _with_ends(flight, frames, t, h, start, end)


def _risen(flight: Airborne, frames: np.ndarray, t: np.ndarray, h: np.ndarray) -> Airborne:
    """The flight with its takeoff moved back to the last sample, at most `_EXTEND_S` earlier, that its hips then
    rise `_MIN_RISE_M` above, where they rise less from the takeoff as found. Every takeoff lifts the hips: a flight
    the parabolas found that does not rise is dropped (`find_airborne`); one the snow alone found (`_contact_flights`)
    started where the snow left the band, which a kicker's side wall can fill for the first frames of the air.

    seg6's first kicker, filmed from below: the stabilised hips rode up the ramp at 2.4 m/s to the annotated
    takeoff (41), rose 0.13 m more to 43 and stayed within 0.1 m of that to 47, where the snow left the band; from
    47 they only fell. Moved to 42. Across the real clips' variants (`bench/flights_replay.py` on 12 x 4 jumps)
    it moved four takeoffs of that kicker, each towards the truth (47 to 42, 46, 46; trimmed, +6 to +2), and
    nothing else; no flight of the rendered moving-camera and airbag suites moved (their inputs replayed)."""
    if flight.apex_m >= _MIN_RISE_M:
        return flight
    top = float(np.nanmax(h[flight.start : flight.end + 1]))
    i = flight.start
    while i > 0 and t[i - 1] >= t[flight.start] - _EXTEND_S:
        top = max(top, h[i]) if np.isfinite(h[i]) else top
        i -= 1
        if np.isfinite(h[i]) and top - h[i] >= _MIN_RISE_M:
            return _with_ends(flight, frames, t, h, i, None)
    return flight


def _overrule(snow: float) -> float:
    """How many times `_KINK_SHARE` of a flight's g T / 2 a bend must reach to move an end the snow alone found:
    once where its snow is middling, `_CLEAR_OVERRULE` times where it is pristine (`_CONTACT_CLEAR`)."""
    return _CLEAR_OVERRULE if snow >= _CONTACT_CLEAR else 1.0


def _kink_at(
    t: np.ndarray,
    feet: np.ndarray,
    near: int,
    peak: int,
    side: int,
    need: float,
    contact: np.ndarray | None = None,
    *,
    within_s: float = _KINK_REACH_S,
) -> int | None:
    """The sample within `_KINK_REACH_S` (or `within_s`, if less) outward of `near` (a parabola's end; on the
    flight's side of the apex) or `_KINK_INWARD_S` inward where the feet's height bends upwards most sharply, if it
    bends by at least `need` m/s: a takeoff or a landing.

    On the snow the feet ride the ground, which a moving camera carries smoothly through the picture; at
    takeoff they leave it with the flight's vertical speed, at landing they stop falling with it; a camera
    cannot change its own speed that suddenly. So the feet's height is a line on the ground's side of the contact
    and a parabola on the flight's side, their slopes apart by about g T / 2 for a flight of T seconds where they
    meet; the best such fit over the window marks the contact. The parabola's curvature is left free (the
    stabilised picture shows the fall at anything from 0.1 to 1.3 g). Against two plain lines, or the hips' own
    fall: on the synthetic moving-camera suite this shape timed 43 of 48 ends within 3 frames (lines 44, the hips'
    fall 42; without the bend 40) with the smallest bias, and it alone held to a frame on tracks whose camera
    lags the rider's rise or sways at up to g (lines: up to 6 frames early).
    Its weakness: a camera swaying at 0.4 g and 1 Hz curves the feet's height enough to fake a bend of a flight's
    size where the rider only rides; so it is only looked for within `_KINK_REACH_S` of a flight's own end.
    Asking the bend to fit much better than a smooth cubic through the window removed those, and with them every
    gain on the rendered suite (17 of 24 clips within 3 frames, as without the bend): its pose noise blurs a
    real bend as much.
    Real feet keypoints are noisier: their bends are weaker and, on the real clips, less reliable than the snow
    under the feet, which decides first (`_contact_ends`); where the snow is seen and says the feet are off it
    (`_CONTACT_OFF`), a bend there is not a contact (seg3's landing in shade bent at 76 and at 81; truth 82).
    The hips fall freely only in the air, so a parabola's end lies at most a frame or so outside the flight (the
    legs' push or give): a bend further inside it is the feet's own swing, a flip's legs coming round or a spin
    seen from above turning the lowest foot (on the rendered suite the only two bends found further inside were
    both wrong, by 3 and 4 frames; with the bound, 22 of 24 clips within 3 frames against 21, mean error 1.0
    frame against 1.15)."""
    lo = int(np.searchsorted(t, t[near] - _KINK_REACH_S, side="left"))
    hi = int(np.searchsorted(t, t[near] + _KINK_REACH_S, side="right")) - 1
    lo, hi = (lo, min(hi, peak)) if side < 0 else (max(lo, peak), hi)
    seen = np.flatnonzero(np.isfinite(feet[lo : hi + 1])) + lo
    if len(seen) < 5:
        return None
    # the contact is looked for up to `within_s` outward of the parabola's end (the line through the ground's side
    # read over the whole reach), and at most `_KINK_INWARD_S` inside it
    if side < 0:  # a takeoff: the flight lies after it
        first = max(lo + 2, int(np.searchsorted(t, t[near] - within_s, side="left")))
        last = min(hi - 2, int(np.searchsorted(t, t[near] + _KINK_INWARD_S, side="right")) - 1)
    else:
        first = max(lo + 2, int(np.searchsorted(t, t[near] - _KINK_INWARD_S, side="left")))
        last = min(hi - 2, int(np.searchsorted(t, t[near] + within_s, side="right")) - 1)
    best: tuple[float, int] | None = None
    for b in range(first, last + 1):
        dt = t[seen] - t[b]
        air = np.maximum(dt, 0.0) if side < 0 else np.minimum(dt, 0.0)  # the flight's side of sample b
        # the ground's line and the flight's parabola, meeting at sample b
        design = np.stack([np.ones_like(dt), dt, air, air**2], 1)
        coef, *_ = np.linalg.lstsq(design, feet[seen], rcond=None)
        sse = float(np.sum((design @ coef - feet[seen]) ** 2))
        bend = coef[2] if side < 0 else -coef[2]  # the vertical speed gained at takeoff, lost at landing
        off_snow = contact is not None and contact[b] <= _CONTACT_OFF  # the snow says the feet are in the air there
        if bend >= need and not off_snow and (best is None or sse < best[0]):
            best = (sse, b)
    return None if best is None else best[1]


def _contact_flights(
    frames: np.ndarray,
    t: np.ndarray,
    h: np.ndarray,
    feet: np.ndarray,
    contact: np.ndarray,
    known: list[Airborne],
    bag: np.ndarray | None = None,
    feet_seen: np.ndarray | None = None,
) -> list[Airborne]:
    """Flights the snow under the feet brackets that no parabola found: off the snow for at least
    `_CONTACT_MIN_AIR_S` between two samples on it, the rider seen (not gap-filled) in most of it, the feet seen
    there too (`feet_seen`, the visibility of their points per sample: median `_CONTACT_FEET_SEEN` or more; the snow
    is read under the feet as the pose model drew them, and a garbled pose draws them on the legs), and the body
    rising above the line between takeoff and landing (`_rises`), as a flight's does and a ride past dark
    trees' does not, and coming down to the landing (`_comes_down`, the hips or the feet drawn up under them), as a
    ride up the picture does not. An airbag closes a flight as the snow does: `bag` (`_bag_under`, where the colour
    under the feet was read), holding for `_CONTACT_RUN_S` (`_on_bag`). The feet's bend then does not move that
    landing: the snow there reads none (`_kink_at`), and the feet go on sinking into the fabric."""
    found: list[Airborne] = []
    taken = np.zeros(len(t), dtype=bool)
    for f in known:
        taken[f.start : f.end + 1] = True

    def lands(j: int) -> bool:
        return _on_snow(t, contact, j, +1) or (bag is not None and _on_bag(t, bag, j))

    i = 0
    while i < len(t) - 1:
        if not _on_snow(t, contact, i, -1) or _on_snow(t, contact, i + 1, -1):
            i += 1
            continue
        j = i + 1
        while j < len(t) and not lands(j) and t[j] - t[i] <= MAX_AIR_S:
            j += 1
        if j >= len(t) or t[j] - t[i] > MAX_AIR_S:
            i = j
            continue
        inside = contact[i + 1 : j]
        seen = np.isfinite(inside)
        if (
            t[j] - t[i] >= _CONTACT_MIN_AIR_S
            and seen.mean() >= 0.5
            and float(inside[seen].mean()) <= _CONTACT_OFF
            and (feet_seen is None or float(np.median(feet_seen[i : j + 1])) >= _CONTACT_FEET_SEEN)
            and not taken[i : j + 1].any()
            and _rises(_bulge(t[i : j + 1], h[i : j + 1]), _bulge(t[i : j + 1], feet[i : j + 1]))
            and (_comes_down(h[i : j + 1]) or _comes_down(feet[i : j + 1]))
        ):
            found.append(_airborne(frames, t, h, i, j))
            i = j
        else:
            # not a flight from i; one may still start inside it (a sample just under the snow's share on the ride
            # up the kicker opened this one a sample before the board left the lip)
            i += 1
    return found


def _bag_under(contact: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """(m,) the band under the feet shows an airbag's fabric: no snow (`landing.AIRBAG_NO_SNOW` or less) and a
    coloured surface (`landing.AIRBAG_COLOUR` or more); nan where either was not read."""
    with np.errstate(invalid="ignore"):
        bag = ((contact <= AIRBAG_NO_SNOW) & (colour >= AIRBAG_COLOUR)).astype(np.float64)
    return np.where(np.isfinite(contact) & np.isfinite(colour), bag, np.nan)


def _on_bag(t: np.ndarray, bag: np.ndarray, i: int, run_s: float = _CONTACT_RUN_S) -> bool:
    """Sample i lands in an airbag (`_bag_under`), and the samples read within `run_s` after it show the bag in
    `landing.AIRBAG_OFF` of them or more: the board sinks into the fabric and stays on it. A flight from the snow into
    a bag is one the snow opens and never closes; on the rendered airbag suite the fabric comes under the feet for
    good 1-2 frames before the board meets it where the camera is in front or below (the board's own height over
    the bag, seen from level), 2-3 frames before from beside it and 4-8 from behind, looking down on the bag past
    the board (those flights' parabolas end them: `_contact_flights` looks only where none did). A rider flipping over the bag
    drew the fabric under the lowest foot at frames 52 and 54 (the pan's backflip, truth 60); over `run_s` after
    them the bag held in 5 and 6 of 9 samples, and the landing came at 58, where it stayed."""
    if bag[i] != 1.0:  # nan: not read
        return False
    window = bag[i + 1 : int(np.searchsorted(t, t[i] + run_s, side="right"))]
    window = window[np.isfinite(window)]
    return bool(window.size) and float(window.mean()) >= AIRBAG_OFF


def _rises(hips_m: float, feet_m: float) -> bool:
    """A flight the snow brackets rises above the line between its takeoff and landing (`_bulge`, metres): the
    hips by `_MIN_HIP_BULGE_M` and the feet by `_MIN_FOOT_TRAVEL_M`, or, where the camera took the hips' rise out
    (level with the line, within `_MIN_FOOT_TRAVEL_M`), the feet by `_MIN_HIP_BULGE_M` on their own: the legs
    tucked up under the body in the air. A ride past dark trees raises neither; a crouch lowers the hips and leaves
    the feet on the line. seg6 written again (H.264, CRF 20: the pose model lost the rider in 8 air frames more)
    bracketed its first kicker 47-77 with the hips 0.00 m above the line and the feet 0.25 m; the original's
    hips rose 0.38 m and its feet 0.43 m."""
    if not (np.isfinite(hips_m) and np.isfinite(feet_m)) or feet_m < _MIN_FOOT_TRAVEL_M:
        return False
    return hips_m >= _MIN_HIP_BULGE_M or (hips_m > -_MIN_FOOT_TRAVEL_M and feet_m >= _MIN_HIP_BULGE_M)


def _comes_down(heights_m: np.ndarray) -> bool:
    """Heights over a flight, takeoff to landing (the hips' or the feet's), stand `_MIN_FALL_M` or more under their
    highest at the last sample read: the board meets the snow falling."""
    seen = heights_m[np.isfinite(heights_m)]
    return seen.size > 0 and float(seen.max() - seen[-1]) >= _MIN_FALL_M


def _merged(flights: list[Airborne], frames: np.ndarray, t: np.ndarray, h: np.ndarray) -> list[Airborne]:
    """Overlapping flights as one (two parabolas of one flight both moved to its contacts)."""
    out: list[Airborne] = []
    for f in flights:
        if out and f.start <= out[-1].end:
            out[-1] = _airborne(frames, t, h, min(out[-1].start, f.start), max(out[-1].end, f.end))
        else:
            out.append(f)
    return out


def _likelihood(flight: Airborne) -> float:
    """How much a flight looks like one: its length, less as its fall strays from g (the image scale is right
    to a few per cent on a flight)."""
    return flight.air_time_s * (1.0 - abs(float(np.log(max(flight.accel_g, 1e-3)))))


def _grow(
    t: np.ndarray, h: np.ndarray, ok: np.ndarray, start: int, end: int, fall: tuple[float, float] = _ACC_RANGE
) -> list[tuple[int, int]]:
    """Extend [start, end] one sample at a time, either side, while the gravity parabola still fits: the stretch
    grown past two misread samples (where it differs), then the stretch grown without, each to be tried in turn.

    A sample that misses the parabola may be an outlier (the pose model mislabelled a tumbling body): the
    flight still extends past it when the next sample fits again, so one or two bad frames do not cut it. On the
    rendered follow-front frontside 540 the hips read 0.1 m high in the two frames the rider's back turned to the
    camera, at the apex; skipping one frame only, the rise (41-49) and the fall (51-57) were grown apart, neither
    a flight, and the jump went unfound. Two samples are skipped once the stretch has grown as far as it can,
    where they are two frames of a 30 frames/s clip (`_SKIP_S`: at 15 frames/s, seg6 with every other frame, two
    samples are a tenth of the flight, and skipping them took its first takeoff 6 samples early) and the parabola
    then carries `_PAST_SKIP` samples beyond them. The stretch grown without stays a candidate: seg3 at 1920x1080
    grew over 69-70 onto two samples more, and with that tail its start from 56 to 51, a fall of 1.5 g and no
    flight; 56-68 is its flight's parabola.
    """
    plain = _grown(t, h, ok, set(range(start, end + 1)), fall)
    inliers = plain
    # Past two misread samples: kept where the parabola then carries `_PAST_SKIP` samples or more beyond them.
    for side in (1, -1):
        edge = max(inliers) if side > 0 else min(inliers)
        k = edge + 3 * side
        if not 0 <= k < len(t) or not ok[k] or abs(t[k] - t[edge]) > _SKIP_S or not _fits(t, h, inliers, k, fall):
            continue
        trial = _grown(t, h, ok, inliers | {k}, fall)
        if len([i for i in trial if (i - edge) * side > 0]) >= _PAST_SKIP:
            inliers = trial
    out = [(min(inliers), max(inliers)), (min(plain), max(plain))]
    return out[1:] if out[0] == out[1] else out


def _fits(t: np.ndarray, h: np.ndarray, inliers: set[int], k: int, fall: tuple[float, float] = _ACC_RANGE) -> bool:
    """Whether sample k joins the parabola through `inliers`: near it, the fit still tight and its fall a flight's."""
    idx = np.array(sorted(inliers | {k}))
    res, rms = _fit_gravity(t[idx] - t[idx[0]], h[idx], fall)
    acc = -_free_accel(t[idx], h[idx]) / GRAVITY
    return bool(abs(res[np.searchsorted(idx, k)]) < _POINT_TOL_M and rms < _RMS_TOL_M and fall[0] <= acc <= fall[1])


def _grown(
    t: np.ndarray, h: np.ndarray, ok: np.ndarray, inliers: set[int], fall: tuple[float, float] = _ACC_RANGE
) -> set[int]:
    """`inliers` extended a sample at a time, either side, stepping over one sample that misses (`_grow`)."""
    inliers = set(inliers)
    grew = True
    while grew:
        grew = False
        for side in (-1, 1):
            edge = min(inliers) if side < 0 else max(inliers)
            for step in (1, 2):  # the next sample, or skip one outlier
                k = edge + side * step
                if not 0 <= k < len(t) or not ok[k] or abs(t[k] - t[edge]) > _MAX_GAP_S:
                    break
                if _fits(t, h, inliers, k, fall):
                    inliers.add(k)
                    grew = True
                    break
    return _pruned(t, h, inliers, fall)


def _pruned(t: np.ndarray, h: np.ndarray, inliers: set[int], fall: tuple[float, float] = _ACC_RANGE) -> set[int]:
    """`inliers` without the end samples the grown parabola puts further than `_POINT_TOL_M` off, the worse end
    first, one at a time. Grown a sample a side in turn, a stretch takes in an end sample while it is still short
    and bends to it: a figure's last sample on the ground joined a flight's 30-42 at 0.0697 m (the tolerance 0.07)
    and lay 0.096 m off the parabola through the whole flight; on another CPU the same fit read over 0.07, and the
    takeoff moved by a frame between machines."""
    idx = sorted(inliers)
    while len(idx) > 4:
        arr = np.asarray(idx)
        res, _ = _fit_gravity(t[arr] - t[arr[0]], h[arr], fall)
        if max(abs(res[0]), abs(res[-1])) <= _POINT_TOL_M:
            break
        idx = idx[1:] if abs(res[0]) >= abs(res[-1]) else idx[:-1]
    return set(idx)


def _bulge(t: np.ndarray, h: np.ndarray) -> float:
    """How far the middle of a trajectory rises above the chord between its end points (median of the middle
    third, so one bad keypoint does not decide it); the samples not known (nan: a garbled foot) left out."""
    known = np.isfinite(h)
    if known.sum() < 3:
        return float("nan")
    t, h = t[known], h[known]
    chord = h[0] + (h[-1] - h[0]) * (t - t[0]) / max(t[-1] - t[0], 1e-9)
    above = (h - chord)[len(t) // 3 : max(len(t) // 3 + 1, 2 * len(t) // 3)]
    return float(np.nanmedian(above)) if len(above) else float("nan")


def _refine_contacts(
    t: np.ndarray, h: np.ndarray, feet: np.ndarray, start: int, end: int, *, ramp: bool = False
) -> tuple[int, int]:
    """Move takeoff and landing to the last and first samples with the feet at ground level.

    In the hip's height the takeoff is a change of acceleration only (the push ends, free fall begins), so a
    parabola can run a frame or two into the stance; the feet, standing still until they leave, mark it. The
    other way round, the pose model misplaces the hips of a body upside down by 10-20 cm, which can end the
    parabola early: feet still above their ground level are still in the air.
    """
    peak = start + int(np.nanargmax(h[start : end + 1]))
    fall_reach = min(t[end] + _FALL_EXTEND_S, t[-1] - _EDGE_S)
    # Outwards: the ground level is read a little away from the parabola's ends, which may lie in the air.
    w0 = (t[start] - _GROUND_S - _GROUND_GAP_S, t[start] - _GROUND_GAP_S)
    w1 = (t[end] + _GROUND_GAP_S, t[end] + _GROUND_S + _GROUND_GAP_S)
    reach0, reach1 = max(t[start] - _EXTEND_S, t[0] + _EDGE_S), min(t[end] + _EXTEND_S, t[-1] - _EDGE_S)
    while (
        start > 0 and t[start - 1] >= reach0 and feet[start] > _ground_level(t, feet, *w0, t[start]) + _FOOT_AIRBORNE_M
    ):
        start -= 1
    while (
        end < len(t) - 1 and t[end + 1] <= reach1 and feet[end] > _ground_level(t, feet, *w1, t[end]) + _FOOT_AIRBORNE_M
    ):
        end += 1
    # Feet first out of a flip, the hips' parabola can end a dozen frames early while the feet still fall fast,
    # past the window the ground level was read in: the landing is where they stop falling.
    while (
        end < len(t) - 1
        and t[end + 1] <= fall_reach
        and feet[end] - feet[end + 1] > _FEET_FALLING_M_S * (t[end + 1] - t[end])
    ):
        end += 1
    # Inwards: the ground level right at the ends (hops may follow each other within half a second); with
    # `ramp` the line through the feet's heights there (a moving camera's stabilised picture: the kicker's ramp
    # rises into the takeoff, the landing slope falls away), else their median (level ground).
    w0, w1 = (t[start] - _GROUND_S, t[start]), (t[end], t[end] + _GROUND_S)
    # Two grounded samples in a row: one foot keypoint that wobbles near the snow is not a contact.
    while (
        start + 2 < peak
        and max(feet[start + 1], feet[start + 2]) <= _ground_level(t, feet, *w0, t[start], line=ramp) + _FOOT_CONTACT_M
    ):
        start += 1
    while (
        end - 2 > peak
        and max(feet[end - 1], feet[end - 2]) <= _ground_level(t, feet, *w1, t[end], line=ramp) + _FOOT_CONTACT_M
    ):
        end -= 1
    return start, end


def _ground_level(t: np.ndarray, feet: np.ndarray, t0: float, t1: float, at: float, *, line: bool = True) -> float:
    """The feet's ground level at time `at`, metres: a straight line through their heights between t0 and t1
    (a camera tilting steadily moves the ground in the picture; `line=False`: their median), or the nearest
    sample."""
    window = (t >= t0) & (t <= t1) & np.isfinite(feet)
    if line and window.sum() >= 3:
        slope, offset = np.polyfit(t[window], feet[window], 1)
        return float(slope * at + offset)
    if window.any():
        return float(np.nanmedian(feet[window]))
    return float(feet[int(np.argmin(np.abs(t - at)))])


def _tipped_at(t: np.ndarray, axis_deg: np.ndarray, start: int) -> bool:
    """Whether the body's axis in the picture (`body_axis_deg`) turns more than `_MAX_TAKEOFF_TURN_DEG` from where
    it stood over the `_RIDE_S` before the takeoff sample `start` to the `_TAKEOFF_SAMPLES` from it on (medians).
    From the takeoff sample on, not after it: the turn begins at the last sample on the snow, and a double backflip's
    4 samples after it read 30-120° (a median of 75°); the rule once passed it only where the parabola took in a
    sample of the ground before the takeoff (`_pruned`)."""
    before = axis_deg[int(np.searchsorted(t, t[start] - _RIDE_S, side="left")) : start]
    after = axis_deg[start : start + _TAKEOFF_SAMPLES]
    before, after = before[np.isfinite(before)], after[np.isfinite(after)]
    if not before.size or not after.size:
        return False
    # angles wrap at 180°: each taken as its difference from the ride's median
    ride = float(np.median(before))
    turned = (after - ride + 180.0) % 360.0 - 180.0
    return bool(abs(float(np.median(turned))) > _MAX_TAKEOFF_TURN_DEG)


def _validate(
    frames: np.ndarray,
    t: np.ndarray,
    h: np.ndarray,
    feet: np.ndarray,
    start: int,
    end: int,
    *,
    ramp: bool = False,
    axis_deg: np.ndarray | None = None,
    scale: np.ndarray | None = None,
    fall: tuple[float, float] = _ACC_RANGE,
) -> Airborne | None:
    duration = float(t[end] - t[start])
    if not MIN_AIR_S <= duration <= MAX_AIR_S or end - start < 4:
        return None
    # A takeoff or landing needs the ground phase around it in view: a track that starts or ends in the
    # "flight" is a person entering or leaving, or a camera still settling, not a measured jump.
    if t[start] - t[0] < _EDGE_S or t[-1] - t[end] < _EDGE_S:
        return None
    sl = slice(start, end + 1)
    acc = -_free_accel(t[sl], h[sl]) / GRAVITY
    if not fall[0] <= acc <= fall[1]:
        return None
    _, rms = _fit_gravity(t[sl] - t[start], h[sl], fall)
    start, end = _refine_contacts(t, h, feet, start, end, ramp=ramp)
    if t[end] - t[start] < MIN_AIR_S or end - start < 4:
        return None
    # A takeoff leaves the board with the body as it rode: a body falling over (in an airbag, or in a crash) can drop
    # its hips through a parabola as the camera turns (the synthetic pan over an airbag: a "jump" at 79-97 as the
    # rider sitting in the bag fell back, the legs up: 8° at the "takeoff", then 86°, 169°, 161° from upright,
    # against 8-19° the moment before). Against the body's own axis before, not the picture's up: seg6's
    # follow-cam rolls the rider to 70° from it on the second kicker's lip.
    if axis_deg is not None and _tipped_at(t, axis_deg, start):
        return None
    sl = slice(start, end + 1)
    # Free flight bulges above the straight line from takeoff to landing by g T^2 / 8; the feet leave the
    # ground with the body, so they bulge too (less in a tuck). Feet that stay put are a crouch or a squat.
    # Measured at one scale, the stretch's median (`scale`, pixels per metre): the limbs' 2D against 3D lengths move
    # with the pose (a crouch foreshortens the thighs), and a height is the picture's distance from its middle over
    # the scale, so feet standing still in the picture drew a "bulge" where the scale stepped (sports2d_demo in two
    # chunks on an AMD EPYC: 291 to 237 px/m within 2 frames as the jumper stood up from the landing, his feet on
    # one row of the picture, and a 0.47 s "flight" at 197-211).
    steady = 1.0 if scale is None else scale[sl] / float(np.nanmedian(scale[sl]))
    hip_bulge = _bulge(t[sl], h[sl] * steady)
    feet_bulge = _bulge(t[sl], feet[sl] * steady)
    if not hip_bulge >= _MIN_HIP_BULGE_M:
        return None
    if not np.isfinite(feet_bulge) or feet_bulge < max(_MIN_FOOT_TRAVEL_M, 0.4 * hip_bulge):
        return None
    if ramp:
        # The ride up a kicker is a rise that ends at the lip, and in a stabilised picture it can fit a parabola's
        # first half; a flight comes down again, at least a quarter as far as it rose (a landing slope: further; a
        # drone looking down the slope foreshortens it to a third).
        apex = float(np.nanmax(h[sl]))
        if apex - h[end] < _MIN_DESCENT * (apex - h[start]):
            return None
    return Airborne(
        start=start,
        end=end,
        takeoff_frame=int(frames[start]),
        landing_frame=int(frames[end]),
        takeoff_s=float(t[start]),
        landing_s=float(t[end]),
        apex_m=float(max(0.0, np.nanmax(h[sl]) - h[start])),
        drop_m=float(h[start] - h[end]),
        accel_g=acc,
        rms_m=rms,
    )
