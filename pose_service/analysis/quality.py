"""How much a jump's numbers can be trusted: its height estimate, its confidence, and the scoreability gate.

Height, two estimates:
- air_time: h = g t^2 / 8 from the air time t. Assumes takeoff and landing at one level (a drop or a
  step-down lands lower and flies longer than its height); needs nothing but the timing.
- trajectory: the hips' rise above their takeoff height in the picture, in metres through the image scale
  (limbs' 2D against 3D lengths). Used when the flight followed gravity's parabola with a plausible
  acceleration (a steady camera and a right scale: `TRAJECTORY_ACCEL_G`), else the air-time estimate is.

Confidence per jump, each 0..1 where a share:
- air_frames_seen: share of the flight's video frames in which the pose model saw the rider: interpolated
  frames do not count, nor do frames whose skeleton is under `PARTIAL_SCALE` of the rider's size on the approach
  (pixels per metre from the limbs): the model then fitted a whole body into the part in view (legs below a
  banner), which is not a sighting of the rider; nor frames whose torso reaches the picture's edge (`cut_by_edge`):
  the model squeezes a body the edge cuts into the part in view (the real seg1 cropped to 202x360, the rider's
  hips pinned 1-6 px from the right edge through the air, read its shoulders edge-on: a "backside 180" on a
  straight air);
- keypoint_visibility: mean visibility of the limbs' and torso's keypoints over those frames;
- rider_height_px: the rider's median box height around the jump;
- camera_motion: how fast the camera panned around the jump, in rider heights per second (the tracker's camera
  path; None: not measured);
- overall = air_frames_seen x keypoint_visibility x min(1, rider_height_px / 120) x (0.5 + 0.5 x the share of
  airborne frames agreeing with the fitted rotation) / (1 + `_PAN_WEIGHT` x camera_motion), and halved
  (`MOVING_CAMERA_FACTOR`) when the camera moved, rolled or zoomed around the jump (`camera.py`): the flight is then
  found in a picture that moves with the rider, and its timing is less sure.

The gate (`scoring`): a clip cannot be scored when no jump was found, the rider's median height is under
`MIN_RIDER_PX`, the rider was seen in under `MIN_AIR_SEEN` of a jump's air frames, or a jump's fitted rotation
is not a measurement (`rotation_doubt`): under `MIN_ROTATION_AGREEMENT` of its air frames agree with it, or it
turns faster than `MAX_TURN_DEG_S`. Each reason is a sentence with its number; with no jump found, a stretch of
`HIDDEN_MIN_S` or more without the whole rider in view (hidden behind something) is named, since a jump there
could not have been measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pose_service.analysis.airborne import GRAVITY, Airborne

__all__ = [
    "MAX_TURN_DEG_S", "MIN_ROTATION_AGREEMENT", "MOVING_CAMERA_FACTOR", "Confidence", "HeightEstimate",
    "MIN_AIR_SEEN", "MIN_RIDER_PX", "confidence", "cut_by_edge", "estimate_height", "hidden_span", "rotation_doubt",
    "scoring",
]  # fmt: skip

MIN_RIDER_PX = 60.0
MIN_AIR_SEEN = 0.5
# Under this share of a jump's air frames agreeing with the fitted rotation, the fit is not a measurement: every
# rendered jump read right agreed in 0.5 or more (the still, moving-camera and grab suites, 107 + 24 jumps); the
# real seg6's first kicker read "backside double cork 540" at 0.19 (its second, 0.37).
MIN_ROTATION_AGREEMENT = 0.3
# Degrees a second of the fitted spin, flip or roll over the air time: faster is no body's (a double cork 1080 in
# a 1 s air turns about 1,000 a second); a flight cut short by a moving camera read a straight air as 1,552
# degrees of spin in 0.3 s.
MAX_TURN_DEG_S = 1500.0
TRAJECTORY_ACCEL_G = (0.8, 1.25)
PARTIAL_SCALE = 0.78  # measured: a rider hidden down to the hips read at 0.62-0.74, whole riders 0.85-1.05
_APPROACH_S = 1.0
MOVING_CAMERA_FACTOR = 0.5
_PAN_WEIGHT = 0.25  # a pan of one rider height per second takes a fifth off the overall confidence
HIDDEN_MIN_S = 0.25  # a stretch this long without the whole rider in view could hold a jump
EDGE_M = 0.1  # a torso keypoint this near the picture's edge (metres at the rider's scale) is on a body the edge cuts
_EDGE_PX = 2.0  # and never nearer than this many pixels
_TORSO = [11, 12, 23, 24]
HIDDEN_SCALE = 0.8  # against the rider's median size over the clip (the banner clip: 0.66-0.79 behind it)
_BODY_KEYPOINTS = [11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]
AIR_TIME_ASSUMPTION = "h = g t^2 / 8 from the air time: assumes takeoff and landing at one level"


@dataclass(frozen=True)
class HeightEstimate:
    """method: 'trajectory' or 'air_time' (which one height_m is); both estimates in metres."""

    method: str
    air_time_m: float
    trajectory_m: float | None

    @property
    def height_m(self) -> float:
        return self.trajectory_m if self.method == "trajectory" and self.trajectory_m is not None else self.air_time_m

    def to_result(self) -> dict[str, Any]:
        assumption = (
            "hip rise in the picture, scaled by the rider's limb lengths (camera steady: the flight fits gravity)"
            if self.method == "trajectory"
            else AIR_TIME_ASSUMPTION
        )
        return {
            "method": self.method,
            "air_time_m": round(self.air_time_m, 3),
            "trajectory_m": None if self.trajectory_m is None else round(self.trajectory_m, 3),
            "assumption": assumption,
        }


def estimate_height(flight: Airborne, *, camera_moving: bool = False) -> HeightEstimate:
    """Both height estimates of a flight and the one to use (see the module). A camera that moves with the rider
    rises and falls with them: the picture's trajectory is then not the body's, and only the air time is used."""
    air = GRAVITY * flight.air_time_s**2 / 8.0
    steady = TRAJECTORY_ACCEL_G[0] <= flight.accel_g <= TRAJECTORY_ACCEL_G[1] and np.isfinite(flight.apex_m)
    steady = steady and not camera_moving
    trajectory = float(flight.apex_m) if np.isfinite(flight.apex_m) else None
    return HeightEstimate("trajectory" if steady else "air_time", air, trajectory)


@dataclass(frozen=True)
class Confidence:
    overall: float
    air_frames_seen: float
    keypoint_visibility: float
    rider_height_px: float
    camera_motion: float | None
    air_frames: int
    seen_frames: int
    edge_frames: int = 0  # air frames not counted as seen because the picture's edge cut the rider's torso

    def to_result(self) -> dict[str, Any]:
        return {
            "overall": round(self.overall, 3),
            "air_frames_seen": round(self.air_frames_seen, 3),
            "keypoint_visibility": round(self.keypoint_visibility, 3),
            "rider_height_px": round(self.rider_height_px, 1),
            "camera_motion": self.camera_motion,
            "air_frames": self.air_frames,
            "seen_frames": self.seen_frames,
            "edge_frames": self.edge_frames,
        }


def confidence(
    frames: np.ndarray,
    interpolated: np.ndarray,
    bbox: np.ndarray,
    keypoints_2d: np.ndarray,
    *,
    takeoff_frame: int,
    landing_frame: int,
    agreement: float,
    scale_px_per_m: np.ndarray | None = None,
    fps: float = 30.0,
    camera_motion: float | None = None,
    camera_moving: bool = False,
    cut: np.ndarray | None = None,
) -> Confidence:
    """The confidence of one jump from the rider's track arrays (frames (m,), interpolated (m,), bbox (m, 4),
    keypoints_2d (m, 33, 3), and the per-frame image scale (m,), unsmoothed, if known). cut: (m,) True where the
    picture's edge cut the rider's torso (`cut_by_edge`); such frames are not sightings."""
    frames = np.asarray(frames)
    air = (frames > takeoff_frame) & (frames < landing_frame)
    n_air = max(0, landing_frame - takeoff_frame - 1)
    seen = air & ~np.asarray(interpolated, dtype=bool)
    edge = seen & np.asarray(cut, dtype=bool) if cut is not None else np.zeros(len(frames), dtype=bool)
    seen &= ~edge
    if scale_px_per_m is not None:
        scale = np.asarray(scale_px_per_m, dtype=np.float64)
        approach = (frames < takeoff_frame) & (frames >= takeoff_frame - round(_APPROACH_S * fps))
        ref = float(np.nanmedian(scale[approach])) if np.isfinite(scale[approach]).any() else float("nan")
        if np.isfinite(ref) and ref > 0:
            seen &= ~(scale < PARTIAL_SCALE * ref)
    share = float(seen.sum()) / n_air if n_air else 1.0
    vis = np.asarray(keypoints_2d, dtype=np.float64)[seen][:, _BODY_KEYPOINTS, 2]
    visibility = float(np.nanmean(vis)) if vis.size else 0.0
    near = (frames >= takeoff_frame - 30) & (frames <= landing_frame + 30)
    heights = np.asarray(bbox, dtype=np.float64)[near]
    height_px = float(np.median(heights[:, 3] - heights[:, 1])) if len(heights) else 0.0
    overall = share * visibility * min(1.0, height_px / 120.0) * (0.5 + 0.5 * float(agreement))
    if camera_motion is not None:  # a panning camera: the image trajectory and the body's size are less sure
        overall /= 1.0 + _PAN_WEIGHT * camera_motion
    if camera_moving:  # a camera that moves, rolls or zooms (`camera.py`): the flight's timing itself is less sure
        overall *= MOVING_CAMERA_FACTOR
    return Confidence(float(np.clip(overall, 0, 1)), min(1.0, share), visibility, height_px, camera_motion, n_air,
                      int(seen.sum()), int(edge.sum()))  # fmt: skip


def cut_by_edge(keypoints_2d: np.ndarray, scale_px_per_m: np.ndarray, frame_size: tuple[int, int]) -> np.ndarray:
    """(m,) True where a shoulder or hip lies within `EDGE_M` of the picture's edge (at the rider's scale in pixels
    per metre, (m,); at least `_EDGE_PX`), or beyond it: the edge cuts that body, and the pose model, which reads
    only what is in view, squeezes the rest of it into the picture. keypoints_2d: (m, 33, >=2) in pixels;
    frame_size: (width, height)."""
    k = np.asarray(keypoints_2d, dtype=np.float64)[:, _TORSO, :2]
    if not len(k):
        return np.zeros(0, dtype=bool)
    width, height = frame_size
    margin = np.nan_to_num(EDGE_M * np.asarray(scale_px_per_m, dtype=np.float64), nan=_EDGE_PX)
    margin = np.maximum(margin, _EDGE_PX)[:, None]
    x, y = k[..., 0], k[..., 1]
    with np.errstate(invalid="ignore"):
        near = (x < margin) | (x > width - margin) | (y < margin) | (y > height - margin)
    return near.any(axis=1)


def hidden_span(
    frames: np.ndarray, interpolated: np.ndarray, scale_px_per_m: np.ndarray, fps: float
) -> tuple[int, int] | None:
    """The longest stretch (first and last video frame) in which the rider was not seen whole: missing from the
    track, interpolated, or read as a partial body (skeleton under `HIDDEN_SCALE` of the rider's median size);
    None when no such stretch lasts `HIDDEN_MIN_S`."""
    frames = np.asarray(frames)
    if len(frames) < 2:
        return None
    scale = np.asarray(scale_px_per_m, dtype=np.float64)
    ref = float(np.nanmedian(scale)) if np.isfinite(scale).any() else float("nan")
    whole = ~np.asarray(interpolated, dtype=bool)
    if np.isfinite(ref) and ref > 0:
        whole &= ~(scale < HIDDEN_SCALE * ref)
    seen = np.zeros(int(frames[-1]) - int(frames[0]) + 1, dtype=bool)
    seen[frames[whole] - frames[0]] = True
    best: tuple[int, int] | None = None
    start = None
    for i, ok in enumerate([*seen, True]):
        if not ok and start is None:
            start = i
        elif ok and start is not None:
            if best is None or i - start > best[1] - best[0] + 1:
                best = (start, i - 1)
            start = None
    if best is None or (best[1] - best[0] + 1) / fps < HIDDEN_MIN_S:
        return None
    return int(frames[0]) + best[0], int(frames[0]) + best[1]


def scoring(
    rider_height_px: float | None, jumps: list[dict[str, Any]], *, hidden: tuple[int, int] | None = None,
    fps: float = 30.0,
) -> dict[str, Any]:
    """`analysis.scoring`: {"scoreable", "reasons"} from the rider's median height, the jumps' confidence
    blocks (result.json jumps, in order) and, with no jump, the longest stretch the rider was hidden
    (`hidden_span`)."""
    reasons = []
    if rider_height_px is None:
        reasons.append(f"no rider was found in the clip (a rider under {MIN_RIDER_PX:.0f} px tall is too small to find: "
                       "film closer or zoom in)")
    elif rider_height_px < MIN_RIDER_PX:
        reasons.append(f"rider under {MIN_RIDER_PX:.0f} px tall (median {rider_height_px:.0f} px): film closer or zoom in")
    for n, jump in enumerate(jumps, start=1):
        c = jump.get("confidence") or {}
        if c.get("air_frames_seen", 1.0) < MIN_AIR_SEEN:
            reasons.append(
                f"rider seen in {c.get('seen_frames', 0)} of {c.get('air_frames', 0)} air frames of jump {n} "
                f"(under {100 * MIN_AIR_SEEN:.0f} %){_edge_clause(c.get('edge_frames') or 0)}: the rotation cannot be "
                "measured"
            )
        elif doubt := rotation_doubt(jump):
            reasons.append(f"jump {n}: {doubt}: the rotation cannot be measured")
    if not jumps and rider_height_px is not None:
        if hidden is not None:
            span = (hidden[1] - hidden[0] + 1) / fps
            reasons.append(f"no jump found, and the rider was hidden or only partly in view for {span:.1f} s "
                           f"(frames {hidden[0]}-{hidden[1]}): a jump there cannot be measured")  # fmt: skip
        else:
            reasons.append("no jump found: the rider's hips never followed a free-flight parabola")
    return {"scoreable": not reasons, "reasons": reasons}


def _edge_clause(edge_frames: int) -> str:
    """What the gate adds where the picture's edge cut the rider in the air."""
    if not edge_frames:
        return ""
    return f", the picture's edge cutting the rider in {edge_frames} of them (keep the whole rider in the picture)"


def rotation_doubt(jump: dict[str, Any]) -> str | None:
    """Why a jump's fitted rotation is no measurement (a result.json jump: `rotation_agreement`, the measured
    degrees, `air_time_s`), or None when it is one."""
    agreement = jump.get("rotation_agreement")
    if agreement is not None and agreement < MIN_ROTATION_AGREEMENT:
        return (f"only {100 * agreement:.0f} % of the air frames agree with the fitted rotation "
                f"(under {100 * MIN_ROTATION_AGREEMENT:.0f} %)")  # fmt: skip
    turned = max(float(jump.get(f"{k}_measured_deg") or 0.0) for k in ("spin", "flip", "roll"))
    air = float(jump.get("air_time_s") or 0.0)
    if air > 0 and turned / air > MAX_TURN_DEG_S:
        return (f"the fitted rotation turns {turned:.0f}° in {air:.2f} s, {turned / air:.0f}° a second, faster than a "
                f"body can (over {MAX_TURN_DEG_S:.0f})")  # fmt: skip
    return None
