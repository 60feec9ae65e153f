"""A finished track extended before its first frame with readings of the same body (`pose.backfill`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pose_service.tracking.core import Track
from pose_service.tracking.finalise import finalise_track
from pose_service.tracking.iou import iou_matrix
from pose_service.tracking.tracker import TrackerConfig

__all__ = ["SAME_PLACE", "held_by_another", "prepended"]

SAME_PLACE = 0.3  # another track's box overlapping a reading this much (intersection over union) holds that body


def held_by_another(tracks: list[Track], track: Track, frame: int, box: np.ndarray) -> bool:
    """Whether a track other than `track` holds a body at `frame` in the place of `box` ([x0, y0, x1, y1])."""
    for other in tracks:
        if other is track:
            continue
        at = np.flatnonzero(other.frames == frame)
        if len(at) and iou_matrix(other.bbox[at[:1]].astype(np.float64), np.asarray([box], dtype=np.float64))[0, 0] >= SAME_PLACE:
            return True
    return False


def prepended(
    track: Track, readings: list[tuple[int, np.ndarray, np.ndarray]], times_s: np.ndarray, config: TrackerConfig
) -> Track:
    """`track` with `readings` ((frame, keypoints_2d, keypoints_3d), earliest first, all before its first frame)
    put before it, finished as the tracker finishes a track (`finalise_track`: repairs, gaps filled, smoothing).
    The track's own first sample goes in too, so a gap between the readings and it is filled as any other."""
    frames = np.array([f for f, _, _ in readings] + [int(track.frames[0])], dtype=np.int64)
    kp2 = np.stack([k for _, k, _ in readings] + [track.keypoints_2d[0]]).astype(np.float32)
    kp3 = np.stack([k for _, _, k in readings] + [track.keypoints_3d[0]]).astype(np.float32)
    head = finalise_track(track.id, frames, kp2, kp3, times_s, fix_swaps=config.fix_swaps,
                          max_interp_s=config.max_interp_s, smoothing=config.smoothing)  # fmt: skip
    keep = head.frames < track.frames[0]
    return replace(
        track,
        frames=np.concatenate([head.frames[keep], track.frames]),
        bbox=np.concatenate([head.bbox[keep].astype(track.bbox.dtype), track.bbox]),
        keypoints_2d=np.concatenate([head.keypoints_2d[keep], track.keypoints_2d]),
        keypoints_3d=np.concatenate([head.keypoints_3d[keep], track.keypoints_3d]),
        interpolated=np.concatenate([head.interpolated[keep], track.interpolated]),
        extras={**track.extras, "looked_back": int(keep.sum())},
    )
