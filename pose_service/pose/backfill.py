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

The readings found are finished as the tracker finishes its own (`finalise_track`: repairs, gaps filled,
smoothing) and put before the track's samples. A reading where another track already holds a body in the same
place stops the search: that is the same person under another number, which `analysis.rider_chain` joins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pose_service.analysis.contact import read_frames
from pose_service.pose.region import Region, RegionLandmarks
from pose_service.pose.rotated import _covering, _upright_turn
from pose_service.skeleton import Poses
from pose_service.tracking.core import Track
from pose_service.tracking.finalise import finalise_track
from pose_service.tracking.tracker import TrackerConfig
from pose_service.video import VideoInfo

__all__ = ["BACK_S", "Backfill", "extend_back"]

log = logging.getLogger(__name__)

BACK_S = 2.0  # how far before a track's first frame its body is looked for
MISS_S = 0.3  # ... until it has not been read for this long (the body hidden for a moment on the way)
MIN_TRACK_S = 0.5  # tracks at least this long are extended (a stray reading is not followed back)
_OVERLAP = 0.15  # a reading's box overlaps the body's last one by this much (intersection over union) ...
_RESIZE = 2.0  # ... and its longer side is within this factor of the last one's
_SAME_PLACE = 0.3  # another track's box overlapping a reading this much holds the same body
_BLOCK = 16  # frames decoded at a time, the latest first (a 1080p frame is 6 MB)


@dataclass
class Backfill:
    """What the look back did: tracks extended, frames read and found."""

    tracks: int = 0
    frames: int = 0
    found: int = 0

    def to_result(self) -> dict[str, int]:
        return {"tracks": self.tracks, "frames": self.frames, "found": self.found}


def extend_back(
    info: VideoInfo, tracks: list[Track], timestamps_s: list[float] | np.ndarray, bundle: Path, config: TrackerConfig
) -> tuple[list[Track], Backfill]:
    """`tracks`, each that starts after the clip's first frame extended back with the body the landmark model reads
    in the frames before it (see the module). `config`: the tracker's finishing settings."""
    stats = Backfill()
    times = np.asarray(timestamps_s, dtype=np.float64)
    todo = {
        id(t) for t in tracks if len(t) and t.frames[0] > 0 and times[t.frames[-1]] - times[t.frames[0]] >= MIN_TRACK_S
    }
    if not todo:
        return tracks, stats
    reader = RegionLandmarks(bundle)
    try:
        out = []
        for track in tracks:
            if id(track) in todo:
                found = _look_back(info, track, tracks, times, reader, stats)
                if found:
                    track = _prepended(track, found, times, config)
                    stats.tracks += 1
                    stats.found += len(found)
            out.append(track)
    finally:
        reader.close()
    if stats.found:
        log.info("look back: %d tracks extended by %d frames (%d frames read)", stats.tracks, stats.found, stats.frames)
    return out, stats


def _look_back(
    info: VideoInfo, track: Track, tracks: list[Track], times: np.ndarray, reader: RegionLandmarks, stats: Backfill
) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(frame, keypoints_2d, keypoints_3d) of the body read before the track's first frame, latest first."""
    first = int(track.frames[0])
    lo = int(np.searchsorted(times, times[first] - BACK_S, side="left"))
    box, keypoints = track.bbox[0].astype(np.float64), track.keypoints_2d[0]
    start: Region | None = None
    last_seen = times[first]
    found: list[tuple[int, np.ndarray, np.ndarray]] = []
    stop = first
    while stop > lo:
        block = _frames(info, max(lo, stop - _BLOCK), stop)
        for frame in range(stop - 1, max(lo, stop - _BLOCK) - 1, -1):
            if last_seen - times[frame] > MISS_S or frame not in block:
                return found
            stats.frames += 1
            size = float(max(box[2] - box[0], box[3] - box[1]))
            got = reader.find(block[frame], ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), size,
                              turn=_upright_turn(keypoints), start=start, accept=_fits(box, size))  # fmt: skip
            if got is None:
                start = None
                continue
            read_box = got.poses.bboxes()[0].astype(np.float64)
            if _held_by_another(tracks, track, frame, read_box):
                return found
            found.append((frame, got.poses.keypoints_2d[0], got.poses.keypoints_3d[0]))
            box, keypoints, start, last_seen = read_box, got.poses.keypoints_2d[0], got.next_region, times[frame]
        stop = max(lo, stop - _BLOCK)
    return found


def _fits(box: np.ndarray, size: float) -> Callable[[Poses], bool]:
    """A reading of the body last read in `box` (longer side `size`): overlapping it, of about its size."""

    def fits(poses: Poses) -> bool:
        got = poses.bboxes()[0]
        side = float(max(got[2] - got[0], got[3] - got[1]))
        near = _covering(poses.bboxes(), box, min_iou=_OVERLAP) is not None
        return near and size / _RESIZE <= side <= size * _RESIZE

    return fits


def _frames(info: VideoInfo, start: int, stop: int) -> dict[int, np.ndarray]:
    """Frames start..stop - 1 of the clip (RGB), by index."""
    out: dict[int, np.ndarray] = {}
    with read_frames(info, start=start, stop=stop) as reader:
        for frame in reader:
            if start <= frame.index < stop:
                out[frame.index] = frame.rgb
    return out


def _held_by_another(tracks: list[Track], track: Track, frame: int, box: np.ndarray) -> bool:
    """Whether another track holds a body at `frame` in the place of `box`."""
    for other in tracks:
        if other is track:
            continue
        at = np.flatnonzero(other.frames == frame)
        if len(at) and _covering(other.bbox[at].astype(np.float64), box, min_iou=_SAME_PLACE) is not None:
            return True
    return False


def _prepended(
    track: Track, found: list[tuple[int, np.ndarray, np.ndarray]], times: np.ndarray, config: TrackerConfig
) -> Track:
    """`track` with the readings `found` (latest first) before it, finished as the tracker finishes a track; the
    track's own first sample goes in too, so a gap between the readings and it is filled as any other."""
    found = found[::-1]
    frames = np.array([f for f, _, _ in found] + [int(track.frames[0])], dtype=np.int64)
    kp2 = np.stack([k for _, k, _ in found] + [track.keypoints_2d[0]]).astype(np.float32)
    kp3 = np.stack([k for _, _, k in found] + [track.keypoints_3d[0]]).astype(np.float32)
    head = finalise_track(track.id, frames, kp2, kp3, times, fix_swaps=config.fix_swaps,
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
