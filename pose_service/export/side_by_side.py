"""A side-by-side MP4 of two jumps, aligned at takeoff, with both skeletons and the difference table burned in.

Both clips are decoded once, frame by frame (memory stays flat whatever their length). The output runs on
A's frame rate from `lead_s` before takeoff to `tail_s` after the later landing; at each output time r
(seconds from takeoff) each panel shows its clip's latest frame at or before takeoff + r, so the two
takeoffs fall on the same output frame. Each panel is scaled to a common height; the table sits below.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pose_service.export.overlay import draw_label, draw_people

__all__ = ["write_side_by_side", "cached_side_by_side"]

log = logging.getLogger(__name__)

_MAX_PANEL_H = 720
_ROW_PX = 20
_LEAD_S = 1.0
_TAIL_S = 1.0


def _rider(result: dict[str, Any]) -> dict[int, np.ndarray]:
    """The rider's keypoints (33, 3) by frame index, pixels of the upright picture."""
    track = next((t for t in result.get("tracks", []) if t.get("is_rider")), None)
    if track is None:
        return {}
    return {int(f): np.asarray(kp, dtype=np.float64) for f, kp in zip(track["frames"], track["keypoints_2d"],
                                                                      strict=True)}


def _frames(video: Path) -> Iterator[tuple[float, int, np.ndarray]]:
    from pose_service.video import VideoReader, probe

    with VideoReader(probe(video)) as reader:
        for frame in reader:
            yield frame.time_s, frame.index, frame.rgb


class _Cursor:
    """The latest frame of a stream at or before a time that only moves forward."""

    def __init__(self, frames: Iterator[tuple[float, int, np.ndarray]]) -> None:
        self._frames = frames
        self._next = next(frames, None)
        self.current: tuple[float, int, np.ndarray] | None = None

    def at(self, t: float) -> tuple[float, int, np.ndarray] | None:
        while self._next is not None and (self.current is None or self._next[0] <= t + 1e-6):
            self.current = self._next
            self._next = next(self._frames, None)
        return self.current


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("s", "m"):
        return f"{value:.2f} {unit}"
    if unit == "/10":
        return f"{value:.1f}/10"
    return f"{value:.0f} deg"


def _diff(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("s", "m"):
        return f"{value:+.2f} {unit}"
    if unit == "/10":
        return f"{value:+.1f}"
    return f"{value:+.0f} deg"


def _table(width: int, table: dict[str, Any]) -> np.ndarray:
    """The difference table as an image: metric, A, B, B - A; the most important row highlighted."""
    rows = [m for m in table["metrics"] if m["a"] is not None or m["b"] is not None]
    lines = 2 + len(rows)
    img = np.full((_ROW_PX * (lines + 1), width, 3), 24, dtype=np.uint8)
    cols = [8, int(width * 0.46), int(width * 0.64), int(width * 0.82)]
    font, size = cv2.FONT_HERSHEY_SIMPLEX, 0.42

    def put(text: str, x: int, row: int, colour: tuple[int, int, int] = (230, 230, 230)) -> None:
        cv2.putText(img, text, (x, _ROW_PX * (row + 1) - 5), font, size, colour, 1, cv2.LINE_AA)

    expl = table["explanation"]
    put(expl if len(expl) * 7 < width else expl[: width // 7 - 3] + "...", 8, 0, (255, 200, 0))
    for x, text in zip(cols, ("metric", "A", "B", "B - A"), strict=True):
        put(text, x, 1, (150, 190, 255))
    for i, m in enumerate(rows, start=2):
        colour = (255, 200, 0) if m["key"] == table.get("most_important") else (230, 230, 230)
        put(m["label"][:34], cols[0], i, colour)
        put(_fmt(m["a"], m["unit"]), cols[1], i, colour)
        put(_fmt(m["b"], m["unit"]), cols[2], i, colour)
        put(_diff(m["diff"], m["unit"]), cols[3], i, colour)
    return img


def _panel(rgb: np.ndarray, kp: np.ndarray | None, height: int, label: str) -> np.ndarray:
    image = draw_people(rgb, [(0, True, kp)]) if kp is not None else rgb.copy()
    scale = height / image.shape[0]
    out = cv2.resize(image, (max(2, round(image.shape[1] * scale)), height), interpolation=cv2.INTER_AREA)
    draw_label(out, label)
    return out


def write_side_by_side(
    video_a: Path, result_a: dict[str, Any], jump_a: int,
    video_b: Path, result_b: dict[str, Any], jump_b: int,
    table: dict[str, Any], out: Path,
) -> int:
    """Write the MP4 to `out`; jump_a/jump_b are 1-based. Returns the number of frames written."""
    from pose_service.video import VideoWriter

    ja, jb = result_a["analysis"]["jumps"][jump_a - 1], result_b["analysis"]["jumps"][jump_b - 1]
    ta, tb = float(ja["takeoff_s"]), float(jb["takeoff_s"])
    fps = float(result_a["video"]["fps"]) or 30.0
    height = min(_MAX_PANEL_H, int(result_a["video"]["height"]), int(result_b["video"]["height"]))
    height -= height % 2
    lead = min(_LEAD_S, ta, tb)
    end = max(float(ja["landing_s"]) - ta, float(jb["landing_s"]) - tb) + _TAIL_S
    kps_a, kps_b = _rider(result_a), _rider(result_b)
    cur_a, cur_b = _Cursor(_frames(video_a)), _Cursor(_frames(video_b))
    n_out = int(np.floor((lead + end) * fps)) + 1
    written = 0
    writer = None
    try:
        for i in range(n_out):
            r = -lead + i / fps
            fa, fb = cur_a.at(ta + r), cur_b.at(tb + r)
            if fa is None or fb is None:
                break
            phase = "takeoff" if abs(r) < 0.5 / fps else f"{r:+.2f} s from takeoff"
            pa = _panel(fa[2], kps_a.get(fa[1]), height, f"A  {phase}")
            pb = _panel(fb[2], kps_b.get(fb[1]), height, f"B  {phase}")
            top = np.concatenate([pa, np.full((height, 4, 3), 255, np.uint8), pb], axis=1)
            frame = np.concatenate([top, _table(top.shape[1], table)], axis=0)
            if writer is None:
                writer = VideoWriter(out, width=frame.shape[1], height=frame.shape[0], fps=fps)
            writer.write(frame, i / fps)
            written += 1
    finally:
        if writer is not None:
            writer.close()
    return written


def cached_side_by_side(
    folder: Path,
    a: tuple[str, int],
    b: tuple[str, int],
    videos: tuple[Path, Path],
    results: tuple[Path, Path],
    table: dict[str, Any],
) -> Path:
    """The side-by-side MP4 of two jobs' jumps, rendered once into `folder` and kept there.

    a, b: (job id, jump number); videos: their uploaded clips; results: their result.json files.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{a[0]}-{a[1]}-{b[0]}-{b[1]}.mp4"
    if path.is_file():
        return path
    docs = []
    for result in results:
        with result.open("rb") as f:
            docs.append(json.load(f))
    tmp = path.with_suffix(f".{os.getpid()}.tmp.mp4")
    n = write_side_by_side(videos[0], docs[0], a[1], videos[1], docs[1], b[1], table, tmp)
    tmp.replace(path)
    log.info("side-by-side %s: %d frames", path.name, n)
    return path
