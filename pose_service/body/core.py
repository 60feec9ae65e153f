"""The body stage's central type: Anny fitted to one tracked person, as parallel arrays."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["BodyFit"]


@dataclass
class BodyFit:
    """Anny's shape and per-frame pose for one track.

    Frame of every 3D quantity (the "view" frame): metres, the camera at the origin looking along -z,
    x to the image's right, y up (glTF's camera convention).

    frames: (m,) decoded frame indices (the track's); times_s: (m,) their timestamps.
    phenotype: (P,) Anny phenotype values of `phenotype_labels` (one body per track).
    bones: names of the posed Anny bones (`rig.FREE_BONES`); every other bone stays at Anny's reference.
    rotations: (m, F, 3, 3) Anny 'local-ref' deltas of `bones`; the root's takes Anny's own frame (Z up,
        facing -Y) to the view frame.
    translation: (m, 3) the root bone's position (Anny's root delta translation).
    joints: (m, K, 3) the fitted model's keypoints (`rig.FIT_KEYPOINTS`), view frame.
    focal_px: focal length assumed for the 2D term; residual_3d_m / residual_2d_px: mean distance of the
        fitted joints to the pose model's visible 3D keypoints (hip-centred) and 2D keypoints.
    notes: what limited the fit (short track, low visibility), in words for the result.
    """

    track_id: int
    frames: np.ndarray
    times_s: np.ndarray
    phenotype_labels: list[str]
    phenotype: np.ndarray
    bones: tuple[str, ...]
    rotations: np.ndarray
    translation: np.ndarray
    joints: np.ndarray
    focal_px: float
    residual_3d_m: float
    residual_2d_px: float
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        m, f = len(self.frames), len(self.bones)
        shapes = (self.times_s.shape, self.rotations.shape, self.translation.shape)
        if shapes != ((m,), (m, f, 3, 3), (m, 3)) or len(self.joints) != m:
            raise ValueError(f"BodyFit {self.track_id}: arrays disagree with {m} frames and {f} bones: {shapes}")

    def __len__(self) -> int:
        return len(self.frames)
