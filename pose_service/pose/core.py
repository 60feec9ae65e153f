"""The pose stage's own track type: one person as a backend that follows people itself reports them.

The frame-by-frame type, `Poses`, and the keypoint names live in `pose_service.skeleton`, shared with the
other stages. `PoseTrack` is what the hmr2 backend (PHALP tracks people itself) hands on: the backend's
keypoints as they came, before the tracking stage's left/right repair, gap filling and smoothing
(`pose_service.tracking.finalise.finalise_track`), which turn it into a `Track` like every backend's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["PoseTrack"]


@dataclass
class PoseTrack:
    """One person across the frames where the backend saw them, as it saw them.

    id: 1.. in order of first appearance.
    frames: (m,) int: indices of the decoded frames where the person was detected, increasing.
    bbox: (m, 4) float32: the backend's boxes [x0, y0, x1, y1], pixels of the upright frame.
    keypoints_2d: (m, 33, 3) float32: x, y pixels of the upright frame, visibility 0..1.
    keypoints_3d: (m, 33, 3) float32: metres, origin mid-hip, x to the image's right, y up, z towards the camera.
    extras: what the backend adds per track (`phalp_tid`, `result_fields`), carried into the `Track`.
    """

    id: int
    frames: np.ndarray
    bbox: np.ndarray
    keypoints_2d: np.ndarray
    keypoints_3d: np.ndarray
    extras: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        m = len(self.frames)
        shapes = (self.bbox.shape, self.keypoints_2d.shape, self.keypoints_3d.shape)
        if shapes != ((m, 4), (m, 33, 3), (m, 33, 3)):
            raise ValueError(f"PoseTrack {self.id}: arrays disagree with {m} frames: {shapes}")
        if m > 1 and np.any(np.diff(self.frames) <= 0):
            raise ValueError(f"PoseTrack {self.id}: frames must strictly increase")

    def __len__(self) -> int:
        return len(self.frames)
