"""`render_crossing`: two riders crossing, one passing in front of the other, for measuring tracking.

The same Anny rider as `render_clip`, posed through a straight jump; the second person rides that
motion played backwards (travelling the other way) `depth_gap_m` further from the camera, drawn first
so the nearer rider hides it while they overlap. By default the second person is somebody else, as on a
real slope: another Anny phenotype (`second_seed`), other clothes (`SECOND_RIDER_RGB`), and turned
round to face the way they ride. `second_seed=None, second_colours=None, turn_second=False` gives the
older scene of two identical riders, one riding backwards. The truth file beside the clip holds each
person's 2D keypoints per frame (`people[k].keypoints_2d`, COCO-17 + pelvis order as `joint_names`). As
`scenes` leaves out a rider outside the picture, the far rider's keypoints are NaN (null in JSON) in the
frames where the near one hides more than half of its joints (listed in `people[k].hidden_frames`): a
pose model cannot see them there, and a tracker may only bridge such a gap, not draw the person in it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pose_service.synth.body import BOARD_FACES, BOARD_PARTS, JOINT_NAMES, load_rider, pose_body
from pose_service.synth.clip import _check
from pose_service.synth.motion import apex_height, make_motion, make_timeline
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
from pose_service.synth.spec import parse_trick
from pose_service.synth.truth import truth_path_for
from pose_service.video.encode import VideoWriter

__all__ = ["SECOND_RIDER_RGB", "render_crossing"]

# The second rider's clothes: a teal jacket, light grey trousers, a white hat, a blue board.
SECOND_RIDER_RGB: dict[str, tuple[int, int, int]] = {
    "jacket": (34, 140, 150),
    "trousers": (150, 150, 140),
    "hat": (230, 230, 226),
    "board_top": (40, 90, 200),
}


def render_crossing(
    out: Path,
    *,
    width: int = 480,
    height: int = 480,
    fps: float = 30.0,
    depth_gap_m: float = 1.5,
    anny_cache_dir: Path,
    seed: int = 0,
    second_seed: int | None = 7,
    second_colours: dict[str, tuple[int, int, int]] | None = SECOND_RIDER_RGB,
    turn_second: bool = True,
    second_travel: float | None = 0.8,
) -> Path:
    """Render the crossing to the video `out`, write its truth beside it and return the truth's path.

    second_seed: the Anny phenotype of the far rider (`load_rider`'s seed), None for the near rider's body.
    second_colours: part colours of the far rider over `PART_RGB`, None for the near rider's.
    turn_second: turn the far rider half round (about the vertical through the root) to face its travel.
    second_travel: the far rider rides faster, its path spanning this share of the picture's width at its
        depth, so the two pass each other in a moment as on a slope; None: at the near rider's speed (the
        two then overlap in the picture for most of the clip).
    """
    out = Path(out)
    trick = parse_trick("straight")
    _check(trick, out, width, height, fps, "side")
    rider = load_rider(Path(anny_cache_dir), seed)
    timeline = make_timeline(trick, float(fps))
    stand_root = float(-rider.rest_vertices[:, 2].min())
    run_s = max(timeline.takeoff_s + 0.5 * trick.air_time_s, timeline.times[-1] - timeline.takeoff_s)
    camera, speed = layout_camera(
        width, height, rider_height_m=rider.height_m, root_height_m=stand_root,
        apex_m=apex_height(trick.air_time_s), run_s=run_s,
    )  # fmt: skip
    motion = make_motion(
        trick, timeline, bone_labels=rider.bone_labels, rest_heads=rider.rest_heads, view="side", speed_m_s=speed
    )
    body = pose_body(rider, motion)
    other, other_body = rider, body
    if second_seed is not None and second_seed != seed:
        other = load_rider(Path(anny_cache_dir), second_seed)
        other_motion = make_motion(
            trick, timeline, bone_labels=other.bone_labels, rest_heads=other.rest_heads, view="side", speed_m_s=speed
        )
        other_body = pose_body(other, other_motion)
    back = np.array([0.0, 0.0, -depth_gap_m])
    root = other_body.root[::-1]
    extra_x = np.zeros(len(root))  # the far rider's extra travel along x
    if second_travel is not None:
        if not 0.0 < second_travel <= 1.0:
            raise ValueError(f"second_travel must be in (0, 1], got {second_travel!r}")
        distance = float((-camera.R.T @ camera.t)[2]) + depth_gap_m
        half_w = (width / 2) / camera.fx * distance
        reach = max(float(np.abs(root[:, 0]).max()), 1e-6)
        extra_x = root[:, 0] * (second_travel * half_w / reach - 1.0)

    def far(points: np.ndarray) -> np.ndarray:
        points = points[::-1]
        if turn_second:  # half a turn about the vertical through the root: x and z mirrored around it
            rel = points - root[:, None, :]
            points = root[:, None, :] + rel * np.array([-1.0, 1.0, -1.0])
        return points + back + extra_x[:, None, None] * np.array([1.0, 0.0, 0.0])

    # people[0] passes in front; people[1] runs the other way, behind.
    people = [
        (body.vertices, body.board, body.root, body.joints),
        (far(other_body.vertices), far(other_body.board), far(root[::-1, None])[:, 0], far(other_body.joints)),
    ]
    looks = [
        (np.concatenate([r.faces, BOARD_FACES + r.rest_vertices.shape[0]]), part_colors(r.face_parts + BOARD_PARTS, c))
        for r, c in ((rider, None), (other, second_colours))
    ]
    backdrop = Backdrop(camera, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.stem}.partial{out.suffix}")
    far_2d = camera.project(people[1][3])
    hidden = np.zeros(timeline.frame_count, dtype=bool)
    try:
        with VideoWriter(partial, width=width, height=height, fps=timeline.fps) as writer:
            for i in range(timeline.frame_count):
                frame = backdrop.image.copy()
                for (verts, board, path, _), (faces, colours) in reversed(list(zip(people, looks, strict=True))):
                    draw_shadow(frame, camera, path[i], max(float(board[i, :, 1].min()), 0.0))  # far first
                    draw_mesh(frame, camera, np.concatenate([verts[i], board[i]]), faces, *colours)
                writer.write(downsample(frame), float(timeline.times[i]))
                hidden[i] = _covered_share(camera, people[0][0][i], looks[0][0][: len(rider.faces)], far_2d[i]) > 0.5
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    truth = {
        "kind": "crossing",
        "video": {"name": out.name, "width": width, "height": height, "fps": fps, "frame_count": timeline.frame_count},
        "timestamps_s": [round(float(t), 6) for t in timeline.times],
        "joint_names": list(JOINT_NAMES),
        "people": [
            {
                "id": 0,
                "keypoints_2d": np.round(camera.project(people[0][3]), 2).tolist(),
                "hidden_frames": [],
            },
            {
                "id": 1,
                "keypoints_2d": [
                    [[None, None]] * len(JOINT_NAMES) if h else np.round(p, 2).tolist()
                    for p, h in zip(far_2d, hidden, strict=True)
                ],
                "hidden_frames": np.flatnonzero(hidden).tolist(),
            },
        ],
    }
    path = truth_path_for(out)
    path.write_text(json.dumps(truth))
    return path


def _covered_share(camera: Camera, vertices: np.ndarray, faces: np.ndarray, points: np.ndarray) -> float:
    """The share of `points` (pixels) that fall on the body drawn from `vertices` and `faces`: for the far
    rider's joints, how much of them the near rider hides."""
    mask = np.zeros((camera.height * SUPERSAMPLE, camera.width * SUPERSAMPLE, 3), np.uint8)
    draw_mesh(mask, camera, vertices, faces, np.zeros(len(faces), np.int64), np.array([[255.0, 255.0, 255.0]]))
    small = downsample(mask)[..., 0] > 60
    xy = np.round(points).astype(int)
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < camera.width) & (xy[:, 1] >= 0) & (xy[:, 1] < camera.height)
    covered = np.zeros(len(points), dtype=bool)
    covered[inside] = small[xy[inside, 1], xy[inside, 0]]
    return float(covered.mean())
