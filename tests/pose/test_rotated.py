"""The turned second look's geometry: keypoints found in a turned crop land where the body is upright."""

from __future__ import annotations

import numpy as np
import pytest

from pose_service.pose.rotated import RotatedLook, rotate_back
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
