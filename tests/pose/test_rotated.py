"""The turned second look's geometry: keypoints found in a turned crop land where the body is upright."""

from __future__ import annotations

import numpy as np
import pytest

from pose_service.pose.rotated import RotatedLook, _too_small, rotate_back, turn_back, turn_order
from pose_service.skeleton import Poses


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_rotate_back_inverts_np_rot90(turns: int) -> None:
    width, height = 40, 24
    rng = np.random.default_rng(turns)
    rows, cols = np.unravel_index(rng.permutation(width * height)[:33], (height, width))
    image = np.zeros((height, width), dtype=np.int32)
    image[rows, cols] = np.arange(1, 34)
    turned = np.rot90(image, turns)
    kp2 = np.zeros((1, 33, 3), dtype=np.float32)
    for i in range(33):  # where each marked pixel sits in the turned image (pixel centres)
        r, c = np.argwhere(turned == i + 1)[0]
        kp2[0, i] = (c + 0.5, r + 0.5, 1.0)
    back = rotate_back(Poses(kp2, np.zeros_like(kp2), np.ones(1, np.float32)), turns, width, height)
    np.testing.assert_allclose(back.keypoints_2d[0, :, 0], cols + 0.5, atol=1e-4)
    np.testing.assert_allclose(back.keypoints_2d[0, :, 1], rows + 0.5, atol=1e-4)


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_world_keypoints_turn_back_with_the_image(turns: int) -> None:
    # A head straight up in our world frame (y up) reads, in a crop turned a quarter counter-clockwise, as a
    # head pointing to the image's left: turned back, it points up again.
    head_up = np.array([0.0, 1.0, 0.0])
    angle = np.pi / 2 * turns  # the image turns counter-clockwise, so the body does too
    c, s = np.cos(angle), np.sin(angle)
    seen = np.array([c * head_up[0] - s * head_up[1], s * head_up[0] + c * head_up[1], 0.0])
    kp3 = np.tile(seen, (1, 33, 1)).astype(np.float32)
    back = rotate_back(Poses(np.zeros_like(kp3), kp3, np.ones(1, np.float32)), turns, 10, 10)
    np.testing.assert_allclose(back.keypoints_3d[0, 0], head_up, atol=1e-6)


def test_bad_arguments_are_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="budget_frames"):
        RotatedLook(tmp_path / "x.task", budget_frames=-1)
    with pytest.raises(ValueError, match="min_score"):
        RotatedLook(tmp_path / "x.task", min_score=2.0)


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_crop_turned_by_any_angle_turns_back_as_a_quarter_turn_does(turns: int) -> None:
    # turn_back, given the crop's affine, agrees with rotate_back on quarter turns: in 2D and in 3D.
    import cv2

    side = 40
    rng = np.random.default_rng(turns)
    kp2 = np.concatenate([rng.uniform(0, side, (1, 33, 2)), np.ones((1, 33, 1))], axis=2).astype(np.float32)
    kp3 = rng.normal(size=(1, 33, 3)).astype(np.float32)
    poses = Poses(kp2, kp3, np.ones(1, np.float32))
    to_crop = cv2.getRotationMatrix2D((side / 2, side / 2), 90.0 * turns, 1.0)
    back = turn_back(poses, 90.0 * turns, cv2.invertAffineTransform(to_crop))
    quarter = rotate_back(poses, turns, side, side)
    np.testing.assert_allclose(back.keypoints_2d, quarter.keypoints_2d, atol=1e-3)
    np.testing.assert_allclose(back.keypoints_3d, quarter.keypoints_3d, atol=1e-5)


@pytest.mark.parametrize(
    ("first", "step", "want"),
    [
        (0.0, 90.0, [0.0, 90.0, 270.0, 180.0]),  # a new gap: upright, then either quarter turn, then upside down
        (90.0, 45.0, [90.0, 135.0, 45.0, 180.0, 0.0, 225.0, 315.0, 270.0]),  # nearest the last good turn first
        (-45.0, 90.0, [315.0, 45.0, 225.0, 135.0]),  # any start, taken round the circle
    ],
)
def test_turns_are_tried_nearest_the_last_good_one_first(first: float, step: float, want: list[float]) -> None:
    assert turn_order(first, step) == want


def test_bad_search_settings_are_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name, value in (("turn_step", 0.0), ("follow_sizes", (0.0,)), ("crop_sizes", ()), ("resize", 0.5)):
        with pytest.raises(ValueError, match=name):
            RotatedLook(tmp_path / "x.task", **{name: value})


def test_the_crop_follower_finds_the_body_where_the_whole_frame_does(spin_clip, settings) -> None:  # type: ignore[no-untyped-def]
    """Real model, real encoded video: a follower fed crops around the rider (3 body sizes, off-centre, resized
    for the model) returns keypoints in the frame's pixels, where the whole frame's graph puts them."""
    from pose_service.pose import PoseLandmarkerBackend, ensure_bundle
    from pose_service.pose.follower import CropFollower
    from pose_service.video import VideoReader, probe

    bundle = ensure_bundle(settings.models_dir)
    gaps, seen = [], 0
    with (
        VideoReader(probe(spin_clip)) as reader,
        PoseLandmarkerBackend(bundle, num_poses=1) as whole,
        CropFollower(bundle, 300.0) as follower,
    ):
        for n, frame in enumerate(reader):
            if n >= 20:
                break
            truth = whole.detect(frame.rgb, frame.time_s)
            if not len(truth):
                continue
            box = truth.bboxes()[0]
            centre = ((box[0] + box[2]) / 2 + 20.0, (box[1] + box[3]) / 2 - 15.0)  # the crop off the body's centre
            found = follower.look(frame.rgb, centre, frame.time_s)
            if len(found):
                seen += 1
                side = float(max(box[2] - box[0], box[3] - box[1]))
                gaps.append(np.median(np.linalg.norm(found.keypoints_2d[0, :, :2] - truth.keypoints_2d[0, :, :2], axis=1))
                            / side)  # fmt: skip
    assert seen >= 10, seen
    assert np.median(gaps) < 0.1, gaps


@pytest.mark.parametrize(
    ("side", "too_small"),
    [
        (26.0, True),  # seg6 mirrored: a leg or a branch read as a person beside a rider of 80 px
        (40.0, False),  # the body tucked: about half its size
        (100.0, False),  # the body coming closer
    ],
)
def test_a_find_far_smaller_than_the_body_is_not_the_body(side: float, too_small: bool) -> None:
    box = np.array([200.0, 150.0, 200.0 + side * 0.6, 150.0 + side])
    assert _too_small(box, 80.0, 1.6) is too_small
    assert _too_small(box, 0.0, 1.6) is False  # the body's size unknown
