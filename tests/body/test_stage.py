"""The mesh stage inside `analyze`: the rendered 360 through the real pose model, fitted, exported, measured."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from pose_service.body.rig import FIT_KEYPOINTS
from pose_service.evaluation.body_fit import mpjpe, pa_mpjpe, truth_view_joints
from pose_service.export import validate_result
from pose_service.export.glb import read_glb


def test_analyze_writes_the_mesh_and_names_it(spin_analysis, spin_truth: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    files = spin_analysis.files
    assert {"result.glb", "body.npz"} <= set(files)
    doc = json.loads(files["result.json"].read_text())
    validate_result(doc)
    fitted = [t for t in doc["tracks"] if t["body"]]
    assert fitted and all(t["body"]["model"] == "anny" for t in fitted)
    glb, binary = read_glb(files["result.glb"])
    node_names = {n.get("name") for n in glb["nodes"]}
    animations = {a["name"]: a for a in glb["animations"]}
    for t in fitted:
        node = t["body"]["glb_node"]
        assert node in node_names and node in animations
        # The animation runs over the track's own timestamps: first and last key are those frames' times.
        anim = animations[node]
        linear = next(s for s in anim["samplers"] if s["interpolation"] == "LINEAR")
        acc = glb["accessors"][linear["input"]]
        times = [doc["timestamps_s"][f] for f in t["frames"]]
        assert acc["count"] == len(times)
        assert abs(acc["min"][0] - times[0]) < 1e-4 and abs(acc["max"][0] - times[-1]) < 1e-4
    assert "mesh" in spin_analysis.stage_seconds


def test_rider_fit_against_the_truth(spin_analysis, spin_truth: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    """BlazePose keypoints of the rendered clip in, the rider's fitted joints against the true ones."""
    doc = spin_analysis.result
    rider = next(t for t in doc["tracks"] if t["id"] == doc["analysis"]["rider_track"])
    with np.load(spin_analysis.files["body.npz"]) as npz:
        joints = npz[f"track_{rider['id']}_joints"]
        frames = npz[f"track_{rider['id']}_frames"]
    names = spin_truth["joint_names"][:17]
    ours = joints[:, [FIT_KEYPOINTS.index(n) for n in names]]
    true = truth_view_joints(spin_truth)[frames][:, :17]
    hips = (names.index("left_hip"), names.index("right_hip"))
    # Measured (bench/fit.py accuracy, "360 front"): MPJPE 107 mm, PA-MPJPE 38 mm, 2D residual 3.5 px; the
    # pose model's own error dominates (its 3D orientation, an assumed focal length, BlazePose's joints are
    # not Anny's COCO joints). Bounds: about twice the measured values.
    assert 1000 * mpjpe(ours, true, hips) < 200.0
    assert 1000 * pa_mpjpe(ours, true) < 80.0
    assert rider["body"]["residual_2d_px"] < 10.0
