"""A tracked person read in the frames of a short gap, between two frames where the pose model found them.

While it poses a clip, the second look (`pose.rotated`) searches for a lost person where the tracker's filter
expects them: one frame ahead, from the body's past alone. A small rider in the air against trees moves fast and
changes shape, so the prediction drifts and the search misses; the tracker then fills the gap by interpolation
(`tracking.gaps`), and the rotation, the limbs and the feet there are guesses. Once the clip is posed, each short
gap has readings on both sides, and the body between them lies close to the line from one to the other: the
landmark model given a region there (`RegionLandmarks.find`) reads it. On the real seg6, posed whole, the rider was
gap-filled in 9 of its first kicker's 37 air frames (against trees, blurred); read between, 8 of the 9 were found,
each within 0.15 body sizes of the interpolated hips. What it finds moves with the readings at the gaps' ends: the
same clip posed with the first 10 frames seeded instead of 6, in 3 x 2 tiles too (a change far from the flight),
put those ends a few pixels and 20-40 degrees of turn elsewhere, and 3 of 16 gap frames were read (the landmark
model's presence flag flips between regions a few pixels or 20 degrees apart; turned 40 degrees either way as well,
the readings found put the hips 0.25-0.35 body sizes from the interpolation's, and were refused).

A reading counts where it fits the body expected there (the interpolation's box, its size and its hips) and no
other track holds a body in its place. The pipeline asks for every gap the tracker would fill (`max_interp_s`) in
frames the pose model looked at, and the readings join the track's own before it is finished.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose_service.pose.backfill import Backfill, Reading
from pose_service.pose.region import RegionLandmarks
from pose_service.pose.rotated import _covering, _upright_turn
from pose_service.skeleton import Poses
from pose_service.video import Frame

__all__ = ["FIT_HIPS", "FIT_OVERLAP", "FIT_RESIZE", "Expected", "LookBetween"]

FIT_OVERLAP = 0.3  # a reading's box overlaps the expected box by this much (intersection over union) ...
FIT_RESIZE = 1.6  # ... its longer side is within this factor of the expected one's ...
FIT_HIPS = 0.2  # ... and its hips lie within this many body sizes of the expected hips
_CLUSTER = 60  # needed frames this many apart or fewer are decoded in one pass


@dataclass(frozen=True)
class Expected:
    """A body expected at `frame`: `keypoints_2d` (33, 3), pixels, interpolated between the readings either side of
    the gap; `key` names the track it belongs to."""

    key: int
    frame: int
    keypoints_2d: np.ndarray


class LookBetween:
    """The landmark model reading bodies where they are expected (see the module).

    frames(start, stop): the clip's frames start..stop - 1 (a context manager over `Frame`s; frames before `start`
    may come too and are passed over), as `analysis.contact.read_frames` gives them."""

    def __init__(self, frames: Callable[[int, int], AbstractContextManager[Iterable[Frame]]], bundle: Path) -> None:
        self.stats = Backfill()
        self._read_frames = frames
        self._bundle = bundle
        self._reader: RegionLandmarks | None = None

    def read(self, expected: list[Expected], held: Callable[[int, int, np.ndarray], bool]) -> dict[int, list[Reading]]:
        """Track key -> the readings found for it, in frame order. `held(key, frame, box)` says whether a track
        other than `key` holds a body in that place at that frame (the reading is then not taken)."""
        found: dict[int, list[Reading]] = {}
        wanted = sorted(expected, key=lambda e: (e.frame, e.key))
        start = 0
        while start < len(wanted):
            stop = start + 1
            while stop < len(wanted) and wanted[stop].frame - wanted[stop - 1].frame <= _CLUSTER:
                stop += 1
            cluster = wanted[start:stop]
            rgb = self._frames({e.frame for e in cluster})
            for e in cluster:
                if e.frame not in rgb:
                    continue
                self.stats.frames += 1
                reading = self._read_one(rgb[e.frame], e.keypoints_2d)
                if reading is None or held(e.key, e.frame, reading.bboxes()[0].astype(np.float64)):
                    continue
                found.setdefault(e.key, []).append((e.frame, reading.keypoints_2d[0], reading.keypoints_3d[0]))
            start = stop
        self.stats.tracks += len(found)
        self.stats.found += sum(len(r) for r in found.values())
        return found

    def _read_one(self, rgb: np.ndarray, keypoints_2d: np.ndarray) -> Poses | None:
        """The body read where `keypoints_2d` expect it, or None."""
        box = Poses(keypoints_2d[None], np.zeros((1, 33, 3), np.float32), np.ones(1, np.float32)).bboxes()[0]
        box = box.astype(np.float64)
        size = float(max(box[2] - box[0], box[3] - box[1]))
        if not size > 0:
            return None
        hips = _hips(keypoints_2d)

        def fits(poses: Poses) -> bool:
            got = poses.bboxes()[0]
            side = float(max(got[2] - got[0], got[3] - got[1]))
            near = _covering(poses.bboxes(), box, min_iou=FIT_OVERLAP) is not None
            return (near and size / FIT_RESIZE <= side <= size * FIT_RESIZE
                    and float(np.hypot(*(_hips(poses.keypoints_2d[0]) - hips))) <= FIT_HIPS * size)  # fmt: skip

        got = self._model().find(rgb, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), size,
                                 turn=_upright_turn(keypoints_2d), accept=fits)  # fmt: skip
        return None if got is None else got.poses

    def _model(self) -> RegionLandmarks:
        if self._reader is None:
            self._reader = RegionLandmarks(self._bundle)
        return self._reader

    def _frames(self, wanted: set[int]) -> dict[int, np.ndarray]:
        """The `wanted` frames of the clip (RGB), by index."""
        with self._read_frames(min(wanted), max(wanted) + 1) as frames:
            return {frame.index: frame.rgb for frame in frames if frame.index in wanted}

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def _hips(keypoints_2d: np.ndarray) -> np.ndarray:
    """The hips' centre (2,), pixels."""
    return (np.asarray(keypoints_2d[23, :2], np.float64) + np.asarray(keypoints_2d[24, :2], np.float64)) / 2
