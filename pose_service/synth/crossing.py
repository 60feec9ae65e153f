"""`render_crossing`: two riders crossing, one passing in front of the other, for measuring tracking.

The same Anny rider as `render_clip`, posed once through a straight jump; the second person is that
motion played backwards (travelling the other way) `depth_gap_m` further from the camera, drawn first
so the nearer rider hides it while they overlap. The truth file beside the clip holds each person's 2D
keypoints per frame (`people[k].keypoints_2d`, COCO-17 + pelvis order as `joint_names`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pose_service.synth.body import BOARD_FACES, BOARD_PARTS, JOINT_NAMES, load_rider, pose_body
from pose_service.synth.clip import _check
from pose_service.synth.motion import apex_height, make_motion, make_timeline
from pose_service.synth.render import Backdrop, downsample, draw_mesh, draw_shadow, layout_camera, part_colors
from pose_service.synth.spec import parse_trick
from pose_service.synth.truth import truth_path_for
from pose_service.video.encode import VideoWriter

__all__ = ["render_crossing"]


def render_crossing(
    out: Path,
    *,
    width: int = 480,
    height: int = 480,
    fps: float = 30.0,
    depth_gap_m: float = 1.5,
    anny_cache_dir: Path,
    seed: int = 0,
) -> Path:
    """Render the crossing to the video `out`, write its truth beside it and return the truth's path."""
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
    back = np.array([0.0, 0.0, -depth_gap_m])
    # people[0] passes in front; people[1] runs the other way, behind.
    people = [
        (body.vertices, body.board, body.root, body.joints),
        (body.vertices[::-1] + back, body.board[::-1] + back, body.root[::-1] + back, body.joints[::-1] + back),
    ]
    faces = np.concatenate([rider.faces, BOARD_FACES + rider.rest_vertices.shape[0]])
    colours = part_colors(rider.face_parts + BOARD_PARTS)
    backdrop = Backdrop(camera, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.stem}.partial{out.suffix}")
    try:
        with VideoWriter(partial, width=width, height=height, fps=timeline.fps) as writer:
            for i in range(timeline.frame_count):
                frame = backdrop.image.copy()
                for verts, board, root, _ in reversed(people):  # far first
                    draw_shadow(frame, camera, root[i], max(float(board[i, :, 1].min()), 0.0))
                    draw_mesh(frame, camera, np.concatenate([verts[i], board[i]]), faces, *colours)
                writer.write(downsample(frame), float(timeline.times[i]))
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    truth = {
        "kind": "crossing",
        "video": {"name": out.name, "width": width, "height": height, "fps": fps, "frame_count": timeline.frame_count},
        "timestamps_s": [round(float(t), 6) for t in timeline.times],
        "joint_names": list(JOINT_NAMES),
        "people": [
            {"id": k, "keypoints_2d": np.round(camera.project(joints), 2).tolist()}
            for k, (_, _, _, joints) in enumerate(people)
        ],
    }
    path = truth_path_for(out)
    path.write_text(json.dumps(truth))
    return path
