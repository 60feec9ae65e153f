"""Joining the tracks of a long clip's chunks, each followed by its own `PoseTracker`, into one clip's tracks.

Consecutive chunks overlap by a second or two. In the overlap both trackers followed the same people, so each
track of the earlier chunks is matched to one of the next chunk's by how far apart their keypoints are in the
frames both hold (the median keypoint distance in body sizes, then the median over those frames; one Hungarian
assignment). The earlier chunk keeps its frames up to the seam's middle, the next one takes over from there:
away from its start, where MediaPipe's video mode and the tracker have settled. A track of the next chunk that
finds no partner starts at the seam's middle; one of the earlier chunks keeps its frames through the overlap. The camera's path of the next chunk, which starts afresh at its first
frame, is chained onto the earlier one's at the seam's middle.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pose_service.tracking.assignment import linear_sum_assignment
from pose_service.tracking.distances import pose_distance
from pose_service.tracking.tracker import Followed, FollowedTrack

__all__ = ["join_followed", "seam_cost"]

# Body sizes: two tracks whose keypoints lie, at the median over the shared frames, further apart than this are
# not the same person (a person moves far less than a body size between two readings of the same frame).
MAX_SEAM_DISTANCE = 0.5
MIN_SHARED_FRAMES = 3


def seam_cost(a: FollowedTrack, b: FollowedTrack, frames: np.ndarray) -> float:
    """The median, over the `frames` both tracks hold, of the distance between their keypoints (body sizes of
    `a`); inf when they share fewer than `MIN_SHARED_FRAMES` of them."""
    shared = np.intersect1d(np.intersect1d(a.frames, b.frames), frames)
    if len(shared) < MIN_SHARED_FRAMES:
        return float("inf")
    ia, ib = np.searchsorted(a.frames, shared), np.searchsorted(b.frames, shared)
    out = []
    for ka, kb in zip(a.keypoints_2d[ia], b.keypoints_2d[ib], strict=True):
        seen = ka[:, 2] >= 0.3
        pts = ka[seen, :2] if seen.sum() >= 2 else ka[:, :2]
        scale = float(np.sqrt(max(np.ptp(pts[:, 0]) * np.ptp(pts[:, 1]), 1.0)))
        out.append(pose_distance(ka, kb, scale))
    return float(np.median(out))


def join_followed(parts: Sequence[Followed], *, max_distance: float = MAX_SEAM_DISTANCE) -> Followed:
    """One `Followed` for the whole clip from those of its chunks, in order; each chunk's frames (its `times`)
    overlap the next one's. Tracks get fresh uids 1.. (a joined track keeps one)."""
    if not parts:
        raise ValueError("join_followed needs at least one chunk")
    joined = _renumbered(parts[0], 1)
    for part in parts[1:]:
        joined = _join(joined, part, max_distance)
    return joined


def _renumbered(part: Followed, first_uid: int) -> Followed:
    tracks = [FollowedTrack(first_uid + i, t.frames, t.keypoints_2d, t.keypoints_3d) for i, t in enumerate(part.tracks)]
    return Followed(tracks, dict(part.times), dict(part.pan), dict(part.path))


def _join(done: Followed, part: Followed, max_distance: float) -> Followed:
    if not part.times:
        return done
    if not done.times:
        return _renumbered(part, 1)
    start, end = min(part.times), max(done.times)
    if start > end + 1:
        raise ValueError(f"chunks do not touch: the next starts at frame {start}, the joined ones end at {end}")
    overlap = np.arange(start, end + 1, dtype=np.int64)
    middle = (start + end + 1) // 2  # the earlier chunk keeps frames < middle
    cost = np.array([[seam_cost(a, b, overlap) for b in part.tracks] for a in done.tracks]).reshape(
        len(done.tracks), len(part.tracks)
    )
    pairs: dict[int, int] = {}
    if cost.size:
        finite = np.where(np.isfinite(cost) & (cost <= max_distance), cost, 1e6)
        for i, j in zip(*linear_sum_assignment(finite), strict=True):
            if finite[i, j] < 1e6:
                pairs[int(j)] = int(i)
    # A track of the earlier chunks that the next one does not continue keeps its frames through the overlap: the
    # next chunk, starting cold, is the one likelier to have missed the person.
    tracks = [_cut(a, None, middle) if i in pairs.values() else a for i, a in enumerate(done.tracks)]
    next_uid = max((t.uid for t in done.tracks), default=0) + 1
    for j, b in enumerate(part.tracks):
        later = _cut(b, middle, None)
        if j in pairs:
            i = pairs[j]
            tracks[i] = _concat(tracks[i], later)
        else:
            tracks.append(FollowedTrack(next_uid, later.frames, later.keypoints_2d, later.keypoints_3d))
            next_uid += 1
    tracks = sorted((t for t in tracks if len(t.frames)), key=lambda t: int(t.frames[0]))
    times = {f: t for f, t in done.times.items() if f < middle} | {f: t for f, t in part.times.items() if f >= middle}
    pan, path = _chain_camera(done, part, middle)
    return Followed(tracks, times, pan, path)


def _cut(t: FollowedTrack, lo: int | None, hi: int | None) -> FollowedTrack:
    keep = np.ones(len(t.frames), dtype=bool)
    if lo is not None:
        keep &= t.frames >= lo
    if hi is not None:
        keep &= t.frames < hi
    return FollowedTrack(t.uid, t.frames[keep], t.keypoints_2d[keep], t.keypoints_3d[keep])


def _concat(a: FollowedTrack, b: FollowedTrack) -> FollowedTrack:
    return FollowedTrack(
        a.uid,
        np.concatenate([a.frames, b.frames]),
        np.concatenate([a.keypoints_2d, b.keypoints_2d]),
        np.concatenate([a.keypoints_3d, b.keypoints_3d]),
    )


def _chain_camera(
    done: Followed, part: Followed, middle: int
) -> tuple[dict[int, float], dict[int, np.ndarray]]:
    """The camera's pan and path over both, the later chunk's (relative to its own first frame) carried on from
    the earlier one's value at `middle`."""
    if not done.pan or not part.pan or middle not in done.pan or middle not in part.pan:
        return dict(done.pan) | dict(part.pan), dict(done.path) | dict(part.path)
    shift = done.pan[middle] - part.pan[middle]
    pan = {f: v for f, v in done.pan.items() if f < middle} | {f: v + shift for f, v in part.pan.items() if f >= middle}
    anchor = np.linalg.inv(part.path[middle]) @ done.path[middle]
    path = {f: m for f, m in done.path.items() if f < middle} | {
        f: m @ anchor for f, m in part.path.items() if f >= middle
    }
    return pan, path
