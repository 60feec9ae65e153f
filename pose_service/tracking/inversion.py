"""Readings of a body the wrong way up for a frame or two, found so they can be dropped.

BlazePose now and then reads a person upside down for one to three frames: the feet drawn where the hands
are and the hands at the feet. On the real snowboard clips it does so to a small rider against bright sky
and at a kicker's lip (seg6: seven readings, two of them the frames before the second takeoff, where the
"feet" then stand in the sky and the snow under them reads as gone). A body cannot do that: the
feet-to-shoulders direction that turns by more than `TURNED_DEG` and comes back within `AGREE_DEG` inside
`MAX_SPAN_S` would turn at over 1,000 degrees a second, several times the fastest double flip. Such
readings are dropped before the gaps are filled, so the frames are interpolated from the readings around
them and marked as such. The span alone bounds a run (at 30 fps up to five readings, at 60 fps eleven): seg6
written again (H.264, CRF 20) read the rider upside down for four frames on the second lip, 180-183, which a
limit of three readings kept.
"""

from __future__ import annotations

import numpy as np

__all__ = ["AGREE_DEG", "MAX_SPAN_S", "TURNED_DEG", "upside_down"]

TURNED_DEG = 120.0  # a reading this far from the readings on both sides of it ...
AGREE_DEG = 60.0  # ... which agree with each other within this ...
MAX_SPAN_S = 0.2  # ... and lie at most this far apart in time
_SHOULDERS, _ANKLES = [11, 12], [27, 28]


def body_axis_deg(keypoints_2d: np.ndarray) -> np.ndarray:
    """(m,) the picture angle of the ankles-to-shoulders direction, degrees (0: upright, 180: upside down).

    keypoints_2d: (m, 33, >=2). Visibility is not asked: an inverted reading often calls one ankle hidden, and
    the model places every point anyway.
    """
    kp = np.asarray(keypoints_2d, dtype=np.float64)
    up = kp[:, _SHOULDERS, :2].mean(axis=1) - kp[:, _ANKLES, :2].mean(axis=1)
    return np.degrees(np.arctan2(up[:, 0], -up[:, 1]))


def _apart(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def upside_down(frames: np.ndarray, keypoints_2d: np.ndarray, times_s: np.ndarray) -> np.ndarray:
    """(m,) bool: the readings of one track's body the wrong way up, as the module describes.

    frames: (m,) increasing frame indices; keypoints_2d: (m, 33, >=2); times_s: the timestamp of every
    decoded frame, indexed by frame index. A reading is judged against the nearest readings before and after
    a run that fits inside `MAX_SPAN_S`; the track's first and last readings are never judged.
    """
    frames = np.asarray(frames, dtype=np.int64)
    angle = body_axis_deg(keypoints_2d)
    out = np.zeros(len(frames), dtype=bool)
    a = 1
    while a < len(frames) - 1:
        before = angle[a - 1]
        if not _apart(angle[a], before) > TURNED_DEG:  # most readings: no turn from the one before, no run starts
            a += 1
            continue
        for b in range(a, len(frames) - 1):
            if times_s[frames[b + 1]] - times_s[frames[a - 1]] > MAX_SPAN_S:
                break  # the runs only grow longer from here
            after = angle[b + 1]
            run = angle[a : b + 1]
            if (
                np.isfinite(before)
                and np.isfinite(after)
                and np.isfinite(run).all()
                and _apart(before, after) <= AGREE_DEG
                and all(_apart(x, before) > TURNED_DEG and _apart(x, after) > TURNED_DEG for x in run)
            ):
                out[a : b + 1] = True
                a = b + 1
                break
        a += 1
    return out
