"""The landmark model alone on a region the tracker picks: keypoints where the whole frame's graph puts them,
turned regions turned back, and nothing confirmed on an empty picture."""

from __future__ import annotations

import numpy as np
import pytest

from pose_service.pose.region import Region, RegionLandmarks


@pytest.fixture(scope="module")
def seen(spin_clip, settings):  # type: ignore[no-untyped-def]
    """Frames of the rendered 360 with the whole frame's graph's pose of the rider (frames where it found one)."""
    from pose_service.pose import PoseLandmarkerBackend, ensure_bundle
    from pose_service.video import VideoReader, probe

    bundle = ensure_bundle(settings.models_dir)
    out = []
    with VideoReader(probe(spin_clip)) as reader, PoseLandmarkerBackend(bundle, num_poses=1) as whole:
        for n, frame in enumerate(reader):
            if n >= 16:
                break
            poses = whole.detect(frame.rgb, frame.time_s)
            if len(poses) and n % 3 == 0:
                out.append((frame.rgb, poses))
    assert len(out) >= 3, len(out)
    return bundle, out


def _gap(found: np.ndarray, truth: np.ndarray, side: float) -> float:
    return float(np.median(np.linalg.norm(found[:, :2] - truth[:, :2], axis=1)) / side)


def test_a_region_round_the_body_reads_it_where_the_whole_frame_does(seen) -> None:  # type: ignore[no-untyped-def]
    """Off-centre and upright, or turned by 30 degrees (the picture turned, the keypoints turned back): the
    keypoints land on the whole frame's within a tenth of the body (measured: 0.005-0.03), the world keypoints agree
    (measured: 0.01-0.05 m upright, 0.09-0.12 turned; turned back the wrong way or not at all, 0.23 and more), and
    the flag says a body is there (measured: 1.00; on a blank picture, 0.001)."""
    bundle, frames = seen
    with_turn = []
    model = RegionLandmarks(bundle)
    for rgb, truth in frames:
        box = truth.bboxes()[0]
        side = float(max(box[2] - box[0], box[3] - box[1]))
        centre = ((box[0] + box[2]) / 2 + 0.1 * side, (box[1] + box[3]) / 2 - 0.1 * side)
        for turn in (0.0, 30.0):
            got = model.read(rgb, Region(centre[0], centre[1], 1.6 * side, turn))
            assert got.presence > 0.5, (turn, got.presence)
            with_turn.append(_gap(got.poses.keypoints_2d[0], truth.keypoints_2d[0], side))
            world = np.median(np.linalg.norm(got.poses.keypoints_3d[0] - truth.keypoints_3d[0], axis=1))
            assert world < (0.1 if turn == 0 else 0.15), (turn, world)  # turned 30°, the model reads it less alike
            assert got.poses.keypoints_2d.shape == (1, 33, 3) and 0 <= got.poses.score[0] <= 1
    assert max(with_turn) < 0.1, with_turn
    assert model.reads == 2 * len(frames)


def test_find_confirms_the_body_from_its_own_alignment(seen) -> None:  # type: ignore[no-untyped-def]
    """`find` returns a reading confirmed by the region its own alignment points give (centred on the hips,
    upright for an upright body), and None on an empty picture, where no region confirms anyone."""
    bundle, frames = seen
    model = RegionLandmarks(bundle)
    rgb, truth = frames[0]
    box = truth.bboxes()[0]
    side = float(max(box[2] - box[0], box[3] - box[1]))
    got = model.find(rgb, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), side)
    assert got is not None and got.presence >= 0.5
    assert _gap(got.poses.keypoints_2d[0], truth.keypoints_2d[0], side) < 0.1
    hips = truth.keypoints_2d[0, 23:25, :2].mean(axis=0)
    assert np.hypot(got.next_region.cx - hips[0], got.next_region.cy - hips[1]) < 0.15 * side
    assert abs(got.next_region.turn) < 30 and 0.8 * side < got.next_region.side < 2.5 * side

    refused = model.find(rgb, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), side, accept=lambda poses: False)
    assert refused is None  # `accept` turns every confirmed reading down
    blank = np.full_like(rgb, 200)
    assert model.find(blank, (rgb.shape[1] / 2, rgb.shape[0] / 2), side) is None


def test_a_bundle_that_is_not_one_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pose_service.errors import EnvironmentProblem

    bad = tmp_path / "x.task"
    bad.write_bytes(b"not a zip")
    with pytest.raises(EnvironmentProblem, match="x.task"):
        RegionLandmarks(bad)


def test_the_second_look_reads_a_lost_body_in_a_region_before_turning_crops(seen) -> None:  # type: ignore[no-untyped-def]
    """`RotatedLook` given a frame where the detector found nobody and a track expected where the body is: the
    region reading finds it (no turned crop needed), on the body; with `region=False` the turned crops do."""
    from pose_service.pose.rotated import RotatedLook
    from pose_service.skeleton import Poses

    bundle, frames = seen
    rgb, truth = frames[0]
    box = truth.bboxes()[0]
    side = float(max(box[2] - box[0], box[3] - box[1]))
    expected = {7: box + np.array([6.0, -4.0, 6.0, -4.0], dtype=np.float32)}  # the tracker's box, a little off
    with RotatedLook(bundle) as look:
        found = look.look(rgb, Poses.empty(), expected, 0.0)
        stats = look.stats()
    assert len(found) == 1 and _gap(found.keypoints_2d[0], truth.keypoints_2d[0], side) < 0.1
    assert stats["regions"] >= 2 and stats["crops"] == 0 and stats["found"] == 1, stats
    with RotatedLook(bundle, region=False) as look:
        found = look.look(rgb, Poses.empty(), expected, 0.0)
        stats = look.stats()
    assert len(found) == 1 and stats["regions"] == 0 and stats["crops"] >= 1, stats
