"""Adaptive frame rate (`analyze --frame-rate adaptive`): the pose model at full rate where jump timing matters,
at 1/`step` of the rate on plain riding, the tracks interpolated between.

One pass over the clip, two video graphs. The first look runs ahead: a graph fed every `step`-th frame, whose
poses `FlightWatch` reads for anything that is not plain riding (hips rising or falling fast, a body tilted or
unsure, turning about the vertical, changing size, someone found or lost). Each such look opens a window of full
rate from `margin_s` before it to `margin_s` after it. The tracker follows `lag` frames behind the look (decoded
frames wait in a short queue, so memory stays bounded by `lag`, not by the clip), so a window reaches back before
the takeoff that set it off. In a window a second graph poses every frame; outside, the look's own poses are used
on its frames and the frames between are skipped (`PoseTracker.skip`: the camera's motion and the frame's time
are kept) and filled in by the tracker's interpolation, marked `interpolated` like any other filled frame.

Why a second graph: MediaPipe's VIDEO mode wants increasing timestamps per graph, and the window's frames lie
behind the look's. Each graph sees increasing timestamps; the window graph skips from one window to the next and
finds the people again there (its detector runs whenever it follows fewer than `num_poses` people).
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from pose_service.analysis.contact import snow_under_feet, white_colour
from pose_service.skeleton import Poses
from pose_service.tracking import PoseTracker
from pose_service.tracking.assignment import linear_sum_assignment
from pose_service.video import Frame, VideoInfo, VideoReader

if TYPE_CHECKING:
    from pose_service.chunks import PoseSetup

__all__ = ["FRAME_RATES", "FlightWatch", "follow_adaptive"]

log = logging.getLogger(__name__)

FRAME_RATES = ("full", "adaptive")

# What plain riding stays within, between two looks (see `FlightWatch`). The hips' speed: phalp_vid's runner
# stayed under 0.3 body lengths per second between looks; on sports2d_demo the walkers reached 0.6-0.8 and a small
# hop the analysis reports as a jump 0.6-0.75 (missed at 1.0), the jump off the box 1-3.
MAX_TILT_DEG = 35.0  # the torso's lean from the picture's up
MIN_SCORE = 0.55  # the pose's mean visibility
MAX_RISE_PER_S = 0.5  # the hips' vertical speed in the picture, body lengths (the box's longer side) per second
MAX_TURN_PER_S = 120.0  # the shoulder line's turn about the vertical (world keypoints), degrees per second
MAX_RESIZE = 0.15  # the box's longer side, relative change between two looks
MAX_MATCH = 0.75  # a person's hips move at most this many body lengths between two looks to be the same person
# The snow under the feet (`analysis.contact`): once a look has seen someone's feet on it (this share or more) ...
SNOW_ON = 0.5
SNOW_OFF = 0.25  # ... a look with someone's feet off it (this share or less) is not plain riding
WHITE_EVERY_S = 0.5  # the picture's white is read again after this long (1-3 ms a 1080p frame; it changes slowly)
LOST_S = 2.0  # after somebody is lost, looks that find fewer people are not plain for this long


@dataclass
class FlightWatch:
    """Windows of full rate, from the first look's poses (one call of `add` per look, frames increasing).

    step: frames between two looks. margin: frames of full rate before and after each look that is not plain
    riding (the look before it too: the motion began somewhere between the two).

    Given the look's picture, the snow under each person's feet too (`contact.snow_under_feet`, judged against the
    picture's white): once a look has seen feet on the snow, feet off it are not plain riding. A follow-cam keeps
    the rider's height in the picture, and on seg6's first kicker the look saw the rider in the air at 45-63 with
    the hips steady, upright and sure: no window opened until the landing, and since the ground's pass reads only
    inside windows (`contact.read_ground`), the flight was lost. A clip with no snow under anyone's feet (phalp_vid's
    runner reads 0 throughout) never opens a window by this.

    Somebody lost keeps the looks that find fewer people unplain for `LOST_S`, not for the one look: the look
    lost seg6's small rider on the run-in to the first kicker at frame 9 and found nobody until 81 (the second
    look in the tracker's turn kept the rider); nobody seen twice running was plain riding, and the kicker's
    takeoff (41) and most of its flight fell outside every window.
    """

    step: int
    margin: int
    windows: list[list[int]] = field(default_factory=list)  # [first, last] frame, increasing, disjoint
    _prev: tuple[float, Poses] | None = None
    _snow_seen: bool = False
    _white: tuple[float, np.ndarray] | None = None  # when the picture's white was read, and its colour
    _missing: tuple[float, int] | None = None  # the time somebody was lost, and how many people were seen before

    def __post_init__(self) -> None:
        if self.step < 1 or self.margin < 0:
            raise ValueError(f"need step >= 1 and margin >= 0, got {self.step} and {self.margin}")

    def add(self, frame: int, time_s: float, poses: Poses, rgb: np.ndarray | None = None) -> bool:
        """Read one look (`rgb`: its picture, for the snow under the feet); True when it opened or widened a
        window."""
        prev, self._prev = self._prev, (time_s, poses)
        plain = _plain(poses, prev[1] if prev else None, time_s - prev[0] if prev else 0.0)
        if rgb is not None and len(poses):
            plain = self._on_the_snow(rgb, poses, time_s) and plain
        if not plain and prev is not None and len(poses) < len(prev[1]) and self._missing is None:
            self._missing = (time_s, len(prev[1]))
        elif self._missing is not None:
            since, count = self._missing
            if len(poses) >= count or time_s - since > LOST_S:
                self._missing = None
            else:
                plain = False
        if not plain:
            first, last = max(frame - self.step - self.margin, 0), frame + self.margin
            if self.windows and first <= self.windows[-1][1] + 1:
                self.windows[-1][1] = max(self.windows[-1][1], last)
            else:
                self.windows.append([first, last])
            return True
        return False

    def _on_the_snow(self, rgb: np.ndarray, poses: Poses, time_s: float) -> bool:
        """False when someone's feet are off the snow and a look has seen feet on it (this one included)."""
        if self._white is None or abs(time_s - self._white[0]) >= WHITE_EVERY_S:
            self._white = (time_s, white_colour(rgb))
        white = self._white[1]
        boxes = poses.bboxes()
        shares = np.array([snow_under_feet(rgb, poses.keypoints_2d[i], boxes[i], white=white) for i in range(len(poses))])
        self._snow_seen = self._snow_seen or bool((shares >= SNOW_ON).any())
        return not (self._snow_seen and (shares <= SNOW_OFF).any())

    def full_rate(self, frame: int) -> bool:
        """Whether `frame` lies in a window."""
        return self.window_of(frame) is not None

    def window_of(self, frame: int) -> int | None:
        """The first frame of the window holding `frame`, or None."""
        for first, last in reversed(self.windows):
            if first <= frame <= last:
                return first
            if last < frame:
                return None
        return None


def _plain(poses: Poses, prev: Poses | None, dt: float) -> bool:
    """Whether a look shows only plain riding (or nobody) since the previous look `dt` seconds earlier.

    Somebody lost since the previous look is not plain (a flipping rider is lost upside down); somebody new is
    (the detector finding a person it missed says nothing of a flight, and a flight loses the rider first).
    """
    if len(poses) and (poses.score < MIN_SCORE).any():
        return False
    if len(poses) and (_tilt_deg(poses.keypoints_2d) > MAX_TILT_DEG).any():
        return False
    if prev is None or not len(prev):
        return True
    if not len(poses) or dt <= 0:
        return False
    hips, prev_hips = _hips(poses.keypoints_2d), _hips(prev.keypoints_2d)
    size, prev_size = _long_side(poses.bboxes()), _long_side(prev.bboxes())
    # The people of the previous look matched one to one with this one's, by the hips' distance in body lengths.
    dist = np.linalg.norm(prev_hips[:, None] - hips[None], axis=2) / prev_size[:, None]
    before, now = linear_sum_assignment(dist)
    if len(before) < len(prev) or (dist[before, now] > MAX_MATCH).any():
        return False  # somebody lost, or moving too fast to tell
    for j, i in zip(before, now, strict=True):
        if abs(hips[i, 1] - prev_hips[j, 1]) / size[i] / dt > MAX_RISE_PER_S:
            return False
        if abs(size[i] / prev_size[j] - 1.0) > MAX_RESIZE:
            return False
        # The shoulder line taken undirected (mod 180 degrees): the model's left/right swaps are no turn.
        turn = abs((_yaw_deg(poses.keypoints_3d[i]) - _yaw_deg(prev.keypoints_3d[j]) + 90.0) % 180.0 - 90.0)
        if turn / dt > MAX_TURN_PER_S:
            return False
    return True


def _hips(kp2: np.ndarray) -> np.ndarray:
    return (kp2[:, 23, :2] + kp2[:, 24, :2]) / 2


def _long_side(boxes: np.ndarray) -> np.ndarray:
    return np.maximum(np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]), 1.0)


def _tilt_deg(kp2: np.ndarray) -> np.ndarray:
    """(n,) the torso's angle (mid-hip to mid-shoulder) from the picture's up, degrees."""
    up = (kp2[:, 11, :2] + kp2[:, 12, :2]) / 2 - _hips(kp2)
    cos = -up[:, 1] / np.maximum(np.linalg.norm(up, axis=1), 1e-6)  # image y points down
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _yaw_deg(kp3: np.ndarray) -> float:
    """The shoulder line's direction in the horizontal plane (world keypoints: y up), degrees."""
    v = kp3[12] - kp3[11]
    return math.degrees(math.atan2(float(v[2]), float(v[0])))


def follow_adaptive(
    info: VideoInfo,
    setup: PoseSetup,
    tracker: PoseTracker,
    *,
    start: int = 0,
    stop: int | None = None,
    pts: np.ndarray | None = None,
    advance: Callable[[int], None] | None = None,
    seed_frames: int = 0,
) -> tuple[list[float], dict[str, Any]]:
    """`chunks.follow_frames` at the adaptive rate: frames start..stop posed and tracked into `tracker`; every
    frame's timestamp, and the backend's description with `frame_rate` (what was posed, what skipped)."""
    from pose_service.chunks import SEED_FRAMES, halves
    from pose_service.pose import PoseLandmarkerBackend
    from pose_service.pose.rotated import RotatedLook
    from pose_service.tracking.search import look_again, merge_found, paint_out

    step = max(1, round(setup.frame_step_s * info.fps))
    margin = max(int(round(setup.frame_margin_s * info.fps)), step)
    lag = step + margin + 1  # a window opened at the look reaches `step + margin` frames back
    watch = FlightWatch(step=step, margin=margin)
    timestamps: list[float] = []
    counts = {"posed": 0, "runs": 0}

    def graph() -> PoseLandmarkerBackend:
        return PoseLandmarkerBackend(setup.bundle, num_poses=setup.num_poses, redetect_every=setup.redetect_every,
                                     device=setup.device, max_side=setup.max_side)  # fmt: skip

    with (
        graph() as look,
        _Lazy(graph) as full,
        RotatedLook(setup.bundle, device=setup.device, follow_sizes=setup.follow_sizes) as rotated,
        VideoReader(info, prefetch=4, start=start, stop=stop, pts=pts) as reader,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="tracker") as tracking,
    ):
        pending: Future[None] | None = None

        def settle(n: int, frame: Frame, seen: Poses | None, last: bool) -> None:
            """The tracker's turn on one frame, `lag` frames behind the look."""
            nonlocal pending
            poses = seen
            first = watch.window_of(frame.index)
            # The clip's last frame is posed too, so the tracks run to the end rather than stop short of it.
            if first is not None or (last and seen is None):
                poses = full.get().detect(frame.rgb, frame.time_s)
                counts["runs"] += 1
            # The window graph starts cold: as a chunk's does (`chunks.SEED_FRAMES`), it looks at each half of the
            # window's first frames for people the whole frame's detector passes over but a warm graph keeps.
            cold = first is not None and first > start and frame.index - first < SEED_FRAMES
            seeding = n < seed_frames or cold
            if poses is not None and seeding:
                for region in halves(info.width, info.height):
                    found = look.detect_region(paint_out(frame.rgb, poses, region), region)
                    poses = merge_found(poses, found, region)
            if pending is not None:
                pending.result()
            if poses is None:
                pending = tracking.submit(tracker.skip, frame.index, rgb=frame.rgb, time_s=frame.time_s)
            else:
                counts["posed"] += 1
                poses = look_again(look, tracker, frame.rgb, poses)  # its still-image model: no video state
                poses = rotated.look(frame.rgb, poses, tracker.expected_boxes(1.0, tentative=seeding), frame.time_s)
                pending = tracking.submit(tracker.update, frame.index, poses, rgb=frame.rgb, time_s=frame.time_s)
            timestamps.append(frame.time_s)
            if advance is not None:
                advance(1)

        queued: deque[tuple[int, Frame, Poses | None]] = deque()
        for n, frame in enumerate(reader):
            seen = None
            if n % step == 0:
                seen = look.detect(frame.rgb, frame.time_s)
                counts["runs"] += 1
                watch.add(frame.index, frame.time_s, seen, frame.rgb)
            queued.append((n, frame, seen))
            if len(queued) > lag:
                settle(*queued.popleft(), last=False)
        while queued:
            settle(*queued.popleft(), last=len(queued) == 0)
        if pending is not None:
            pending.result()
    frames = len(timestamps)
    stats = {"mode": "adaptive", "step": step, "margin_s": setup.frame_margin_s, "frames": frames,
             "frames_posed": counts["posed"], "pose_runs": counts["runs"],
             "windows": [[max(a, start), min(b, start + frames - 1)] for a, b in watch.windows]}  # fmt: skip
    log.info("%s: adaptive frame rate: %d of %d frames posed (%d model runs), full rate in %d windows %s",
             info.name, counts["posed"], frames, counts["runs"], len(watch.windows), stats["windows"])  # fmt: skip
    backend_info = {"name": look.name, "version": look.version, "device": setup.device,
                    "pose_max_side": setup.max_side, "frame_rate": stats, "second_look": rotated.stats()}  # fmt: skip
    return timestamps, backend_info


class _Lazy:
    """The window graph, built on its first frame: a clip without a window never loads it."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._made: Any = None

    def get(self) -> Any:
        if self._made is None:
            self._made = self._make()
        return self._made

    def __enter__(self) -> _Lazy:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._made is not None:
            self._made.close()
