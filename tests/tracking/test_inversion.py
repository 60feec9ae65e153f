"""Readings of a body upside down for a frame or two: found and dropped, a real flip left alone."""

from __future__ import annotations

import numpy as np

from pose_service.tracking.finalise import finalise_track
from pose_service.tracking.inversion import body_axis_deg, upside_down

FPS = 30.0


def _body(angle_deg: float, centre: tuple[float, float] = (320.0, 240.0), size: float = 100.0) -> np.ndarray:
    """(33, 3) a stick body turned by angle_deg in the picture (0: upright), every point seen."""
    kp = np.zeros((33, 3))
    kp[:, 2] = 1.0
    t = np.radians(angle_deg)
    up = np.array([np.sin(t), -np.cos(t)])  # image y points down
    side = np.array([np.cos(t), np.sin(t)])
    # Height along the body (0 feet .. 1 head) and side offset, per joint group.
    layout = {0: (1.0, 0.0), 11: (0.8, -0.15), 12: (0.8, 0.15), 15: (0.5, -0.25), 16: (0.5, 0.25),
              23: (0.5, -0.08), 24: (0.5, 0.08), 25: (0.25, -0.08), 26: (0.25, 0.08), 27: (0.0, -0.08),
              28: (0.0, 0.08)}
    for j in range(33):
        h, s = layout.get(j, layout[min(layout, key=lambda k: abs(k - j))])
        kp[j, :2] = np.asarray(centre) + size * ((h - 0.5) * up + s * side)
    return kp


def _track(angles: list[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frames = np.arange(len(angles))
    kp2 = np.stack([_body(a, centre=(300.0 + 4 * i, 240.0)) for i, a in enumerate(angles)])
    return frames, kp2, frames / FPS


def test_body_axis_reads_upright_and_inverted() -> None:
    angles = body_axis_deg(np.stack([_body(0.0), _body(90.0), _body(180.0)]))
    assert np.allclose(np.abs(angles), [0.0, 90.0, 180.0], atol=1e-6)


def test_two_frames_upside_down_at_the_lip_are_found() -> None:
    # seg6's second takeoff: upright, two readings turned ~140-150 degrees, upright again.
    frames, kp2, times = _track([-14, -12, -14, 137, 148, -11, -10, -9])
    assert upside_down(frames, kp2, times).tolist() == [False] * 3 + [True, True] + [False] * 3


def test_a_longer_misreading_inside_a_fifth_of_a_second_is_found_at_any_frame_rate() -> None:
    # seg6 written again: four readings upside down on the lip (30 fps); a 60 fps phone clip's six readings span
    # less time still. Seven at 30 fps (0.27 s from the reading before to the one after) could be a body turning.
    for fps, inverted, dropped in ((30.0, 4, True), (60.0, 6, True), (30.0, 7, False)):
        angles = [-28.0] * 4 + [135.0 + 4 * k for k in range(inverted)] + [-23.0] * 4
        frames = np.arange(len(angles))
        kp2 = np.stack([_body(a, centre=(300.0 + 4 * i, 240.0)) for i, a in enumerate(angles)])
        found = upside_down(frames, kp2, frames / fps)
        assert found.tolist() == [False] * 4 + [dropped] * inverted + [False] * 4, (fps, inverted)


def test_a_fast_double_flip_is_not_a_misreading() -> None:
    # 720 degrees in 0.8 s at 30 fps: 30 degrees a frame, a rate few riders reach.
    angles = [0.0] * 5 + [30.0 * k for k in range(1, 25)] + [720.0] * 5
    frames, kp2, times = _track(angles)
    assert not upside_down(frames, kp2, times).any()


def test_readings_far_apart_in_time_are_not_judged() -> None:
    # The same upright / inverted / upright, but the readings 0.3 s apart (the rider lost between): a body
    # may have turned right round in that time.
    frames = np.array([0, 9, 18])
    kp2 = np.stack([_body(0.0), _body(180.0), _body(0.0)])
    assert not upside_down(frames, kp2, np.arange(30) / FPS).any()


def test_finalise_drops_the_inverted_readings_and_fills_them() -> None:
    angles = [0.0] * 6 + [175.0] + [0.0] * 6
    frames, kp2, times = _track(angles)
    track = finalise_track(1, frames, kp2, kp2.copy(), times)
    assert track.extras["upside_down_dropped"] == 1
    assert track.frames.tolist() == frames.tolist()  # the frame is back, interpolated and marked
    assert track.interpolated.tolist() == [False] * 6 + [True] + [False] * 6
    assert abs(body_axis_deg(track.keypoints_2d[6:7])[0]) < 1.0
