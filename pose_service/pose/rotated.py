"""A second look at a tracked person the pose model lost: the crop around them, turned 0/90/180/270°.

BlazePose's detector and landmark model were trained on mostly upright people; a flipping rider, upside down
or lying in the air, is lost for most of the flight, which is exactly when a flip happens. Turning the crop
until the body stands upright again recovers most of those frames (docs/design.md, "What the first trials showed":
27 of 33 airborne frames of the real clip against 15 upright). The keypoints found in the turned crop are
mapped back to the upright frame, and the world keypoints turned back about the camera axis.

`RotatedLook` holds a second PoseLandmarker in IMAGE mode (made from the same bundle, so the video graph's
own tracking is untouched) and runs only for confirmed tracks the frame's detections do not cover, within a
budget of frames per gap: a clip where nobody is lost costs nothing more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from pose_service.errors import EnvironmentProblem
from pose_service.pose.landmarker import poses_from_result
from pose_service.skeleton import Poses

__all__ = ["RotatedLook", "rotate_back"]

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


@dataclass
class _Gap:
    looks: int = 0  # frames searched in this gap
    fruitless: int = 0  # consecutive searches that found nobody
    turns: int = 0  # the quarter turns that found the body last
    size: float = 0.0  # the larger side of the body's box when last detected well, pixels


@dataclass
class RotatedLook:
    """Finds confirmed tracks the frame's detections missed (or saw weakly) in turned crops around them.

    bundle_path: the pose model bundle (`ensure_bundle`).
    budget_frames: most frames searched per track and gap (a gap ends when the detector covers it again).
    give_up: a gap's search stops after this many frames in a row where no turn found anybody (20: a small
        rider can be missed by every look for a third of a second in the air and found again: on the real
        seg6's first kicker 6 gave the search up at frame 51 of a flight to 79, 20 keeps it; rider seen in the
        air 11 of 37 frames against 20; crops searched on sports2d_demo, seg1 and seg3 unchanged).
    weak_score: a detection covering the track with a lower score is taken as weak, and replaced by a
        turned one that scores higher.
    min_score: least score (mean keypoint visibility) for a pose found in a turned crop.
    crop_size: the crop's side in box sizes (the larger side of the track's expected box).
    wide_crop_size: a second, wider crop tried when the tight one finds nobody: a small rider in the air
        against trees or sky (60-120 px in a 640x360 follow-cam clip) is found by the detector with about three
        body sizes of context around them, not in a tight crop (measured on the real snowboard clips: a crop
        of 3.3 body sizes found the rider at each of three frames the whole frame had missed, 1.5 found junk).
    """

    bundle_path: Path
    budget_frames: int = 90
    give_up: int = 20
    weak_score: float = 0.5
    min_score: float = 0.5
    crop_size: float = 1.8
    wide_crop_size: float = 3.2
    device: str = "cpu"  # MediaPipe's delegate: cpu or gpu (as the video graph's, `pose.gpu.resolve_device`)
    looks: int = field(default=0, init=False)  # crops searched so far (for the log and the bench)
    found: int = field(default=0, init=False)  # poses found or improved so far
    _gaps: dict[int, _Gap] = field(default_factory=dict, init=False, repr=False)
    _landmarker: Any = field(default=None, init=False, repr=False)
    _mp: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("budget_frames", "give_up"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
        for name in ("weak_score", "min_score"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
        for name in ("crop_size", "wide_crop_size"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{name} must be a number > 0, got {value!r}")
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
                output_segmentation_masks=False,
            )
            self._mp = mp
            self._landmarker = vision.PoseLandmarker.create_from_options(options)
        return self._landmarker

    def detect_turned(self, rgb: np.ndarray, box: np.ndarray, *, first_turns: int = 0) -> tuple[Poses, int]:
        """The best pose in the crop `box` (x0, y0, x1, y1 pixels, clipped to the frame) over the four quarter
        turns, in whole-frame pixels, and the turns that found it (empty `Poses` when none scores
        `min_score`). `first_turns` is tried first; a confident pose there ends the search."""
        height, width = rgb.shape[:2]
        x0, y0 = max(int(np.floor(box[0])), 0), max(int(np.floor(box[1])), 0)
        x1, y1 = min(int(np.ceil(box[2])), width), min(int(np.ceil(box[3])), height)
        if x1 - x0 < 16 or y1 - y0 < 16:
            return Poses.empty(), first_turns
        model = self._model()
        crop = rgb[y0:y1, x0:x1]
        centre = np.array([(box[0] + box[2]) / 2 - x0, (box[1] + box[3]) / 2 - y0])
        best, best_turns = Poses.empty(), first_turns
        # The turns that worked last frame first (a body mid-flip read upright scores well but wrongly), then
        # upright; a new gap starts upright.
        for k in dict.fromkeys([first_turns % 4, 0, 1, 2, 3]):
            turned = np.ascontiguousarray(np.rot90(crop, k))
            result = model.detect(self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=turned))
            poses = rotate_back(poses_from_result(result, turned.shape[1], turned.shape[0]), k, x1 - x0, y1 - y0)
            if not len(poses):
                continue
            # Of two people in the crop, the one nearest where the track is expected.
            centres = poses.bboxes()
            near = int(np.argmin(np.hypot((centres[:, 0] + centres[:, 2]) / 2 - centre[0],
                                          (centres[:, 1] + centres[:, 3]) / 2 - centre[1])))  # fmt: skip
            pose = poses[near]
            if pose.score[0] >= self.min_score and (not len(best) or pose.score[0] > best.score[0]):
                best, best_turns = pose, k
                if pose.score[0] >= 0.8:
                    break
        if len(best):
            best.keypoints_2d[:, :, 0] += x0
            best.keypoints_2d[:, :, 1] += y0
        return best, best_turns

    def look(self, rgb: np.ndarray, poses: Poses, expected: dict[int, np.ndarray]) -> Poses:
        """`poses` (one frame's detections) with the tracks of `expected` (track id -> box where the tracker
        expects it) that no detection covers, or covers only weakly, found again in turned crops."""
        height, width = rgb.shape[:2]
        boxes = poses.bboxes()
        for uid in [u for u in self._gaps if u not in expected]:
            del self._gaps[uid]
        for uid, box in expected.items():
            cover = _covering(boxes, box)
            gap = self._gaps.setdefault(uid, _Gap())
            if cover is not None and poses.score[cover] >= self.weak_score:
                gap.looks = gap.fruitless = gap.turns = 0  # seen well: the next loss is a new gap
                gap.size = float(max(boxes[cover, 2] - boxes[cover, 0], boxes[cover, 3] - boxes[cover, 1]))
                continue
            centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
            if gap.looks >= self.budget_frames or gap.fruitless >= self.give_up:
                continue
            if not (0 <= centre[0] < width and 0 <= centre[1] < height):
                continue
            # A tumbling body's keypoint box shrinks along its length (lying flat it is a short, wide box):
            # the crop keeps the size the body had when last seen well.
            # (and a lost track's filter box can stretch into a thin sliver: that size is not the body's).
            size = gap.size if gap.size > 0 else max(float(box[2] - box[0]), float(box[3] - box[1]))
            gap.looks += 1
            self.looks += 1
            for crop in (self.crop_size, self.wide_crop_size):
                half = crop * max(size, 8.0) / 2
                region = np.array([centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half])
                found, turns = self.detect_turned(rgb, region, first_turns=gap.turns)
                if len(found):
                    break
            if not len(found):
                gap.fruitless += 1
                continue
            gap.fruitless, gap.turns = 0, turns
            if cover is not None:
                if found.score[0] > poses.score[cover]:
                    poses = _replace(poses, cover, found)
                    self.found += 1
            elif not _overlaps_anyone(boxes, found.bboxes()[0]):  # nobody already detected
                poses = _append(poses, found)
                boxes = poses.bboxes()
                self.found += 1
        return poses

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None
        if self.looks:
            log.info("rotated look: %d crops searched, %d poses found", self.looks, self.found)

    def __enter__(self) -> RotatedLook:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


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
