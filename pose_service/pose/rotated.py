"""A second look at a tracked person the pose model lost: crops around them, turned, or followed frame to frame.

BlazePose's detector and landmark model were trained on mostly upright people; a flipping rider, upside down
or lying in the air, is lost for most of the flight, which is exactly when a flip happens. Turning the crop
until the body stands upright again recovers most of those frames (docs/design.md, "What the first trials showed":
27 of 33 airborne frames of the real clip against 15 upright). The keypoints found in the turned crop are
mapped back to the upright frame, and the world keypoints turned back about the camera axis.

`RotatedLook` holds a second PoseLandmarker in IMAGE mode (made from the same bundle, so the video graph's
own tracking is untouched). First, though, it runs the landmark model alone on a region around where the
tracker expects the body (`pose.region`): the detector the graphs need to find a person again keys on the face,
and a helmeted, goggled rider in the air is rarely found by it, but read well by the landmark model once it is
shown where to look. Off, or where that finds nothing, it tries the turned crops, and, when they are on, crop
followers (`pose.follower`, VIDEO mode, one person)
fed a crop around it on every frame of its gap: a small rider in the air the whole frame's detector does not
find is found in the crop, and then kept from frame to frame by the landmark model alone, as the whole
frame's graph keeps a person. It runs only for confirmed tracks the frame's detections do not cover, within a
budget of frames per gap: a clip where nobody is lost costs nothing more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import cv2
import numpy as np

from pose_service.errors import EnvironmentProblem
from pose_service.pose.follower import CropFollower
from pose_service.pose.landmarker import poses_from_result
from pose_service.pose.region import Region, RegionLandmarks
from pose_service.skeleton import Poses

__all__ = ["RotatedLook", "rotate_back", "turn_back", "turn_order"]

log = logging.getLogger(__name__)

_WORLD_TO_OURS = np.array([1.0, -1.0, -1.0], dtype=np.float32)  # our world frame <-> MediaPipe's (own inverse)


def rotate_back(poses: Poses, quarter_turns: int, width: int, height: int) -> Poses:
    """Poses found in `np.rot90(image, quarter_turns)` of a (width x height) image, in the image's own frame.

    2D: pixels of the turned image -> pixels of the upright one. 3D: the world keypoints, which the model
    reads in the turned camera's frame, turned back about the camera axis by the same angle.
    """
    k = quarter_turns % 4
    if k == 0 or not len(poses):
        return poses
    kp2 = poses.keypoints_2d.copy()
    xr, yr = poses.keypoints_2d[..., 0], poses.keypoints_2d[..., 1]
    # np.rot90 turns counter-clockwise: out[i, j] = in[j, W-1-i] for one quarter turn.
    if k == 1:
        kp2[..., 0], kp2[..., 1] = width - yr, xr
    elif k == 2:
        kp2[..., 0], kp2[..., 1] = width - xr, height - yr
    else:
        kp2[..., 0], kp2[..., 1] = yr, height - xr
    mp3 = poses.keypoints_3d * _WORLD_TO_OURS  # MediaPipe's axes: x right, y down (as the image's)
    kp3 = mp3.copy()
    x3, y3 = mp3[..., 0], mp3[..., 1]
    if k == 1:
        kp3[..., 0], kp3[..., 1] = -y3, x3
    elif k == 2:
        kp3[..., 0], kp3[..., 1] = -x3, -y3
    else:
        kp3[..., 0], kp3[..., 1] = y3, -x3
    return Poses(kp2, (kp3 * _WORLD_TO_OURS).astype(np.float32), poses.score.copy())


def turn_back(poses: Poses, angle_deg: float, to_frame: np.ndarray) -> Poses:
    """Poses found in a crop turned `angle_deg` counter-clockwise (as `cv2.getRotationMatrix2D` turns), in the
    frame's own pixels: 2D by `to_frame` (the 2x3 affine from the crop's pixels to the frame's), the world
    keypoints turned back about the camera axis by the same angle (a quarter turn as `rotate_back`)."""
    if not len(poses):
        return poses
    kp2 = poses.keypoints_2d.copy()
    kp2[..., :2] = poses.keypoints_2d[..., :2] @ to_frame[:, :2].T + to_frame[:, 2]
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    mp3 = poses.keypoints_3d * _WORLD_TO_OURS  # MediaPipe's axes: x right, y down (as the image's)
    kp3 = mp3.copy()
    kp3[..., 0] = c * mp3[..., 0] - s * mp3[..., 1]
    kp3[..., 1] = s * mp3[..., 0] + c * mp3[..., 1]
    return Poses(kp2, (kp3 * _WORLD_TO_OURS).astype(np.float32), poses.score.copy())


def turn_order(first_deg: float, step_deg: float) -> list[float]:
    """Every turn of a full circle in `step_deg` steps, nearest to `first_deg` first, alternating sides
    (a rotating body is found again near the angle that found it last: 90, 135, 45, 180, 0, ...)."""
    n = max(int(round(360.0 / step_deg)), 1)
    out = [float(first_deg % 360.0)]
    for k in range(1, n // 2 + 1):
        for sign in (1, -1):
            angle = float((first_deg + sign * k * step_deg) % 360.0)
            if all(abs((angle - a + 180.0) % 360.0 - 180.0) > 1e-6 for a in out):
                out.append(angle)
    return out


FOLLOW_SIZES = (1.8, 3.0)  # the crop followers' sides when they are on (`follow_sizes`)


@dataclass
class _Gap:
    looks: int = 0  # frames searched in this gap
    fruitless: int = 0  # consecutive searches that found nobody
    angle: float = 0.0  # the turn (degrees, counter-clockwise) that found the body last
    size: float = 0.0  # the larger side of the body's box when last detected well, pixels
    found: float = 0.0  # the larger side of the body's box when last found in this gap, pixels
    upright: float = 0.0  # the turn (degrees, counter-clockwise) standing the body upright when last seen well
    region: Region | None = None  # where the last frame's region reading says to look next (found there)
    last: np.ndarray | None = None  # the body's keypoints (33, 3) when last seen or found, pixels
    last_at: np.ndarray | None = None  # ... and where the tracker expected it then (the box's centre)
    age: int = 0  # frames since then
    by_turn: bool = False  # ... and it was found in a turned crop (or by a crop follower)


@dataclass
class RotatedLook:
    """Finds confirmed tracks the frame's detections missed (or saw weakly): in turned crops around them, and
    by MediaPipe's own frame-to-frame tracking in crops that follow them (`CropFollower`).

    bundle_path: the pose model bundle (`ensure_bundle`).
    budget_frames: most frames searched per track and gap (a gap ends when the detector covers it again).
    give_up: a gap's search stops after this many frames in a row where no look found anybody (20: a small
        rider can be missed by every look for a third of a second in the air and found again: on the real
        seg6's first kicker 6 gave the search up at frame 51 of a flight to 79, 20 keeps it).
    weak_score: a detection covering the track with a lower score is taken as weak, and replaced by a
        turned one that scores higher.
    min_score: least score (mean keypoint visibility) for a pose found in a turned crop.
    good_score: a pose scoring this in a turned crop ends the turns at once; a weaker one is kept while the
        other turns of the same crop are tried.
    crop_sizes: the turned crops' sides in body sizes (the larger side of the body's box when last seen well),
        tried in order until one finds the body: a small rider in the air against trees or sky (60-120 px in
        a 640x360 follow-cam clip) is found with about three body sizes of context around them, seldom in a
        tight crop (on the real snowboard clips a crop of 3.3 body sizes found the rider at each of three
        frames the whole frame had missed, 1.5 found junk).
    turn_step: the turned crops' step in degrees, a full circle, from the turn that found the body last
        (upright in a new gap), nearest first. 90 (quarter turns, lossless); 45 found a few more frames
        (seg6's first kicker: 22 of 37 air frames against 20) at twice the crops, and more misreadings.
    detection_score: the person detector's and the landmarks' presence threshold in the turned crops (the
        whole frame keeps MediaPipe's 0.5). Lower finds more: at 0.2, around the rider's own box, seg6's
        crops held "a person" in 35 of 37 air frames against 22 at 0.5, but drawn over the picture most of
        those extra skeletons lay across the trees, limbs reaching out of the body: misreadings that score
        0.5-0.7 like the real ones and pull the track away. Kept at 0.5.
    fit: judge what the turned crops find as the followers' is judged (`near`, `resize`); off, they take the
        nearest person as before.
    follow_sizes: the crop followers' sides in body sizes, each fixed for the gap (one follower per size; 0
        sizes, the default: none; `FOLLOW_SIZES` with `analyze`'s `crop_followers` option). Off by default
        because they cost seg6's first takeoff 3 frames (+4 to +7, outside the 5-frame tolerance: the frames
        they add just after the lip show the lip's snow under the board, which the snow cue reads as still on
        it), for seg1's rider seen in all 31 air frames (26 without) and seg6's first kicker in 22 of 37 (20). A lost rider is often found by the detector in a crop where it is not in the whole
        frame, and once found, the landmark model keeps them from frame to frame as the whole frame's graph
        would (seg1: every one of the 31 air frames, readings that follow the body, where the whole frame
        saw none and the turned crops 26). One size does not suit every clip (a rider smaller in the air
        than on the run-in, or growing as they come closer): over seg6's first lip 1.8 found the rider three
        frames before 3.0 did; seg1's rider, followed with their own box, was found at 3.0 in all 31 air frames
        and at 2.0 in none. While a follower holds the body its crop stays where the body was found last (the
        tracker's expected box lags and overshoots, and moved the carried region off the body: seg6's rider was
        lost over the lip, frame 41, and kept to 47 this way).
    follow_score: least score of a follower's pose: the followers run every frame of the gap, and a body read
        weakly by the landmark model is more often a misreading.
    follow_first: the followers' pose counts before the turned crops' (which are then skipped); off (the
        default), only where the turned crops find nobody. First, seg6's first kicker was not found at all: the
        turned crops found the tucked rider later in the flight less often once the track had followed the
        followers (each crop's place depends on the track's history), and seg1 came to 29 of 31.
    near: a followed pose counts only when its box's centre lies within this many body sizes of where the
        body is expected (a tree read as a person at the crop's edge is not the rider).
    resize: ... and only when its box's longer side is within this factor of the body's size as last found
        (a leg or a branch read as a whole small person is not the rider; the tracker's `_RESHAPE_SIZE`
        likewise).
    region: read the landmark model alone on regions around the expected body first (`RegionLandmarks.find`:
        1.1 to 2.4 body sizes, upright as the body was last seen and 20 degrees either way; from the
        second frame of a run, where the last frame's reading said to look first). A reading counts where its
        presence flag is at least `region_score`, read again from its own alignment points too, and it fits
        the body (`near`, `resize`). On the real seg6's first kicker the whole frame and the turned crops saw the
        rider in 20 of 37 air frames; with the region readings, 34.
    region_score: least presence flag of a region reading (MediaPipe's own graphs keep a person at 0.5).
    region_tilt: ... of a body standing within this many degrees of upright (shoulders over hips), so when last
        seen or found and so as read: a body tumbling through a flip is left to the turned crops. Read in
        regions that followed the rendered double cork 1080 through its second inversion, sideways and upside
        down, the skeletons fell onto half the body, and the trick read as a cork 720 (the turned crops: a
        double cork 1080).
    region_step: ... and its hips within this many body sizes a frame of the body's last reading (seen or found,
        within `region_memory` frames, where its box fits the body's size), moved as the tracker's expected box
        moved. Over seg6's first lip a region reading confirmed by its own alignment drew the legs down onto
        the snow, the hips 0.45 body sizes below the last frame's; the stabilised hips fell 0.6 m in one frame,
        and the ride up the kicker passed for a flight (takeoff 11 frames early). In the rendered double cork
        1080 a reading of the body turning sideways, drawn upright and half its size, moved 0.26 and ended the
        flight 13 frames early (a cork 720). On seg6's first kicker the readings kept moved 0.01-0.12.
    region_memory: frames a last reading is remembered for `region_tilt` and `region_step`, and the turned
        crops, where they found the body last, are tried before the region readings (a body tumbling, or one the
        region readings lost: on sports2d_demo, where the jumper lands from his flip, region readings after the
        turned crops' stretched a skeleton from his crouch to the sun in the tree above, and his track broke).
    region_overlap: ... and its box overlapping the tracker's expected box by at least this (intersection over
        union), so the tracker takes it for that track rather than starting another (the region readings kept
        on the real clips overlapped by 0.4 or more).
    """

    bundle_path: Path
    budget_frames: int = 90
    give_up: int = 20
    weak_score: float = 0.5
    min_score: float = 0.5
    good_score: float = 0.8
    crop_sizes: tuple[float, ...] = (1.8, 3.2)
    turn_step: float = 90.0
    detection_score: float = 0.5
    follow_sizes: tuple[float, ...] = ()
    follow_score: float = 0.7
    fit: bool = False
    follow_first: bool = False
    near: float = 0.75
    resize: float = 1.6
    region: bool = True
    region_score: float = 0.5
    region_step: float = 0.2
    region_tilt: float = 45.0
    region_memory: int = 3
    region_overlap: float = 0.3
    device: str = "cpu"  # MediaPipe's delegate: cpu or gpu (as the video graph's, `pose.gpu.resolve_device`)
    looks: int = field(default=0, init=False)  # frames searched so far (for the log and the bench)
    crops: int = field(default=0, init=False)  # turned crops given to the model so far
    found: int = field(default=0, init=False)  # poses found or improved so far
    _gaps: dict[int, _Gap] = field(default_factory=dict, init=False, repr=False)
    _followers: dict[int, list[CropFollower]] = field(default_factory=dict, init=False, repr=False)
    _follow_at: dict[int, np.ndarray] = field(default_factory=dict, init=False, repr=False)
    _landmarker: Any = field(default=None, init=False, repr=False)
    _regions: RegionLandmarks | None = field(default=None, init=False, repr=False)
    _mp: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("budget_frames", "give_up"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
        for name in ("weak_score", "min_score", "good_score", "detection_score", "follow_score", "region_score"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
        sizes = self.crop_sizes
        if not isinstance(sizes, tuple) or not sizes or not all(isinstance(v, int | float) and v > 0 for v in sizes):
            raise ValueError(f"crop_sizes must be a non-empty tuple of numbers > 0, got {sizes!r}")
        if not isinstance(self.turn_step, int | float) or not 0 < self.turn_step <= 360:
            raise ValueError(f"turn_step must be a number of degrees in (0, 360], got {self.turn_step!r}")
        sizes = self.follow_sizes
        if not isinstance(sizes, tuple) or not all(isinstance(v, int | float) and v > 0 for v in sizes):
            raise ValueError(f"follow_sizes must be a tuple of numbers > 0, got {sizes!r}")
        if not isinstance(self.near, int | float) or not self.near > 0:
            raise ValueError(f"near must be a number > 0, got {self.near!r}")
        if not isinstance(self.resize, int | float) or not self.resize >= 1:
            raise ValueError(f"resize must be a number >= 1, got {self.resize!r}")
        if self.device not in ("cpu", "gpu"):
            raise ValueError(f"device must be cpu or gpu, got {self.device!r}")
        if not Path(self.bundle_path).is_file():
            raise EnvironmentProblem(
                f"pose model bundle missing: {self.bundle_path}",
                hint="run `make models` to build it from the installed mediapipe wheel",
            )

    def _model(self) -> Any:
        if self._landmarker is None:  # made on first need: a clip where nobody is lost never loads it
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions, vision

            options = vision.PoseLandmarkerOptions(
                base_options=BaseOptions(
                    model_asset_path=str(self.bundle_path),
                    delegate=BaseOptions.Delegate.GPU if self.device == "gpu" else BaseOptions.Delegate.CPU,
                ),
                running_mode=vision.RunningMode.IMAGE,
                num_poses=2,
                min_pose_detection_confidence=float(self.detection_score),
                min_pose_presence_confidence=float(self.detection_score),
                output_segmentation_masks=False,
            )
            self._mp = mp
            self._landmarker = vision.PoseLandmarker.create_from_options(options)
        return self._landmarker

    def detect_turned(
        self, rgb: np.ndarray, box: np.ndarray, *, first_angle: float = 0.0, body: float | None = None
    ) -> tuple[Poses, float]:
        """The best pose in the square crop around `box` (x0, y0, x1, y1 pixels; its longer side) over a circle
        of turns, in whole-frame pixels, and the turn (degrees) that found it (empty `Poses` when none scores
        `min_score`). With `body` (the body's expected size, pixels) a pose counts only when its box's centre
        lies within `near` bodies of the crop's and its longer side within a factor `resize` of `body`.
        `first_angle` is tried first, then its neighbours; a pose scoring `good_score` ends the search."""
        centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], dtype=np.float64)
        side = int(round(max(float(box[2] - box[0]), float(box[3] - box[1]))))
        if side < 16:
            return Poses.empty(), first_angle
        model = self._model()
        best, best_angle = Poses.empty(), first_angle
        # The turn that worked last frame first (a body mid-flip read upright scores well but wrongly), then its
        # neighbours; a new gap starts upright.
        height, width = rgb.shape[:2]
        x0, y0 = max(int(np.floor(box[0])), 0), max(int(np.floor(box[1])), 0)
        x1, y1 = min(int(np.ceil(box[2])), width), min(int(np.ceil(box[3])), height)
        for angle in turn_order(first_angle, self.turn_step):
            self.crops += 1
            if angle % 90 == 0:  # a quarter turn: the crop clipped to the frame, turned losslessly
                if x1 - x0 < 16 or y1 - y0 < 16:
                    continue
                k = int(angle // 90)
                turned = np.ascontiguousarray(np.rot90(rgb[y0:y1, x0:x1], k))
                result = model.detect(self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=turned))
                poses = rotate_back(poses_from_result(result, turned.shape[1], turned.shape[0]), k, x1 - x0, y1 - y0)
                poses.keypoints_2d[..., 0] += x0
                poses.keypoints_2d[..., 1] += y0
            else:
                # Frame -> crop: turned about the expected centre, which lands in the crop's middle. Pixels beyond
                # the frame repeat its edge (a black band draws the detector's eye).
                to_crop = np.asarray(cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, 1.0),
                                     np.float64)  # fmt: skip
                to_crop[:, 2] += side / 2 - centre
                crop = cv2.warpAffine(rgb, to_crop, (side, side), flags=cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
                result = model.detect(self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=crop))
                poses = turn_back(poses_from_result(result, side, side), angle, cv2.invertAffineTransform(to_crop))
            if not len(poses):
                continue
            near = self._nearest(poses, centre, body)
            if near is None:
                continue
            pose = poses[near]
            if pose.score[0] >= self.min_score and (not len(best) or pose.score[0] > best.score[0]):
                best, best_angle = pose, angle
                if pose.score[0] >= self.good_score:
                    break
        return best, best_angle

    def _nearest(self, poses: Poses, centre: np.ndarray, body: float | None) -> int | None:
        """Of the people in a crop, the one nearest where the track is expected (`centre`); with `body` only one
        whose box's centre lies within `near` bodies of it and whose longer side is within a factor `resize` of
        it (a leg, or a branch read as a small person, is not the body)."""
        if not len(poses):
            return None
        boxes = poses.bboxes()
        gaps = np.hypot((boxes[:, 0] + boxes[:, 2]) / 2 - centre[0], (boxes[:, 1] + boxes[:, 3]) / 2 - centre[1])
        if body is not None:
            long = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
            fits = (gaps <= self.near * body) & (long >= body / self.resize) & (long <= body * self.resize)
            gaps = np.where(fits, gaps, np.inf)
        near = int(np.argmin(gaps))
        return near if np.isfinite(gaps[near]) else None

    def _follow(self, uid: int, rgb: np.ndarray, centre: np.ndarray, size: float, body: float, time_s: float) -> Poses:
        """The track's person as the crop followers (made at the gap's first frame, `follow_sizes` times `size`)
        find them: the best that fits `body` (`_nearest`) and scores `follow_score`."""
        followers = self._followers.get(uid)
        if followers is None:
            # Each crop keeps its side through the gap: the region a follower carries from frame to frame is a share
            # of its crop (made anew for a body read at another size, it would start cold, without the region).
            followers = self._followers[uid] = [CropFollower(self.bundle_path, k * size, device=self.device)
                                                for k in self.follow_sizes]  # fmt: skip
        # While they hold the body, the crops stay where it was found last (as the whole frame's graph carries its
        # region over the picture): the tracker's expected box lags and overshoots, and moves the region off it.
        at = self._follow_at.pop(uid, None)
        look_at = centre if at is None else at
        best = Poses.empty()
        for follower in followers:
            self.crops += 1
            poses = follower.look(rgb, (float(look_at[0]), float(look_at[1])), time_s)
            near = self._nearest(poses, look_at, body)
            if near is not None and poses.score[near] >= self.follow_score and (
                not len(best) or poses.score[near] > best.score[0]
            ):
                best = poses[near]
        if len(best):
            b = best.bboxes()[0]
            self._follow_at[uid] = np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2])
        return best

    def _tilt(self, gap: _Gap) -> float:
        """The turn (degrees) standing the body upright as last seen or found (within `region_memory` frames),
        else as last seen well."""
        return _upright_turn(gap.last) if gap.last is not None and gap.age <= self.region_memory else gap.upright

    def _read_region(self, gap: _Gap, rgb: np.ndarray, box: np.ndarray, size: float, body: float) -> Poses:
        """The body as the landmark model reads it alone in regions around the tracker's expected `box`
        (`RegionLandmarks.find`): confirmed, fitting `body`, standing within `region_tilt` of upright, moved as
        `region_step` allows and overlapping `box` by `region_overlap`; empty otherwise."""
        if self._regions is None:
            self._regions = RegionLandmarks(self.bundle_path)
        expected_at = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], dtype=np.float64)
        centre = (float(expected_at[0]), float(expected_at[1]))

        def fits(poses: Poses) -> bool:
            if self._nearest(poses, expected_at, body) is None:
                return False
            if _covering(poses.bboxes(), box, min_iou=self.region_overlap) is None:
                return False
            if abs(_upright_turn(poses.keypoints_2d[0])) > self.region_tilt:
                return False
            if gap.last is None or gap.last_at is None or gap.age > self.region_memory:
                return True
            # The hips move with the body: against the last frame's, where the tracker's expected box moved.
            k, last = poses.keypoints_2d[0], gap.last
            hips = (k[23, :2] + k[24, :2]) / 2
            was = (last[23, :2] + last[24, :2]) / 2 + (expected_at - gap.last_at)
            return bool(np.hypot(*(hips - was)) <= self.region_step * body * gap.age)

        got = self._regions.find(rgb, centre, size, turn=gap.upright, start=gap.region, least=self.region_score,
                                 accept=fits)  # fmt: skip
        gap.region = None
        if got is None:
            return Poses.empty()
        gap.region = got.next_region
        return got.poses

    def _end(self, uid: int) -> None:
        self._follow_at.pop(uid, None)
        for follower in self._followers.pop(uid, []):
            follower.close()

    def look(
        self, rgb: np.ndarray, poses: Poses, expected: dict[int, np.ndarray], time_s: float | None = None
    ) -> Poses:
        """`poses` (one frame's detections) with the tracks of `expected` (track id -> box where the tracker
        expects it) that no detection covers, or covers only weakly, found again: by the crop follower (with
        the frame's time `time_s`, frames in order), else in turned crops."""
        height, width = rgb.shape[:2]
        boxes = poses.bboxes()
        for uid in [u for u in self._gaps if u not in expected]:
            del self._gaps[uid]
            self._end(uid)
        for uid, box in expected.items():
            cover = _covering(boxes, box)
            gap = self._gaps.setdefault(uid, _Gap())
            gap.age += 1
            expected_at = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], dtype=np.float64)
            if cover is not None and _fits_size(boxes[cover], gap.found or gap.size, self.resize):
                gap.last, gap.last_at, gap.age, gap.by_turn = poses.keypoints_2d[cover].copy(), expected_at, 0, False
            if cover is not None and poses.score[cover] >= self.weak_score:
                gap.looks = gap.fruitless = 0  # seen well: the next loss is a new gap
                gap.angle, gap.found, gap.region = 0.0, 0.0, None
                gap.size = float(max(boxes[cover, 2] - boxes[cover, 0], boxes[cover, 3] - boxes[cover, 1]))
                gap.upright = _upright_turn(poses.keypoints_2d[cover])
                self._end(uid)
                continue
            centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
            if gap.looks >= self.budget_frames or gap.fruitless >= self.give_up:
                continue
            if not (0 <= centre[0] < width and 0 <= centre[1] < height):
                continue
            # A tumbling body's keypoint box shrinks along its length (lying flat it is a short, wide box):
            # the crop keeps the size the body had when last seen well.
            # (and a lost track's filter box can stretch into a thin sliver: that size is not the body's).
            size = max(gap.size if gap.size > 0 else max(float(box[2] - box[0]), float(box[3] - box[1])), 8.0)
            # What is found is judged against the body as last found in this gap (a body coming closer grows).
            body = gap.found or size
            gap.looks += 1
            self.looks += 1
            found, angle = Poses.empty(), gap.angle
            # The follower sees every frame of the gap (it carries the body from one to the next); what it finds
            # counts where the turned crops find nobody.
            followed = Poses.empty()
            if time_s is not None and self.follow_sizes:
                followed = self._follow(uid, rgb, np.asarray(centre), size, body, time_s)
            # The region readings first, but where the turned crops found the body lately (a body tumbling, or
            # one the region readings lost), the turned crops first and the region readings where they find none.
            regions = self.region and abs(self._tilt(gap)) <= self.region_tilt
            turned_first = gap.by_turn and gap.age <= self.region_memory
            if regions and not turned_first:
                found = self._read_region(gap, rgb, box, size, body)
            by_turn = not len(found)
            for crop in self.crop_sizes if not len(found) and not (self.follow_first and len(followed)) else ():
                half = crop * size / 2
                region = np.array([centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half])
                found, angle = self.detect_turned(rgb, region, first_angle=gap.angle, body=body if self.fit else None)
                if len(found):
                    break
            if regions and turned_first and not len(found):
                found, by_turn = self._read_region(gap, rgb, box, size, body), False
            if not len(found) and len(followed):
                found, angle = followed, gap.angle
            if not len(found):
                gap.fruitless += 1
                continue
            gap.fruitless, gap.angle = 0, angle
            box_found = found.bboxes()[0]
            if not _too_small(box_found, body, self.resize):  # what the gap remembers of the body
                gap.last, gap.last_at, gap.age, gap.by_turn = found.keypoints_2d[0].copy(), expected_at, 0, by_turn
                gap.found = float(max(box_found[2] - box_found[0], box_found[3] - box_found[1]))
            if cover is not None:
                if found.score[0] > poses.score[cover]:
                    poses = _replace(poses, cover, found)
                    self.found += 1
            elif not _overlaps_anyone(boxes, found.bboxes()[0]):  # nobody already detected
                poses = _append(poses, found)
                boxes = poses.bboxes()
                self.found += 1
        return poses

    def stats(self) -> dict[str, int]:
        """What the second look cost and found so far: frames searched (a track per frame), crops given to the
        model (turned crops and the followers' crops), regions given to the landmark model alone, poses found or
        improved."""
        regions = self._regions.reads if self._regions is not None else 0
        return {"frames": self.looks, "crops": self.crops, "regions": regions, "found": self.found}

    def close(self) -> None:
        for uid in list(self._followers):
            self._end(uid)
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None
        if self._regions is not None:
            self._regions.close()
        if self.looks:
            log.info("second look: %d frames searched (%d crops, %d regions), %d poses found", self.looks, self.crops,
                     self._regions.reads if self._regions is not None else 0, self.found)  # fmt: skip

    def __enter__(self) -> RotatedLook:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _upright_turn(keypoints: np.ndarray) -> float:
    """The turn (degrees, counter-clockwise, in (-180, 180]) that brings a pose's shoulders straight above its
    hips (33 keypoints, pixels)."""
    d = (keypoints[11, :2] + keypoints[12, :2] - keypoints[23, :2] - keypoints[24, :2]) / 2
    turn = 90.0 - float(np.degrees(np.arctan2(-float(d[1]), float(d[0]))))
    return (turn + 180.0) % 360.0 - 180.0


def _fits_size(box: np.ndarray, body: float, resize: float) -> bool:
    """A box whose longer side is within a factor `resize` of `body` (pixels; any box where `body` is unknown)."""
    long = float(max(box[2] - box[0], box[3] - box[1]))
    return not body > 0 or body / resize <= long <= body * resize


def _too_small(box: np.ndarray, body: float, resize: float) -> bool:
    """A found box far smaller than the body as last found (its longer side under `body` / resize²; a tuck comes to
    about half): as likely a leg or a branch read as a whole person, and not what the gap remembers of the body.
    Remembered, it became the gap's body, and every reading of the real one was then too big to fit it (seg6
    mirrored: a 26 px "body" from a turned crop at frame 54 beside a rider of 80-100 px, and frames 58-63 lost
    though the regions read the rider there at presence 1.0). The find itself is still given to the tracker, which
    judges it against the track (dropped as well, it cost seg6 at 15 frames/s its second kicker: the body there
    jumps between 40 and 170 px as the camera passes under the rider)."""
    return float(max(box[2] - box[0], box[3] - box[1])) < body / resize**2


def _covering(boxes: np.ndarray, box: np.ndarray, *, min_iou: float = 0.2) -> int | None:
    """Index of the box of `boxes` overlapping `box` most, if by at least `min_iou`."""
    if not len(boxes):
        return None
    iw = np.clip(np.minimum(boxes[:, 2], box[2]) - np.maximum(boxes[:, 0], box[0]), 0, None)
    ih = np.clip(np.minimum(boxes[:, 3], box[3]) - np.maximum(boxes[:, 1], box[1]), 0, None)
    inter = iw * ih
    area = lambda b: np.maximum(b[..., 2] - b[..., 0], 1.0) * np.maximum(b[..., 3] - b[..., 1], 1.0)  # noqa: E731
    iou = inter / (area(boxes) + area(box) - inter)
    best = int(np.argmax(iou))
    return best if iou[best] >= min_iou else None


def _overlaps_anyone(boxes: np.ndarray, box: np.ndarray) -> bool:
    """Whether `box` is plausibly somebody of `boxes` read differently: any overlap of 0.1 or more, or its
    centre inside one of them (a crouched body and its turned reading can share little area)."""
    if not len(boxes):
        return False
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    inside = (boxes[:, 0] <= cx) & (cx <= boxes[:, 2]) & (boxes[:, 1] <= cy) & (cy <= boxes[:, 3])
    return bool(inside.any()) or _covering(boxes, box, min_iou=0.1) is not None


def _append(poses: Poses, extra: Poses) -> Poses:
    return Poses(
        np.concatenate([poses.keypoints_2d, extra.keypoints_2d]),
        np.concatenate([poses.keypoints_3d, extra.keypoints_3d]),
        np.concatenate([poses.score, extra.score]),
    )


def _replace(poses: Poses, index: int, new: Poses) -> Poses:
    kp2, kp3, score = poses.keypoints_2d.copy(), poses.keypoints_3d.copy(), poses.score.copy()
    kp2[index], kp3[index], score[index] = new.keypoints_2d[0], new.keypoints_3d[0], new.score[0]
    return Poses(kp2, kp3, score)
