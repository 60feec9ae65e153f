"""The video stage's types: what the probe learned about a file, and one decoded frame."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["VideoInfo", "Frame"]


@dataclass(frozen=True)
class VideoInfo:
    """What `probe` found in a file, checked against the limits.

    width, height: pixels of the upright picture (after `rotation_deg` is applied);
    coded_width, coded_height: as stored in the stream.
    rotation_deg: clockwise rotation (0, 90, 180, 270) that turns the stored picture upright,
        the convention of the `rotate` tag phones write (a portrait iPhone clip says 90).
    fps: average frame rate; fps_varies: True when frame durations differ by more than 10 %.
    frame_count: video packets counted in the file (exact, not the header's estimate).
    """

    path: Path
    container: str
    codec: str
    width: int
    height: int
    coded_width: int
    coded_height: int
    rotation_deg: int
    fps: float
    fps_varies: bool
    frame_count: int
    duration_s: float
    size_bytes: int

    @property
    def name(self) -> str:
        return self.path.name

    def to_result(self) -> dict[str, Any]:
        """The `video` block of result.json."""
        return {
            "name": self.name,
            "width": self.width,
            "height": self.height,
            "fps": round(self.fps, 4),
            "frame_count": self.frame_count,
            "duration_s": round(self.duration_s, 4),
            "rotation_deg": self.rotation_deg,
            "codec": self.codec,
            "container": self.container,
            "fps_varies": self.fps_varies,
        }


@dataclass(frozen=True)
class Frame:
    """One decoded frame: index in decode order, presentation time from the clip's start, upright RGB.

    rgb: (height, width, 3) uint8, upright.
    """

    index: int
    time_s: float
    rgb: np.ndarray
