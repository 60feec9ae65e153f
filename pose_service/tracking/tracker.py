"""The multi-person tracker: motion, pose and colour association with track management.

Each frame, in order:
1. the camera's motion since the last frame (sparse optical flow of the background) moves every track;
2. each track's box Kalman filter predicts one frame ahead;
3. every track is matched to the detections in one Hungarian assignment. A track seen in the previous
   frame costs box overlap, keypoint distance (normalised by body size, either left/right reading), centre
   distance and torso colour; a track the detector lost costs its distance within a radius that grows with
   the time it has been missing, and torso colour (re-finding a person after a jump, a blur or an
   occlusion), plus a small penalty so that between equal fits the track seen last keeps the person. One
   assignment, not recent tracks first: where two riders cross and the detector misses the nearer one for
   a frame, the farther one's track must not take the nearer one's detection while the nearer one's own
   track fits it better. Plainly different torso colours forbid any match;
4. detections still unmatched, if confident enough, open new tentative tracks.

States: tentative (new, not yet seen `n_init` times) -> confirmed -> lost (missed) -> removed (lost for
longer than `max_lost_s`, or a tentative track missed twice). Internal ids only grow; a removed track's
id is never given again. `finish` numbers the kept tracks 1.. in order of first appearance and hands each to
`finalise.finalise_track`: left/right swaps repaired, short gaps filled (marked `interpolated`), the keypoints
smoothed without lag.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from pose_service.skeleton import Poses
from pose_service.tracking.appearance import hist_distance, torso_histogram
from pose_service.tracking.assignment import linear_sum_assignment
from pose_service.tracking.camera_motion import CameraMotion
from pose_service.tracking.core import Track
from pose_service.tracking.distances import box_scale, centre_distance, pose_distance
from pose_service.tracking.finalise import finalise_track
from pose_service.tracking.iou import iou_matrix
from pose_service.tracking.kalman import BoxKalman
from pose_service.tracking.smoothing import OneEuro

__all__ = ["Followed", "FollowedTrack", "PoseTracker", "TrackState", "TrackerConfig", "finish_followed"]

_FORBIDDEN = 1e6
# Added to a lost track's cost: between two equally good fits, the track seen in the last frame keeps the person.
_LOST_PENALTY = 0.1
# A track seen in the last frame that no detection continues may take one re-found like a lost track's only when
# its box's longer side is within this factor of the track's usual (the median over its last ten boxes).
_RESHAPE_SIZE = 1.6


class TrackState(enum.Enum):
    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    LOST = "lost"
    REMOVED = "removed"


@dataclass(frozen=True)
class TrackerConfig:
    """Every knob of `PoseTracker`; times in seconds, distances in body scales (sqrt of box area).

    n_init: detections before a new track is confirmed.
    max_lost_s: how long a lost track may be re-found (then it is removed and its id retired).
    max_interp_s: gaps up to this long are filled by interpolation in `finish`; longer ones stay empty.
    min_frames: confirmed tracks seen in fewer frames are dropped at the end as spurious.
    min_new_score: least pose score for a detection to open a new track (weaker ones may only continue
        an existing track, as in ByteTrack).
    gate_base: largest centre distance for a track seen in the previous frame.
    gate_per_s: how much that radius grows per second a lost track has been missing (a jumper covers
        about a body height in a quarter second), up to `max_gate`.
    max_gate: the largest radius a lost track is searched in.
    pose_gate: keypoint distance beyond which a pose is not the same body one frame later.
    colour_gate: torso colour distance (Bhattacharyya, 0..1) beyond which a lost track is not re-found.
        Set high: the same shirtless man measured 0.2-0.45 from himself on a box in the sun and 0.75-0.88
        after landing in the shade, two different people 0.65-0.95. Colour is a tie-breaker in the cost,
        a veto only when plainly different.
    search_s: how long after losing a confirmed track `search_regions` offers a crop around where it should
        be, for the pose model to look again (0: never).
    search_size: that crop's side in body heights (the larger side of the last box seen).
    camera_motion, appearance: use the frame for global motion and colour (when a frame is given).
    fix_swaps: repair left/right swaps in `finish`.
    smoothing: One Euro parameters, or None for the raw keypoints.
    """

    n_init: int = 3
    max_lost_s: float = 2.0
    max_interp_s: float = 0.3
    min_frames: int = 5
    min_new_score: float = 0.5
    gate_base: float = 0.75
    gate_per_s: float = 3.0
    max_gate: float = 4.0
    pose_gate: float = 0.5
    colour_gate: float = 0.9
    search_s: float = 1.0
    search_size: float = 1.6
    camera_motion: bool = True
    appearance: bool = True
    fix_swaps: bool = True
    smoothing: OneEuro | None = field(default_factory=OneEuro)

    def __post_init__(self) -> None:
        for name in ("n_init", "min_frames"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        for name in ("max_lost_s", "max_interp_s", "gate_per_s", "search_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
        for name in ("gate_base", "pose_gate", "max_gate", "search_size"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        for name in ("min_new_score", "colour_gate"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
        if self.max_interp_s > self.max_lost_s:
            raise ValueError(f"max_interp_s ({self.max_interp_s}) must not exceed max_lost_s ({self.max_lost_s})")


class _Rows:
    """Rows of one shape appended one at a time into a growing array: a long track's keypoints held compactly
    (one float32 block, not an array object per frame)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self._data = np.zeros((16, *shape), dtype=np.float32)
        self._n = 0

    def append(self, row: np.ndarray) -> None:
        if self._n == len(self._data):
            grown = np.zeros((2 * len(self._data), *self._data.shape[1:]), dtype=np.float32)
            grown[: self._n] = self._data
            self._data = grown
        self._data[self._n] = row
        self._n += 1

    def __len__(self) -> int:
        return self._n

    def array(self) -> np.ndarray:
        return self._data[: self._n]


@dataclass
class _Live:
    uid: int
    kf: BoxKalman
    state: TrackState
    last_time: float
    last_box: np.ndarray
    last_kp: np.ndarray
    hist: np.ndarray | None
    hits: int = 0
    misses: int = 0
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # box centre, pixels per frame, when last seen
    confirmed: bool = False
    frames: list[int] = field(default_factory=list)
    kp2d: _Rows = field(default_factory=lambda: _Rows((33, 3)))
    kp3d: _Rows = field(default_factory=lambda: _Rows((33, 3)))
    sizes: deque[float] = field(default_factory=lambda: deque(maxlen=10))  # the last boxes' longer sides, pixels

    def predicted_keypoints(self) -> np.ndarray:
        """The last keypoints moved and scaled with the box's prediction."""
        pred = self.kf.box
        c_last = (self.last_box[:2] + self.last_box[2:]) / 2
        c_pred = (pred[:2] + pred[2:]) / 2
        kp = self.last_kp.copy()
        kp[:, :2] = (kp[:, :2] - c_last) * (box_scale(pred) / box_scale(self.last_box)) + c_pred
        return kp


class PoseTracker:
    """Follows every person through a clip; `update` once per decoded frame, then `finish`.

    fps: the clip's nominal frame rate (turns the seconds of the config into frames where needed).
    config: a `TrackerConfig`.
    """

    def __init__(self, fps: float, config: TrackerConfig | None = None) -> None:
        if not isinstance(fps, int | float) or not math.isfinite(fps) or fps <= 0:
            raise ValueError(f"fps must be a finite number > 0, got {fps!r}")
        self.fps = float(fps)
        self.config = config or TrackerConfig()
        self._live: list[_Live] = []
        self._done: list[_Live] = []
        self._next_uid = 1
        self._times: dict[int, float] = {}
        self._last_frame: int | None = None
        self._camera = CameraMotion()
        self._prev_boxes = np.zeros((0, 4), dtype=np.float32)
        # The camera's path: how far the picture's content has moved across (x pixels, at the frame's centre) since
        # the first frame, per frame; empty when no frame pixels were given.
        self._pan: dict[int, float] = {}
        self._pan_x = 0.0
        # The whole path: per frame, the 3x3 similarity carrying the first frame's pixels to this frame's (the
        # content's motion: translation, roll about the picture centre, zoom), composed frame to frame.
        self._path: dict[int, np.ndarray] = {}
        self._path_now = np.eye(3)

    @property
    def states(self) -> dict[int, TrackState]:
        """Internal id -> state of every track still followed (for inspection and tests)."""
        return {t.uid: t.state for t in self._live}

    @property
    def holds_anyone(self) -> bool:
        """Whether any track has been confirmed so far (followed still or done)."""
        return bool(self._done) or any(t.confirmed for t in self._live)

    def expected_boxes(self, within_s: float, *, tentative: bool = False) -> dict[int, np.ndarray]:
        """Internal id -> the Kalman filter's box (x0, y0, x1, y1 pixels) of every confirmed track seen within
        the last `within_s` seconds: where the pose stage may look again (`pose_service.pose.rotated`); with
        `tentative`, of the tracks not yet confirmed too."""
        if self._last_frame is None:
            return {}
        now = self._times[self._last_frame]
        return {t.uid: t.kf.box.copy() for t in self._live
                if (t.confirmed or (tentative and t.state is TrackState.TENTATIVE)) and now - t.last_time <= within_s}

    def update(self, frame: int, poses: Poses, *, rgb: np.ndarray | None = None, time_s: float | None = None) -> None:
        """Add the people the pose model found in `frame` (frame indices must increase).

        rgb: the frame itself (H, W, 3) uint8, for camera motion and torso colour; optional.
        time_s: the frame's timestamp; `frame / fps` when not given.
        """
        if self._last_frame is not None and frame <= self._last_frame:
            raise ValueError(f"frames must increase: got {frame} after {self._last_frame}")
        steps = 1 if self._last_frame is None else frame - self._last_frame
        self._last_frame = frame
        now = float(time_s) if time_s is not None else frame / self.fps
        self._times[frame] = now
        cfg = self.config

        if rgb is not None and cfg.camera_motion:
            self._follow_camera(frame, rgb)
        for t in self._live:
            for _ in range(steps):
                t.kf.predict()

        boxes = poses.bboxes()
        self._prev_boxes = boxes
        hists = [torso_histogram(rgb, kp) if rgb is not None and cfg.appearance else None for kp in poses.keypoints_2d]
        free = list(range(len(poses)))

        # One assignment for every track, not recent tracks first: a track seen in the last frame must not
        # take the detection of a bigger, nearer person the detector missed for a frame or two just before
        # they crossed, while that person's own (lost) track fits it far better.
        def costs(t: _Live) -> list[float]:
            if t.state is not TrackState.LOST:
                recent = [self._recent_cost(t, j, poses, boxes, hists) for j in free]
                if not t.confirmed or min(recent, default=0.0) < _FORBIDDEN:
                    return recent
                # A confirmed track that no detection continues (its person changed shape at once, upside down
                # in a flip: the box and the keypoints jump) is re-found like a lost one, rather than a new track
                # opening mid-flip; but not on a detection of another size (a sliver of a body read wrongly). The
                # box's longer side is the size: a body turning over keeps its length, its box's area does not.
                size = float(np.median(t.sizes))
                return [
                    _LOST_PENALTY + self._lost_cost(t, j, now, boxes, hists)
                    if 1 / _RESHAPE_SIZE <= _long_side(boxes[j]) / size <= _RESHAPE_SIZE
                    else _FORBIDDEN
                    for j in free
                ]
            return [_LOST_PENALTY + self._lost_cost(t, j, now, boxes, hists) for j in free]

        matches = self._assign(list(self._live), free, costs)

        overlap = iou_matrix(boxes, boxes)
        matched_tracks = set()
        for t, j in matches:
            matched_tracks.add(t.uid)
            alone = bool((overlap[j] > 0.05).sum() <= 1)
            self._observe(t, frame, now, j, poses, boxes, hists[j], update_colour=alone)
        taken = {j for _, j in matches}
        for t in self._live:
            if t.uid not in matched_tracks:
                self._miss(t, now)
        for j in range(len(poses)):
            if j not in taken and float(poses.score[j]) >= cfg.min_new_score:
                self._open(frame, now, j, poses, boxes, hists[j])
        self._done.extend(t for t in self._live if t.state is TrackState.REMOVED and t.confirmed)
        self._live = [t for t in self._live if t.state is not TrackState.REMOVED]

    def skip(self, frame: int, *, rgb: np.ndarray | None = None, time_s: float | None = None) -> None:
        """A frame the pose model did not look at (`analyze --frame-rate adaptive` poses plain riding at a lower
        rate): its time and the camera's motion are kept, every track's filter predicts through it, and nobody
        is matched or missed. `finish` fills the track through it by interpolation (marked `interpolated`)."""
        if self._last_frame is not None and frame <= self._last_frame:
            raise ValueError(f"frames must increase: got {frame} after {self._last_frame}")
        steps = 1 if self._last_frame is None else frame - self._last_frame
        self._last_frame = frame
        self._times[frame] = float(time_s) if time_s is not None else frame / self.fps
        if rgb is not None and self.config.camera_motion:
            affine = self._follow_camera(frame, rgb)
            # The people are masked where they were last seen, carried with the picture.
            self._prev_boxes = np.array([_moved_box(b, affine) for b in self._prev_boxes],
                                        dtype=np.float32).reshape(-1, 4)  # fmt: skip
        for t in self._live:
            for _ in range(steps):
                t.kf.predict()

    def _follow_camera(self, frame: int, rgb: np.ndarray) -> np.ndarray:
        """The camera's motion since the last frame (2x3 affine): recorded in the path, every track moved by it."""
        affine = self._camera.update(rgb, self._prev_boxes)
        centre = np.array([rgb.shape[1] / 2, rgb.shape[0] / 2])
        self._pan_x += float(affine[0, :2] @ centre + affine[0, 2] - centre[0])
        self._pan[frame] = self._pan_x
        self._path_now = np.vstack([affine, [0.0, 0.0, 1.0]]) @ self._path_now
        self._path[frame] = self._path_now
        for t in self._live:
            t.kf.apply_camera(affine)
            t.last_box = _moved_box(t.last_box, affine)
            t.last_kp = _moved_keypoints(t.last_kp, affine)
        return affine

    def search_regions(self, width: int, height: int) -> list[np.ndarray]:
        """Square boxes (x0, y0, x1, y1 pixels) around where each recently lost confirmed track should be in
        the next frame, for the pose model to look again (`pose_service.tracking.search.look_again`): a
        person passing behind or beside a bigger one is often missed by the full frame's detector although
        in plain sight. Tracks whose predicted centre is outside the picture are not searched."""
        if self._last_frame is None or self.config.search_s <= 0:
            return []
        now = self._times[self._last_frame]
        regions = []
        for t in self._live:
            if t.state is not TrackState.LOST or not t.confirmed or now - t.last_time > self.config.search_s:
                continue
            # Where it would be at the velocity it had when last seen (the filter's own prediction slows a
            # lost track to a stop, which suits matching but not a person riding on behind somebody).
            steps = self._last_frame + 1 - t.frames[-1]
            centre = (t.last_box[:2] + t.last_box[2:]) / 2 + t.velocity * steps
            if not (0 <= centre[0] < width and 0 <= centre[1] < height):
                continue
            side = self.config.search_size * float(
                max(t.last_box[2] - t.last_box[0], t.last_box[3] - t.last_box[1], 8.0)
            )
            regions.append(np.array([*(centre - side / 2), *(centre + side / 2)], dtype=np.float32))
        return regions

    # -- association --------------------------------------------------------------------------------

    @staticmethod
    def _assign(tracks: list[_Live], dets: list[int], costs) -> list[tuple[_Live, int]]:  # type: ignore[no-untyped-def]
        """The cheapest one-to-one matching of `tracks` and `dets`; `costs(track)` gives a track's row."""
        if not tracks or not dets:
            return []
        cost = np.array([costs(t) for t in tracks], dtype=np.float64)
        rows, cols = linear_sum_assignment(cost)
        return [(tracks[r], dets[c]) for r, c in zip(rows, cols, strict=True) if cost[r, c] < _FORBIDDEN]

    def _recent_cost(self, t: _Live, j: int, poses: Poses, boxes: np.ndarray, hists: list) -> float:  # type: ignore[type-arg]
        cfg = self.config
        pred = t.kf.box
        scale = (box_scale(pred) + box_scale(boxes[j])) / 2
        cd = centre_distance(pred, boxes[j]) / scale
        iou = float(iou_matrix(pred[None], boxes[j][None])[0, 0])
        pd = pose_distance(poses.keypoints_2d[j], t.predicted_keypoints(), scale)
        if cd > cfg.gate_base or (iou < 0.1 and pd > cfg.pose_gate):
            return _FORBIDDEN
        colour = hist_distance(t.hist, hists[j])
        if colour is not None and colour > cfg.colour_gate:
            return _FORBIDDEN  # plainly somebody else, however close
        return (
            0.3 * (1 - iou)
            + 0.3 * min(pd / cfg.pose_gate, 1.0)
            + 0.2 * cd / cfg.gate_base
            + 0.2 * (colour if colour is not None else 0.5)
        )

    def _lost_cost(self, t: _Live, j: int, now: float, boxes: np.ndarray, hists: list) -> float:  # type: ignore[type-arg]
        cfg = self.config
        radius = min(cfg.gate_base + cfg.gate_per_s * max(now - t.last_time, 0.0), max(cfg.max_gate, cfg.gate_base))
        scale = (box_scale(t.last_box) + box_scale(boxes[j])) / 2
        # The prediction drifts to a stop; the last place seen is the other honest guess.
        cd = min(centre_distance(t.kf.box, boxes[j]), centre_distance(t.last_box, boxes[j])) / scale
        colour = hist_distance(t.hist, hists[j])
        if cd > radius or (colour is not None and colour > cfg.colour_gate):
            return _FORBIDDEN
        return 0.5 * cd / radius + 0.5 * (colour if colour is not None else 0.5)

    # -- track management ---------------------------------------------------------------------------

    def _observe(
        self,
        t: _Live,
        frame: int,
        now: float,
        j: int,
        poses: Poses,
        boxes: np.ndarray,
        hist: np.ndarray | None,
        *,
        update_colour: bool,
    ) -> None:
        t.kf.update(boxes[j])
        t.velocity = t.kf.x[4:6].copy()
        t.last_box, t.last_kp, t.last_time = boxes[j].copy(), poses.keypoints_2d[j].copy(), now
        t.sizes.append(_long_side(boxes[j]))
        t.frames.append(frame)
        t.kp2d.append(poses.keypoints_2d[j])
        t.kp3d.append(poses.keypoints_3d[j])
        t.hits += 1
        t.misses = 0
        if hist is not None and update_colour:
            # A slow average: one frame's colours (a shadow, a passer-by in the crop) do not take over.
            t.hist = hist if t.hist is None else 0.8 * t.hist + 0.2 * hist
        if t.state is TrackState.TENTATIVE and t.hits >= self.config.n_init:
            t.state, t.confirmed = TrackState.CONFIRMED, True
        elif t.state is TrackState.LOST:
            t.state = TrackState.CONFIRMED

    def _miss(self, t: _Live, now: float) -> None:
        t.misses += 1
        if t.state is TrackState.TENTATIVE:
            if t.misses > 1:
                t.state = TrackState.REMOVED
        elif now - t.last_time > self.config.max_lost_s:
            t.state = TrackState.REMOVED
        else:
            t.state = TrackState.LOST

    def _open(self, frame: int, now: float, j: int, poses: Poses, boxes: np.ndarray, hist: np.ndarray | None) -> None:
        t = _Live(
            uid=self._next_uid,
            kf=BoxKalman(boxes[j]),
            state=TrackState.TENTATIVE,
            last_time=now,
            last_box=boxes[j].copy(),
            last_kp=poses.keypoints_2d[j].copy(),
            hist=hist,
        )
        self._next_uid += 1
        self._observe(t, frame, now, j, poses, boxes, None, update_colour=False)
        t.hist = hist
        self._live.append(t)

    # -- output -------------------------------------------------------------------------------------

    def finish(self) -> list[Track]:
        """Every confirmed track seen in at least `min_frames` frames, repaired, gap-filled and smoothed,
        numbered 1.. in order of first appearance (each internal id is kept in `extras['tracker_uid']`)."""
        return finish_followed(self.followed(), self.fps, self.config)

    def followed(self) -> Followed:
        """Every confirmed track as followed, not yet finished, with the frames' times and the camera's path:
        what a chunk of a long clip hands on to be joined with its neighbours (`tracking.seams`) before
        `finish_followed`. The tracker is empty afterwards."""
        everyone = self._done + [t for t in self._live if t.confirmed]
        self._done, self._live = [], []
        tracks = [
            FollowedTrack(t.uid, np.asarray(t.frames, dtype=np.int64), t.kp2d.array().copy(), t.kp3d.array().copy())
            for t in sorted(everyone, key=lambda t: t.frames[0])
        ]
        return Followed(tracks, dict(self._times), dict(self._pan), dict(self._path))


@dataclass
class FollowedTrack:
    """One person as the tracker followed them: frames (m,) increasing, keypoints_2d and keypoints_3d
    (m, 33, 3) as `Poses` holds them; uid the tracker's internal id."""

    uid: int
    frames: np.ndarray
    keypoints_2d: np.ndarray
    keypoints_3d: np.ndarray


@dataclass
class Followed:
    """What a `PoseTracker` followed over a run of frames, before finishing.

    tracks: the confirmed tracks, in order of first appearance.
    times: frame index -> timestamp (seconds) of every frame given to the tracker.
    pan: frame index -> how far the content moved across since the run's first frame (pixels; empty without
        frame pixels). path: frame index -> the 3x3 similarity carrying the run's first frame's pixels to this
        frame's (empty without frame pixels).
    """

    tracks: list[FollowedTrack]
    times: dict[int, float]
    pan: dict[int, float] = field(default_factory=dict)
    path: dict[int, np.ndarray] = field(default_factory=dict)


def finish_followed(followed: Followed, fps: float, config: TrackerConfig | None = None) -> list[Track]:
    """`followed`'s tracks seen in at least `min_frames` frames, repaired, gap-filled and smoothed, numbered 1..
    in order of first appearance (each uid kept in `extras['tracker_uid']`)."""
    cfg = config or TrackerConfig()
    if not followed.times:
        return []
    kept = sorted((t for t in followed.tracks if len(t.frames) >= cfg.min_frames), key=lambda t: int(t.frames[0]))
    last = max(followed.times)
    times = np.array([followed.times.get(f, f / fps) for f in range(last + 1)], dtype=np.float64)
    path = (_held(followed.pan, len(times)), _held(followed.path, len(times))) if followed.pan else None
    out = []
    for number, t in enumerate(kept, start=1):
        track = finalise_track(
            number,
            t.frames,
            t.keypoints_2d,
            t.keypoints_3d,
            times,
            fix_swaps=cfg.fix_swaps,
            max_interp_s=cfg.max_interp_s,
            smoothing=cfg.smoothing,
            extras={"tracker_uid": t.uid},
        )
        if path is not None:  # one array each for the clip, shared by every track
            # camera_path_x: (n_frames,) how far the content has moved horizontally since the first frame (pixels;
            # negative when the camera pans right): subtract it from an image x to follow a point over the ground.
            # camera_path: (n_frames, 3, 3) the similarity carrying the first frame's pixels to this frame's; its
            # inverse takes the camera's pan, tilt, roll and zoom out of a trajectory. A frame not given holds the
            # last value; indexed by frame number, so they survive cutting and joining tracks.
            track.extras["camera_path_x"], track.extras["camera_path"] = path
        out.append(track)
    return out


def _held(values: dict[int, float] | dict[int, np.ndarray], n_frames: int) -> np.ndarray:
    """(n_frames, ...) the value of every frame, a frame not given holding the last one."""
    known = np.array(sorted(values), dtype=np.int64)
    stacked = np.stack([np.asarray(values[int(f)], dtype=np.float64) for f in known])
    at = np.clip(np.searchsorted(known, np.arange(n_frames), side="right") - 1, 0, len(known) - 1)
    return stacked[at]


def _long_side(box: np.ndarray) -> float:
    return float(max(box[2] - box[0], box[3] - box[1], 1.0))


def _moved_box(box: np.ndarray, affine: np.ndarray) -> np.ndarray:
    pts = np.array([[box[0], box[1]], [box[2], box[3]]], dtype=float) @ affine[:, :2].T + affine[:, 2]
    return np.array([*pts[0], *pts[1]], dtype=np.float32)


def _moved_keypoints(kp: np.ndarray, affine: np.ndarray) -> np.ndarray:
    out = kp.copy()
    out[:, :2] = kp[:, :2] @ affine[:, :2].T + affine[:, 2]
    return out
