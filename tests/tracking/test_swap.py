"""fix_left_right, vectorised over frames, against the frame-by-frame reference it replaced."""

from __future__ import annotations

import numpy as np
import pytest

from pose_service.tracking.distances import FLIP_INDEX, box_scale
from pose_service.tracking.swap import SWAP_GROUPS, fix_left_right


def _reference(frames: np.ndarray, kp2: np.ndarray, kp3: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The loop version (one frame, one group, one pair of readings at a time), defaults as fix_left_right."""
    switch_cost, max_gap, max_swap, vis, per_flip = 0.3, 10, 30, 0.3, 1e-4
    kp2, kp3 = kp2.astype(np.float32).copy(), kp3.astype(np.float32).copy()
    m = len(frames)
    repaired = np.zeros(m, dtype=bool)

    def flipped(kp: np.ndarray, group: tuple[int, ...]) -> np.ndarray:
        out, idx = kp.copy(), np.array(group)
        out[idx] = kp[FLIP_INDEX[idx]]
        return out

    def distance(a: np.ndarray, b: np.ndarray, group: tuple[int, ...]) -> float | None:
        idx = np.array(group)
        seen = (a[idx, 2] >= vis) & (b[idx, 2] >= vis)
        if seen.sum() < 4:
            return None
        pa, pb = a[idx][seen, :2] - a[idx, :2].mean(axis=0), b[idx][seen, :2] - b[idx, :2].mean(axis=0)
        return float(np.median(np.linalg.norm(pa - pb, axis=1)))

    def scale(kp: np.ndarray) -> float:
        seen = kp[kp[:, 2] >= vis]
        pts = seen if len(seen) >= 2 else kp
        return box_scale(np.array([*pts[:, :2].min(axis=0), *pts[:, :2].max(axis=0)]))

    scales = np.array([scale(k) for k in kp2])
    for group in SWAP_GROUPS.values():
        readings = (kp2, np.stack([flipped(k, group) for k in kp2]))
        total, back = np.array([0.0, per_flip]), np.zeros((m, 2), dtype=np.int64)
        for k in range(1, m):
            step = np.zeros((2, 2))
            if frames[k] - frames[k - 1] <= max_gap:
                for a in (0, 1):
                    for b in (0, 1):
                        d = distance(readings[b][k], readings[a][k - 1], group)
                        step[a, b] = (0.0 if d is None else d / scales[k - 1]) + switch_cost * (a != b)
            cand = total[:, None] + step
            back[k] = np.argmin(cand, axis=0)
            total = cand[back[k], [0, 1]] + np.array([0.0, per_flip])
        states = np.zeros(m, dtype=np.int64)
        states[-1] = int(np.argmin(total))
        for k in range(m - 1, 0, -1):
            states[k - 1] = back[k, states[k]]
        edges = np.diff(np.concatenate([[0], states, [0]]))
        for start, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
            if start == 0 or stop == m or stop - start > max_swap:
                continue
            for k in range(start, stop):
                kp2[k], kp3[k] = flipped(kp2[k], group), flipped(kp3[k], group)
                repaired[k] = True
    for k in np.flatnonzero(repaired):
        if k == 0 or frames[k] - frames[k - 1] > max_gap:
            continue
        mirrored = kp3[k] * np.array([1.0, 1.0, -1.0], dtype=np.float32)
        if np.linalg.norm(mirrored - kp3[k - 1], axis=1).mean() < np.linalg.norm(kp3[k] - kp3[k - 1], axis=1).mean():
            kp3[k] = mirrored
    return kp2, kp3, repaired


def _walking_track(seed: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A body drifting across the picture with jitter, some joints unseen, gaps, and swapped runs."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(-60, 60, size=(33, 2))
    base[1:33:2, 0] -= 25  # left and right sides apart
    base[2:33:2, 0] += 25
    drift = np.cumsum(rng.normal(3.0, 2.0, size=(m, 2)), axis=0)
    kp2 = np.zeros((m, 33, 3), dtype=np.float32)
    kp2[:, :, :2] = base + drift[:, None, :] + 400 + rng.normal(0, 2.0, size=(m, 33, 2))
    kp2[:, :, 2] = rng.uniform(0.0, 1.0, size=(m, 33)) ** 0.3
    kp3 = rng.normal(0, 0.3, size=(m, 33, 3)).astype(np.float32)
    for start in rng.integers(1, m - 10, size=4):  # the model's swaps: a few frames read mirrored
        for k in range(start, start + int(rng.integers(1, 8))):
            group = np.array(list(SWAP_GROUPS.values())[int(rng.integers(0, 3))])
            kp2[k, group] = kp2[k, FLIP_INDEX[group]]
    frames = np.cumsum(rng.choice([1, 1, 1, 1, 2, 15], size=m))
    return frames, kp2, kp3


@pytest.mark.parametrize("seed", range(6))
def test_vectorised_repair_is_the_reference_repair(seed: int) -> None:
    frames, kp2, kp3 = _walking_track(seed, 120 + 40 * seed)
    got = fix_left_right(frames, kp2, kp3)
    want = _reference(frames, kp2, kp3)
    assert want[2].any()  # the case exercises repairs
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


def test_short_and_unseen_tracks() -> None:
    # One frame: nothing to compare. All joints unseen: no distance, nothing repaired.
    frames, kp2, kp3 = _walking_track(0, 30)
    assert not fix_left_right(frames[:1], kp2[:1], kp3[:1])[2].any()
    kp2[:, :, 2] = 0.0
    got, want = fix_left_right(frames, kp2, kp3), _reference(frames, kp2, kp3)
    assert not got[2].any() and not want[2].any()
