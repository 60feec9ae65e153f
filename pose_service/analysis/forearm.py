"""Whether a grabbing hand's forearm is drawn over the legs or hidden behind them, read from the picture.

Seen from in front of the chest (or from behind the back), the toe edge and the heel edge of the board lie one
behind the other, and only the pose model's depth tells a hand on one from a hand on the other: on the synthetic
grab suite it put the gripping hand anywhere from 0.4 m on the heel side to 0.45 m on the toe side for either
edge. The picture orders them: a hand on the near edge reaches down in front of the legs and its forearm is drawn
over them; a hand on the far edge reaches between or behind them, and the legs hide its forearm. So where the
pose model draws the forearm, its pixels are compared with the same arm's sleeve (the upper arm) and with the
legs: the share of forearm points nearer the sleeve's colour than the legs' says the forearm is shown.

Measured on the synthetic grab suite, front view (the chest towards the camera), a hand's median share over the
7 frames around mid-air: heel-edge grabs 0.01-0.46 (8 of 8 under 0.5), toe-edge grabs 0.74-1.00 in 12 of 14
(a mute and an indy read 0.11 and 0.07: the hand held between the knees). From behind, the near edge is the
heel's and the arm reaching for it is shown (0.60-1.00), but so was the arm reaching past the legs for the toe
edge (0.20-0.94): the back view is left to the depth. Where sleeve and trousers are the same colour (within
`MIN_CONTRAST`) the picture cannot tell, and the share is unknown (nan).
"""

from __future__ import annotations

import numpy as np

from pose_service.analysis.contact import read_frames
from pose_service.tracking.core import Track
from pose_service.video import VideoInfo

__all__ = ["ForearmReader", "MIN_CONTRAST", "forearm_shown"]

MIN_CONTRAST = 40.0  # RGB distance (0-441) between the sleeve's and the legs' mean colours the picture needs
_POINTS = 12  # points sampled along each segment
_SLEEVE = (0.3, 0.8)  # the part of the upper arm (shoulder to elbow) sampled for the sleeve's colour
_FOREARM = (0.2, 0.9)  # ... of the forearm (elbow to wrist): not the joints, where the sleeve may bunch up
_LEG = (0.2, 0.8)  # ... of the thighs and shins
_ARM = {"left": (11, 13, 15), "right": (12, 14, 16)}  # shoulder, elbow, wrist (BlazePose)
_LEGS = ((23, 25), (24, 26), (25, 27), (26, 28))  # hip to knee, knee to ankle, both sides


def _along(rgb: np.ndarray, a: np.ndarray, b: np.ndarray, span: tuple[float, float]) -> np.ndarray | None:
    """The colours (n, 3) of `_POINTS` points from a to b over `span` of the way; None when a point lies outside
    the picture or a keypoint is unknown."""
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return None
    s = np.linspace(span[0], span[1], _POINTS)[:, None]
    points = np.round(a[None, :2] + s * (b[None, :2] - a[None, :2])).astype(int)
    height, width = rgb.shape[:2]
    if (points < 0).any() or (points[:, 0] >= width).any() or (points[:, 1] >= height).any():
        return None
    return rgb[points[:, 1], points[:, 0]].astype(np.float64)


def forearm_shown(rgb: np.ndarray, keypoints_2d: np.ndarray, side: str) -> float:
    """The share (0-1) of the `side` ('left' or 'right') forearm's points whose colour lies nearer that arm's
    sleeve than the legs', in one upright RGB frame with the person's 33 keypoints (pixels); nan where a segment
    leaves the picture or sleeve and legs are too alike to tell apart (`MIN_CONTRAST`)."""
    k = np.asarray(keypoints_2d, dtype=np.float64)
    shoulder, elbow, wrist = (k[i] for i in _ARM[side])
    sleeve = _along(rgb, shoulder, elbow, _SLEEVE)
    forearm = _along(rgb, elbow, wrist, _FOREARM)
    legs = [_along(rgb, k[a], k[b], _LEG) for a, b in _LEGS]
    if sleeve is None or forearm is None or any(leg is None for leg in legs):
        return float("nan")
    sleeve_colour = sleeve.mean(axis=0)
    legs_colour = np.concatenate([leg for leg in legs if leg is not None]).mean(axis=0)
    if np.linalg.norm(sleeve_colour - legs_colour) < MIN_CONTRAST:
        return float("nan")
    to_sleeve = np.linalg.norm(forearm - sleeve_colour, axis=1)
    to_legs = np.linalg.norm(forearm - legs_colour, axis=1)
    return float(np.mean(to_sleeve < to_legs))


class ForearmReader:
    """`forearm_shown` for samples of one track, decoding only the frames asked for (one pass from the first to
    the last of them per call, both forearms read on each): a callable (sample indices, side) -> shares."""

    def __init__(self, info: VideoInfo, track: Track) -> None:
        self.info, self.track = info, track
        self._read: dict[int, dict[str, float]] = {}  # sample -> side -> share

    def __call__(self, samples: np.ndarray, side: str) -> np.ndarray:
        samples = np.asarray(samples, dtype=int)
        # gap-filled samples are left unknown: their arms are a straight line drawn between two readings
        wanted = {int(self.track.frames[i]): int(i) for i in samples
                  if int(i) not in self._read and not self.track.interpolated[i]}  # fmt: skip
        if wanted:
            with read_frames(self.info, start=min(wanted), stop=max(wanted) + 1) as reader:
                for frame in reader:
                    i = wanted.get(frame.index)
                    if i is not None:
                        k = self.track.keypoints_2d[i]
                        self._read[i] = {s: forearm_shown(frame.rgb, k, s) for s in _ARM}
        return np.array([self._read.get(int(i), {}).get(side, float("nan")) for i in samples], dtype=np.float64)
