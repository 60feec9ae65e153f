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
the sky, not the snow the board still rides on, or the board's own base in the band (`snow_past_board` reads the
snow just past it).

"Bright" and "colourless" are also measured against the picture's own white (`white_colour`): a phone exposes and
balances its colours for the scene, and an overcast day, shade or a bright sky in the frame puts the snow well under
the level of a sunny run, or tints it. The real clips' whites stand at 196-241 of 255 (seg3's a little blue). Each
clip darkened to 0.7 of its levels (`bench/real_snow.py --exposure 0.7`) put seg6's white at 155, under the fixed
170 the cue once asked for alone, and 2 of the 4 jumps went unfound; with a blue cast (`--tint 0.85,1,1.1`) the
snow's saturation passed 0.2 and 2 went unfound. So the band's colours are first divided by the white's cast, and
snow is at least 170 or `WHITE_SHARE` of a white under 212: the clips the level was measured on keep it (0.75 would
have moved seg3, white 196, to 147, and its mirror image then landed 8 frames late). Not 0.85 of it: the slope a rider
lands on is seldom the brightest snow in the picture (seg6's first landing read 0.83-0.89 of the white of its sunlit
kicker), and darkened, seg6's first landing was read 29 frames early and its second 8 late; at 0.8 they stood 4 early
and 2 late, and no other reading of the variants in `bench/real_snow_variants.py` moved.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pose_service.tracking.core import Track
from pose_service.video import VideoInfo
from pose_service.video.decode import VideoReader, frame_pts

__all__ = [
    "BAND",
    "Ground",
    "ground_shift",
    "read_frames",
    "read_ground",
    "snow_past_board",
    "snow_under_feet",
    "white_colour",
]

BAND = (0.04, 0.14)  # body sizes (the box's longer side) below the lowest foot point: the board, then the snow
_ROWS, _COLUMNS = 5, 9  # sample points in the band: depths x positions across the feet
SNOW_MIN_VALUE = 170  # of 255: snow in daylight is bright ...
SNOW_MAX_SATURATION = 0.2  # ... and colourless (sky: saturated blue; trees: dark)
WHITE_SHARE = 0.8  # ... or, in a darker picture, at least this share of its white (`white_colour`)
_WHITE_MAX_SATURATION = 0.35  # the white: among a frame's pixels this colourless or less (a colour cast and all) ...
_WHITE_PERCENTILE = 95  # ... the median colour of those at or above this percentile of their value ...
_WHITE_STEP = 8  # ... read on every this many pixels' grid
_WHITE_MIN_SHARE = 0.05  # ... where at least this share of them qualify (else unknown)
_WHITE_S = 1.0  # ... and its median over this long either side (a camera that looks at the sky for a moment) ...
_WHITE_RATE = 6.0  # ... of its readings, at most this many a second (a 1080p frame's takes 1-3 ms)
_MAX_CAST = 0.3  # a white more saturated than this is no white (a pale sky filling the picture): unknown
_FEET = slice(27, 33)  # ankles, heels and foot tips (BlazePose)
ROW_BAND = 0.3  # the ground's motion is read this many body sizes above and below the feet's row ...
_ROW_MARGIN = 0.3  # ... outside the person's box widened by this many body sizes either side
_MIN_TILT, _MAX_TILT = np.radians(8.0), np.radians(40.0)  # a rider leaning this far in the picture: the camera rolled
_MIN_POINTS = 5  # points followed from one frame to the next: fewer, the ground's motion is unknown
SHORT_GAP = 2  # gap-filled samples in a run this long or shorter are read too ...
STEADY_FEET = 0.1  # ... where the feet moved less than this many body sizes a frame across the gap
GROUND_SIDE = 640
_BEYOND_DEPTH = 0.5  # body sizes below the lowest foot point: how deep the snow past the board is looked for
_BOARD_COLOUR = 40.0  # RGB levels: pixels this near the colour right under the feet are the board  # the ground's motion is followed in a grey copy subsampled to at most this longer side


def snow_under_feet(
    rgb: np.ndarray, keypoints_2d: np.ndarray, bbox: np.ndarray, *, white: np.ndarray | None = None
) -> float:
    """The share (0-1) of snow pixels beneath the feet in one upright RGB frame; nan when the band lies outside it.

    keypoints_2d: (33, >=2) the person's keypoints in the frame's pixels; bbox: (4,) x0, y0, x1, y1.
    white: the picture's white RGB (`white_colour`; None or nan: unknown, the daylight level `SNOW_MIN_VALUE` alone).
    """
    band = _band(rgb, keypoints_2d, bbox)
    return float("nan") if band is None else _snow_share(band, white)


def _snow_share(px: np.ndarray, white: np.ndarray | None) -> float:
    """The share of RGB points (n, 3) that are snow: bright and colourless once the `white`'s cast is divided out,
    at least `SNOW_MIN_VALUE` or `WHITE_SHARE` of a lower white (its brightest channel)."""
    px, least = _balanced(px, white)
    value = px.max(axis=1)
    return float(np.mean((value > least) & (_saturation(px) < SNOW_MAX_SATURATION)))


def _colourfulness(px: np.ndarray, white: np.ndarray | None) -> float:
    """The median saturation of RGB points (n, 3) once the `white`'s cast is divided out: near 0 on snow, shade and
    grey; 0.3-0.49 where the real clips' riders flew against the sky; a dyed fabric's colour above that."""
    return float(np.median(_saturation(_balanced(px, white)[0])))


def _balanced(px: np.ndarray, white: np.ndarray | None) -> tuple[np.ndarray, float]:
    """The points with the white's cast divided out (as they are where the white is unknown or no white), and the
    value snow reaches in them."""
    if white is not None and np.isfinite(white).all() and _saturation(white) <= _MAX_CAST:
        least = min(SNOW_MIN_VALUE, WHITE_SHARE * float(white.max()))
        return px * (float(white.max()) / np.maximum(white, 1.0)), least
    return px, float(SNOW_MIN_VALUE)


def _saturation(px: np.ndarray) -> np.ndarray:
    """(max - min) / max over the last axis (RGB): 0 for grey and white, 1 for a pure colour."""
    value = px.max(axis=-1)
    return (value - px.min(axis=-1)) / np.maximum(value, 1.0)


def white_colour(rgb: np.ndarray) -> np.ndarray:
    """The picture's white, (3,) RGB: the median colour of its brightest near-colourless pixels (saturation under
    `_WHITE_MAX_SATURATION`, at or above the `_WHITE_PERCENTILE`th percentile of their value: snow, cloud, a white
    jacket, with the picture's colour cast), on a grid of every `_WHITE_STEP`th pixel; nan where under
    `_WHITE_MIN_SHARE` of them qualify (sky and trees only)."""
    px = rgb[::_WHITE_STEP, ::_WHITE_STEP].reshape(-1, 3).astype(np.float32)
    pale = px[_saturation(px) < _WHITE_MAX_SATURATION]
    if len(pale) < max(1, _WHITE_MIN_SHARE * len(px)):
        return np.full(3, np.nan)
    value = pale.max(axis=1)
    return np.median(pale[value >= np.percentile(value, _WHITE_PERCENTILE)], axis=0)


def _band(rgb: np.ndarray, keypoints_2d: np.ndarray, bbox: np.ndarray) -> np.ndarray | None:
    """The RGB (n, 3) of the points sampled in the band beneath the feet, None where the band lies outside the
    frame (or the feet are unknown)."""
    height, width = rgb.shape[:2]
    placed = _under_feet(keypoints_2d, bbox)
    if placed is None:
        return None
    size, xs, lowest = placed
    ys = lowest + size * np.linspace(*BAND, _ROWS)
    x = np.round(xs).astype(int)[None, :].repeat(_ROWS, 0)
    y = np.round(ys).astype(int)[:, None].repeat(_COLUMNS, 1)
    inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
    if inside.mean() < 0.5:
        return None
    return rgb[y[inside], x[inside]].astype(np.float64)


def _under_feet(keypoints_2d: np.ndarray, bbox: np.ndarray) -> tuple[float, np.ndarray, float] | None:
    """Where the ground under the feet is read: the body size (the box's longer side), the `_COLUMNS` x positions
    across the feet (widened to at least 0.1 body sizes either side, and 0.05 more) and the lowest foot point's row;
    None where the feet are unknown."""
    size = float(max(bbox[2] - bbox[0], bbox[3] - bbox[1]))
    feet = np.asarray(keypoints_2d[_FEET, :2], dtype=np.float64)
    if not np.isfinite(feet).all() or size <= 0:
        return None
    half = max(float(np.ptp(feet[:, 0])) / 2, 0.1 * size) + 0.05 * size
    return size, float(feet[:, 0].mean()) + np.linspace(-half, half, _COLUMNS), float(feet[:, 1].max())


def snow_past_board(
    rgb: np.ndarray, keypoints_2d: np.ndarray, bbox: np.ndarray, *, white: np.ndarray | None = None
) -> float:
    """The share (0-1) of snow just past the board beneath the feet in one upright RGB frame (`_beyond_share`); nan
    where the columns under the feet lie outside it. Arguments as `snow_under_feet`'s."""
    columns = _columns(rgb, keypoints_2d, bbox)
    size = float(max(bbox[2] - bbox[0], bbox[3] - bbox[1]))
    return float("nan") if columns is None else _beyond_share(columns, white, size)


def _columns(rgb: np.ndarray, keypoints_2d: np.ndarray, bbox: np.ndarray) -> np.ndarray | None:
    """The RGB (columns, rows, 3) straight down from the band's top (`BAND`) to `_BEYOND_DEPTH` body sizes below the
    lowest foot point, one column per band position across the feet; None where they leave the frame."""
    height, width = rgb.shape[:2]
    placed = _under_feet(keypoints_2d, bbox)
    if placed is None:
        return None
    size, xs, lowest = placed
    x = np.round(xs).astype(int)
    y0 = int(round(lowest + BAND[0] * size))
    y1 = min(int(round(lowest + _BEYOND_DEPTH * size)), height)
    x = x[(x >= 0) & (x < width)]
    if len(x) < _COLUMNS / 2 or y0 < 0 or y1 - y0 < 3:
        return None
    return np.transpose(rgb[y0:y1][:, x], (1, 0, 2)).astype(np.float64)


def _beyond_share(columns: np.ndarray, white: np.ndarray | None, size: float) -> float:
    """The share of snow just past the board: in each column (`_columns`), the pixels of the colour right under the
    feet that are not snow (the board, seen from below as it leaves a lip) skipped, then a band as deep as `BAND`'s
    read; the mean over the columns."""
    px, least = _balanced(columns, white)
    snow = (px.max(axis=-1) > least) & (_saturation(px) < SNOW_MAX_SATURATION)
    board = (np.linalg.norm(columns - columns[:, :1], axis=-1) < _BOARD_COLOUR) & ~snow
    deep = max(1, int(round((BAND[1] - BAND[0]) * size)))
    shares = []
    for c in range(len(columns)):
        run = int(np.argmin(board[c])) if not board[c].all() else len(board[c])
        run = min(run, max(0, len(board[c]) - deep))  # one colour all the way down: its deepest stretch is read
        shares.append(float(snow[c, run : run + deep].mean()))
    return float(np.mean(shares))


def ground_shift(previous: np.ndarray, current: np.ndarray, keypoints_2d: np.ndarray, bbox: np.ndarray) -> float:
    """How far the ground at the feet's depth moved across the picture from one frame to the next, pixels
    (positive: to the right); nan where too little could be followed there.

    The camera's motion from the whole background (`tracking.camera_motion`, one similarity) is the motion of
    what dominates the picture. With a camera travelling beside the rider the near snow, the rider's ground and
    the far trees move at different speeds, even different ways, and the rider's travel against the dominant one
    can come out backwards: on the synthetic fisheye follow-cams the background moved right while the ground at
    the rider's feet moved left, and every fisheye clip's stance was read goofy for regular. On a level ground
    seen by a level camera, a row of the picture is one distance away: the points followed here lie in the rows
    around the feet (`ROW_BAND`), left and right of the person (their median motion). A camera rolled against the
    horizon tilts those rows across distances: on the synthetic rolled follow-cams (22° ± 6°) they ran from the
    near snow to the far slope and the motion read -2 to +2 px a frame on the approach where the unrolled
    follow-cam's read -8 to -17, so no stance was read and a wildcat lost its direction. So where the rider leans
    in the picture (`_tilt`: feet to shoulders, `_MIN_TILT` to `_MAX_TILT` off the vertical; a rider stands
    upright on the approach, the picture's roll leans them) the band runs along the rider's level instead, the
    line across the body through the feet: those clips then read -6 to -17.
    previous, current: two successive upright frames, grey (uint8); keypoints_2d, bbox: the person in `previous`."""
    height, width = current.shape[:2]
    size = float(max(bbox[2] - bbox[0], bbox[3] - bbox[1]))
    feet_y = float(np.max(keypoints_2d[_FEET, 1]))
    if not np.isfinite(feet_y) or size <= 0:
        return float("nan")
    tilt = _tilt(keypoints_2d)
    reach = ROW_BAND * size + abs(np.tan(tilt)) * width
    y0, y1 = int(max(0.0, feet_y - reach)), int(min(float(height), feet_y + reach))
    if y1 - y0 < 8:
        return float("nan")
    # Corners are looked for in the feet's rows only, not over the whole frame (39 ms a 1080p frame): the corner
    # measure reaches 2 rows beyond a pixel and the search for local maxima 1 more, so 4 rows either side of the
    # band give the whole frame's corners there exactly.
    r0, r1 = max(y0 - 4, 0), min(y1 + 4, height)
    mask = np.zeros((r1 - r0, width), np.uint8)
    if tilt:
        feet_x = float(np.nanmean(keypoints_2d[_FEET, 0]))
        ys, xs = np.ogrid[r0:r1, 0:width]
        across = (ys - feet_y) * np.cos(tilt) - (xs - feet_x) * np.sin(tilt)
        mask[np.abs(across) <= ROW_BAND * size] = 255
        mask[: y0 - r0] = 0
        mask[y1 - r0 :] = 0
    else:
        mask[y0 - r0 : y1 - r0] = 255
    mask[:, int(max(0.0, bbox[0] - _ROW_MARGIN * size)) : int(min(float(width), bbox[2] + _ROW_MARGIN * size))] = 0
    found = cv2.goodFeaturesToTrack(previous[r0:r1], 80, 0.01, 5, mask=mask)
    if found is None or len(found) < _MIN_POINTS:
        return float("nan")
    points = np.asarray(found, dtype=np.float32) + np.array([0.0, r0], dtype=np.float32)  # back to frame rows
    moved, status, _ = cv2.calcOpticalFlowPyrLK(previous, current, points, np.empty_like(points), winSize=(15, 15), maxLevel=2)
    ok = status.ravel() == 1
    if ok.sum() < _MIN_POINTS:
        return float("nan")
    return float(np.median(moved[ok, 0, 0] - points[ok, 0, 0]))


def _tilt(keypoints_2d: np.ndarray) -> float:
    """The rider's lean in the picture, radians (positive: the shoulders to the right of the ankles), where it lies
    between `_MIN_TILT` and `_MAX_TILT`; else 0."""
    up = (keypoints_2d[11, :2] + keypoints_2d[12, :2]) / 2 - (keypoints_2d[27, :2] + keypoints_2d[28, :2]) / 2
    if not np.isfinite(up).all() or up[1] >= 0:
        return 0.0
    tilt = float(np.arctan2(up[0], -up[1]))
    return tilt if _MIN_TILT <= abs(tilt) <= _MAX_TILT else 0.0


def _readable(track: Track) -> np.ndarray:
    """Samples whose feet are known well enough to read the ground under: the pose model's own, and gap-filled
    ones in runs of at most `SHORT_GAP` across which the feet moved under `STEADY_FEET` body sizes a frame (the
    straight line filled in is then where they were). seg6's second kicker: BlazePose drew the rider upside
    down on the lip in frames 182-183 (dropped, `tracking.inversion`; the feet moved 0.06 bodies a frame across
    them); left unread, the last snow under the board was 181, six frames before the annotated takeoff. Across
    the synthetic follow-behind cork's one-frame gap at its takeoff the feet jumped 0.28 bodies a frame: read
    there, the filled feet put the takeoff 2 frames later still."""
    filled = track.interpolated
    out = ~filled
    feet = track.keypoints_2d[:, _FEET, :2].mean(axis=1)
    start = None
    for i, gap in enumerate(np.append(filled, False)):
        if gap and start is None:
            start = i
        elif not gap and start is not None:
            if i - start <= SHORT_GAP and start > 0 and i < len(filled):
                box = track.bbox[start - 1]
                size = float(max(box[2] - box[0], box[3] - box[1]))
                steps = float(track.frames[i] - track.frames[start - 1])
                moved = float(np.linalg.norm(feet[i] - feet[start - 1]))
                out[start:i] = size > 0 and moved < STEADY_FEET * size * steps
            start = None
    return out


def read_frames(info: VideoInfo, *, start: int, stop: int) -> VideoReader:
    """Frames start..stop - 1 of the clip, decoded a few ahead on a thread of their own (the pose stage is over and
    the second core idle); from the first frame where the clip's frames have no timestamps to seek by."""
    if start > 0:
        pts = _frame_pts(info, _modified(info.path))
        if pts is not None:
            try:
                return VideoReader(info, prefetch=4, start=start, stop=stop, pts=pts)
            except ValueError:
                pass
    return VideoReader(info, prefetch=4, stop=stop)


def _modified(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


@functools.lru_cache(maxsize=4)
def _frame_pts(info: VideoInfo, modified_ns: int) -> np.ndarray | None:
    """`frame_pts` of a clip (as it was at `modified_ns`), read once for all the windows its jumps ask for: each
    window read went through every packet of the clip again (55 ms a window on sports2d_demo, 1768x994 VP9)."""
    return frame_pts(info)


@dataclass(frozen=True)
class Ground:
    """What lies under a track's feet, per sample: `snow` (`snow_under_feet`), `shift_px` (`ground_shift` from
    the frame before; nan where that frame is not the track's, or unknown), `colour` (the band's colourfulness,
    `_colourfulness`: what a surface that is not snow is made of, an airbag's fabric against the sky) and `beyond`
    (`snow_past_board`: the snow just past a board seen from below, judged against the same white)."""

    snow: np.ndarray
    shift_px: np.ndarray
    colour: np.ndarray
    beyond: np.ndarray


def read_ground(
    info: VideoInfo, track: Track, windows: Sequence[Sequence[int]] | None = None, *, motion: bool = True
) -> Ground:
    """`Ground` for every sample of `track`, read from the video once more (frames outside the track's span are
    skipped undecoded); nan where the pose model did not see the person (gap-filled samples, but for short steady
    gaps: `_readable`) or the band left the picture. The snow is judged against the picture's white around each
    sample (`white_colour`, the median over `_WHITE_S` either side).

    windows: only samples in these frame ranges (first, last; inclusive) are read, the rest left nan. The adaptive
    frame rate's windows (`pose_service.adaptive`): outside them the look found plain riding, the feet on the snow,
    and posed every third frame only, so there is no takeoff or landing to time there. A clip without a window
    is not decoded again at all.

    motion: False leaves the ground's motion under the feet unread (`shift_px` nan), where only what lies under them
    is asked (an airbag's fabric after a still camera's landing): its corners and their flow are most of the pass's
    work on a small clip."""
    snow = np.full(len(track), np.nan)
    shift = np.full(len(track), np.nan)
    colour = np.full(len(track), np.nan)
    beyond = np.full(len(track), np.nan)
    readable = _readable(track) if len(track) else np.zeros(0, dtype=bool)
    if windows is not None:
        inside = np.zeros(len(track), dtype=bool)
        for first, last_in in windows:
            inside |= (track.frames >= first) & (track.frames <= last_in)
        readable &= inside
    if not readable.any():
        return Ground(snow, shift, colour, beyond)
    bands: dict[int, np.ndarray] = {}
    columns: dict[int, np.ndarray] = {}
    white_frames: list[int] = []  # the frames the white was read in, in order, and its readings
    whites: list[np.ndarray] = []
    where = {int(track.frames[i]): i for i in np.flatnonzero(readable)}
    last = max(where)
    # Subsampled as the camera's motion is (`tracking.camera_motion`): on a 1080p clip the corners of the feet's
    # rows and the flow at full size took 1.6 of the pass's 2.1 s (phalp_vid). The snow is read at full size.
    step = max(1, -(-max(info.width, info.height) // GROUND_SIDE))
    previous: np.ndarray | None = None
    white_every = max(1, round(info.fps / _WHITE_RATE))
    with read_frames(info, start=min(where), stop=last + 1) as reader:
        for frame in reader:
            i = where.get(frame.index)
            before = where.get(frame.index - 1)
            grey = None  # greyed once, for this frame's shift and the next one's
            if i is not None:
                # Subsampled, then greyed: the same pixels (each is greyed alone) for a step² of the work.
                if motion:
                    grey = cv2.cvtColor(np.ascontiguousarray(frame.rgb[::step, ::step]), cv2.COLOR_RGB2GRAY)
                band = _band(frame.rgb, track.keypoints_2d[i], track.bbox[i])
                if band is not None:
                    bands[i] = band
                    below = _columns(frame.rgb, track.keypoints_2d[i], track.bbox[i])
                    if below is not None:
                        columns[i] = below
                    if not white_frames or frame.index - white_frames[-1] >= white_every:
                        white_frames.append(frame.index)
                        whites.append(white_colour(frame.rgb))
                if before is not None and previous is not None and grey is not None:
                    kp = track.keypoints_2d[before, :, :2] / step
                    shift[i] = step * ground_shift(previous, grey, kp, track.bbox[before] / step)
            previous = grey
    reach = max(1, round(_WHITE_S * info.fps))
    read_at, read = np.asarray(white_frames), np.asarray(whites).reshape(-1, 3)
    for i, band in bands.items():
        lo = int(np.searchsorted(read_at, track.frames[i] - reach, side="left"))
        near = read[lo : int(np.searchsorted(read_at, track.frames[i] + reach, side="right"))]
        white = np.nanmedian(near, axis=0) if np.isfinite(near).any() else None
        snow[i], colour[i] = _snow_share(band, white), _colourfulness(band, white)
        if i in columns:
            box = track.bbox[i]
            beyond[i] = _beyond_share(columns[i], white, float(max(box[2] - box[0], box[3] - box[1])))
    return Ground(snow, shift, colour, beyond)
