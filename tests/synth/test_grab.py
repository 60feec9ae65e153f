"""Synthetic grabs: the spec reads them, and the generator really puts Anny's palm on the board (measured on the
skinned mesh, not on keypoints) for about the hold asked, at the place the grab's name says."""

from __future__ import annotations

import numpy as np
import pytest

from pose_service.config import Settings
from pose_service.errors import BadOption
from pose_service.synth import parse_trick
from pose_service.synth.grab import EASE_S, GRABS, apply_grab, board_distance, grab_truth, palm_vertices


def test_the_spec_reads_a_grab_and_its_hold() -> None:
    spec = parse_trick("regular,fs360,indy,hold=0.3")
    assert (spec.grab, spec.grab_hold_s, spec.spin_deg) == ("indy", 0.3, 360.0)
    assert parse_trick("straight,grab=roast_beef").grab == "roast_beef"
    assert "Grab: roast beef" in parse_trick("straight,grab=roast_beef").explanation()
    assert parse_trick("360").grab is None


@pytest.mark.parametrize(
    "text",
    [
        "straight,grab=nosebone",  # not a grab this draws
        "straight,indy,hold=0.7",  # longer than the 0.8 s air allows (0.1 s to reach the board and back)
        "straight,indy,hold=0.05",  # under the 0.1 s that counts as held
        "ride,indy",  # no air to grab in
    ],
)
def test_a_grab_that_cannot_be_drawn_is_refused(text: str) -> None:
    with pytest.raises(BadOption):
        parse_trick(text)


@pytest.fixture(scope="module")
def rider():  # type: ignore[no-untyped-def]
    from pose_service.synth.body import load_rider

    return load_rider(Settings().anny_cache_dir, 0)


def _posed(rider, spec: str, view: str = "front"):  # type: ignore[no-untyped-def]
    from pose_service.synth.body import pose_body
    from pose_service.synth.motion import make_motion, make_timeline

    trick = parse_trick(spec)
    timeline = make_timeline(trick, 30.0)
    motion = make_motion(trick, timeline, bone_labels=rider.bone_labels, rest_heads=rider.rest_heads, view=view,
                         speed_m_s=4.0)  # fmt: skip
    motion, miss = apply_grab(rider, motion, trick.grab, trick.grab_hold_s, trick.riding_stance(view))
    return trick, timeline, pose_body(rider, motion), miss


# (spec, hand's body side, where along the board: + the rider's left; toe edge: in front of the body)
@pytest.mark.parametrize(
    ("spec", "side", "along"),
    [
        ("regular,straight,indy", "R", "middle"),  # regular: the back hand is the right one
        ("goofy,straight,indy", "L", "middle"),  # goofy mirrors: the back hand is the left one
        ("regular,straight,nose", "L", "left"),  # the front hand on the nose, beyond the left (leading) foot
        ("goofy,straight,tail", "L", "left"),  # goofy: the tail is beyond the left (trailing) foot
        ("regular,straight,melon", "L", "middle"),
    ],
)
def test_the_palm_holds_the_board_for_the_hold(rider, spec: str, side: str, along: str) -> None:  # type: ignore[no-untyped-def]
    trick, timeline, body, miss = _posed(rider, spec)
    assert miss < 0.03, f"the solve left the palm {miss:.3f} m from its place"
    palm = body.vertices[:, palm_vertices(rider, side)].mean(axis=1)
    near = board_distance(palm, body.board) <= 0.05
    air = (timeline.times > timeline.takeoff_s) & (timeline.times < timeline.landing_s)
    assert not near[~air].any(), "a hand on the board outside the flight"
    held = near.sum() / timeline.fps
    assert trick.grab_hold_s - 0.05 <= held <= trick.grab_hold_s + 2 * EASE_S
    # where along the board, in the board's own frame (corner 0 to corner 2 runs along Anny's +x: the left)
    mid = int(np.flatnonzero(near)[len(np.flatnonzero(near)) // 2])
    b = body.board[mid]
    axis = (b[2] - b[0]) / np.linalg.norm(b[2] - b[0])
    u = float((palm[mid] - (b[0] + b[2]) / 2) @ axis)
    if along == "middle":
        assert abs(u) < 0.3
    else:
        assert u > 0.35
    truth = grab_truth(rider, body.vertices, body.board, timeline.times, trick, trick.riding_stance("front"))
    assert truth["name"] == trick.grab
    assert truth["duration_s"] == pytest.approx(held, abs=1e-4)


def test_every_grab_has_a_place_for_each_hand() -> None:
    assert len(GRABS) == 12
    assert all(p.hand in ("front", "back") and p.edge in ("toe", "heel") for places in GRABS.values() for p in places)
    assert [p.hand for p in GRABS["truck_driver"]] == ["front", "back"]
