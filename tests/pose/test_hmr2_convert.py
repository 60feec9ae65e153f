"""PHALP results pickles, written here in exactly the documented format, converted to our tracks.

The pickles are built by the test (joblib, compress=3, as PHALP.py writes them) with known pixel joints,
so every conversion can be checked against the numbers that went in: several people, ghost entries,
a shot change, tracked_ids that are not index-aligned, odd and portrait frame sizes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest

from pose_service.pose.phalp_convert import (
    BODY25_TO_BLAZEPOSE,
    convert_phalp,
    load_phalp_pickle,
    write_smpl_sidecar,
)
from pose_service.skeleton import KEYPOINT_NAMES
from tests.pose.hmr2_fake import BODY_25
from tests.pose.phalp_tracks import phalp_tracks


def _person(rng: np.random.Generator, tid: int, w: int, h: int, tracked_time: int) -> dict[str, Any]:
    """One entry: joints in pixels (kept under `_px` for the test), stored the way PHALP stores them."""
    px = rng.uniform([0, 0], [w, h], size=(45, 2))
    j3 = rng.normal(0, 0.4, size=(45, 3)).astype(np.float32)
    s = max(w, h)
    uv = (px + [(s - w) / 2, (s - h) / 2]) / s
    x0, y0 = px[:25].min(axis=0)
    x1, y1 = px[:25].max(axis=0)
    return {
        "_px": px,
        "tid": tid,
        "bbox": np.array([x0, y0, x1 - x0, y1 - y0], dtype=np.float32),
        "tracked_time": tracked_time,
        "smpl": {
            "global_orient": np.eye(3, dtype=np.float32)[None],
            "body_pose": np.tile(np.eye(3, dtype=np.float32), (23, 1, 1)),
            "betas": np.full(10, tid, dtype=np.float32),
        },
        "camera": np.array([0.1 * tid, 0.2, 8.0], dtype=np.float32),
        "camera_bbox": np.array([0.8, 0.0, 0.1], dtype=np.float32),
        "3d_joints": j3,
        "2d_joints": uv.astype(np.float32).reshape(-1),
        "center": np.array([(x0 + x1) / 2, (y0 + y1) / 2], dtype=np.float32),
        "scale": np.array([x1 - x0, y1 - y0], dtype=np.float32),
        "size": [h, w],
        "conf": 0.9,
        "class_name": 0,
        "annotations": [],
        "extra_data": [],
        "mask": {"size": [h, w], "counts": b"0"},
    }


def _pickle(path: Path, w: int, h: int, plan: list[list[tuple[int, int]]], shot_at: int | None = None) -> dict:
    """plan[t] lists (tid, tracked_time) per person alive in frame t; returns {(tid, t): entry} of real ones."""
    rng = np.random.default_rng(7)
    results, truth = {}, {}
    for t, people in enumerate(plan):
        key = f"outputs/_DEMO/clip/img/{t + 1:06d}.jpg"
        entries = [_person(rng, tid, w, h, tt) for tid, tt in people]
        frame: dict[str, Any] = {"time": t, "shot": int(t == shot_at), "frame_path": key}
        for field in entries[0] if entries else []:
            if field != "_px":
                frame[field] = [e[field] for e in entries]
        if not entries:
            frame.update(tid=[], tracked_time=[])
        frame["img_path"] = [key] * len(entries)
        frame["img_name"] = [Path(key).name] * len(entries)
        # Only the matched tracks, in another order than tid: not index-aligned, must be ignored.
        frame["tracked_ids"] = [e["tid"] for e in entries if e["tracked_time"] == 0][::-1]
        frame["tracked_bbox"] = [e["bbox"] for e in entries if e["tracked_time"] == 0][::-1]
        results[key] = frame
        truth.update({(e["tid"], t): e for e in entries if e["tracked_time"] == 0})
    joblib.dump(results, path, compress=3)
    return truth


PLAN = (
    [[(3, 0), (1, 0)]] * 6  # two people, tid 3 listed first
    + [[(3, 0), (1, 1)], [(3, 0), (1, 2)]]  # tid 1 lost: ghosts repeating its last detection
    + [[(3, 0), (1, 0), (8, 0)]] * 6  # tid 1 back, a third person enters
    + [[]]  # nobody
)


@pytest.mark.parametrize(
    ("w", "h"),
    [
        (637, 359),  # odd landscape: padding on y
        (359, 637),  # odd portrait (a phone clip made upright): padding on x
        (500, 500),  # square: no padding
    ],
)
def test_converts_the_documented_pickle(tmp_path: Path, w: int, h: int) -> None:
    truth = _pickle(tmp_path / "demo_clip.pkl", w, h, PLAN, shot_at=8)
    res = convert_phalp(load_phalp_pickle(tmp_path / "demo_clip.pkl"), width=w, height=h)
    assert res.n_frames == len(PLAN) and res.shot_frames == [8] and res.frame_size == (w, h)
    assert res.ghosts_dropped == 2
    by_tid = {t.tid: t for t in res.tracks}
    assert sorted(by_tid) == [1, 3, 8]
    assert by_tid[1].frames.tolist() == [0, 1, 2, 3, 4, 5, *range(8, 14)]  # no ghost frames
    assert by_tid[8].frames.tolist() == list(range(8, 14))
    mapped = [KEYPOINT_NAMES.index(n) for n in BODY25_TO_BLAZEPOSE]
    body = list(BODY25_TO_BLAZEPOSE.values())
    for tid, track in by_tid.items():
        for k, t in enumerate(track.frames):
            e = truth[(tid, int(t))]
            np.testing.assert_allclose(track.joints_2d_45[k], e["_px"], atol=2e-3)
            np.testing.assert_allclose(track.keypoints_2d[k, mapped, :2], e["_px"][body], atol=2e-3)
            x0, y0, bw, bh = e["bbox"]
            np.testing.assert_allclose(track.bbox[k], [x0, y0, x0 + bw, y0 + bh], atol=1e-3)
            mid = (e["3d_joints"][12] + e["3d_joints"][9]) / 2
            np.testing.assert_allclose(track.keypoints_3d[k, mapped], (e["3d_joints"][body] - mid) * [1, -1, -1],
                                       atol=1e-5)
            np.testing.assert_allclose(track.camera_t[k], e["camera"])
        assert (track.keypoints_2d[:, mapped, 2] == 1).all()
        assert (np.delete(track.keypoints_2d[..., 2], mapped, axis=1) == 0).all()
        assert track.body_pose.shape == (len(track.frames), 23, 3, 3) and (track.betas == tid).all()


def test_mapping_names_the_same_joints_as_openpose() -> None:
    # BODY_25 written out independently in hmr2_fake; each mapped index must carry the same name.
    for ours, index in BODY25_TO_BLAZEPOSE.items():
        want = {"left_foot_index": "left_big_toe", "right_foot_index": "right_big_toe"}.get(ours, ours)
        assert BODY_25[index] == want, (ours, index, BODY_25[index])
    assert len(BODY25_TO_BLAZEPOSE) == 21


def test_other_frame_size_is_scaled_onto_ours(tmp_path: Path) -> None:
    truth = _pickle(tmp_path / "p.pkl", 320, 180, [[(1, 0)]] * 3)
    res = convert_phalp(load_phalp_pickle(tmp_path / "p.pkl"), width=640, height=360)
    assert res.frame_size == (320, 180)
    np.testing.assert_allclose(res.tracks[0].joints_2d_45[0], truth[(1, 0)]["_px"] * 2, atol=5e-3)


def test_tracks_are_post_processed_like_the_default_backend(tmp_path: Path) -> None:
    plan = [[(5, 0), (2, 0)] if t not in (4, 20) else [(5, 0)] for t in range(30)]  # tid 2 misses frames 4, 20
    plan += [[(9, 0)]] * 2  # a two-frame flicker
    _pickle(tmp_path / "p.pkl", 640, 480, plan)
    res = convert_phalp(load_phalp_pickle(tmp_path / "p.pkl"), width=640, height=480)
    times = np.arange(32) / 30.0
    tracks = phalp_tracks(res, times, min_frames=5)
    assert [t.extras["phalp_tid"] for t in tracks] == [2, 5]  # 9 dropped; both start at 0, PHALP order kept
    assert [t.id for t in tracks] == [1, 2]
    two = tracks[0]
    # The missed frames filled; the test's joints are random points, so some readings also turn "upside down"
    # against their neighbours and are dropped and filled like the finished tracks of every backend.
    filled = two.interpolated.nonzero()[0].tolist()
    assert two.frames.tolist() == list(range(30)) and {4, 20} <= set(filled)
    assert len(filled) == 2 + two.extras["upside_down_dropped"]
    sidecar = write_smpl_sidecar(tmp_path / "smpl.npz", res, tracks)
    with np.load(tmp_path / "smpl.npz") as z:
        # PHALP's real detections, each with its SMPL (a reading dropped from the 2D track keeps its body model)
        assert z["track1_frames"].tolist() == [t for t in range(30) if t not in (4, 20)]
        assert z["track2_global_orient"].shape == (30, 3, 3) and z["track1_joints_3d_45"].shape == (28, 45, 3)
    assert sidecar["file"] == "smpl.npz" and "body_pose" in sidecar["fields"]
    short = phalp_tracks(res, times[:10], min_frames=5)  # a pickle longer than the video: cut, said in the log
    assert all(int(t.frames[-1]) < 10 for t in short)


def test_not_a_results_pickle_is_refused(tmp_path: Path) -> None:
    joblib.dump([1, 2, 3], tmp_path / "x.pkl")
    with pytest.raises(ValueError, match="expected a dict keyed by frame path"):
        load_phalp_pickle(tmp_path / "x.pkl")
