"""result.json (schema_version 1): built from the stages' outputs in one place, written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from pose_service.skeleton import KEYPOINT_NAMES
from pose_service.tracking.core import Track
from pose_service.video.core import VideoInfo

__all__ = ["SCHEMA_VERSION", "build_result", "load_schema", "validate_result", "write_json"]

SCHEMA_VERSION = 1


def _rounded(a: np.ndarray, decimals: int) -> list[Any]:
    """Plain nested lists with NaN as null, rounded to keep the file small."""
    arr = np.round(np.asarray(a, dtype=np.float64), decimals)
    missing = np.isnan(arr)
    if not missing.any():
        return arr.tolist()  # type: ignore[no-any-return]
    # Python floats in an object array, NaN replaced by None, turned to lists in one call (not per number).
    values = arr.astype(object)
    values[missing] = None
    return values.tolist()  # type: ignore[no-any-return]


def _angles_block(fps: float, names: tuple[str, ...], per_frame: np.ndarray) -> dict[str, Any]:
    """Angle series: `values[k]` is the series of `names[k]`, one value per sample (null when unseen)."""
    return {"fps": round(fps, 4), "names": list(names), "values": _rounded(per_frame.T, 1)}


def build_result(
    info: VideoInfo,
    *,
    backend: dict[str, str],
    timestamps_s: list[float],
    tracks: list[Track],
    rider_track: int | None,
    angle_names: tuple[str, ...],
    angles_by_track: dict[int, np.ndarray],
    summary: str,
    jumps: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The whole result document; `angles_by_track[id]` holds (frames of that track, angles)."""
    n_frames = len(timestamps_s)
    rider_angles = np.full((n_frames, len(angle_names)), np.nan)
    track_docs = []
    for t in tracks:
        angles = angles_by_track[t.id]
        if t.id == rider_track:
            rider_angles[t.frames] = angles
        track_docs.append(
            {
                "id": t.id,
                "is_rider": t.is_rider,
                "frames": [int(f) for f in t.frames],
                "interpolated": [bool(x) for x in t.interpolated],
                "bbox": _rounded(t.bbox, 1),
                "keypoints_2d": _rounded(t.keypoints_2d, 2),
                "keypoints_3d": _rounded(t.keypoints_3d, 4),
                "body": t.extras.get("body"),
                "angles": _angles_block(info.fps, angle_names, angles),
                # a backend's own extra fields (hmr2: where its SMPL data and other joints are)
                **(f if isinstance(f := t.extras.get("result_fields"), dict) else {}),
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "video": info.to_result(),
        "backend": backend,
        "keypoint_names": list(KEYPOINT_NAMES),
        "timestamps_s": [round(float(t), 6) for t in timestamps_s],
        "tracks": track_docs,
        "analysis": {
            "rider_track": rider_track,
            "jumps": jumps or [],
            "angles": _angles_block(info.fps, angle_names, rider_angles),
            "summary": summary,
        },
    }


def write_json(path: Path, doc: dict[str, Any]) -> None:
    """Write `doc` to `path` atomically: readers see the old file or the new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        # json.dumps runs the C encoder over the whole document (json.dump streams through the Python one,
        # about 4x slower here); the text is the same.
        text = json.dumps(doc, separators=(",", ":"), allow_nan=False)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@cache
def load_schema() -> dict[str, Any]:
    """The JSON Schema of result.json shipped with the package."""
    text = resources.files("pose_service.export").joinpath("result.schema.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def validate_result(doc: dict[str, Any]) -> None:
    """Raise `jsonschema.ValidationError` if `doc` breaks the schema or its arrays disagree in length."""
    import jsonschema

    jsonschema.validate(doc, load_schema())
    n = len(doc["timestamps_s"])
    for t in doc["tracks"]:
        m = len(t["frames"])
        for key in ("bbox", "keypoints_2d", "keypoints_3d"):
            if len(t[key]) != m:
                raise jsonschema.ValidationError(f"track {t['id']}: {key} has {len(t[key])} rows for {m} frames")
        if t["frames"] and t["frames"][-1] >= n:
            raise jsonschema.ValidationError(f"track {t['id']}: frame {t['frames'][-1]} beyond {n} timestamps")
