"""The tracking stage's central type: one person followed across frames, as parallel arrays."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Track"]


@dataclass
class Track:
    """One person across the frames where they were seen.

    frames: (m,) int: indices of the decoded frames where the person is present, increasing.
    bbox: (m, 4) float32: [x0, y0, x1, y1] pixels of the upright frame.
    keypoints_2d: (m, 33, 3) float32: x, y pixels of the upright frame, visibility 0..1.
    keypoints_3d: (m, 33, 3) float32: metres, origin mid-hip, y up, z towards the camera.
    interpolated: (m,) bool: True where the pose model missed the person and the keypoints were filled in
        from the frames on either side (short gaps only). Defaults to all False.
    """

    id: int
    frames: np.ndarray
    bbox: np.ndarray
    keypoints_2d: np.ndarray
    keypoints_3d: np.ndarray
    is_rider: bool = False
    extras: dict[str, object] = field(default_factory=dict)
    interpolated: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        m = len(self.frames)
        self.interpolated = np.asarray(self.interpolated, dtype=bool)
        if self.interpolated.size == 0:
            self.interpolated = np.zeros(m, dtype=bool)
        if self.interpolated.shape != (m,):
            raise ValueError(f"Track {self.id}: interpolated has shape {self.interpolated.shape}, want ({m},)")
        shapes = (self.bbox.shape, self.keypoints_2d.shape, self.keypoints_3d.shape)
        if shapes != ((m, 4), (m, 33, 3), (m, 33, 3)):
            raise ValueError(f"Track {self.id}: arrays disagree with {m} frames: {shapes}")
        if m > 1 and np.any(np.diff(self.frames) <= 0):
            raise ValueError(f"Track {self.id}: frames must strictly increase")

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def mean_height_px(self) -> float:
        """Average box height, a rough measure of how large the person appears."""
        return float(np.mean(self.bbox[:, 3] - self.bbox[:, 1])) if len(self) else 0.0
