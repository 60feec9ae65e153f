"""angles.csv: one row per frame and tracked person, named columns, degrees."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from pose_service.tracking.core import Track

__all__ = ["write_angles_csv"]


def write_angles_csv(
    path: Path,
    *,
    timestamps_s: list[float],
    tracks: list[Track],
    angle_names: tuple[str, ...],
    angles_by_track: dict[int, np.ndarray],
) -> int:
    """Write the angles of every track, ordered by frame then track id; return the number of rows."""
    rows = []
    for t in tracks:
        for frame, values in zip(t.frames, angles_by_track[t.id], strict=True):
            rows.append((int(frame), t.id, t.is_rider, values))
    rows.sort(key=lambda r: (r[0], r[1]))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["frame", "time_s", "track_id", "is_rider", *angle_names])
        for frame, track_id, is_rider, values in rows:
            cells = ["" if np.isnan(v) else f"{v:.1f}" for v in values]
            writer.writerow([frame, f"{timestamps_s[frame]:.4f}", track_id, int(is_rider), *cells])
    return len(rows)
