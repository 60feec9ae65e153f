"""A track extended with readings of the same body: a finished one before its first frame (`pose.backfill`), a
followed one in its short gaps (`pose.between`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pose_service.skeleton import Poses
from pose_service.tracking.core import Track
from pose_service.tracking.finalise import finalise_track
from pose_service.tracking.gaps import fill_short_gaps
from pose_service.tracking.iou import iou_matrix
from pose_service.tracking.tracker import FollowedTrack, TrackerConfig

__all__ = ["SAME_PLACE", "expected_in_gaps", "held_by_another", "held_in_followed", "prepended", "with_readings"]

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


def expected_in_gaps(track: FollowedTrack, times_s: np.ndarray, max_gap_s: float) -> list[tuple[int, np.ndarray]]:
    """(frame, keypoints_2d (33, 3)) of each frame in `track`'s gaps of at most `max_gap_s` (those `finalise_track`
    fills), interpolated between the readings either side as it would fill them."""
    frames, series, filled = fill_short_gaps(track.frames, {"kp2": track.keypoints_2d}, times_s, max_gap_s=max_gap_s)
    return [(int(f), k) for f, k, gap in zip(frames, series["kp2"], filled, strict=True) if gap]


def held_in_followed(tracks: list[FollowedTrack], track: FollowedTrack, frame: int, box: np.ndarray) -> bool:
    """Whether a followed track other than `track` holds a body at `frame` in the place of `box` ([x0, y0, x1, y1]),
    its box drawn around its keypoints."""
    for other in tracks:
        if other is track:
            continue
        at = np.flatnonzero(other.frames == frame)
        if not len(at):
            continue
        kp2 = other.keypoints_2d[at[:1]]
        other_box = Poses(kp2, other.keypoints_3d[at[:1]], np.ones(1, np.float32)).bboxes().astype(np.float64)
        if iou_matrix(other_box, np.asarray([box], dtype=np.float64))[0, 0] >= SAME_PLACE:
            return True
    return False


def with_readings(track: FollowedTrack, readings: list[tuple[int, np.ndarray, np.ndarray]]) -> FollowedTrack:
    """`track` with `readings` ((frame, keypoints_2d, keypoints_3d) in frames it does not have) among its own, in
    frame order."""
    frames = np.concatenate([track.frames, np.array([f for f, _, _ in readings], dtype=np.int64)])
    kp2 = np.concatenate([track.keypoints_2d, np.stack([k for _, k, _ in readings]).astype(track.keypoints_2d.dtype)])
    kp3 = np.concatenate([track.keypoints_3d, np.stack([k for _, _, k in readings]).astype(track.keypoints_3d.dtype)])
    order = np.argsort(frames, kind="stable")
    return FollowedTrack(track.uid, frames[order], kp2[order], kp3[order])
