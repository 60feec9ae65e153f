"""The forearm drawn over the legs or hidden behind them, read from the picture (`analysis.forearm`): on painted
frames, and from a clip through `ForearmReader`, which decodes only the frames asked for."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pose_service.analysis.forearm import ForearmReader, forearm_shown
from pose_service.tracking.core import Track
from pose_service.video import VideoWriter, probe

RED, BLUE, WHITE = (200, 30, 30), (30, 40, 120), (235, 235, 235)
# A person facing the camera, arms reaching down over the legs (pixels of a 200x200 frame).
POINTS = {11: (120, 50), 12: (80, 50), 13: (135, 95), 14: (65, 95), 15: (108, 150), 16: (92, 150),
          23: (110, 100), 24: (90, 100), 25: (114, 140), 26: (86, 140), 27: (114, 185), 28: (86, 185)}  # fmt: skip


def _keypoints(shift: float = 0.0) -> np.ndarray:
    k = np.zeros((33, 3), np.float32)
    for i, (x, y) in POINTS.items():
        k[i] = (x + shift, y, 1.0)
    return k


def _frame(left_forearm: tuple[int, int, int], right_forearm: tuple[int, int, int], sleeve=RED, legs=BLUE,
           shift: float = 0.0) -> np.ndarray:  # fmt: skip
    """Upper arms in the sleeve's colour, legs in the trousers', each forearm painted last in the given colour:
    the sleeve's (drawn over the legs) or the legs' (the legs hide it)."""
    rgb = np.full((200, 200, 3), WHITE, np.uint8)
    k = _keypoints(shift)
    p = {i: (int(round(k[i, 0])), int(round(k[i, 1]))) for i in POINTS}
    for a, b in ((11, 13), (12, 14)):
        cv2.line(rgb, p[a], p[b], sleeve, 9)
    for a, b in ((23, 25), (25, 27), (24, 26), (26, 28)):
        cv2.line(rgb, p[a], p[b], legs, 11)
    cv2.line(rgb, p[13], p[15], left_forearm, 7)
    cv2.line(rgb, p[14], p[16], right_forearm, 7)
    return rgb


def test_a_forearm_drawn_over_the_legs_is_shown_and_one_they_hide_is_not() -> None:
    rgb = _frame(RED, BLUE)
    k = _keypoints()
    assert forearm_shown(rgb, k, "left") == 1.0
    assert forearm_shown(rgb, k, "right") == 0.0


def test_where_sleeve_and_trousers_match_or_the_arm_leaves_the_picture_the_share_is_unknown() -> None:
    same = _frame(RED, RED, sleeve=RED, legs=(190, 40, 35))  # a red suit: sleeve and legs alike
    assert np.isnan(forearm_shown(same, _keypoints(), "left"))
    k = _keypoints()
    k[15, :2] = (230.0, 150.0)  # the wrist beyond the frame's right edge
    assert np.isnan(forearm_shown(_frame(RED, BLUE), k, "left"))
    k[15, :2] = np.nan
    assert np.isnan(forearm_shown(_frame(RED, BLUE), k, "left"))


def test_the_reader_decodes_the_frames_asked_for_and_leaves_gap_filled_samples_unknown(tmp_path: Path) -> None:
    """A 12-frame clip whose left forearm is drawn over the legs in frames 0-5 and hidden from frame 6, the
    person moving 2 px a frame; a track holding every other frame, one of them gap-filled."""
    path = tmp_path / "arms.mp4"
    with VideoWriter(path, width=200, height=200, fps=30.0, crf=12) as writer:
        for n in range(12):
            writer.write(_frame(RED if n < 6 else BLUE, BLUE, shift=2.0 * n))
    frames = np.arange(0, 12, 2)
    k2 = np.stack([_keypoints(2.0 * f) for f in frames])
    filled = np.zeros(len(frames), bool)
    filled[1] = True  # frame 2
    track = Track(id=1, frames=frames, bbox=np.zeros((len(frames), 4)), keypoints_2d=k2,
                  keypoints_3d=np.zeros_like(k2), interpolated=filled)  # fmt: skip
    reader = ForearmReader(probe(path), track)
    left = reader(np.array([2, 3, 4]), "left")  # frames 4, 6, 8: from the middle of the clip
    assert left[0] > 0.9 and left[1] < 0.1 and left[2] < 0.1
    both = reader(np.arange(len(frames)), "right")
    assert np.isnan(both[1]) and np.nanmax(both) < 0.1  # frame 2 gap-filled: unknown
