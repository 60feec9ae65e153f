"""MediaPipe's own frame-to-frame tracking, run in a crop that moves with one lost person.

The whole frame's video graph keeps a person by carrying their landmarks' region to the next frame; once a
frame's landmarks fall below the presence threshold it needs its person detector again, and a small rider in
the air against trees or sky is rarely found by the detector on the whole frame (640x360 follow-cam clips:
60-120 px). `CropFollower` feeds a second video graph (one person) with a crop around where the tracker expects
that person, of a fixed side (so the region it carries, in the crop's fractions, stays on the body as the crop
follows them) and upscaled to `input_side` pixels: the detector sees the body at a size it finds, and once it
has, the landmark model follows the body from frame to frame without it (on the real snowboard clip seg1 the
rider was kept through all 31 air frames where the whole frame found them in none).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pose_service.pose.landmarker import poses_from_result
from pose_service.skeleton import Poses

__all__ = ["CropFollower"]


class CropFollower:
    """One video graph (one person) following a person in a square crop of `side` pixels of the frame.

    bundle_path: the pose model bundle. side: the crop's side in frame pixels, fixed for the follower's life.
    input_side: the side, pixels, the crop is resized to for the model. device: MediaPipe's delegate.
    Use as a context manager, or call `close()`.
    """

    def __init__(self, bundle_path: Path, side: float, *, input_side: int = 256, device: str = "cpu") -> None:
        if not side >= 16:
            raise ValueError(f"side must be at least 16 pixels, got {side!r}")
        if isinstance(input_side, bool) or not isinstance(input_side, int) or input_side < 64:
            raise ValueError(f"input_side must be a whole number of pixels >= 64, got {input_side!r}")
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(
                model_asset_path=str(bundle_path),
                delegate=BaseOptions.Delegate.GPU if device == "gpu" else BaseOptions.Delegate.CPU,
            ),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=1,
            output_segmentation_masks=False,
        )
        self._mp = mp
        self._graph: Any = vision.PoseLandmarker.create_from_options(options)
        self.side = float(side)
        self.input_side = input_side
        self._last_ms: int | None = None

    def look(self, rgb: np.ndarray, centre: tuple[float, float], time_s: float) -> Poses:
        """The person in the crop centred on `centre` (frame pixels) of frame `rgb` shown at `time_s`, in the
        frame's pixels (empty `Poses` when the graph finds nobody)."""
        if self._graph is None:
            raise RuntimeError("CropFollower used after close()")
        ms = int(round(float(time_s) * 1000.0))
        if self._last_ms is not None and ms <= self._last_ms:
            ms = self._last_ms + 1
        self._last_ms = ms
        scale = self.input_side / self.side
        to_crop = np.array([[scale, 0.0, self.input_side / 2 - scale * centre[0]],
                            [0.0, scale, self.input_side / 2 - scale * centre[1]]])  # fmt: skip
        # Beyond the frame's edge the crop repeats it (a black band draws the detector's eye).
        crop = cv2.warpAffine(rgb, to_crop, (self.input_side, self.input_side), flags=cv2.INTER_CUBIC,
                              borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        result = self._graph.detect_for_video(self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=crop), ms)
        poses = poses_from_result(result, self.input_side, self.input_side)
        if len(poses):
            poses.keypoints_2d[..., :2] = poses.keypoints_2d[..., :2] / scale + (np.asarray(centre) - self.side / 2)
        return poses

    def close(self) -> None:
        if self._graph is not None:
            self._graph.close()
            self._graph = None

    def __enter__(self) -> CropFollower:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
