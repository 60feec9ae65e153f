"""Multi-person BlazePose (GHUM full) through the MediaPipe Tasks `PoseLandmarker`, as a pose backend.

One backend follows one video: the Tasks graph runs in VIDEO mode, tracking each person's region from the
previous frame and running the person detector when fewer than `num_poses` people are tracked. Results
leave this module as `Poses`; no MediaPipe type escapes it.

MediaPipe's tracker sometimes keeps two regions on one person (its detection and its tracked region
overlap too little to be merged), which would report one person twice. `suppress_duplicates` drops the
weaker of any two poses that are plainly the same body.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from pathlib import Path
from types import TracebackType
from typing import Any

import cv2
import numpy as np

from pose_service.errors import EnvironmentProblem
from pose_service.skeleton import Poses

__all__ = ["PoseLandmarkerBackend", "poses_from_result", "shrink", "suppress_duplicates"]

log = logging.getLogger(__name__)

# MediaPipe world frame: x right, y down, z away from the camera. Ours: x right, y up, z towards it.
_WORLD_TO_OURS = np.array([1.0, -1.0, -1.0], dtype=np.float32)


def shrink(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """`rgb` (C-contiguous) with its longer side at most `max_side` pixels (0: unchanged), area-filtered.

    On the GPU delegate the frame's upload, not the model, bounds the speed at 1080p: shrunk to 640 px it ran
    100 frames/s instead of 44-52, keypoints as close to the full-size CPU run as at full size (docs/design.md,
    "A GPU machine"). On the CPU shrinking gains nothing, so the CPU's default is the full frame."""
    height, width = rgb.shape[:2]
    if not max_side or max(height, width) <= max_side:
        return np.ascontiguousarray(rgb)
    scale = max_side / max(height, width)
    size = (max(int(round(width * scale)), 1), max(int(round(height * scale)), 1))
    return np.ascontiguousarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))


def _check_unit(name: str, value: float) -> float:
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
    return float(value)


def suppress_duplicates(
    poses: Poses,
    *,
    max_iou: float = 0.5,
    max_inside: float = 0.85,
    min_keypoint_distance: float = 0.35,
) -> Poses:
    """Poses with each body reported once: the weaker of two poses that are the same person is dropped.

    Two poses are taken as one person when their keypoint boxes overlap by more than `max_iou`
    (intersection over union), when the smaller box lies more than `max_inside` inside the other (a
    second fit to part of the body), or when their corresponding keypoints lie, at the median, less than
    `min_keypoint_distance` of the larger box side apart.
    """
    n = len(poses)
    if n < 2:
        return poses
    boxes = poses.bboxes()
    areas = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0) * np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    order = np.argsort(-poses.score, kind="stable")
    kept: list[int] = []
    for i in order:
        same = False
        for j in kept:
            iw = min(boxes[i, 2], boxes[j, 2]) - max(boxes[i, 0], boxes[j, 0])
            ih = min(boxes[i, 3], boxes[j, 3]) - max(boxes[i, 1], boxes[j, 1])
            inter = max(iw, 0.0) * max(ih, 0.0)
            iou = inter / (areas[i] + areas[j] - inter)
            inside = inter / min(areas[i], areas[j])
            side = max(boxes[j, 2] - boxes[j, 0], boxes[j, 3] - boxes[j, 1], 1.0)
            dist = np.median(np.linalg.norm(poses.keypoints_2d[i, :, :2] - poses.keypoints_2d[j, :, :2], axis=1))
            if iou > max_iou or inside > max_inside or dist / side < min_keypoint_distance:
                same = True
                break
        if not same:
            kept.append(int(i))
    if len(kept) == n:
        return poses
    return poses[np.array(sorted(kept))]


def _same_body(
    box_a: np.ndarray, box_b: np.ndarray, kp_a: np.ndarray, kp_b: np.ndarray, max_iou: float, max_inside: float,
    min_keypoint_distance: float,
) -> bool:
    """`suppress_duplicates`' test: boxes overlapping, one inside the other, or keypoints close (b's scale)."""
    area_a = max(box_a[2] - box_a[0], 1.0) * max(box_a[3] - box_a[1], 1.0)
    area_b = max(box_b[2] - box_b[0], 1.0) * max(box_b[3] - box_b[1], 1.0)
    iw = min(box_a[2], box_b[2]) - max(box_a[0], box_b[0])
    ih = min(box_a[3], box_b[3]) - max(box_a[1], box_b[1])
    inter = max(iw, 0.0) * max(ih, 0.0)
    side = max(box_b[2] - box_b[0], box_b[3] - box_b[1], 1.0)
    dist = np.median(np.linalg.norm(kp_a[:, :2] - kp_b[:, :2], axis=1))
    return bool(
        inter / (area_a + area_b - inter) > max_iou
        or inter / min(area_a, area_b) > max_inside
        or dist / side < min_keypoint_distance
    )


def _covered(poses: Poses, others: Poses) -> np.ndarray:
    """(n,) bool: which of `poses` is the same body as one of `others` (as `suppress_duplicates` judges)."""
    boxes, other_boxes = poses.bboxes(), others.bboxes()
    return np.array(
        [
            any(
                _same_body(boxes[i], other_boxes[j], poses.keypoints_2d[i], others.keypoints_2d[j], 0.5, 0.85, 0.35)
                for j in range(len(others))
            )
            for i in range(len(poses))
        ],
        dtype=bool,
    )


def _covers(found: Poses, poses: Poses) -> bool:
    """Whether `found` holds every body of `poses`."""
    return bool(_covered(poses, found).all())


def _upright(poses: Poses, *, min_score: float = 0.6, max_tilt_deg: float = 45.0) -> bool:
    """Whether every pose is confident (mean visibility) and its torso (mid-hip to mid-shoulder, in the
    picture) within `max_tilt_deg` of upright."""
    if not len(poses):
        return True
    kp = poses.keypoints_2d
    up = (kp[:, 11, :2] + kp[:, 12, :2]) / 2 - (kp[:, 23, :2] + kp[:, 24, :2]) / 2
    cos = -up[:, 1] / np.maximum(np.linalg.norm(up, axis=1), 1e-6)  # image y points down
    return bool((poses.score >= min_score).all() and (cos >= np.cos(np.radians(max_tilt_deg))).all())


def _concat(parts: list[Poses]) -> Poses:
    return Poses(
        keypoints_2d=np.concatenate([p.keypoints_2d for p in parts]),
        keypoints_3d=np.concatenate([p.keypoints_3d for p in parts]),
        score=np.concatenate([p.score for p in parts]),
    )


class PoseLandmarkerBackend:
    """BlazePose GHUM full for up to `num_poses` people per frame; feed it one video's frames in order.

    Use as a context manager, or call `close()`. Thresholds are MediaPipe's defaults, which measured best
    on the real clips once the detector is fed its proper [-1, 1] input (see `bench/pose_recall.py`).
    """

    name = "mediapipe"

    def __init__(
        self,
        bundle_path: Path,
        *,
        num_poses: int = 4,
        min_detection_confidence: float = 0.5,
        min_presence_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        deduplicate: bool = True,
        redetect_every: int = 0,
        settle_frames: int = 15,
        device: str = "cpu",
        max_side: int = 0,
    ) -> None:
        if isinstance(max_side, bool) or not isinstance(max_side, int) or max_side < 0 or 0 < max_side < 64:
            raise ValueError(f"max_side must be 0 (full size) or a whole number of pixels >= 64, got {max_side!r}")
        if device not in ("cpu", "gpu"):
            raise ValueError(f"device must be cpu or gpu (resolve auto with pose.gpu.resolve_device), got {device!r}")
        if not isinstance(num_poses, int) or not 1 <= num_poses <= 16:
            raise ValueError(f"num_poses must be an integer from 1 to 16, got {num_poses!r}")
        for name, value in (("redetect_every", redetect_every), ("settle_frames", settle_frames)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
        det = _check_unit("min_detection_confidence", min_detection_confidence)
        pres = _check_unit("min_presence_confidence", min_presence_confidence)
        trk = _check_unit("min_tracking_confidence", min_tracking_confidence)
        bundle_path = Path(bundle_path)
        if not bundle_path.is_file():
            raise EnvironmentProblem(
                f"pose model bundle missing: {bundle_path}",
                hint="run `make models` to build it from the installed mediapipe wheel",
            )
        from pose_service.pose.bundle import import_mediapipe

        mp = import_mediapipe()
        from mediapipe.tasks.python import BaseOptions, vision

        self._mp = mp
        self.num_poses = num_poses
        self.deduplicate = deduplicate
        self.device = device  # every graph made here (video, still, hand-over) shares these base options
        self.max_side = max_side  # the longer side of the frame the video graph sees (0: full size)
        delegate = BaseOptions.Delegate.GPU if device == "gpu" else BaseOptions.Delegate.CPU
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(bundle_path), delegate=delegate),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=num_poses,
            min_pose_detection_confidence=det,
            min_pose_presence_confidence=pres,
            min_tracking_confidence=trk,
            output_segmentation_masks=False,
        )
        self._options = options
        self._still: Any = None  # a still-image landmarker for `detect_region`, made on first use
        self.redetect_every = redetect_every
        self.settle_frames = settle_frames
        self._slots = num_poses  # num_poses of the video graph in use (fewer while following fewer people)
        self._next: Any = None  # a fresh video graph taking over from `_landmarker` (see `_follow`)
        self._next_slots = 0
        self._handover_frames = 0
        self._slots_were_full = False  # the graph followed as many people as it has slots on the last frame
        self._short = 0  # frames in a row the graph followed fewer people than it has slots
        self._full = 0  # frames since the whole frame was last searched while every slot was followed
        self._calm = 0  # frames in a row everyone followed stood upright with a confident pose
        self.stats = {"frames": 0, "detector_skipped": 0, "checks": 0, "handovers": 0, "abandoned": 0, "unsteady": 0}
        try:
            self._landmarker: Any = vision.PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            if device == "gpu":
                raise EnvironmentProblem(f"the pose model does not start on the GPU: {exc}"[:600],
                                         hint="run `pose-service doctor`, or use --device cpu") from exc
            raise EnvironmentProblem(
                f"the pose model bundle {bundle_path} does not load: {exc}",
                hint="delete it and run `make models` to rebuild it",
            ) from exc
        digest = hashlib.sha256(bundle_path.read_bytes()).hexdigest()[:12]
        self.version = f"mediapipe {mp.__version__}, {bundle_path.name} sha256:{digest}"
        self._last_ms: int | None = None
        log.info("pose backend ready: %s, num_poses=%d, device %s, max side %s", self.version, num_poses, device,
                 max_side or "full size")

    def detect(self, rgb: np.ndarray, time_s: float) -> Poses:
        """Everyone found in one upright RGB uint8 frame (H, W, 3) shown at `time_s` seconds."""
        if self._landmarker is None:
            raise RuntimeError("PoseLandmarkerBackend used after close()")
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"detect() wants an RGB uint8 (H, W, 3) frame, got {rgb.dtype} {rgb.shape}")
        height, width = rgb.shape[:2]
        # The Tasks graph wants strictly increasing integer milliseconds; frames of variable-rate or
        # high-rate video can round to the same (or an earlier) millisecond.
        ms = int(round(float(time_s) * 1000.0))
        if self._last_ms is not None and ms <= self._last_ms:
            ms = self._last_ms + 1
        self._last_ms = ms
        # PyAV hands out frames whose rows are padded; mp.Image needs a C-contiguous buffer. The model sees the
        # frame shrunk to `max_side`; its keypoints are fractions of the picture, so multiplied by the full frame's
        # size below they are full-frame pixels (the resize maps edge to edge).
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=shrink(rgb, self.max_side))
        result = self._landmarker.detect_for_video(image, ms)
        poses = poses_from_result(result, width, height)
        if self.redetect_every:
            return self._follow(image, ms, poses, width, height)
        return suppress_duplicates(poses) if self.deduplicate else poses

    def _video_graph(self, num_poses: int) -> Any:
        from mediapipe.tasks.python import vision

        return vision.PoseLandmarker.create_from_options(dataclasses.replace(self._options, num_poses=num_poses))

    def _follow(self, image: Any, ms: int, raw: Poses, width: int, height: int) -> Poses:
        """The people of one frame when the person detector runs only when needed (`redetect_every` > 0).

        The video graph runs its detector only while it follows fewer people than its `num_poses` slots; with
        one graph of `num_poses` slots that is every frame of a clip with fewer people. So the graph is
        replaced by one with as many slots as people are followed (after `settle_frames` frames with fewer,
        everyone upright with a confident pose), and every `redetect_every` frames the whole frame is searched by the still-image landmarker: a
        person it finds that nobody follows brings a graph with more slots. A new graph starts with the
        detector alone, which misses bodies it does not know (a rider upside down in a flip): it takes over
        only once it finds everyone the old one follows; until then both run and their poses are merged.
        While anybody followed is turned over or unsure, a graph with every slot takes over again: the
        detector's look on every frame helps the graph keep such a body (without it flips were lost, see
        `bench/analysis_accuracy.py --redetect-every`).
        """
        st = self.stats
        st["frames"] += 1
        if self._slots_were_full:
            st["detector_skipped"] += 1
        poses = suppress_duplicates(raw)
        self._slots_were_full = len(raw) >= self._slots
        if self._next is not None:
            fresh = suppress_duplicates(poses_from_result(self._next.detect_for_video(image, ms), width, height))
            self._handover_frames += 1
            if _covers(fresh, poses):
                self._landmarker.close()
                self._landmarker, self._slots, self._next = self._next, self._next_slots, None
                self._slots_were_full = len(fresh) >= self._slots
                self._short = self._full = 0
                st["handovers"] += 1
                return fresh
            merged = suppress_duplicates(_concat([poses, fresh]))
            if self._handover_frames > 2 * self.settle_frames:
                self._drop_next()  # it never found everyone: keep the old graph (a later look tries again)
            return merged
        if not _upright(poses):
            # Somebody turned over or unsure (a flip, a fall): the detector runs on every frame again, as it
            # helps the graph keep such a body; a graph with every slot takes over.
            self._calm = 0
            if self._slots < self.num_poses:
                st["unsteady"] += 1
                self._start_next(self.num_poses, image, ms)
            return poses
        self._calm += 1
        if len(raw) >= self._slots:
            self._short = 0
            self._full += 1
            duplicated = len(poses) < len(raw)  # two slots on one body: somebody else may go unseen
            if (self._full >= self.redetect_every or duplicated) and (duplicated or self._slots < self.num_poses):
                self._full = 0
                st["checks"] += 1
                seen = suppress_duplicates(poses_from_result(self._still_model().detect(image), width, height))
                new = seen[~_covered(seen, poses)] if len(seen) else seen
                if len(new) or duplicated:
                    poses = suppress_duplicates(_concat([poses, new]))
                    self._start_next(min(max(len(poses), 1), self.num_poses), image, ms)
            return poses
        self._full = 0
        self._short += 1
        if min(self._short, self._calm) >= self.settle_frames and self._slots > max(len(poses), 1):
            self._short = 0
            self._start_next(max(len(poses), 1), image, ms)
        return poses

    def _start_next(self, slots: int, image: Any, ms: int) -> None:
        """Start a fresh video graph with `slots` slots on this frame; `_follow` hands over to it."""
        self._next = self._video_graph(slots)
        self._next_slots = slots
        self._handover_frames = 0
        self._next.detect_for_video(image, ms)

    def _drop_next(self) -> None:
        if self._next is not None:
            self._next.close()
            self._next = None
            self.stats["abandoned"] += 1

    def _still_model(self) -> Any:
        """A still-image landmarker (IMAGE mode, no state between calls), made on first use."""
        if self._still is None:
            from mediapipe.tasks.python import vision

            options = dataclasses.replace(self._options, running_mode=vision.RunningMode.IMAGE)
            self._still = vision.PoseLandmarker.create_from_options(options)
        return self._still

    def detect_region(self, rgb: np.ndarray, box: np.ndarray) -> Poses:
        """Everyone found inside `box` (x0, y0, x1, y1 pixels, clipped to the frame) of `rgb`, in whole-frame
        pixels: a second look where a tracked person was lost. The crop goes to a separate still-image
        landmarker, so the video graph's own tracking is untouched; a person the full frame's detector
        passed over beside a bigger one is often found in a crop around them."""
        if self._landmarker is None:
            raise RuntimeError("PoseLandmarkerBackend used after close()")
        height, width = rgb.shape[:2]
        x0, y0 = max(int(np.floor(box[0])), 0), max(int(np.floor(box[1])), 0)
        x1, y1 = min(int(np.ceil(box[2])), width), min(int(np.ceil(box[3])), height)
        if x1 - x0 < 16 or y1 - y0 < 16:
            return Poses.empty()
        crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
        result = self._still_model().detect(self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=crop))
        poses = poses_from_result(result, x1 - x0, y1 - y0)
        poses.keypoints_2d[:, :, 0] += x0
        poses.keypoints_2d[:, :, 1] += y0
        return suppress_duplicates(poses) if self.deduplicate else poses

    def close(self) -> None:
        if self._next is not None:
            self._next.close()
            self._next = None
        if self._still is not None:
            self._still.close()
            self._still = None
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> PoseLandmarkerBackend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PoseLandmarkerBackend(num_poses={self.num_poses}, version={self.version!r})"


def poses_from_result(result: Any, width: int, height: int) -> Poses:
    """Convert a Tasks `PoseLandmarkerResult` for a (width x height) frame to `Poses`."""
    n = len(result.pose_landmarks)
    if n == 0:
        return Poses.empty()
    kp2 = np.zeros((n, 33, 3), dtype=np.float32)
    kp3 = np.zeros((n, 33, 3), dtype=np.float32)
    for i, landmarks in enumerate(result.pose_landmarks):
        kp2[i] = [(lm.x * width, lm.y * height, lm.visibility or 0.0) for lm in landmarks]
    for i, landmarks in enumerate(result.pose_world_landmarks):
        kp3[i] = [(lm.x, lm.y, lm.z) for lm in landmarks]
    kp3 *= _WORLD_TO_OURS
    np.clip(kp2[:, :, 2], 0.0, 1.0, out=kp2[:, :, 2])
    score = kp2[:, :, 2].mean(axis=1).astype(np.float32)
    return Poses(keypoints_2d=kp2, keypoints_3d=kp3, score=score)
