"""result.json and angles.csv from hand-built tracks, checked against the shipped JSON Schema."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from pose_service.analysis import ANGLE_NAMES, body_angles
from pose_service.export import build_result, validate_result, write_angles_csv, write_json
from pose_service.tracking import Track
from pose_service.video import VideoInfo


def _info() -> VideoInfo:
    return VideoInfo(
        path=Path("/clips/run.mp4"), container="mov,mp4,m4a,3gp,3g2,mj2", codec="h264", width=640, height=360,
        coded_width=640, coded_height=360, rotation_deg=0, fps=30.0, fps_varies=False, frame_count=10,
        duration_s=10 / 30, size_bytes=1000,
    )  # fmt: skip


def _track(track_id: int, frames: list[int], rider: bool) -> Track:
    m = len(frames)
    rng = np.random.default_rng(track_id)
    kp3d = rng.normal(size=(m, 33, 3)).astype(np.float32)
    kp2d = np.concatenate([rng.uniform(0, 300, (m, 33, 2)), np.full((m, 33, 1), 0.8)], axis=2).astype(np.float32)
    box = np.tile(np.array([10, 20, 110, 220], np.float32), (m, 1))
    return Track(track_id, np.array(frames), box, kp2d, kp3d, is_rider=rider)


@pytest.fixture
def parts() -> dict:
    tracks = [_track(1, list(range(10)), True), _track(2, [3, 4, 5, 7], False)]
    angles = {t.id: body_angles(t.keypoints_3d) for t in tracks}
    angles[2][1, 0] = np.nan  # an angle that could not be measured
    return {"tracks": tracks, "angles": angles, "timestamps": [i / 30 for i in range(10)]}


def _doc(parts: dict) -> dict:
    return build_result(
        _info(),
        backend={"name": "mediapipe", "version": "0.10.21"},
        timestamps_s=parts["timestamps"],
        tracks=parts["tracks"],
        rider_track=1,
        angle_names=ANGLE_NAMES,
        angles_by_track=parts["angles"],
        summary="2 people tracked.",
    )


def test_result_follows_the_schema_and_round_trips(parts: dict, tmp_path: Path) -> None:
    doc = _doc(parts)
    validate_result(doc)
    path = tmp_path / "out" / "result.json"
    write_json(path, doc)
    loaded = json.loads(path.read_text())
    validate_result(loaded)
    assert loaded["analysis"]["rider_track"] == 1 and loaded["analysis"]["jumps"] == []
    assert [t["body"] for t in loaded["tracks"]] == [None, None]
    assert loaded["keypoint_names"][11] == "left_shoulder"
    # The rider's angle series covers every frame; track 2's NaN became null.
    rider_series = loaded["analysis"]["angles"]["values"]
    assert len(rider_series) == len(ANGLE_NAMES) and all(len(s) == 10 for s in rider_series)
    assert loaded["tracks"][1]["angles"]["values"][0][1] is None
    assert loaded["tracks"][1]["keypoints_3d"][2][5] == pytest.approx(parts["tracks"][1].keypoints_3d[2, 5], abs=1e-4)
    assert not list(path.parent.glob(".result.json.*")), "no temporary file left behind"


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.pop("analysis"),  # a required block missing
        lambda d: d["video"].update(rotation_deg=45),  # not a quarter turn
        lambda d: d["tracks"][0]["keypoints_2d"].pop(),  # arrays of a track disagree in length
        lambda d: d["tracks"][1].update(frames=[3, 4, 5, 12]),  # a frame beyond the timestamps
        lambda d: d["keypoint_names"].pop(),  # 32 names
    ],
)
def test_validation_catches_broken_documents(parts: dict, breakage) -> None:  # type: ignore[no-untyped-def]
    doc = _doc(parts)
    breakage(doc)
    with pytest.raises(jsonschema.ValidationError):
        validate_result(doc)


def test_angles_csv_has_a_row_per_frame_and_person(parts: dict, tmp_path: Path) -> None:
    path = tmp_path / "angles.csv"
    n = write_angles_csv(
        path, timestamps_s=parts["timestamps"], tracks=parts["tracks"], angle_names=ANGLE_NAMES,
        angles_by_track=parts["angles"],
    )  # fmt: skip
    rows = list(csv.DictReader(path.open()))
    assert n == len(rows) == 14
    assert list(rows[0]) == ["frame", "time_s", "track_id", "is_rider", *ANGLE_NAMES]
    assert [(r["frame"], r["track_id"]) for r in rows[3:6]] == [("3", "1"), ("3", "2"), ("4", "1")]
    blank = next(r for r in rows if r["frame"] == "4" and r["track_id"] == "2")
    assert blank["left_knee"] == ""
    assert float(rows[0]["left_knee"]) == pytest.approx(parts["angles"][1][0, 0], abs=0.05)


def test_written_text_is_what_json_dump_streams(parts: dict, tmp_path: Path) -> None:
    # write_json encodes in one piece (the C encoder); the bytes are those json.dump would stream.
    doc = _doc(parts)
    path = tmp_path / "result.json"
    write_json(path, doc)
    with (tmp_path / "streamed.json").open("w", encoding="utf-8") as fh:
        json.dump(doc, fh, separators=(",", ":"), allow_nan=False)
    assert path.read_bytes() == (tmp_path / "streamed.json").read_bytes()


@pytest.mark.parametrize("shape", [(7,), (5, 4), (3, 33, 3), (0, 33, 3)])
def test_rounded_lists_are_the_numbers_element_by_element(shape: tuple[int, ...]) -> None:
    from pose_service.export.result import _rounded

    rng = np.random.default_rng(len(shape))
    a = rng.normal(0, 300, size=shape)
    a[rng.random(shape) < 0.2] = np.nan  # unseen values become null
    a.flat[:1] = -0.0

    def by_hand(x: np.ndarray) -> object:
        return [by_hand(r) for r in x] if x.ndim > 1 else [None if np.isnan(v) else float(v) for v in x]

    got = _rounded(a, 2)
    assert json.dumps(got) == json.dumps(by_hand(np.round(a, 2)))
