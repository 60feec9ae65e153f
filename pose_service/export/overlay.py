"""overlay.mp4: the upright video with every tracked person's skeleton and id drawn on it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from pose_service.skeleton import SKELETON_EDGES
from pose_service.tracking.core import Track
from pose_service.video.core import VideoInfo
from pose_service.video.decode import VideoReader
from pose_service.video.encode import VideoWriter

__all__ = ["draw_label", "draw_people", "write_overlay"]

_RIDER_COLOUR = (255, 200, 0)
# Distinct colours for the other people, cycled by track id (RGB).
_PALETTE = [(80, 170, 255), (255, 90, 90), (120, 230, 120), (220, 120, 255), (255, 150, 60), (60, 220, 220)]
_MIN_VISIBILITY = 0.3


def draw_people(rgb: np.ndarray, people: list[tuple[int, bool, np.ndarray]]) -> np.ndarray:
    """Draw each (track id, is rider, keypoints (33, 3) pixels + visibility) on a copy of the frame."""
    out = rgb.copy()
    scale = max(1, round(max(out.shape[:2]) / 640))
    for track_id, is_rider, kp in people:
        colour = _RIDER_COLOUR if is_rider else _PALETTE[track_id % len(_PALETTE)]
        width = (3 if is_rider else 2) * scale
        seen = kp[:, 2] >= _MIN_VISIBILITY
        for a, b in SKELETON_EDGES:
            if seen[a] and seen[b]:
                pa = (int(round(kp[a, 0])), int(round(kp[a, 1])))
                pb = (int(round(kp[b, 0])), int(round(kp[b, 1])))
                cv2.line(out, pa, pb, colour, width, cv2.LINE_AA)
        for x, y, _ in kp[seen]:
            cv2.circle(out, (int(round(x)), int(round(y))), 2 * scale, colour, -1, cv2.LINE_AA)
        pts = kp[seen] if seen.sum() >= 2 else kp
        label = f"#{track_id}" + (" rider" if is_rider else "")
        anchor = (int(pts[:, 0].min()), max(12 * scale, int(pts[:, 1].min()) - 6 * scale))
        cv2.putText(out, label, anchor, cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale, colour, scale, cv2.LINE_AA)
    return out


def draw_label(rgb: np.ndarray, text: str) -> None:
    """Write `text` in the top left corner, light on a dark band, in place."""
    scale = max(1, round(max(rgb.shape[:2]) / 640))
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, scale)
    cv2.rectangle(rgb, (0, 0), (w + 12 * scale, h + base + 12 * scale), (20, 20, 20), -1)
    cv2.putText(rgb, text, (6 * scale, h + 6 * scale), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, _RIDER_COLOUR, scale,
                cv2.LINE_AA)  # fmt: skip


def write_overlay(
    info: VideoInfo,
    tracks: list[Track],
    out: Path,
    *,
    progress: Callable[[int], None] | None = None,
    labels: dict[int, str] | None = None,
) -> int:
    """Decode the clip again and write it with skeletons drawn, keeping each frame's timestamp.

    labels: text for the top left corner by frame index (the jump labels of the analysis).
    """
    by_frame: dict[int, list[tuple[int, bool, np.ndarray]]] = defaultdict(list)
    for t in tracks:
        for frame, kp in zip(t.frames, t.keypoints_2d, strict=True):
            by_frame[int(frame)].append((t.id, t.is_rider, kp))
    written = 0
    with VideoReader(info) as reader, VideoWriter(out, width=info.width, height=info.height, fps=info.fps) as writer:
        for frame in reader:
            image = draw_people(frame.rgb, by_frame.get(frame.index, []))
            if labels and frame.index in labels:
                draw_label(image, labels[frame.index])
            writer.write(image, frame.time_s)
            written += 1
            if progress:
                progress(1)
    return written
