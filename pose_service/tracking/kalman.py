"""A constant-velocity Kalman filter on a person's box, in image pixels.

State: centre x, centre y, width, height and their velocities in pixels per frame. Process noise scales
with the box size (SORT / OC-SORT convention) so one filter serves people near and far.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BoxKalman", "box_to_state", "state_to_box"]


def box_to_state(box: np.ndarray) -> np.ndarray:
    """[x0, y0, x1, y1] -> [cx, cy, w, h]."""
    x0, y0, x1, y1 = (float(v) for v in box)
    return np.array([(x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, 1.0), max(y1 - y0, 1.0)])


def state_to_box(s: np.ndarray) -> np.ndarray:
    """[cx, cy, w, h, ...] -> [x0, y0, x1, y1]."""
    cx, cy, w, h = (float(v) for v in s[:4])
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dtype=np.float32)


class BoxKalman:
    """Constant-velocity filter of [cx, cy, w, h]; `predict` one frame ahead, `update` with a measured box.

    pos_noise, vel_noise: process noise per frame as a fraction of the box size (position, velocity).
    meas_noise: measurement noise as a fraction of the box size (keypoint boxes jitter with the limbs).
    velocity_decay: factor applied to the velocity at each prediction without a measurement, so a person
        the detector lost drifts to a stop instead of flying off on a stale velocity.
    """

    _F = np.eye(8) + np.eye(8, k=4)
    _H = np.eye(4, 8)

    def __init__(
        self,
        box: np.ndarray,
        *,
        pos_noise: float = 0.05,
        vel_noise: float = 0.02,
        meas_noise: float = 0.08,
        velocity_decay: float = 0.85,
    ) -> None:
        self.x = np.zeros(8)
        self.x[:4] = box_to_state(box)
        size = self._size()
        self.P = np.diag([size**2 * 0.1] * 4 + [size**2 * 0.25] * 4)
        self.pos_noise, self.vel_noise, self.meas_noise = pos_noise, vel_noise, meas_noise
        self.velocity_decay = velocity_decay
        self._missed = 0

    def _size(self) -> float:
        return float(np.sqrt(max(self.x[2], 1.0) * max(self.x[3], 1.0)))

    @property
    def box(self) -> np.ndarray:
        """The current estimate as [x0, y0, x1, y1]."""
        return state_to_box(self.x)

    @property
    def size(self) -> float:
        """Geometric mean of width and height: a body scale that survives crouching and rotation."""
        return self._size()

    def predict(self) -> np.ndarray:
        """Advance one frame; return the predicted box."""
        if self._missed:
            self.x[4:] *= self.velocity_decay
        self.x = self._F @ self.x
        self.x[2:4] = np.maximum(self.x[2:4], 1.0)
        q = self._size()
        Q = np.diag([(self.pos_noise * q) ** 2] * 4 + [(self.vel_noise * q) ** 2] * 4)
        self.P = self._F @ self.P @ self._F.T + Q
        self._missed += 1
        return self.box

    def update(self, box: np.ndarray) -> None:
        """Correct the state with a measured box."""
        z = box_to_state(box)
        r = (self.meas_noise * float(np.sqrt(z[2] * z[3]))) ** 2
        S = self._H @ self.P @ self._H.T + np.eye(4) * r
        K = self.P @ self._H.T @ np.linalg.inv(S)
        self.x = self.x + K @ (z - self._H @ self.x)
        self.P = (np.eye(8) - K @ self._H) @ self.P
        self._missed = 0

    def apply_camera(self, affine: np.ndarray) -> None:
        """Move the state with the image's global motion (2x3 affine from the previous frame to this one)."""
        a = np.asarray(affine, dtype=float)
        scale = float(np.sqrt(abs(np.linalg.det(a[:, :2]))))
        self.x[:2] = a[:, :2] @ self.x[:2] + a[:, 2]
        self.x[2:4] *= scale
        self.x[4:6] = a[:, :2] @ self.x[4:6]
        self.x[6:8] *= scale
