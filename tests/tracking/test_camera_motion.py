"""The camera's motion from the background (`tracking.camera_motion`) where the background is bare and a
snowboard reaching past its rider's box is the only thing with corners."""

from __future__ import annotations

import numpy as np

from pose_service.tracking.camera_motion import CameraMotion

SIZE = 480
BOX = np.array([[200.0, 150.0, 260.0, 300.0]])  # the rider's keypoint box: 60 x 150 px


def _frame(board_x: int, rng_seed: int = 5) -> np.ndarray:
    """A still camera's picture: faint snow (grey 200 +- 3) and a high-contrast checkered board 150 px long,
    under the rider's box, at `board_x`."""
    rng = np.random.default_rng(rng_seed)
    faint = 200 + np.repeat(np.repeat(rng.integers(-3, 4, (SIZE // 6, SIZE // 6)), 6, 0), 6, 1)
    grey = faint.astype(np.uint8)
    checks = (np.indices((5, 25)).sum(0) % 2 * 200 + 30).astype(np.uint8)
    grey[300:330, board_x : board_x + 150] = np.repeat(np.repeat(checks, 6, 0), 6, 1)[:30, :150]
    return np.repeat(grey[:, :, None], 3, 2)


def test_a_board_moving_past_its_riders_box_is_not_the_cameras_motion() -> None:
    motion = CameraMotion()
    motion.update(_frame(150), BOX)
    affine = motion.update(_frame(170), BOX)  # the board moved 20 px right; the snow stood still
    assert np.allclose(affine[:, 2], 0.0, atol=1.0), affine
    assert abs(np.degrees(np.arctan2(affine[1, 0], affine[0, 0]))) < 0.5, affine


def test_the_background_still_moves_the_camera_when_it_has_corners() -> None:
    """The same picture panned 12 px left as a whole, board and snow together: that is the camera's motion."""
    motion = CameraMotion()
    first = _frame(150)
    motion.update(first, BOX)
    panned = np.roll(first, -12, axis=1)
    affine = motion.update(panned, BOX - np.array([12.0, 0.0, 12.0, 0.0]))
    assert abs(affine[0, 2] + 12) < 1.0 and abs(affine[1, 2]) < 1.0, affine
