"""A drop off a box: the flight starts on the box and ends on the snow 0.8 m lower."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Analyzed = Callable[[str, str], tuple[dict[str, Any], dict[str, Any]]]


def test_a_drop_off_a_box_is_one_jump_timed_like_the_truth(analyzed_trick: Analyzed) -> None:
    result, truth = analyzed_trick("drop", "side")
    (want,) = truth["jumps"]
    root_y = np.asarray(truth["root_3d"])[:, 1]
    assert abs(root_y[0] - root_y[-1] - want["drop_m"]) < 1e-3  # on the box at the start, on the snow at the end
    (got,) = result["analysis"]["jumps"]
    assert abs(got["takeoff_frame"] - want["takeoff_frame"]) <= 3
    assert abs(got["landing_frame"] - want["landing_frame"]) <= 3
    assert abs(got["air_time_s"] - want["air_time_s"]) <= 0.1
    assert got["spin_deg"] == 0 and got["flip_deg"] == 0
    assert "dropped" in got["explanation"]
