"""`render_clip`: a synthetic rider doing one trick, encoded as H.264, with its exact ground truth."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pose_service.errors import BadOption
from pose_service.synth.body import BOARD_FACES, BOARD_PARTS, PosedBody, load_rider, pose_body
from pose_service.synth.camera_path import MOVING_SPEED_M_S, check_camera_kind, make_camera_path
from pose_service.synth.grab import apply_grab, grab_truth
from pose_service.synth.motion import VIEW_YAW_DEG, Timeline, apex_height, make_motion, make_timeline
from pose_service.synth.moving import encode_moving
from pose_service.synth.render import (
    SUPERSAMPLE,
    Backdrop,
    Camera,
    downsample,
    draw_mesh,
    draw_shadow,
    layout_camera,
    part_colors,
)
from pose_service.synth.spec import AIRBAG_TOP_M, TrickSpec
from pose_service.synth.truth import build_truth, truth_path_for, write_truth
from pose_service.synth.world import World
from pose_service.video.encode import VideoWriter

__all__ = ["render_clip", "VIEWS", "ORBIT_VIEWS", "TINY_RIDER_PX"]

log = logging.getLogger(__name__)

# Three-quarter views: the rider as in the front or back view, the still camera walked 45 degrees round the jump
# (towards the side of travel +x): the flip's axis and the travel run diagonally through the picture.
ORBIT_VIEWS = {"front45": ("front", 45.0), "back45": ("back", 45.0)}
VIEWS = tuple(VIEW_YAW_DEG) + tuple(ORBIT_VIEWS)
TINY_RIDER_PX = 55.0  # visibility "tiny": the standing rider's height in pixels (the scoring gate is 60)
BANNER_Z_M = 1.2  # visibility "hidden": the banner hangs this far in front of the rider's line, towards the camera
BANNER_ABOVE_FACE_M = 0.07  # ... its lower edge this far above the riding rider's nose
# landing "airbag": the bag's surface (`AIRBAG_TOP_M` high) begins this far before the touch-down along the run,
# reaches this far on, and this far either side of the rider's line
AIRBAG_BEFORE_M = 1.0
AIRBAG_LENGTH_M = 7.0
AIRBAG_HALF_WIDTH_M = 2.5
_CONTAINERS = (".mp4", ".mov", ".mkv")


def _check(trick: TrickSpec, out: Path, width: int, height: int, fps: float, view: str) -> None:
    if not isinstance(trick, TrickSpec):
        raise BadOption(f"trick must be a TrickSpec, got {type(trick).__name__}", hint="use parse_trick('360')")
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int) or not 64 <= value <= 4096:
            raise BadOption(f"{name} must be a whole number of pixels from 64 to 4096, got {value!r}")
    if not isinstance(fps, int | float) or not math.isfinite(fps) or not 1 <= fps <= 240:
        raise BadOption(f"fps must be between 1 and 240, got {fps!r}")
    if view not in VIEWS:
        raise BadOption(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    if view == "side" and (trick.stance is not None or trick.switch or trick.roll_deg or trick.counted_roll(view)[0]):
        raise BadOption(
            "stance, switch and rolls need the front or back view: seen from the side the rider faces the way "
            "of travel and no foot leads in the picture",
            hint="use --view front or --view back",
        )
    if out.suffix.lower() not in _CONTAINERS:
        raise BadOption(f"the output must end in {', '.join(_CONTAINERS)} (H.264 video), got {out.name!r}")


def render_clip(
    trick: TrickSpec,
    out: Path,
    *,
    width: int = 480,
    height: int = 480,
    fps: float = 30.0,
    view: str = "front",
    anny_cache_dir: Path,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    expected_trick: str | None = None,
    camera: str = "still",
) -> Path:
    """Render `trick` to the video `out` and write `out.with_suffix(".truth.json")`; return the truth path.

    view: how the camera sees the rider at takeoff: "front" (chest to the camera), "side" (the rider
    faces the direction of travel, right side to the camera), "back", or "front45" / "back45" (the front or
    back view with the camera walked 45 degrees round the jump, `ORBIT_VIEWS`). The camera is static, beside
    the run. progress(done, total) is called after each frame. The trick's visibility "tiny" moves the camera
    back until the rider is about `TINY_RIDER_PX` tall; "hidden" hangs a banner between the camera and the
    rider, its lower edge just above the riding rider's face, so it hides the head and shoulders in the air.
    expected_trick: the trick's name as a suite's hand-written table gives it, for the truth's "expected".
    camera: how the camera moves, one of `CAMERA_KINDS` (see `camera_path`); "still" is the static camera above.
    A moving camera films a rider at `MOVING_SPEED_M_S` (the zoom, a still camera, keeps the framing's speed) in
    a world with texture to measure the camera's motion by; the truth gains the camera path per frame. A trick
    landing in an airbag needs such a camera: the bag (`AIRBAG_TOP_M` high, `AIRBAG_LENGTH_M` long) begins
    `AIRBAG_BEFORE_M` before the touch-down.
    """
    out = Path(out)
    _check(trick, out, width, height, fps, view)
    check_camera_kind(camera)
    named_view, (view, orbit_deg) = view, ORBIT_VIEWS.get(view, (view, 0.0))
    if orbit_deg and camera != "still":
        raise BadOption(f"the view {named_view!r} is staged for the still camera only",
                        hint="use --view front or --view back with a moving camera")  # fmt: skip
    if camera != "still" and trick.visibility != "clear":
        raise BadOption(f"the visibility {trick.visibility!r} is staged for the still camera only",
                        hint="use --camera still, or drop tiny/hidden from the trick")  # fmt: skip
    if trick.landing == "airbag" and camera in ("still", "zoom"):
        # the still camera's rider travels a few tenths of a metre in the air (the framing's speed): the bag would
        # lie under the takeoff
        raise BadOption(f"an airbag landing is staged for a camera that travels or turns with the rider, not {camera!r}",
                        hint="use --camera pan (a camera on a tripod turning with the rider), follow-front, "
                             "follow-behind or follow-below")  # fmt: skip
    started = time.perf_counter()
    rider = load_rider(Path(anny_cache_dir), seed)
    timeline = make_timeline(trick, float(fps))
    stand_root = float(-rider.rest_vertices[:, 2].min())  # the root's height above the soles, standing
    run_s = max(
        timeline.takeoff_s + 0.5 * trick.air_time_s, timeline.times[-1] - timeline.takeoff_s - 0.5 * trick.air_time_s
    )
    layout, speed = layout_camera(
        width,
        height,
        rider_height_m=rider.height_m,
        root_height_m=stand_root,
        apex_m=apex_height(trick.air_time_s) + abs(trick.drop_m),
        run_s=run_s,
    )
    if trick.visibility == "tiny":
        layout = _further(layout, rider.height_m, min(TINY_RIDER_PX, 0.115 * height))
    if orbit_deg:
        layout = _orbit(layout, orbit_deg)
    if camera not in ("still", "zoom"):
        speed = MOVING_SPEED_M_S
    motion = make_motion(
        trick, timeline, bone_labels=rider.bone_labels, rest_heads=rider.rest_heads, view=view, speed_m_s=speed
    )
    # A drop's box: its edge just ahead of the board at takeoff, reaching back out of the picture. An airbag's: the
    # landing's surface.
    lip = float(motion.x[timeline.takeoff_frame]) + 0.3 * motion.travel
    box = None
    if trick.kind == "drop":
        ends = (lip - 6.0, lip) if motion.travel > 0 else (lip, lip + 6.0)
        box = (*_box_mesh(*ends, trick.drop_m), "box")
    elif trick.landing == "airbag":  # from just before the touch-down on, across the run
        near = float(motion.x[timeline.landing_frame]) - AIRBAG_BEFORE_M * motion.travel
        far = near + AIRBAG_LENGTH_M * motion.travel
        box = (*_slab_mesh(min(near, far), max(near, far), AIRBAG_TOP_M, AIRBAG_HALF_WIDTH_M), "airbag")
    grab_truth_block = None
    if trick.grab:
        motion, miss = apply_grab(rider, motion, trick.grab, trick.grab_hold_s, trick.riding_stance(view))
        log.info("grab %s: the palm %.3f m from its place on the board", trick.grab, miss)
    body = pose_body(rider, motion)
    if trick.grab:
        grab_truth_block = grab_truth(rider, body.vertices, body.board, timeline.times, trick, trick.riding_stance(view))
    banner, hidden_share = None, None
    if trick.visibility == "hidden":
        banner, hidden_share = _banner(layout, body, timeline)
    posed_s = time.perf_counter() - started

    faces = np.concatenate([rider.faces, BOARD_FACES + rider.rest_vertices.shape[0]])
    face_colour, rgb = part_colors(rider.face_parts + BOARD_PARTS)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name (same extension: it picks the container), renamed when complete.
    partial = out.with_name(f".{out.stem}.partial{out.suffix}")
    camera_path = make_camera_path(camera, still=layout, root=body.root, joints=body.joints, timeline=timeline,
                                   travel=motion.travel, lip_x=lip, seed=seed)  # fmt: skip
    try:
        if camera == "still":
            _encode(partial, layout, body, timeline, faces, (face_colour, rgb), Backdrop(layout, seed), progress, box,
                    banner)  # fmt: skip
        else:
            world = World(seed, lip_x=lip, travel=motion.travel)
            encode_moving(partial, camera_path, body, timeline, faces, (face_colour, rgb), world, progress, box)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    truth = build_truth(
        video=out, trick=trick, timeline=timeline, camera=layout, body=body, view=view, seed=seed,
        expected_trick=expected_trick, hidden_share=hidden_share, camera_path=camera_path, grab=grab_truth_block,
    )  # fmt: skip
    if orbit_deg:
        truth["view"], truth["camera_orbit_deg"] = named_view, orbit_deg
    path = write_truth(truth_path_for(out), truth)
    elapsed = time.perf_counter() - started
    total = timeline.frame_count
    log.info(
        "rendered %s (%s camera): %d frames %dx%d in %.1f s (%.1f frames/s; posing %.1f s), supersampled x%d",
        out.name,
        camera,
        total,
        width,
        height,
        elapsed,
        total / elapsed,
        posed_s,
        SUPERSAMPLE,
    )
    return path


def _encode(
    path: Path,
    camera: Camera,
    body: PosedBody,
    timeline: Timeline,
    faces: np.ndarray,
    colours: tuple[np.ndarray, np.ndarray],
    backdrop: Backdrop,
    progress: Callable[[int, int], None] | None,
    box: tuple[np.ndarray, np.ndarray, str] | None = None,
    banner: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    total = timeline.frame_count
    box_colours = part_colors([] if box is None else [box[2]] * len(box[1]))
    banner_colours = part_colors(["banner"] * (0 if banner is None else len(banner[1])))
    with VideoWriter(path, width=camera.width, height=camera.height, fps=timeline.fps) as writer:
        for i in range(total):
            frame = backdrop.image.copy()
            ground_height = float(body.board[i, :, 1].min())
            draw_shadow(frame, camera, body.root[i], max(ground_height, 0.0))
            if box is not None:  # drawn before the rider, who stands on it
                draw_mesh(frame, camera, box[0], box[1], *box_colours)
            vertices = np.concatenate([body.vertices[i], body.board[i]])
            draw_mesh(frame, camera, vertices, faces, *colours)
            if banner is not None:  # in front of the rider
                draw_mesh(frame, camera, banner[0], banner[1], *banner_colours)
            writer.write(downsample(frame), float(timeline.times[i]))
            if progress is not None:
                progress(i + 1, total)


def _orbit(camera: Camera, degrees: float) -> Camera:
    """The same camera walked `degrees` round the vertical through the jump's middle (x = z = 0), still aiming the
    same way at it: positive towards +x."""
    a = math.radians(degrees)
    turn = np.array([[math.cos(a), 0.0, math.sin(a)], [0.0, 1.0, 0.0], [-math.sin(a), 0.0, math.cos(a)]])
    centre = turn @ (-camera.R.T @ camera.t)
    R = camera.R @ turn.T
    return Camera(camera.width, camera.height, camera.fx, camera.fy, camera.cx, camera.cy, R, -R @ centre)


def _further(camera: Camera, rider_height_m: float, rider_px: float) -> Camera:
    """The same camera moved back along its view (+z) until a standing rider is about `rider_px` tall."""
    centre = -camera.R.T @ camera.t
    distance = float(centre[2])
    new_distance = max(distance, camera.fy * rider_height_m / rider_px)
    centre = np.array([centre[0], centre[1], new_distance])
    R = camera.R
    return Camera(camera.width, camera.height, camera.fx, camera.fy, camera.cx, camera.cy, R, -R @ centre)


def _banner(camera: Camera, body: PosedBody, timeline: Timeline) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """A banner hung across the run between the camera and the rider, its lower edge just above where the
    riding rider's face shows: (vertices, faces) and the share of the rider's joints it hides in each frame."""
    centre = -camera.R.T @ camera.t
    cam_y, distance = float(centre[1]), float(centre[2])
    riding = timeline.times < timeline.takeoff_s - 0.6
    nose = float(body.joints[riding, 0, 1].max()) if riding.any() else float(body.joints[0, 0, 1])
    edge_rider = nose + BANNER_ABOVE_FACE_M  # the height it hides down to in the rider's plane (z = 0)
    z = BANNER_Z_M
    edge = cam_y + (edge_rider - cam_y) * (distance - z) / distance
    vertices, faces = _box_mesh(-30.0, 30.0, 1.0, half_depth=0.01)
    vertices = vertices * np.array([1.0, 30.0, 1.0]) + np.array([0.0, edge, z])
    # A joint is hidden when the line from the camera to it passes the banner's plane above the edge.
    joints = body.joints[:, :17]
    s = (distance - z) / (distance - joints[..., 2])
    y_at_banner = cam_y + (joints[..., 1] - cam_y) * s
    hidden_share = (y_at_banner > edge).mean(axis=1)
    return (vertices, faces), hidden_share


def _box_mesh(x0: float, x1: float, height: float, half_depth: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """A box on the snow from x0 to x1 along the run, `height` high: (8, 3) vertices, (12, 3) faces wound
    counter-clockwise seen from outside (as `draw_mesh` culls)."""
    corners = np.array([[x, y, z] for x in (x0, x1) for y in (0.0, height) for z in (-half_depth, half_depth)])
    centre = corners.mean(axis=0)
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    faces = []
    for a, b, c, d in quads:
        for tri in ((a, b, c), (a, c, d)):
            p = corners[list(tri)]
            outward = np.dot(np.cross(p[1] - p[0], p[2] - p[0]), p.mean(axis=0) - centre) > 0
            faces.append(tri if outward else tri[::-1])
    return corners, np.array(faces, dtype=np.int64)


def _slab_mesh(x0: float, x1: float, height: float, half_depth: float, cell: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """A box on the snow like `_box_mesh` (no bottom), its top and sides cut into squares of at most `cell`
    metres: the renderer drops a triangle with a corner behind the camera, and a follow-cam travels over an airbag
    (whole faces, the bag vanished from the picture)."""
    lo, hi = np.array([x0, 0.0, -half_depth]), np.array([x1, height, half_depth])
    centre = (lo + hi) / 2
    vertices: list[np.ndarray] = []
    faces: list[tuple[int, int, int]] = []
    # each face: the axis it is normal to, and which end of the box it lies on
    for axis, end in ((1, hi), (0, lo), (0, hi), (2, lo), (2, hi)):
        u, v = [a for a in range(3) if a != axis]
        nu = max(1, int(np.ceil((hi[u] - lo[u]) / cell)))
        nv = max(1, int(np.ceil((hi[v] - lo[v]) / cell)))
        grid = np.zeros((nu + 1, nv + 1, 3))
        grid[..., u] = np.linspace(lo[u], hi[u], nu + 1)[:, None]
        grid[..., v] = np.linspace(lo[v], hi[v], nv + 1)[None, :]
        grid[..., axis] = end[axis]
        base = sum(len(x) for x in vertices)
        vertices.append(grid.reshape(-1, 3))
        for i in range(nu):
            for j in range(nv):
                a, b, c, d = (base + i * (nv + 1) + j, base + (i + 1) * (nv + 1) + j,
                              base + (i + 1) * (nv + 1) + j + 1, base + i * (nv + 1) + j + 1)  # fmt: skip
                faces += [(a, b, c), (a, c, d)]
    points = np.concatenate(vertices)
    out = []
    for tri in faces:  # wound counter-clockwise seen from outside, as `draw_mesh` culls
        q = points[list(tri)]
        outward = np.dot(np.cross(q[1] - q[0], q[2] - q[0]), q.mean(axis=0) - centre) > 0
        out.append(tri if outward else tri[::-1])
    return points, np.array(out, dtype=np.int64)
