"""Accuracy of a body fit against synthetic ground truth: MPJPE, PA-MPJPE, and tracks made from the truth.

Truth documents are those `pose-service synth` writes (`clip.truth.json`); `synthetic_truth` builds the same
document without rendering the video, for tests and benchmarks that only need the exact joints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pose_service.body.core import BodyFit
from pose_service.body.rig import FIT_KEYPOINTS
from pose_service.skeleton import KEYPOINT_NAMES
from pose_service.tracking.core import Track

__all__ = ["mpjpe", "pa_mpjpe", "truth_view_joints", "track_from_truth", "fit_errors", "synthetic_truth"]

_COCO = 17  # the truth's first 17 joints are COCO's, named as BlazePose names them


def truth_view_joints(truth: dict[str, Any]) -> np.ndarray:
    """(N, J, 3) truth joints in the view frame (camera at the origin, looking along -z, y up)."""
    joints = np.asarray(truth["joints_3d"], dtype=np.float64)
    out = np.empty_like(joints)
    for i, pose in enumerate(truth["camera"]["world_to_camera"]):
        cam = joints[i] @ np.asarray(pose["R"]).T + np.asarray(pose["t"])
        out[i] = cam * np.array([1.0, -1.0, -1.0])  # OpenCV camera (y down, z forward) -> view frame
    return out


def track_from_truth(truth: dict[str, Any], track_id: int = 1) -> Track:
    """A track with perfect keypoints: the truth's COCO joints in their BlazePose slots, everything else unseen."""
    names = truth["joint_names"][:_COCO]
    slots = [KEYPOINT_NAMES.index(n) for n in names]
    view = truth_view_joints(truth)
    n = len(view)
    pelvis = view[:, truth["joint_names"].index("pelvis")]
    kp3 = np.zeros((n, 33, 3), dtype=np.float32)
    kp3[:, slots] = view[:, :_COCO] - pelvis[:, None]
    kp2 = np.zeros((n, 33, 3), dtype=np.float32)
    kp2[:, slots, :2] = np.asarray(truth["keypoints_2d"])[:, :_COCO]
    kp2[:, slots, 2] = 1.0
    seen = kp2[:, slots, :2]
    bbox = np.concatenate([seen.min(1), seen.max(1)], axis=1).astype(np.float32)
    return Track(track_id, np.arange(n), bbox, kp2, kp3)


def mpjpe(pred: np.ndarray, true: np.ndarray, root: tuple[int, int]) -> float:
    """Mean per-joint position error (metres) after aligning the mid-point of joints `root` (the hips)."""
    p = pred - pred[:, list(root)].mean(1, keepdims=True)
    t = true - true[:, list(root)].mean(1, keepdims=True)
    return float(np.linalg.norm(p - t, axis=-1).mean())


def pa_mpjpe(pred: np.ndarray, true: np.ndarray) -> float:
    """MPJPE (metres) after the best similarity transform per frame (Procrustes: rotation, scale, shift)."""
    errors = []
    for p, t in zip(pred, true, strict=True):
        pc, tc = p - p.mean(0), t - t.mean(0)
        u, s, vt = np.linalg.svd(pc.T @ tc)
        d = np.sign(np.linalg.det(u @ vt))
        s[-1] *= d
        u[:, -1] *= d
        r = u @ vt
        scale = s.sum() / max((pc**2).sum(), 1e-12)
        errors.append(np.linalg.norm(scale * pc @ r - tc, axis=-1).mean())
    return float(np.mean(errors))


def fit_errors(fit: BodyFit, truth: dict[str, Any]) -> dict[str, float]:
    """MPJPE and PA-MPJPE (mm) of the fit's 17 COCO joints against the truth, over the fitted frames."""
    names = truth["joint_names"][:_COCO]
    ours = fit.joints[:, [FIT_KEYPOINTS.index(n) for n in names]]
    true = truth_view_joints(truth)[fit.frames][:, :_COCO]
    hips = (names.index("left_hip"), names.index("right_hip"))
    return {
        "mpjpe_mm": 1000 * mpjpe(ours, true, hips),
        "pa_mpjpe_mm": 1000 * pa_mpjpe(ours, true),
        "frames": float(len(fit)),
    }


def synthetic_truth(
    spec: str, anny_cache_dir: Path, *, view: str = "front", seed: int = 0, size: int = 480, fps: float = 30.0
) -> dict[str, Any]:
    """The truth document `pose-service synth` would write for `spec`, without rendering the video."""
    from pose_service.synth import parse_trick
    from pose_service.synth.body import load_rider, pose_body
    from pose_service.synth.motion import apex_height, make_motion, make_timeline
    from pose_service.synth.render import layout_camera
    from pose_service.synth.truth import build_truth

    trick = parse_trick(spec)
    rider = load_rider(anny_cache_dir, seed)
    timeline = make_timeline(trick, fps)
    stand_root = float(-rider.rest_vertices[:, 2].min())
    half = 0.5 * trick.air_time_s
    run_s = max(timeline.takeoff_s + half, timeline.times[-1] - timeline.takeoff_s - half)
    camera, speed = layout_camera(
        size, size, rider_height_m=rider.height_m, root_height_m=stand_root, apex_m=apex_height(trick.air_time_s),
        run_s=run_s,
    )  # fmt: skip
    motion = make_motion(
        trick, timeline, bone_labels=rider.bone_labels, rest_heads=rider.rest_heads, view=view, speed_m_s=speed
    )
    body = pose_body(rider, motion)
    truth = build_truth(
        video=Path(f"{spec}.mp4"), trick=trick, timeline=timeline, camera=camera, body=body, view=view, seed=seed
    )
    truth["phenotype"] = dict(rider.phenotype)
    return truth
