"""Frame-to-frame association of people by box overlap: enough for easy clips with stable ids.

A later tracker (motion model, pose and appearance cues) replaces the matching step; the
`IouTracker.update` / `finish` interface stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pose_service.skeleton import Poses
from pose_service.tracking.core import Track

__all__ = ["IouTracker", "iou_matrix"]


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in `a` (n, 4) with every box in `b` (m, 4)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), dtype=np.float32)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0).astype(np.float32)


@dataclass
class _Open:
    id: int
    last_frame: int
    last_box: np.ndarray
    frames: list[int] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    kp2d: list[np.ndarray] = field(default_factory=list)
    kp3d: list[np.ndarray] = field(default_factory=list)

    def add(self, frame: int, box: np.ndarray, poses: Poses, i: int) -> None:
        self.last_frame, self.last_box = frame, box
        self.frames.append(frame)
        self.boxes.append(box)
        self.kp2d.append(poses.keypoints_2d[i])
        self.kp3d.append(poses.keypoints_3d[i])


class IouTracker:
    """Greedy best-overlap matching of each frame's people to the open tracks.

    min_iou: least overlap with a track's last box to continue it.
    max_gap_frames: frames a track may go unseen before it is closed.
    min_frames: tracks seen in fewer frames are dropped at the end as spurious detections.
    """

    def __init__(self, *, min_iou: float = 0.2, max_gap_frames: int = 15, min_frames: int = 5) -> None:
        if not 0.0 < min_iou < 1.0:
            raise ValueError(f"min_iou must be in (0, 1), got {min_iou}")
        if max_gap_frames < 0:
            raise ValueError(f"max_gap_frames must be >= 0, got {max_gap_frames}")
        if min_frames < 1:
            raise ValueError(f"min_frames must be >= 1, got {min_frames}")
        self.min_iou, self.max_gap_frames, self.min_frames = min_iou, max_gap_frames, min_frames
        self._open: list[_Open] = []
        self._closed: list[_Open] = []
        self._next_id = 0

    def update(self, frame: int, poses: Poses) -> None:
        """Add the people found in `frame` (frames must arrive in increasing order)."""
        self._close_stale(frame)
        boxes = poses.bboxes()
        live = [t for t in self._open if t.last_frame < frame]
        overlap = iou_matrix(np.array([t.last_box for t in live]).reshape(-1, 4), boxes)
        taken_tracks: set[int] = set()
        taken_people: set[int] = set()
        # Best overlaps first, so a crowded frame does not hand a person to the wrong track.
        for flat in np.argsort(-overlap, axis=None):
            ti, pi = np.unravel_index(flat, overlap.shape)
            if overlap[ti, pi] < self.min_iou:
                break
            if ti in taken_tracks or pi in taken_people:
                continue
            live[ti].add(frame, boxes[pi], poses, int(pi))
            taken_tracks.add(int(ti))
            taken_people.add(int(pi))
        for pi in range(len(poses)):
            if pi not in taken_people:
                track = _Open(id=self._next_id, last_frame=frame, last_box=boxes[pi])
                self._next_id += 1
                track.add(frame, boxes[pi], poses, pi)
                self._open.append(track)

    def finish(self) -> list[Track]:
        """Close every track; return those long enough, numbered 1.. in order of first appearance."""
        self._closed.extend(self._open)
        self._open = []
        kept = sorted((t for t in self._closed if len(t.frames) >= self.min_frames), key=lambda t: t.frames[0])
        return [
            Track(
                id=n,
                frames=np.asarray(t.frames, dtype=np.int64),
                bbox=np.asarray(t.boxes, dtype=np.float32),
                keypoints_2d=np.asarray(t.kp2d, dtype=np.float32),
                keypoints_3d=np.asarray(t.kp3d, dtype=np.float32),
            )
            for n, t in enumerate(kept, start=1)
        ]

    def _close_stale(self, frame: int) -> None:
        still: list[_Open] = []
        for t in self._open:
            (self._closed if frame - t.last_frame > self.max_gap_frames else still).append(t)
        self._open = still
