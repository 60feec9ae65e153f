"""find_jumps, its explanation and the overlay labels on a stick figure spinning through a known flight."""

from __future__ import annotations

import re

import numpy as np
import pytest

from pose_service.analysis import find_jumps, summarize
from pose_service.analysis.jumps import overlay_labels
from pose_service.tracking.core import Track
from tests.analysis.figures import orient, project
from tests.analysis.test_airborne import FPS, _flight

TAKEOFF, AIR_S = 30, 0.8


@pytest.fixture(scope="module")
def spin_jumps():  # type: ignore[no-untyped-def]
    n = 90
    u = np.clip((np.arange(n) - TAKEOFF) / (AIR_S * FPS), 0.0, 1.0)
    kp3d = orient(-540.0 * u, np.zeros(n), 90.0)  # a 540 to the right, side-on
    kp2d = project(kp3d, _flight(n, TAKEOFF, AIR_S))
    track = Track(id=1, frames=np.arange(n), bbox=np.zeros((n, 4), np.float32), keypoints_2d=kp2d.astype(np.float32),
                  keypoints_3d=kp3d.astype(np.float32))  # fmt: skip
    times = np.arange(n) / FPS
    return find_jumps(track, times, image_height=480, fps=FPS), times


def test_the_jump_is_counted_and_explained_with_numbers(spin_jumps) -> None:  # type: ignore[no-untyped-def]
    jumps, _ = spin_jumps
    assert len(jumps) == 1
    doc = jumps[0].to_result()
    assert (doc["spin_deg"], doc["spin_direction"], doc["flip_deg"], doc["flip_direction"]) == (540, "right", 0, None)
    assert doc["takeoff_frame"] == TAKEOFF and doc["air_time_s"] == pytest.approx(AIR_S, abs=0.04)
    text = doc["explanation"]
    assert text.startswith("0.80 s in the air") and "spin 540 right (spin 540 nominal, 5" in text
    # The figure keeps its legs straight (about 175 deg): both the takeoff and landing rules speak, with numbers.
    assert re.search(r"Knees at 1\d\d° at takeoff", text) and re.search(
        r"Landed with knees at 1\d\d°, nearly straight", text
    )
    for sentence in text.split(". "):
        assert re.search(r"\d", sentence), f"a sentence without a number: {sentence!r}"
    assert doc["cue"] and doc["cue"] in text
    assert "1 jump" in summarize(jumps) and "spin 540 right" in summarize(jumps)


def test_overlay_labels_count_up_then_hold_the_total(spin_jumps) -> None:  # type: ignore[no-untyped-def]
    jumps, times = spin_jumps
    labels = overlay_labels(jumps, times)
    landing = TAKEOFF + round(AIR_S * FPS)
    assert min(labels) == TAKEOFF and max(labels) == landing + round(FPS)
    spins = [int(re.search(r"spin (\d+) deg", labels[f]).group(1)) for f in range(TAKEOFF, landing)]  # type: ignore[union-attr]
    assert spins[0] == 0 and all(b >= a for a, b in zip(spins, spins[1:], strict=False)) and spins[-1] > 450
    assert labels[landing] == "jump 1: 0.80 s air, spin 540 right"  # the figure stands still: stance unseen


def test_no_jump_no_sentence() -> None:
    assert summarize([]) == "No jump found for the rider."
