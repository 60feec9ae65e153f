"""One person's keypoints, as followed, turned into a finished `Track`: the same for every backend.

`PoseTracker.finish` runs it on the tracks it followed; the pipeline runs it on the tracks a backend
followed itself (hmr2: PHALP's). In order: readings of the body upside down for a frame or two dropped
(`inversion.upside_down`), left/right swaps repaired (`swap.fix_left_right`), short detector gaps filled by
interpolation and marked (`gaps.fill_short_gaps`), each run of consecutive frames smoothed without lag
(`smoothing.smooth_runs`), boxes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from pose_service.skeleton import Poses
from pose_service.tracking.core import Track
from pose_service.tracking.gaps import fill_short_gaps
from pose_service.tracking.inversion import upside_down
from pose_service.tracking.smoothing import OneEuro, smooth_runs
from pose_service.tracking.swap import fix_left_right

__all__ = ["finalise_track"]


def finalise_track(
    number: int,
    frames: np.ndarray,
    keypoints_2d: np.ndarray,
    keypoints_3d: np.ndarray,
    times_s: np.ndarray,
    *,
    bbox: np.ndarray | None = None,
    fix_swaps: bool = True,
    max_interp_s: float = 0.3,
    smoothing: OneEuro | None = None,
    extras: Mapping[str, object] | None = None,
) -> Track:
    """The finished `Track` numbered `number`: repaired, gap-filled (marked `interpolated`), smoothed.

    frames: (m,) increasing frame indices where the person was seen; keypoints_2d, keypoints_3d: (m, 33, 3)
        as `Poses` holds them.
    times_s: the timestamp of every decoded frame, indexed by frame index (gaps and smoothing use real time).
    bbox: (m, 4) the backend's own boxes, or None. Given, they are filled through gaps with the keypoints and
        kept, and their median height is the body size the 2D smoothing is measured in; not given, the boxes
        are drawn around the finished keypoints and the body size is the keypoints' median height.
    fix_swaps: repair left/right swaps first. max_interp_s: the longest gap filled (seconds).
    smoothing: One Euro parameters, or None for no smoothing.
    extras: copied into the track's `extras`, followed by `swaps_repaired` (frames with a group exchanged)
        and `upside_down_dropped` (readings dropped before the gaps were filled).
    """
    frames = np.asarray(frames, dtype=np.int64)
    kp2, kp3 = keypoints_2d, keypoints_3d
    inverted = upside_down(frames, kp2, times_s)
    if inverted.any():
        keep = ~inverted
        frames, kp2, kp3 = frames[keep], kp2[keep], kp3[keep]
        bbox = None if bbox is None else bbox[keep]
    repaired = np.zeros(len(frames), dtype=bool)
    if fix_swaps:
        kp2, kp3, repaired = fix_left_right(frames, kp2, kp3)
    series = {"kp2": kp2, "kp3": kp3} if bbox is None else {"kp2": kp2, "kp3": kp3, "bbox": bbox}
    frames, series, interpolated = fill_short_gaps(frames, series, times_s, max_gap_s=max_interp_s)
    kp2, kp3 = series["kp2"], series["kp3"]  # fresh arrays: smoothing in place leaves the caller's alone
    if smoothing is not None:
        scale = _keypoint_height(kp2) if bbox is None else _box_height(series["bbox"])
        smooth_runs(frames, kp2, kp3, times_s, smoothing, scale)
    boxes = Poses(kp2, kp3, np.ones(len(frames), dtype=np.float32)).bboxes() if bbox is None else series["bbox"]
    return Track(
        id=number,
        frames=frames,
        bbox=boxes,
        keypoints_2d=kp2,
        keypoints_3d=kp3,
        interpolated=interpolated,
        extras={
            **(extras or {}),
            "swaps_repaired": int(np.asarray(repaired).sum()),
            "upside_down_dropped": int(inverted.sum()),
        },
    )


def _keypoint_height(kp2: np.ndarray) -> float:
    """The median height of the keypoints seen (visibility >= 0.3) over the frames; 1 when never measurable."""
    seen = kp2[..., 2] >= 0.3
    heights = [np.ptp(k[s, 1]) if s.sum() >= 2 else np.nan for k, s in zip(kp2, seen, strict=True)]
    return float(np.nanmedian(heights)) if np.isfinite(heights).any() else 1.0


def _box_height(bbox: np.ndarray) -> float:
    """The median box height; 1 for no boxes."""
    return float(np.median(bbox[:, 3] - bbox[:, 1])) if len(bbox) else 1.0
