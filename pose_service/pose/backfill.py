"""A tracked person looked for in the frames before the pose model first found them.

MediaPipe's graph finds a person with a detector keyed to the face, then keeps them from frame to frame by the
landmark model alone; the second look (`pose.rotated`) searches where a tracked person was lost. Neither
searches before a track's first frame, so a rider the detector cannot find on its own is missed until it
happens to: a clip of the real seg1 trimmed to start 14 frames before the takeoff had the rider found only from
33 frames later, in the air, and no jump; the whole clip, where the rider was followed from its first frame, has
the jump to a frame. Given where the body was first found, the landmark model reads it in the frame before
(`RegionLandmarks.find`, as the second look reads a lost body), and that reading tells where to look in the frame
before that, back to `BACK_S` or until the body is not read for `MISS_S`. That trimmed clip: the rider read in
every frame back to its first but three on the lip.

The pipeline asks for each track of `MIN_TRACK_S` or more that starts after the clip's first frame, and
`tracking.extend.prepended` finishes the readings as the tracker finishes its own and puts them before the
track's samples. A reading where another track already holds a body in the same place stops the search
(`tracking.extend.held_by_another`): that is the same person under another number, which the rider's chain joins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose_service.pose.region import Region, RegionLandmarks
from pose_service.pose.rotated import _covering, _upright_turn
from pose_service.skeleton import Poses
from pose_service.video import Frame

__all__ = ["BACK_S", "MIN_TRACK_S", "Backfill", "LookBack", "Reading"]


BACK_S = 2.0  # how far before a track's first frame its body is looked for
MISS_S = 0.3  # ... until it has not been read for this long (the body hidden for a moment on the way)
MIN_TRACK_S = 0.5  # tracks at least this long are extended (a stray reading is not followed back)
_OVERLAP = 0.15  # a reading's box overlaps the body's last one by this much (intersection over union) ...
_RESIZE = 2.0  # ... and its longer side is within this factor of the last one's
_BLOCK = 16  # frames decoded at a time, the latest first (a 1080p frame is 6 MB)


@dataclass
class Backfill:
    """What the look back did: tracks extended, frames read and found."""

    tracks: int = 0
    frames: int = 0
    found: int = 0

    def to_result(self) -> dict[str, int]:
        return {"tracks": self.tracks, "frames": self.frames, "found": self.found}


Reading = tuple[int, np.ndarray, np.ndarray]  # frame, keypoints_2d (33, 3), keypoints_3d (33, 3)


class LookBack:
    """The landmark model reading a person back from where they were first found (see the module).

    frames(start, stop): the clip's frames start..stop - 1 (a context manager over `Frame`s; frames before `start`
    may come too and are passed over), as `analysis.contact.read_frames` gives them. `held(frame, box)` in `read`
    says whether another track holds a body in that place at that frame (the search stops there)."""

    def __init__(
        self,
        frames: Callable[[int, int], AbstractContextManager[Iterable[Frame]]],
        timestamps_s: list[float] | np.ndarray,
        bundle: Path,
    ) -> None:
        self.times = np.asarray(timestamps_s, dtype=np.float64)
        self.stats = Backfill()
        self._read_frames = frames
        self._bundle = bundle
        self._reader: RegionLandmarks | None = None

    def read(self, first: int, box: np.ndarray, keypoints_2d: np.ndarray,
             held: Callable[[int, np.ndarray], bool]) -> list[Reading]:  # fmt: skip
        """The body read in the frames before `first` (where it was found in `box` with `keypoints_2d`), earliest
        first."""
        found = self._read(first, box, keypoints_2d, held)
        if found:
            self.stats.tracks += 1
            self.stats.found += len(found)
        return found[::-1]

    def _read(self, first: int, box: np.ndarray, keypoints_2d: np.ndarray,
              held: Callable[[int, np.ndarray], bool]) -> list[Reading]:  # fmt: skip
        """`read`'s readings, latest first."""
        times = self.times
        lo = int(np.searchsorted(times, times[first] - BACK_S, side="left"))
        box, keypoints = np.asarray(box, dtype=np.float64), keypoints_2d
        start: Region | None = None
        last_seen = times[first]
        found: list[Reading] = []
        stop = first
        while stop > lo:
            block = self._frames(max(lo, stop - _BLOCK), stop)
            for frame in range(stop - 1, max(lo, stop - _BLOCK) - 1, -1):
                if last_seen - times[frame] > MISS_S or frame not in block:
                    return found
                self.stats.frames += 1
                size = float(max(box[2] - box[0], box[3] - box[1]))
                got = self._model().find(block[frame], ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), size,
                                         turn=_upright_turn(keypoints), start=start, accept=_fits(box, size))  # fmt: skip
                if got is None:
                    start = None
                    continue
                read_box = got.poses.bboxes()[0].astype(np.float64)
                if held(frame, read_box):
                    return found
                found.append((frame, got.poses.keypoints_2d[0], got.poses.keypoints_3d[0]))
                box, keypoints, start, last_seen = read_box, got.poses.keypoints_2d[0], got.next_region, times[frame]
            stop = max(lo, stop - _BLOCK)
        return found

    def _model(self) -> RegionLandmarks:
        if self._reader is None:
            self._reader = RegionLandmarks(self._bundle)
        return self._reader

    def _frames(self, start: int, stop: int) -> dict[int, np.ndarray]:
        """Frames start..stop - 1 of the clip (RGB), by index."""
        with self._read_frames(start, stop) as frames:
            return {frame.index: frame.rgb for frame in frames if start <= frame.index < stop}

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def _fits(box: np.ndarray, size: float) -> Callable[[Poses], bool]:
    """A reading of the body last read in `box` (longer side `size`): overlapping it, of about its size."""

    def fits(poses: Poses) -> bool:
        got = poses.bboxes()[0]
        side = float(max(got[2] - got[0], got[3] - got[1]))
        near = _covering(poses.bboxes(), box, min_iou=_OVERLAP) is not None
        return near and size / _RESIZE <= side <= size * _RESIZE

    return fits
