"""PHALP's results pickle (what 4D-Humans' track.py writes) converted to our keypoints and tracks.

The pickle (docs/phalp_output_format.md): a dict keyed by frame path, each frame holding `time`,
`shot`, `frame_path` and lists aligned with `tid`, one entry per confirmed track alive in the frame.
Ghost entries (`tracked_time > 0`) repeat a track's last real detection and are dropped here.

Field mapping, per real detection:

| PHALP                    | ours                                                                      |
|--------------------------|---------------------------------------------------------------------------|
| `tid`                    | `PhalpTrack.tid` (later `extras['phalp_tid']`; tracks renumbered)         |
| `time`                   | frame index                                                               |
| `bbox` [x0,y0,w,h]       | `bbox` [x0,y0,x1,y1], pixels                                              |
| `2d_joints` (90,) in 0..1 of the padded square | `keypoints_2d` pixels: x = u*S - (S-W)/2, S = max(H,W) |
| `3d_joints` (45,3) camera axes, no translation | `keypoints_3d`: minus mid-hip, y and z negated (y up, z to camera) |
| BODY_25 joints 0-24      | the 21 BlazePose points with a counterpart (`BODY25_TO_BLAZEPOSE`)       |
| 12 BlazePose points without one | copied from their nearest mapped joint, visibility 0               |
| all 45 joints, 2D and 3D | kept whole in `joints_2d_45` / `joints_3d_45` (sidecar)                   |
| `smpl` rotation matrices | `global_orient` (m,3,3), `body_pose` (m,23,3,3), `betas` (m,10) (sidecar) |
| `camera`, `camera_bbox`  | `camera_t` (m,3) metres, `camera_bbox` (m,3) (sidecar)                    |
| `conf`                   | `score`                                                                   |
| `shot == 1`              | `PhalpResults.shot_frames`                                                |

HMR2 gives no per-joint confidence: mapped joints get visibility 1.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pose_service.pose.core import PoseTrack
from pose_service.skeleton import KEYPOINT_NAMES

__all__ = [
    "BODY25_TO_BLAZEPOSE",
    "PhalpResults",
    "PhalpTrack",
    "convert_phalp",
    "load_phalp_pickle",
    "raw_tracks",
    "write_smpl_sidecar",
]

log = logging.getLogger(__name__)

# BlazePose name -> OpenPose BODY_25 index (the first 25 of PHALP's 45 joints).
BODY25_TO_BLAZEPOSE: dict[str, int] = {
    "nose": 0, "right_shoulder": 2, "right_elbow": 3, "right_wrist": 4, "left_shoulder": 5, "left_elbow": 6,
    "left_wrist": 7, "right_hip": 9, "right_knee": 10, "right_ankle": 11, "left_hip": 12, "left_knee": 13,
    "left_ankle": 14, "right_eye": 15, "left_eye": 16, "right_ear": 17, "left_ear": 18, "left_foot_index": 19,
    "left_heel": 21, "right_foot_index": 22, "right_heel": 24,
}  # fmt: skip
# BlazePose points with no BODY_25 counterpart -> the mapped point whose position stands in (visibility 0).
_STAND_IN: dict[str, str] = {
    "left_eye_inner": "left_eye", "left_eye_outer": "left_eye", "right_eye_inner": "right_eye",
    "right_eye_outer": "right_eye", "mouth_left": "nose", "mouth_right": "nose", "left_pinky": "left_wrist",
    "right_pinky": "right_wrist", "left_index": "left_wrist", "right_index": "right_wrist",
    "left_thumb": "left_wrist", "right_thumb": "right_wrist",
}  # fmt: skip
_SOURCE = np.array(
    [BODY25_TO_BLAZEPOSE[n] if n in BODY25_TO_BLAZEPOSE else BODY25_TO_BLAZEPOSE[_STAND_IN[n]] for n in KEYPOINT_NAMES]
)
_MAPPED = np.array([n in BODY25_TO_BLAZEPOSE for n in KEYPOINT_NAMES])
_HIPS = [BODY25_TO_BLAZEPOSE["left_hip"], BODY25_TO_BLAZEPOSE["right_hip"]]


@dataclass
class PhalpTrack:
    """One PHALP track over its real detections (m frames).

    frames (m,) int; bbox (m,4) [x0,y0,x1,y1] px; keypoints_2d (m,33,3) px + visibility;
    keypoints_3d (m,33,3) metres, origin mid-hip, x right, y up, z towards the camera;
    joints_2d_45 (m,45,2) px; joints_3d_45 (m,45,3) PHALP's camera axes (x right, y down, z forward), no
    translation; camera_t (m,3) metres; camera_bbox (m,3); global_orient (m,3,3); body_pose (m,23,3,3);
    betas (m,10); score (m,).
    """

    tid: int
    frames: np.ndarray
    bbox: np.ndarray
    keypoints_2d: np.ndarray
    keypoints_3d: np.ndarray
    joints_2d_45: np.ndarray
    joints_3d_45: np.ndarray
    camera_t: np.ndarray
    camera_bbox: np.ndarray
    global_orient: np.ndarray
    body_pose: np.ndarray
    betas: np.ndarray
    score: np.ndarray


@dataclass
class PhalpResults:
    """Every track of one pickle, the frame count PHALP saw, its shot cuts and frame size."""

    tracks: list[PhalpTrack]
    n_frames: int
    shot_frames: list[int] = field(default_factory=list)
    frame_size: tuple[int, int] | None = None  # (width, height) PHALP reported
    ghosts_dropped: int = 0


def load_phalp_pickle(path: Path) -> dict[str, Any]:
    """Read the pickle as PHALP wrote it (`joblib.dump(..., compress=3)`).

    Unpickling runs code named in the file: only read pickles the configured 4D-Humans install wrote.
    """
    import joblib

    data = joblib.load(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a dict keyed by frame path, got {type(data).__name__}")
    return data


def _frame_size(frame: dict[str, Any], i: int) -> tuple[int, int] | None:
    sizes = frame.get("size")
    if sizes is None or len(sizes) <= i:
        return None
    h, w = (int(v) for v in np.asarray(sizes[i]).reshape(-1)[:2])  # PHALP stores [H, W]
    return w, h


def convert_phalp(raw: dict[str, Any], *, width: int, height: int) -> PhalpResults:
    """The pickle's real detections as `PhalpTrack`s in pixels of a `width` x `height` upright frame.

    PHALP's own frame size (`size`) undoes its normalisation; if it differs from ours (it saw another
    picture size), the pixels are scaled onto ours.
    """
    frames = sorted(raw.values(), key=lambda f: int(f["time"]))
    rows: dict[int, list[dict[str, Any]]] = {}
    shots: list[int] = []
    seen_size: tuple[int, int] | None = None
    ghosts = 0
    for frame in frames:
        t = int(frame["time"])
        if int(frame.get("shot", 0)) == 1:
            shots.append(t)
        tracked_time = frame.get("tracked_time", [])
        for i, tid in enumerate(frame.get("tid", [])):
            if int(tracked_time[i]) != 0:
                ghosts += 1
                continue
            size = _frame_size(frame, i) or (width, height)
            seen_size = seen_size or size
            rows.setdefault(int(tid), []).append(_detection(frame, i, t, size, (width, height)))
    tracks = [_track(tid, r) for tid, r in sorted(rows.items())]
    n_frames = int(frames[-1]["time"]) + 1 if frames else 0
    if seen_size and seen_size != (width, height):
        log.warning("PHALP saw %sx%s frames, the video is %sx%s: scaled", *seen_size, width, height)
    return PhalpResults(tracks, n_frames, shots, seen_size, ghosts)


def _detection(frame: dict[str, Any], i: int, t: int, size: tuple[int, int], ours: tuple[int, int]) -> dict[str, Any]:
    w, h = size
    sx, sy = ours[0] / w, ours[1] / h
    side = max(w, h)
    uv = np.asarray(frame["2d_joints"][i], dtype=np.float64).reshape(-1, 2)
    px = np.empty_like(uv)
    px[:, 0] = (uv[:, 0] * side - (side - w) / 2) * sx
    px[:, 1] = (uv[:, 1] * side - (side - h) / 2) * sy
    x0, y0, bw, bh = (float(v) for v in np.asarray(frame["bbox"][i]).reshape(-1)[:4])
    smpl = frame["smpl"][i]
    conf = frame.get("conf")
    return {
        "time": t,
        "bbox": [x0 * sx, y0 * sy, (x0 + bw) * sx, (y0 + bh) * sy],
        "j2d": px,
        "j3d": np.asarray(frame["3d_joints"][i], dtype=np.float64).reshape(-1, 3),
        "camera": np.asarray(frame["camera"][i], dtype=np.float64).reshape(3),
        "camera_bbox": np.asarray(frame["camera_bbox"][i], dtype=np.float64).reshape(3),
        "global_orient": np.asarray(smpl["global_orient"], dtype=np.float32).reshape(3, 3),
        "body_pose": np.asarray(smpl["body_pose"], dtype=np.float32).reshape(23, 3, 3),
        "betas": np.asarray(smpl["betas"], dtype=np.float32).reshape(-1)[:10],
        "score": float(conf[i]) if conf is not None and len(conf) > i else 1.0,
    }


def _track(tid: int, rows: list[dict[str, Any]]) -> PhalpTrack:
    rows = sorted({r["time"]: r for r in rows}.values(), key=lambda r: r["time"])  # one row per frame
    j2d = np.stack([r["j2d"] for r in rows]).astype(np.float32)
    j3d = np.stack([r["j3d"] for r in rows]).astype(np.float32)
    m = len(rows)
    kp2 = np.zeros((m, 33, 3), dtype=np.float32)
    kp2[:, :, :2] = j2d[:, _SOURCE]
    kp2[:, :, 2] = _MAPPED.astype(np.float32)
    mid_hip = j3d[:, _HIPS].mean(axis=1, keepdims=True)
    kp3 = ((j3d[:, _SOURCE] - mid_hip) * np.array([1.0, -1.0, -1.0], dtype=np.float32)).astype(np.float32)
    return PhalpTrack(
        tid=tid,
        frames=np.array([r["time"] for r in rows], dtype=np.int64),
        bbox=np.array([r["bbox"] for r in rows], dtype=np.float32),
        keypoints_2d=kp2,
        keypoints_3d=kp3,
        joints_2d_45=j2d,
        joints_3d_45=j3d,
        camera_t=np.stack([r["camera"] for r in rows]).astype(np.float32),
        camera_bbox=np.stack([r["camera_bbox"] for r in rows]).astype(np.float32),
        global_orient=np.stack([r["global_orient"] for r in rows]),
        body_pose=np.stack([r["body_pose"] for r in rows]),
        betas=np.stack([r["betas"] for r in rows]),
        score=np.array([r["score"] for r in rows], dtype=np.float32),
    )


def raw_tracks(results: PhalpResults, n_frames: int, *, min_frames: int = 5) -> list[PoseTrack]:
    """PHALP's tracks seen in at least `min_frames` frames, cut to the video's `n_frames` frames and numbered 1..
    by first appearance (PHALP's id kept in `extras['phalp_tid']`), keypoints and boxes as PHALP gave them.

    The pipeline finishes them like the default backend's tracks (`pose_service.tracking.finalise`): left/right
    repair, short gaps filled, smoothing.
    """
    kept = sorted((t for t in results.tracks if len(t.frames) >= min_frames), key=lambda t: int(t.frames[0]))
    out: list[PoseTrack] = []
    for number, pt in enumerate(kept, start=1):
        inside = pt.frames < n_frames
        if not inside.all():
            log.warning("PHALP track %d has frames beyond the video's %d: dropped", pt.tid, n_frames)
        out.append(
            PoseTrack(
                id=number,
                frames=pt.frames[inside],
                bbox=pt.bbox[inside],
                keypoints_2d=pt.keypoints_2d[inside],
                keypoints_3d=pt.keypoints_3d[inside],
                extras={"phalp_tid": pt.tid},
            )
        )
    return out


class _Numbered(Protocol):
    """A track with its number and PHALP's id (`extras['phalp_tid']`): a `PoseTrack`, or the `Track` made of it."""

    @property
    def id(self) -> int: ...

    @property
    def extras(self) -> dict[str, object]: ...


def write_smpl_sidecar(path: Path, results: PhalpResults, tracks: Sequence[_Numbered]) -> dict[str, Any]:
    """`smpl.npz` with PHALP's per-frame SMPL data of every kept track, keys `track<id>_<field>`; returns
    the description stored in result.json."""
    arrays: dict[str, np.ndarray] = {}
    by_tid = {t.tid: t for t in results.tracks}
    for track in tracks:
        pt = by_tid[int(track.extras["phalp_tid"])]  # type: ignore[call-overload]
        for name in ("frames", "global_orient", "body_pose", "betas", "camera_t", "camera_bbox", "joints_3d_45",
                     "joints_2d_45", "score"):
            arrays[f"track{track.id}_{name}"] = getattr(pt, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
    return {
        "file": path.name,
        "keys": "track<id>_<field>",
        "fields": {
            "frames": "frame indices of PHALP's real detections (gap-filled frames have no SMPL)",
            "global_orient": "(m,3,3) rotation matrix",
            "body_pose": "(m,23,3,3) rotation matrices",
            "betas": "(m,10) SMPL shape",
            "camera_t": "(m,3) metres, body translation in the camera frame (focal 5000/256*max(H,W) px)",
            "camera_bbox": "(m,3) HMR2 weak-perspective crop camera [s,tx,ty]",
            "joints_3d_45": "(m,45,3) metres, camera axes (x right, y down, z forward), add camera_t",
            "joints_2d_45": "(m,45,2) pixels of the upright frame",
            "score": "(m,) detector confidence",
        },
    }
