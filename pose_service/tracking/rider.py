"""Which tracked person the clip is about.

Each track gets a score, the product of four factors, each near 1 for a typical rider:
- duration: the share of the clip's frames the person is in (a rider is filmed from start to end; a
  passer-by crosses the frame and leaves);
- size: the person's median apparent size against the largest person's (the filmer frames the rider;
  people in the background are small);
- motion: 1 plus the vertical range of the hips in body heights, capped at 2 (a jump or drop lifts and
  lowers the hips by a body height or more; walking and standing barely move them, and sideways travel
  is left out because a panning camera cancels it for the rider while it grows for everyone else);
- centrality: 0.5 plus half the closeness of the person to the middle of the picture (the filmer keeps
  the rider centred).
The product, not a sum: a person who is large but on screen for a moment, or long but tiny, loses.
"""

from __future__ import annotations

import numpy as np

from pose_service.tracking.core import Track

__all__ = ["pick_rider", "rider_scores"]


def _hip_centre(track: Track) -> np.ndarray:
    kp = track.keypoints_2d
    hips = kp[:, [23, 24], :2].mean(axis=1)
    box_centre = (track.bbox[:, :2] + track.bbox[:, 2:]) / 2
    seen = (kp[:, [23, 24], 2] >= 0.3).all(axis=1)
    return np.where(seen[:, None], hips, box_centre)


def rider_scores(
    tracks: list[Track], *, frame_size: tuple[int, int] | None = None, n_frames: int | None = None
) -> dict[int, float]:
    """Track id -> rider score (see the module docstring); `frame_size` is (width, height) in pixels."""
    if not tracks:
        return {}
    n_frames = n_frames or max(int(t.frames[-1]) + 1 for t in tracks if len(t))
    sizes = {
        t.id: float(np.median(np.sqrt(np.maximum(np.prod(t.bbox[:, 2:] - t.bbox[:, :2], axis=1), 1.0)))) for t in tracks
    }
    biggest = max(sizes.values()) or 1.0
    scores: dict[int, float] = {}
    for t in tracks:
        duration = len(t) / max(n_frames, 1)
        size = sizes[t.id] / biggest
        heights = np.maximum(t.bbox[:, 3] - t.bbox[:, 1], 1.0)
        y = _hip_centre(t)[:, 1]
        vertical = (np.percentile(y, 95) - np.percentile(y, 5)) / float(np.median(heights)) if len(t) > 1 else 0.0
        motion = 1.0 + min(float(vertical), 2.0)
        centrality = 1.0
        if frame_size is not None:
            w, h = frame_size
            centre = (t.bbox[:, :2] + t.bbox[:, 2:]) / 2
            off = np.hypot((centre[:, 0] - w / 2) / (w / 2), (centre[:, 1] - h / 2) / (h / 2)) / np.sqrt(2)
            centrality = 0.5 + 0.5 * float(np.clip(1.0 - off.mean(), 0.0, 1.0))
        scores[t.id] = duration * size * motion * centrality
    return scores


def pick_rider(
    tracks: list[Track],
    *,
    frame_size: tuple[int, int] | None = None,
    n_frames: int | None = None,
    override: int | None = None,
) -> int | None:
    """The id of the rider (highest `rider_scores`, or `override` when given); sets each `is_rider`.

    Raises ValueError when `override` names no track.
    """
    if not tracks:
        if override is not None:
            raise ValueError(f"rider {override} is not a track id: no person was tracked")
        return None
    if override is not None:
        if override not in {t.id for t in tracks}:
            raise ValueError(f"rider {override} is not a track id; choose one of {sorted(t.id for t in tracks)}")
        best = override
    else:
        scores = rider_scores(tracks, frame_size=frame_size, n_frames=n_frames)
        best = max(scores, key=lambda k: scores[k])
    for t in tracks:
        t.is_rider = t.id == best
    return best
