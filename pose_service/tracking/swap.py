"""Left/right consistency inside a track.

BlazePose reads a body seen from behind as if it faced the camera now and then: left and right change
places between two frames while the joints themselves barely move. Real joints move continuously, so a
frame whose left/right-exchanged reading lies much closer to the previous frame than its own reading is
taken as swapped and exchanged back. Arms and legs are judged separately (the model sometimes swaps one
pair only). In 3D a swap goes with the body's depth being mirrored (a back taken for a front), so the
repaired 3D pose also gets its depth mirrored when that makes it continuous with the frame before.
"""

from __future__ import annotations

import numpy as np

from pose_service.tracking.distances import FLIP_INDEX

__all__ = ["SWAP_GROUPS", "fix_left_right"]

# Keypoint groups judged independently: face, arms (shoulders down), legs (hips down).
SWAP_GROUPS: dict[str, tuple[int, ...]] = {
    "face": tuple(range(1, 11)),
    "arms": tuple(range(11, 23)),
    "legs": tuple(range(23, 33)),
}


# A tie-breaker only: between two answers of equal continuity, the one that exchanges fewer frames.
_PER_FLIP = 1e-4


def _flipped(kp: np.ndarray, group: tuple[int, ...]) -> np.ndarray:
    out = kp.copy()
    idx = np.array(group)
    out[idx] = kp[FLIP_INDEX[idx]]
    return out


def _group_distances(a: np.ndarray, b: np.ndarray, group: tuple[int, ...], min_visibility: float) -> np.ndarray:
    """Per row, the median distance of the group's keypoints once each pose is centred on the group's own
    centroid; NaN where fewer than 4 keypoints are seen in both. a, b: (m, 33, 3).

    Centred, because a body moving by about its own shoulder width in a frame would otherwise look like
    a swap; the centroid of a left/right-closed group does not change when its sides are exchanged.
    """
    idx = np.array(group)
    ga, gb = a[:, idx], b[:, idx]
    seen = (ga[:, :, 2] >= min_visibility) & (gb[:, :, 2] >= min_visibility)
    pa = ga[:, :, :2] - ga[:, :, :2].mean(axis=1, keepdims=True)
    pb = gb[:, :, :2] - gb[:, :, :2].mean(axis=1, keepdims=True)
    dist = np.linalg.norm(pa - pb, axis=2)
    # The median over the seen keypoints of each row: unseen ones sort last (inf), the middle is picked by
    # count. A NaN among the seen (a keypoint without coordinates) makes the row's median NaN, as np.median.
    n_seen = seen.sum(axis=1)
    ordered = np.sort(np.where(seen, dist, np.inf), axis=1)
    rows = np.arange(len(ordered))
    lo = ordered[rows, np.maximum((n_seen - 1) // 2, 0)]
    hi = ordered[rows, np.maximum(n_seen // 2, 0)]
    median = np.where(n_seen % 2 == 1, hi, (lo + hi) / 2)
    median = np.where(np.isnan(np.where(seen, dist, 0.0)).any(axis=1), np.nan, median)
    return np.where(n_seen >= 4, median, np.nan)


def fix_left_right(
    frames: np.ndarray,
    keypoints_2d: np.ndarray,
    keypoints_3d: np.ndarray,
    *,
    switch_cost: float = 0.3,
    max_gap_frames: int = 10,
    max_swap_frames: int = 30,
    min_visibility: float = 0.3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Repaired copies of one track's keypoints and a (m,) bool array of the frames that were repaired.

    frames: (m,) frame indices; keypoints_2d, keypoints_3d: (m, 33, 3) as in `Track`.
    Per group, the reading (as given, or exchanged) of every frame is chosen at once by dynamic
    programming (Viterbi): the sum over consecutive frames of how far the group's shape moves, in body
    scales, plus `switch_cost` each time the reading changes between frames (the model swaps rarely, so
    a frame where both readings fit about as well, as in a side view, is left alone). Of two equally
    continuous answers the one that exchanges fewer frames wins. Decided over the whole track, one odd
    frame cannot flip everything after it. Only runs of exchanged frames that start and end inside the
    track and last at most `max_swap_frames` are applied.
    Continuity says nothing across a gap longer than `max_gap_frames`.
    """
    m = len(frames)
    kp2 = np.array(keypoints_2d, dtype=np.float32, copy=True)
    kp3 = np.array(keypoints_3d, dtype=np.float32, copy=True)
    repaired = np.zeros(m, dtype=bool)
    if m < 2:
        return kp2, kp3, repaired
    scales = _scales(kp2, min_visibility)
    near = np.diff(frames) <= max_gap_frames  # (m-1,): continuity holds between frames k-1 and k
    for group in SWAP_GROUPS.values():
        idx = np.array(group)
        flipped = kp2.copy()
        flipped[:, idx] = kp2[:, FLIP_INDEX[idx]]
        readings = (kp2, flipped)
        # step[k-1, a, b]: cost of frame k-1 read in state a followed by frame k in state b (0 as given,
        # 1 exchanged), for all k at once; a missing distance costs nothing.
        step = np.zeros((m - 1, 2, 2))
        for a in (0, 1):
            for b in (0, 1):
                dist = _group_distances(readings[b][1:], readings[a][:-1], group, min_visibility)
                cost = np.where(np.isnan(dist), 0.0, dist / scales[:-1]) + switch_cost * (a != b)
                step[:, a, b] = np.where(near, cost, 0.0)
        # Viterbi over the frames: total[s] is the least cost of frames 0..k with frame k read in state s.
        steps = step.tolist()
        t0, t1 = 0.0, _PER_FLIP
        back = np.zeros((m, 2), dtype=np.int64)
        back_rows = back.tolist()
        for k in range(1, m):
            (s00, s01), (s10, s11) = steps[k - 1]
            c00, c10 = t0 + s00, t1 + s10  # into state 0 from 0, from 1
            c01, c11 = t0 + s01, t1 + s11  # into state 1
            b0 = 1 if c10 < c00 else 0
            b1 = 1 if c11 < c01 else 0
            back_rows[k] = [b0, b1]
            t0 = c10 if b0 else c00
            t1 = (c11 if b1 else c01) + _PER_FLIP
        back = np.array(back_rows, dtype=np.int64)
        total = np.array([t0, t1])
        states = np.zeros(m, dtype=np.int64)
        states[-1] = int(np.argmin(total))
        for k in range(m - 1, 0, -1):
            states[k - 1] = back[k, states[k]]
        for start, stop in _runs(states):
            # Only a swap the model made and undid is repaired: a run touching the track's start or end
            # has no trustworthy reference, and a long one is more likely a misreading of continuity.
            if start == 0 or stop == m or stop - start > max_swap_frames:
                continue
            for k in range(start, stop):
                kp2[k], kp3[k] = _flipped(kp2[k], group), _flipped(kp3[k], group)
                repaired[k] = True
    for k in np.flatnonzero(repaired):
        if k == 0 or frames[k] - frames[k - 1] > max_gap_frames:
            continue
        mirrored = kp3[k] * np.array([1.0, 1.0, -1.0], dtype=np.float32)
        before = kp3[k - 1]
        if np.linalg.norm(mirrored - before, axis=1).mean() < np.linalg.norm(kp3[k] - before, axis=1).mean():
            kp3[k] = mirrored
    return kp2, kp3, repaired


def _runs(states: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of every run of 1s in `states`."""
    edges = np.diff(np.concatenate([[0], states, [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def _scales(kp: np.ndarray, min_visibility: float) -> np.ndarray:
    """(m,) body scale of each frame's pose (`box_scale` of its seen keypoints, all when fewer than 2)."""
    seen = kp[:, :, 2] >= min_visibility
    use = np.where((seen.sum(axis=1) >= 2)[:, None], seen, True)
    xy = kp[:, :, :2]
    lo = np.where(use[:, :, None], xy, np.inf).min(axis=1)
    hi = np.where(use[:, :, None], xy, -np.inf).max(axis=1)
    # Differences in the keypoints' own precision, the product in float64, as `box_scale` does.
    w = np.maximum(hi[:, 0] - lo[:, 0], 1.0).astype(np.float64)
    h = np.maximum(hi[:, 1] - lo[:, 1], 1.0).astype(np.float64)
    return np.sqrt(w * h)
