"""Is there snow right under the rider's feet? A cue for takeoff and landing that a moving camera cannot fake.

A follow-cam tilts and travels with the rider, so the rider's height in the picture (even with the background's
motion taken out: the trees behind a low camera have parallax) shows a fraction of the real flight: on the
real snowboard clips the stabilised hips fall at 0.1-0.5 g through the air. What the camera cannot change is
what lies under the feet. On the snow, the pixels just beyond the feet are snow: bright and colourless. In the
air they are sky, trees, a distant valley, or snow seen well below the board.

Per sample of a track: the share of snow pixels in a band beneath the lowest foot keypoint (image down), from
`BAND` body sizes below it, across the feet's width. Measured on the real clips (`bench/real_snow.py`), the
share is near 1 on the run-in and the landing and near 0 through every flight; it flips within a frame or two
of the annotated takeoffs and landings. Its failures are known and left to the caller: snow in the rider's own
shadow is too dark (a low sun behind the rider), and a camera below a kicker's lip sees the lip's edge against
the sky, not the snow the board still rides on.
"""

from __future__ import annotations

import numpy as np

from pose_service.tracking.core import Track
from pose_service.video import VideoInfo
from pose_service.video.decode import VideoReader

__all__ = ["BAND", "snow_under_feet", "ground_contact"]

BAND = (0.04, 0.14)  # body sizes (the box's longer side) below the lowest foot point: the board, then the snow
_ROWS, _COLUMNS = 5, 9  # sample points in the band: depths x positions across the feet
SNOW_MIN_VALUE = 170  # of 255: snow in daylight is bright ...
SNOW_MAX_SATURATION = 0.2  # ... and colourless (sky: saturated blue; trees: dark)
_FEET = slice(27, 33)  # ankles, heels and foot tips (BlazePose)


def snow_under_feet(rgb: np.ndarray, keypoints_2d: np.ndarray, bbox: np.ndarray) -> float:
    """The share (0-1) of snow pixels beneath the feet in one upright RGB frame; nan when the band lies outside it.

    keypoints_2d: (33, >=2) the person's keypoints in the frame's pixels; bbox: (4,) x0, y0, x1, y1.
    """
    height, width = rgb.shape[:2]
    size = float(max(bbox[2] - bbox[0], bbox[3] - bbox[1]))
    feet = np.asarray(keypoints_2d[_FEET, :2], dtype=np.float64)
    if not np.isfinite(feet).all() or size <= 0:
        return float("nan")
    half = max(float(np.ptp(feet[:, 0])) / 2, 0.1 * size) + 0.05 * size
    xs = float(feet[:, 0].mean()) + np.linspace(-half, half, _COLUMNS)
    ys = float(feet[:, 1].max()) + size * np.linspace(*BAND, _ROWS)
    x = np.round(xs).astype(int)[None, :].repeat(_ROWS, 0)
    y = np.round(ys).astype(int)[:, None].repeat(_COLUMNS, 1)
    inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
    if inside.mean() < 0.5:
        return float("nan")
    px = rgb[y[inside], x[inside]].astype(np.float64)  # (n, 3)
    value = px.max(axis=1)
    saturation = (value - px.min(axis=1)) / np.maximum(value, 1.0)
    return float(np.mean((value > SNOW_MIN_VALUE) & (saturation < SNOW_MAX_SATURATION)))


def ground_contact(info: VideoInfo, track: Track) -> np.ndarray:
    """(m,) `snow_under_feet` for every sample of `track`, read from the video once more (frames outside the
    track's span are skipped undecoded at the end); nan where the pose model did not see the person (gap-filled
    samples) or the band left the picture."""
    out = np.full(len(track), np.nan)
    if len(track) == 0:
        return out
    where = {int(f): i for i, f in enumerate(track.frames) if not track.interpolated[i]}
    last = int(track.frames[-1])
    with VideoReader(info) as reader:
        for frame in reader:
            if frame.index > last:
                break
            i = where.get(frame.index)
            if i is not None:
                out[i] = snow_under_feet(frame.rgb, track.keypoints_2d[i], track.bbox[i])
    return out
