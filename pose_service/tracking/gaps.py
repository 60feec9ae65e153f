"""Detector gaps inside a track: short ones filled by interpolation and marked, long ones left empty."""

from __future__ import annotations

import numpy as np

__all__ = ["fill_short_gaps"]


def fill_short_gaps(
    frames: np.ndarray,
    series: dict[str, np.ndarray],
    times_s: np.ndarray,
    *,
    max_gap_s: float,
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Frames, series and an `interpolated` mask with every gap of at most `max_gap_s` filled in.

    frames: (m,) increasing frame indices where the person was seen.
    series: name -> (m, ...) arrays, one row per seen frame; filled linearly in time.
    times_s: timestamps of every decoded frame (indexed by frame index), so variable frame rates
        interpolate by real time.
    A gap's length is the time from the last frame seen to the next, minus one frame period: a single
    missing frame at 30 fps is a gap of 1/30 s.
    """
    frames = np.asarray(frames, dtype=np.int64)
    if len(frames) < 2:
        return frames, {k: v.copy() for k, v in series.items()}, np.zeros(len(frames), dtype=bool)
    out_frames: list[int] = [int(frames[0])]
    out_rows: dict[str, list[np.ndarray]] = {k: [v[0]] for k, v in series.items()}
    interp: list[bool] = [False]
    for k in range(1, len(frames)):
        a, b = int(frames[k - 1]), int(frames[k])
        missing = b - a - 1
        if missing > 0:
            period = (times_s[b] - times_s[a]) / (b - a)
            if times_s[b] - times_s[a] - period <= max_gap_s + 1e-9:
                for f in range(a + 1, b):
                    w = (times_s[f] - times_s[a]) / max(times_s[b] - times_s[a], 1e-9)
                    out_frames.append(f)
                    interp.append(True)
                    for name, v in series.items():
                        out_rows[name].append((1 - w) * v[k - 1] + w * v[k])
        out_frames.append(b)
        interp.append(False)
        for name, v in series.items():
            out_rows[name].append(v[k])
    filled = {name: np.asarray(rows, dtype=series[name].dtype) for name, rows in out_rows.items()}
    return np.asarray(out_frames, dtype=np.int64), filled, np.asarray(interp, dtype=bool)
