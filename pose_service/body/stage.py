"""The body stage as the pipeline uses it: fit every track, write result.glb and body.npz.

A track that cannot be fitted (no frames, nothing seen) gets no body and a reason; the other tracks and
the rest of the job go on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pose_service.body.core import BodyFit
from pose_service.body.fit import FitOptions, fit_track
from pose_service.body.model import load_anny, load_coco_regressor
from pose_service.body.rig import FIT_KEYPOINTS, FREE_BONES, build_rig
from pose_service.export.glb import SkinnedBody, write_glb
from pose_service.tracking.core import Track

__all__ = [
    "BodyStageResult", "run_body_stage", "skinned_body", "posed_vertices", "write_body_npz", "glb_node_name", "preload",
]  # fmt: skip

log = logging.getLogger(__name__)


def glb_node_name(track_id: int) -> str:
    """The GLB node (and animation) holding the body of track `track_id`."""
    return f"track_{track_id}"


@dataclass
class BodyStageResult:
    """What the stage made: fits by track id, the body block per track id for result.json, timings."""

    fits: dict[int, BodyFit] = field(default_factory=dict)
    bodies: dict[int, dict[str, object] | None] = field(default_factory=dict)
    fit_seconds: float = 0.0
    glb_bytes: int = 0


def preload(cache_dir: Path) -> None:
    """Import torch and Anny and load the model and its keypoint regressor (both kept per process).

    Seconds of work that do not depend on the video: the pipeline's body process (`body.process`) runs this
    while the pose model reads the frames, so `run_body_stage` starts fitting at once.
    """
    load_anny(cache_dir)
    load_coco_regressor(cache_dir)


def _top4(cache_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Anny's faces and each vertex's four strongest bones with weights summing to exactly 1 in float32."""
    model = load_anny(cache_dir)
    weights = model.vertex_bone_weights.numpy().astype(np.float64)
    indices = model.vertex_bone_indices.numpy().astype(np.int64)
    order = np.argsort(-weights, axis=1)[:, :4]
    w = np.take_along_axis(weights, order, 1)
    j = np.take_along_axis(indices, order, 1)
    w = (w / w.sum(1, keepdims=True)).astype(np.float32)
    w[:, 0] = np.float32(1.0) - w[:, 1:].sum(1, dtype=np.float32)
    j = np.where(w > 0, j, 0)
    return model.faces.numpy().astype(np.int64), j.astype(np.uint8), w


def skinned_body(fit: BodyFit, cache_dir: Path) -> SkinnedBody:
    """The GLB description of a fit: rest mesh of its shape, Anny's skeleton, per-frame local rotations."""
    rig = build_rig(cache_dir, fit.phenotype)
    faces, joints, weights = _top4(cache_dir)
    return SkinnedBody(
        name=glb_node_name(fit.track_id),
        vertices=rig.rest_vertices,
        faces=faces,
        joints=joints,
        weights=weights,
        bone_names=rig.labels,
        parents=rig.parent,
        rest_poses=rig.rest_poses,
        local_offsets=rig.local_offsets,
        local_rotations=rig.local_rotation(fit.rotations),
        root_translation=fit.translation,
        animated=FREE_BONES,
        times_s=fit.times_s,
    )


def posed_vertices(fit: BodyFit, cache_dir: Path, rows: np.ndarray | list[int]) -> np.ndarray:
    """(n, V, 3) skinned vertices (view frame) of the fit's frames at `rows`: Anny's full forward pass."""
    import torch

    model = load_anny(cache_dir)
    rows = np.asarray(rows)
    deltas = np.tile(np.eye(4), (len(rows), len(model.bone_labels), 1, 1))
    labels = list(model.bone_labels)
    for f, bone in enumerate(fit.bones):
        deltas[:, labels.index(bone), :3, :3] = fit.rotations[rows, f]
    deltas[:, 0, :3, 3] = fit.translation[rows]
    with torch.no_grad():
        out = model(
            pose_parameters=torch.as_tensor(deltas, dtype=torch.float32),
            phenotype_kwargs=torch.as_tensor(fit.phenotype, dtype=torch.float32)[None],
        )
    return out["vertices"].numpy()  # type: ignore[no-any-return]


def write_body_npz(path: Path, fits: list[BodyFit]) -> None:
    """body.npz: per track `track_<id>_<field>` arrays (see the README), written atomically."""
    arrays: dict[str, np.ndarray] = {}
    for fit in fits:
        p = f"track_{fit.track_id}_"
        arrays[p + "frames"] = fit.frames.astype(np.int64)
        arrays[p + "timestamps_s"] = fit.times_s
        arrays[p + "phenotype"] = fit.phenotype.astype(np.float32)
        arrays[p + "rotations"] = fit.rotations.astype(np.float32)
        arrays[p + "translation"] = fit.translation.astype(np.float32)
        arrays[p + "joints"] = fit.joints.astype(np.float32)
    arrays["phenotype_labels"] = np.array(fits[0].phenotype_labels if fits else [], dtype=str)
    arrays["bones"] = np.array(FREE_BONES, dtype=str)
    arrays["joint_names"] = np.array(FIT_KEYPOINTS, dtype=str)
    arrays["track_ids"] = np.array([f.track_id for f in fits], dtype=np.int64)
    tmp = path.with_name(f".{path.name}.part.npz")
    np.savez_compressed(tmp, **arrays)  # type: ignore[arg-type]
    tmp.replace(path)


def run_body_stage(
    tracks: list[Track],
    timestamps_s: list[float] | np.ndarray,
    image_size: tuple[int, int],
    out_dir: Path,
    anny_cache_dir: Path,
    options: FitOptions | None = None,
) -> BodyStageResult:
    """Fit every track, write `out_dir/result.glb` and `out_dir/body.npz`; the body block per track id."""
    options = options or FitOptions()
    times = np.asarray(timestamps_s, dtype=np.float64)
    result = BodyStageResult()
    started = time.perf_counter()
    for track in tracks:
        if len(track) == 0:
            result.bodies[track.id] = None
            continue
        try:
            fit = fit_track(track, times[track.frames], image_size, anny_cache_dir, options)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:  # one bad track never ends the job
            log.warning("track %d: body fit failed: %s", track.id, exc)
            result.bodies[track.id] = None
            continue
        result.fits[track.id] = fit
        body: dict[str, object] = {
            "model": "anny",
            "glb_node": glb_node_name(track.id),
            "residual_3d_mm": round(fit.residual_3d_m * 1000, 1) if np.isfinite(fit.residual_3d_m) else None,
            "residual_2d_px": round(fit.residual_2d_px, 2) if np.isfinite(fit.residual_2d_px) else None,
        }
        if fit.notes:
            body["notes"] = list(fit.notes)
        result.bodies[track.id] = body
    result.fit_seconds = time.perf_counter() - started
    fits = list(result.fits.values())
    if fits:
        bodies = [skinned_body(f, anny_cache_dir) for f in fits]
        result.glb_bytes = write_glb(
            out_dir / "result.glb",
            bodies,
            clip_times_s=times,
            image_size=image_size,
            focal_px=fits[0].focal_px,
        )
        write_body_npz(out_dir / "body.npz", fits)
    else:  # nothing fitted: no stale mesh from an earlier run may stand beside the new result.json
        for name in ("result.glb", "body.npz"):
            (out_dir / name).unlink(missing_ok=True)
    log.info("body fits: %d tracks in %.2f s, result.glb %d bytes", len(fits), result.fit_seconds, result.glb_bytes)
    return result
