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

from pose_service.tracking.distances import FLIP_INDEX, box_scale

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


def _group_distance(a: np.ndarray, b: np.ndarray, group: tuple[int, ...], min_visibility: float) -> float | None:
    """Median distance of the group's keypoints once each pose is centred on the group's own centroid.

    Centred, because a body moving by about its own shoulder width in a frame would otherwise look like
    a swap; the centroid of a left/right-closed group does not change when its sides are exchanged.
    """
    idx = np.array(group)
    seen = (a[idx, 2] >= min_visibility) & (b[idx, 2] >= min_visibility)
    if seen.sum() < 4:
        return None
    pa, pb = a[idx][seen, :2], b[idx][seen, :2]
    pa, pb = pa - a[idx, :2].mean(axis=0), pb - b[idx, :2].mean(axis=0)
    return float(np.median(np.linalg.norm(pa - pb, axis=1)))


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
    scales = np.array([_scale(k, min_visibility) for k in kp2])
    for group in SWAP_GROUPS.values():
        readings = (kp2, np.stack([_flipped(k, group) for k in kp2]))
        # total[s]: least cost of frames 0..k with frame k read in state s (0 as given, 1 exchanged).
        total = np.array([0.0, _PER_FLIP])
        back = np.zeros((m, 2), dtype=np.int64)
        for k in range(1, m):
            step = np.zeros((2, 2))
            if frames[k] - frames[k - 1] <= max_gap_frames:
                for a in (0, 1):
                    for b in (0, 1):
                        dist = _group_distance(readings[b][k], readings[a][k - 1], group, min_visibility)
                        step[a, b] = (0.0 if dist is None else dist / scales[k - 1]) + switch_cost * (a != b)
            cand = total[:, None] + step  # previous state x this state
            back[k] = np.argmin(cand, axis=0)
            total = cand[back[k], [0, 1]] + np.array([0.0, _PER_FLIP])
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


def _scale(kp: np.ndarray, min_visibility: float) -> float:
    seen = kp[kp[:, 2] >= min_visibility]
    pts = seen if len(seen) >= 2 else kp
    return box_scale(np.array([*pts[:, :2].min(axis=0), *pts[:, :2].max(axis=0)]))
