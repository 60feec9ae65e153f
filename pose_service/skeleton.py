"""The skeleton every stage shares: BlazePose's 33 keypoints, the bones drawn between them, and `Poses`.

Neutral ground between the stages: the pose stage produces `Poses`, tracking consumes them, body, analysis
and export read keypoints by these names. This module imports numpy only, so that no stage has to import
another (the pose stage pulls in mediapipe) for the shared types.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["KEYPOINT_NAMES", "SKELETON_EDGES", "Poses"]

# BlazePose GHUM topology, in the model's output order.
KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)  # fmt: skip

# Bones drawn in overlays and the viewer (pairs of indices into KEYPOINT_NAMES).
SKELETON_EDGES: tuple[tuple[int, int], ...] = (
    (11, 12), (11, 23), (12, 24), (23, 24),  # torso
    (11, 13), (13, 15), (12, 14), (14, 16),  # arms
    (23, 25), (25, 27), (24, 26), (26, 28),  # legs
    (27, 29), (29, 31), (27, 31), (28, 30), (30, 32), (28, 32),  # feet
    (0, 7), (0, 8),  # head
)  # fmt: skip


@dataclass
class Poses:
    """People found in one frame.

    keypoints_2d: (n, 33, 3) float32: x, y in pixels of the upright frame, then visibility 0..1.
    keypoints_3d: (n, 33, 3) float32: metres, origin mid-hip, x to the image's right, y up,
        z towards the camera (right-handed).
    score: (n,) float32: the model's confidence that the person is present, 0..1.
    """

    keypoints_2d: np.ndarray
    keypoints_3d: np.ndarray
    score: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.score)
        if self.keypoints_2d.shape != (n, 33, 3) or self.keypoints_3d.shape != (n, 33, 3):
            raise ValueError(
                f"Poses arrays disagree: keypoints_2d {self.keypoints_2d.shape}, "
                f"keypoints_3d {self.keypoints_3d.shape}, score {self.score.shape}; want (n, 33, 3)"
            )

    @classmethod
    def empty(cls) -> Poses:
        z = np.zeros((0, 33, 3), dtype=np.float32)
        return cls(keypoints_2d=z, keypoints_3d=z.copy(), score=np.zeros(0, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.score)

    def __getitem__(self, index: int | slice | np.ndarray) -> Poses:
        if isinstance(index, int):
            index = slice(index, index + 1)
        return Poses(self.keypoints_2d[index], self.keypoints_3d[index], self.score[index])

    def bboxes(self, min_visibility: float = 0.3) -> np.ndarray:
        """(n, 4) boxes [x0, y0, x1, y1] around each person's keypoints seen with enough visibility."""
        boxes = np.zeros((len(self), 4), dtype=np.float32)
        for i, kp in enumerate(self.keypoints_2d):
            seen = kp[kp[:, 2] >= min_visibility]
            pts = seen if len(seen) >= 2 else kp
            boxes[i] = (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())
        return boxes
