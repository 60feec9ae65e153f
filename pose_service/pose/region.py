"""BlazePose's landmark model run on a region the tracker chooses, without the person detector.

MediaPipe's graphs find a person with a detector keyed to the face (it predicts the body from the head), then
follow them by carrying the region of the last frame's landmarks to the next; where the landmark model's
presence flag drops below 0.5, the person is dropped and the detector must find them again. A rider in the air
wears a helmet and goggles, is small (60-120 px in a 640x360 follow-cam clip) and often turned away: the
detector misses them frame after frame (the real seg6's first kicker: 17 of 37 air frames, every look the
detector drives found nothing), while the landmark model, given a region around the body, reads it (on the
same frames, given a region round the tracker's box: 14 of the 17 with a presence flag >= 0.5).

`RegionLandmarks` runs the bundle's own landmark model (`pose_landmarks_detector.tflite`, read from the bundle
built by `pose.bundle`) through the LiteRT interpreter, on a square region of the frame turned so the body
stands upright in it, and returns the pose in frame pixels with the presence flag. `find` searches a few
sizes and turns of the region around where a body is expected and keeps a reading only where the region its
own alignment points give (the hips' centre and the point above the head that the model returns as its 34th
and 35th landmarks, 2.5 times their distance across, as MediaPipe's tracking takes the next frame's region)
reads a body too.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pose_service.errors import EnvironmentProblem
from pose_service.pose.landmarker import _WORLD_TO_OURS
from pose_service.skeleton import Poses

__all__ = ["Region", "RegionLandmarks", "RegionPose"]

_LANDMARKS_ENTRY = "pose_landmarks_detector.tflite"  # the bundle's landmark model (`pose.bundle`)
_INPUT = 256  # the landmark model's input side, pixels
_POINTS = 39  # 33 body landmarks and 6 auxiliary ones (33: the hips' centre, 34: above the head, for the region)
_ALIGN_SCALE = 2.5  # region side over the alignment points' distance (MediaPipe: 2 x distance, then x 1.25)


@dataclass(frozen=True)
class Region:
    """A square region of the frame: centre (pixels), side (pixels), turn (degrees, counter-clockwise, applied
    to the picture so that the body stands upright in the region)."""

    cx: float
    cy: float
    side: float
    turn: float = 0.0


@dataclass(frozen=True)
class RegionPose:
    """The landmark model's reading of one region: `poses` (one person, frame pixels), its presence flag
    (0..1), the region read, and the region its own alignment points give (where to look next)."""

    poses: Poses
    presence: float
    region: Region
    next_region: Region


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -60.0, 60.0))), dtype=np.float32)


class RegionLandmarks:
    """The pose bundle's landmark model on regions chosen by the caller.

    bundle_path: the pose model bundle (`ensure_bundle`). threads: the interpreter's threads (1: the second
    look runs beside the whole frame's graph on a 2-core machine).
    """

    def __init__(self, bundle_path: Path, *, threads: int = 1) -> None:
        try:
            with zipfile.ZipFile(bundle_path) as bundle:
                model = bundle.read(_LANDMARKS_ENTRY)
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise EnvironmentProblem(
                f"pose model bundle unreadable: {bundle_path} ({exc})",
                hint="run `make models` to build it from the installed mediapipe wheel",
            ) from exc
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:  # pragma: no cover - a broken install
            raise EnvironmentProblem(
                f"the LiteRT interpreter cannot be imported ({exc})", hint="run `make venv` to install ai-edge-litert"
            ) from exc
        self._interpreter: Any = Interpreter(model_content=model, num_threads=int(threads))
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = {tuple(d["shape"][1:]): d["index"] for d in self._interpreter.get_output_details()}
        self._landmarks = outputs[(_POINTS * 5,)]
        self._world = outputs[(_POINTS * 3,)]
        self._presence = outputs[(1,)]
        self.reads = 0  # regions given to the model so far

    def read(self, rgb: np.ndarray, region: Region) -> RegionPose:
        """The landmark model's pose in `region` of the frame `rgb` (H, W, 3 uint8)."""
        scale = _INPUT / float(region.side)
        to_crop = np.asarray(cv2.getRotationMatrix2D((region.cx, region.cy), region.turn, scale), np.float64)
        to_crop[:, 2] += _INPUT / 2 - np.array([region.cx, region.cy])
        # Beyond the frame's edge the region repeats it (a black band would read as a dark body part).
        crop = cv2.warpAffine(rgb, to_crop, (_INPUT, _INPUT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        self._interpreter.set_tensor(self._input, (crop.astype(np.float32) * (1.0 / 255.0))[None])
        self._interpreter.invoke()
        self.reads += 1
        raw = self._interpreter.get_tensor(self._landmarks).reshape(_POINTS, 5)
        world = self._interpreter.get_tensor(self._world).reshape(_POINTS, 3)
        presence = float(np.asarray(self._interpreter.get_tensor(self._presence)).reshape(-1)[0])
        to_frame = cv2.invertAffineTransform(to_crop)
        xy = raw[:, :2] @ to_frame[:, :2].T + to_frame[:, 2]
        kp2 = np.empty((1, 33, 3), dtype=np.float32)
        kp2[0, :, :2] = xy[:33]
        kp2[0, :, 2] = _sigmoid(raw[:33, 3])
        # The world landmarks come in the region's turned axes: turned back (the inverse's pure rotation).
        kp3 = np.empty((1, 33, 3), dtype=np.float32)
        kp3[0, :, :2] = world[:33, :2] @ (to_frame[:, :2] * scale).T
        kp3[0, :, 2] = world[:33, 2]
        kp3 *= _WORLD_TO_OURS
        poses = Poses(keypoints_2d=kp2, keypoints_3d=kp3, score=kp2[:, :, 2].mean(axis=1).astype(np.float32))
        return RegionPose(poses, presence, region, _aligned(xy[33], xy[34]))

    def find(
        self,
        rgb: np.ndarray,
        centre: tuple[float, float],
        size: float,
        *,
        turn: float = 0.0,
        start: Region | None = None,
        sizes: tuple[float, ...] = (1.1, 1.3, 1.5, 1.7, 2.0, 2.4),
        turns: tuple[float, ...] = (0.0, -20.0, 20.0),
        least: float = 0.5,
        accept: Callable[[Poses], bool] | None = None,
    ) -> RegionPose | None:
        """The first confirmed reading of a body of longer side `size` (pixels) expected at `centre`: the region
        `start` first (the last frame's `next_region`), then squares of `sizes` body sizes at the `turns`
        (degrees, added to `turn`) around `centre`. A reading is confirmed where its presence flag is at least
        `least` and reading again the region its own alignment points give (as MediaPipe's tracking would on the
        next frame) keeps it there; the better of the two is returned where `accept` (if given) takes it, None
        where no region confirms a body.

        The flag alone is erratic on a small body in the air: on the real seg6's first kicker, nine regions
        around one frame's body read 0.00-0.92, and a region that read 0.81 put the hips 15 px (a fifth of the
        body) below the others; read again from its own alignment it said 0.03."""
        height, width = rgb.shape[:2]
        candidates = [start] if start is not None else []
        candidates += [Region(centre[0], centre[1], k * size, turn + t) for t in turns for k in sizes]
        for region in candidates:
            if not _inside(region, width, height):
                continue
            got = self.read(rgb, region)
            if got.presence < least:
                continue
            again = got.next_region
            if not (_inside(again, width, height) and size / 2 <= again.side <= 4 * size):
                continue
            confirm = self.read(rgb, again)
            if confirm.presence < least:
                continue
            best = confirm if confirm.presence >= got.presence else got
            if accept is None or accept(best.poses):
                return best
        return None

    def close(self) -> None:
        self._interpreter = None


def _inside(region: Region, width: int, height: int) -> bool:
    """A region of at least 16 pixels whose centre lies within one side of the frame."""
    return (region.side >= 16 and -region.side < region.cx < width + region.side
            and -region.side < region.cy < height + region.side)  # fmt: skip


def _aligned(centre: np.ndarray, top: np.ndarray) -> Region:
    """The region MediaPipe's tracking takes from a pose's alignment points: centred on the hips' centre, its
    side 2.5 times the distance to the point above the head, turned so that point is straight above."""
    d = np.asarray(top, dtype=np.float64) - np.asarray(centre, dtype=np.float64)
    side = _ALIGN_SCALE * float(np.hypot(d[0], d[1]))
    # The picture turned counter-clockwise by `turn` brings the direction of d to straight up (-y).
    turn = 90.0 - float(np.degrees(np.arctan2(-d[1], d[0])))
    turn = (turn + 180.0) % 360.0 - 180.0
    return Region(float(centre[0]), float(centre[1]), side, turn)
