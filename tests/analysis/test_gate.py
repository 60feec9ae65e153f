"""The gate on a jump's fitted rotation (`quality.rotation_doubt`): a fit few air frames agree with, or one that
turns faster than a body can, is no measurement, and the clip says so instead of naming a trick."""

from __future__ import annotations

from typing import Any

from pose_service.analysis.quality import MIN_ROTATION_AGREEMENT, rotation_doubt, scoring


def _jump(agreement: float, spin: float, flip: float, air_s: float, roll: float = 0.0) -> dict[str, Any]:
    return {"rotation_agreement": agreement, "spin_measured_deg": spin, "flip_measured_deg": flip,
            "roll_measured_deg": roll, "air_time_s": air_s,
            "confidence": {"air_frames_seen": 0.9, "seen_frames": 30, "air_frames": 33}}  # fmt: skip


def test_a_rotation_few_air_frames_agree_with_is_not_scored() -> None:
    # seg6's first kicker: "backside double cork 540" with 19 % of the air frames agreeing
    doubtful = _jump(0.188, 453.0, 742.5, 1.1)
    assert "19 %" in (rotation_doubt(doubtful) or "")
    verdict = scoring(95.0, [doubtful])
    assert verdict["scoreable"] is False
    assert verdict["reasons"] == [f"jump 1: only 19 % of the air frames agree with the fitted rotation (under "
                                  f"{100 * MIN_ROTATION_AGREEMENT:.0f} %): the rotation cannot be measured"]  # fmt: skip


def test_a_rotation_faster_than_a_body_is_not_scored() -> None:
    # a flight cut to 0.3 s by a moving camera read a straight air as 1,552 degrees of spin
    assert "faster than a body can" in (rotation_doubt(_jump(0.9, 1552.5, 6.0, 0.3)) or "")
    assert rotation_doubt(_jump(0.9, 1552.5, 6.0, 1.2)) is None  # the same turn over 1.2 s: about 1,300 a second


def test_real_tricks_pass() -> None:
    assert rotation_doubt(_jump(0.5, 15.0, 30.0, 0.8)) is None  # the lowest agreement a rendered jump read right had
    assert rotation_doubt(_jump(0.9, 1080.0, 720.0, 1.05)) is None  # a double cork 1080
    assert rotation_doubt(_jump(0.9, 0.0, 1080.0, 1.2)) is None  # a triple backflip
    assert scoring(150.0, [_jump(0.9, 360.0, 0.0, 0.8)]) == {"scoreable": True, "reasons": []}


def test_the_gate_measures_the_rider_standing_not_lying_in_an_airbag() -> None:
    """70 px tall while riding (40 samples), then lying in a bag, 30 px tall and 80 wide (60 samples): the median
    over every box would refuse the clip (30 px); the rider is as big as before."""
    import numpy as np

    from pose_service.analysis.jumps import _rider_height_px
    from pose_service.tracking.core import Track

    n, riding = 100, 40
    k2 = np.zeros((n, 33, 3))
    bbox = np.zeros((n, 4))
    k2[:riding, [11, 12], 1], k2[:riding, [27, 28], 1] = 100.0, 160.0  # shoulders above the ankles
    bbox[:riding] = [100.0, 95.0, 130.0, 165.0]
    k2[riding:, [11, 12], 0], k2[riding:, [27, 28], 0] = 100.0, 170.0  # lying: shoulders beside the ankles
    k2[riding:, :, 1] = 150.0
    bbox[riding:] = [95.0, 135.0, 175.0, 165.0]
    track = Track(id=1, frames=np.arange(n), bbox=bbox, keypoints_2d=k2, keypoints_3d=np.zeros((n, 33, 3)),
                  interpolated=np.zeros(n, dtype=bool))  # fmt: skip
    assert float(np.median(bbox[:, 3] - bbox[:, 1])) == 30.0
    assert _rider_height_px(track) == 70.0


def test_a_torso_the_pictures_edge_cuts_is_not_a_sighting() -> None:
    """The real seg1 cropped to 202x360: the rider's hips pinned 1-6 px inside the right edge through the air
    (about 90 px a metre), where the model squeezed the body into the part in view and read its shoulders edge-on.
    Such frames are cut (within 0.1 m of the edge); a body a metre inside, or only a foot out of the picture, is
    not."""
    import numpy as np

    from pose_service.analysis.quality import confidence, cut_by_edge

    n = 10
    k2 = np.zeros((n, 33, 3))
    k2[:, :, 0], k2[:, :, 1], k2[:, :, 2] = 100.0, 150.0, 1.0
    k2[:, [11, 23], 0] = np.array([150.0, 190.0, 196.0, 199.8, 201.0, 205.0, 120.0, 120.0, 120.0, 120.0])[:, None]
    k2[8, 27:33, 1] = 365.0  # a foot below the picture's bottom: the torso is whole
    k2[9, [12, 24], 1] = 3.0  # the shoulders and hips at the top edge
    scale = np.full(n, 90.0)
    cut = cut_by_edge(k2, scale, (202, 360))
    assert cut.tolist() == [False, False, True, True, True, True, False, False, False, True]

    frames = np.arange(n)
    c = confidence(frames, np.zeros(n, dtype=bool), np.tile([90.0, 100.0, 200.0, 220.0], (n, 1)), k2,
                   takeoff_frame=0, landing_frame=n, agreement=1.0, cut=cut)  # fmt: skip
    assert (c.air_frames, c.seen_frames, c.edge_frames) == (9, 4, 5)  # frames 1-9 in the air, 2-5 and 9 cut
    assert c.to_result()["edge_frames"] == 5
    gated = scoring(120.0, [{**_jump(1.0, 0.0, 0.0, 1.0), "confidence": {**c.to_result(), "air_frames_seen": 0.3}}])
    assert "the picture's edge cutting the rider in 5 of them" in gated["reasons"][0]


def test_a_flight_with_no_reading_in_the_air_turns_no_degrees() -> None:
    """Every air frame unread (cut by the edge): the frames on the snow before and after fix the heading up to
    whole turns only, which once came out as 1,453 degrees; the fit is none, agreeing with nothing."""
    import numpy as np

    from pose_service.analysis.rotation import fit_rotation

    t = np.arange(40) / 30.0
    k3 = np.zeros((40, 33, 3))
    k3[:, [11, 23], 0], k3[:, [12, 24], 0] = 0.2, -0.2
    k3[:, [11, 12], 1], k3[:, [23, 24], 1] = 0.5, 0.0
    k2 = np.zeros((40, 33, 3))
    air = (t > 0.3) & (t < 1.0)
    k3[air], k2[air] = np.nan, np.nan
    fit = fit_rotation(t, k2, k3, np.full(40, 100.0), takeoff_s=0.3, landing_s=1.0)
    assert (fit.spin_deg, fit.flip_deg, fit.frames, fit.agreement) == (0.0, 0.0, 0, 0.0)
