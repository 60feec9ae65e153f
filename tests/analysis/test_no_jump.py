"""No jump is reported where there is none: riding on, and a deep crouch with the feet on the snow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

Analyzed = Callable[[str, str], tuple[dict[str, Any], dict[str, Any]]]


@pytest.mark.parametrize(
    ("spec", "view"),
    [
        ("ride", "side"),  # riding past in the stance, the whole clip
        ("crouch", "side"),  # down to a deep crouch, held 0.8 s, up again: the hips drop and rise
        ("crouch", "front"),  # the same seen from the front, where the drop is in depth as much as height
    ],
)
def test_no_jump_is_reported(analyzed_trick: Analyzed, spec: str, view: str) -> None:
    result, truth = analyzed_trick(spec, view)
    assert truth["jumps"] == []
    rider = next(t for t in result["tracks"] if t["is_rider"])
    assert len(rider["frames"]) >= 0.8 * truth["video"]["frame_count"], "the rider was not followed"
    if spec == "crouch":  # the crouch is there to be mistaken: the knees are seen deeply bent
        angles = rider["angles"]
        values = np.asarray(angles["values"], dtype=float)
        knees = values[[angles["names"].index("left_knee"), angles["names"].index("right_knee")]].mean(axis=0)
        assert np.nanmin(knees) < 120
    jumps = result["analysis"]["jumps"]
    assert jumps == [], [j["explanation"] for j in jumps]
