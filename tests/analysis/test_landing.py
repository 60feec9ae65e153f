"""Landing grade rules and the 0-10 score the rider history and comparison show."""

from __future__ import annotations

import numpy as np
import pytest

from pose_service.analysis.compare import landing_grade
from pose_service.analysis.landing import grade_landing, landing_score
from pose_service.analysis.stance import landing_stance, riding_stance


@pytest.mark.parametrize(
    ("landing", "low", "high"),
    [
        ({"grade": "stomped", "trunk_lean_deg": 10, "time_to_stable_s": 0.3, "residual_rotation_deg": 5}, 10, 10),
        ({"grade": "stomped", "trunk_lean_deg": 45, "time_to_stable_s": 0.9, "residual_rotation_deg": 30}, 7, 9),
        ({"grade": "sketchy", "trunk_lean_deg": 70, "time_to_stable_s": None, "hands_down": True}, 4, 4),
        ({"grade": "sketchy", "trunk_lean_deg": 25, "time_to_stable_s": 0.6}, 6, 6.9),
        ({"grade": "crash", "trunk_lean_deg": 80, "time_to_stable_s": None}, 0, 3),
    ],
)
def test_score_stays_inside_its_grade(landing: dict, low: float, high: float) -> None:  # type: ignore[type-arg]
    score = landing_score(landing)
    assert score is not None and low <= score <= high


def test_compare_reads_the_grade_and_still_scores_old_results() -> None:
    assert landing_grade({"landing": {"grade": "crash", "trunk_lean_deg": 80}}) == 0.0
    assert landing_grade({"unscored": "rider under 60 px tall (median 40 px)", "landing": None}) is None
    old = {"angles": {"landing": {"left_knee": 120, "right_knee": 124, "trunk_lean": 10}}, "landing_knee_min_deg": 100}
    assert landing_grade(old) == 10.0


def test_a_landing_out_of_view_is_not_graded_on_invented_numbers() -> None:
    got = grade_landing(np.arange(10) / 30, np.zeros((10, 33, 3)), landing_s=5.0)
    assert got.grade == "unknown" and "seen in 0 frames" in got.reasons[0] and np.isnan(got.knee_flexion_deg)
    # Two samples of the landing are too few to call it stomped (it used to be, and scored 9/10 in the history).
    two = grade_landing(np.arange(10) / 30, np.zeros((10, 33, 3)), landing_s=8 / 30)
    assert two.grade == "unknown" and "seen in 2 frames" in two.reasons[0]
    assert landing_score(two.to_result()) is None and two.to_result()["hands_down"] is None


def test_without_gravitys_up_the_landing_is_withheld_not_guessed(truth_body) -> None:  # type: ignore[no-untyped-def]
    """A clean landing seen by a rolled camera: graded on the picture's up it could read as a crash (a trunk
    "leaning 128°", a wrist "under the snow"); with the camera's motion known, the grade and the gravity-bound
    numbers are withheld, with the reason, and the body's own angles (knees, hips) kept."""
    body = truth_body("regular,straight", "front")
    landing = float(body["timeline"].landing_s)
    kp3 = body["keypoints_3d"].copy()
    turn = np.radians(128.0)  # the picture's up 128° away from gravity's, about the camera axis
    rot = np.array([[np.cos(turn), -np.sin(turn), 0], [np.sin(turn), np.cos(turn), 0], [0, 0, 1]])
    tilted = kp3 @ rot.T
    assert grade_landing(body["times"], kp3, landing_s=landing).grade == "stomped"
    assert grade_landing(body["times"], tilted, landing_s=landing).grade != "stomped"  # what the picture's up says
    got = grade_landing(body["times"], tilted, landing_s=landing, up_unknown="the camera rolled 128° around the jump")
    assert got.grade == "unknown" and "rolled 128°" in got.reasons[0]
    assert np.isnan(got.trunk_lean_deg) and np.isnan(got.hip_height_min_m) and got.hands_down is None
    level = grade_landing(body["times"], kp3, landing_s=landing)
    assert got.knee_flexion_deg == pytest.approx(level.knee_flexion_deg, abs=1.0)
    assert landing_score(got.to_result()) is None


def test_no_stance_without_travel_across_the_picture(truth_body) -> None:  # type: ignore[no-untyped-def]
    body = truth_body("regular,fs360", "front")
    kp2d = body["keypoints_2d"].copy()
    kp2d[..., 0] -= kp2d[:, 23:24, 0] - 240.0  # the hips held still in the picture: travel towards the camera
    takeoff = float(body["timeline"].takeoff_s)
    got = riding_stance(body["times"], kp2d, body["keypoints_3d"], np.full(len(kp2d), 100.0), takeoff_s=takeoff)
    assert got.stance is None and "does not move across" in got.reason
    moving = riding_stance(body["times"], body["keypoints_2d"], body["keypoints_3d"], np.full(len(kp2d), 100.0),
                           takeoff_s=takeoff)  # fmt: skip
    assert moving.stance == "regular" and moving.agree == 1.0


def test_a_rider_carving_across_the_picture_and_back_before_the_kicker(truth_body) -> None:  # type: ignore[no-untyped-def]
    """The stance is read on the line into the kicker: before it the rider came the other way across the picture
    (the hips' path reflected about a turn 0.55 s before takeoff) showing the other side of the body, the same
    stance. Over the whole window the travel and the body's side disagree half the time."""
    body = truth_body("regular,fs360", "front")
    t, takeoff = body["times"], float(body["timeline"].takeoff_s)
    kp2d, kp3d = body["keypoints_2d"].copy(), body["keypoints_3d"].copy()
    hips = (kp2d[:, 23, 0] + kp2d[:, 24, 0]) / 2
    before = t < takeoff - 0.55
    turn = hips[np.flatnonzero(~before)[0]]
    kp2d[before, :, 0] = (2 * turn - hips[before])[:, None] - (kp2d[before, :, 0] - hips[before, None])
    kp3d[before, :, 0] *= -1
    scale = np.full(len(t), 100.0)
    got = riding_stance(t, kp2d, kp3d, scale, takeoff_s=takeoff)
    assert got.stance == "regular" and got.travel == 1 and got.agree == 1.0, got
    assert got.frames < before.size - before.sum()  # the samples after the turn only


@pytest.mark.parametrize(("spec", "view", "after"), [("regular,fs180", "front", "goofy"), ("regular,fs360", "front", "regular"),
                                                     ("goofy,bs540", "back", "regular")])  # fmt: skip
def test_the_stance_ridden_away_from_the_landing(truth_body, spec: str, view: str, after: str) -> None:  # type: ignore[no-untyped-def]
    """An odd number of half turns lands switch, an even one in the approach's stance."""
    body = truth_body(spec, view)
    landing = float(body["timeline"].landing_s)
    scale = np.full(len(body["times"]), 100.0)
    got = landing_stance(body["times"], body["keypoints_2d"], body["keypoints_3d"], scale, landing_s=landing)
    assert got.stance == after and got.agree == 1.0, got
    # a run-out cut short, by the clip's end or the next jump's approach, is not read
    soon = landing_stance(body["times"], body["keypoints_2d"], body["keypoints_3d"], scale, landing_s=landing,
                          next_takeoff_s=landing + 0.6)  # fmt: skip
    assert soon.stance is None and "under 0.5 s" in soon.reason


def test_a_camera_following_the_rider_still_shows_the_stance(truth_body) -> None:  # type: ignore[no-untyped-def]
    """The hips held still in the picture by a camera panning with the rider: the camera's path (the content moving
    against the travel) gives the travel back, and with it the stance."""
    body = truth_body("regular,fs360", "front")
    hips = (body["keypoints_2d"][:, 23, 0] + body["keypoints_2d"][:, 24, 0]) / 2
    kp2d = body["keypoints_2d"].copy()
    kp2d[..., 0] -= hips[:, None] - 240.0
    takeoff = float(body["timeline"].takeoff_s)
    got = riding_stance(body["times"], kp2d, body["keypoints_3d"], np.full(len(kp2d), 100.0), takeoff_s=takeoff,
                        camera_dx_px=240.0 - hips)  # fmt: skip
    assert got.stance == "regular" and got.travel == 1


def test_a_panning_camera_is_measured_and_lowers_the_confidence() -> None:
    from pose_service.analysis.airborne import Airborne
    from pose_service.analysis.jumps import _camera_motion
    from pose_service.analysis.quality import confidence

    times = np.arange(90) / 30.0
    boxes = np.tile(np.array([100.0, 100.0, 160.0, 300.0]), (90, 1))  # 200 px tall
    flight = Airborne(start=36, end=60, takeoff_frame=36, landing_frame=60, takeoff_s=1.2, landing_s=2.0,
                      apex_m=0.8, drop_m=0.0, accel_g=1.0, rms_m=0.01)  # fmt: skip
    assert _camera_motion(None, times, boxes, flight) is None
    pan = _camera_motion(-400.0 * times, times, boxes, flight)  # content moving left at 400 px/s: 2 heights/s
    assert pan == pytest.approx(2.0, abs=0.05)
    assert _camera_motion(np.zeros(90), times, boxes, flight) == 0.0
    kp2 = np.zeros((90, 33, 3))
    kp2[..., 2] = 0.9
    args = (np.arange(90), np.zeros(90, dtype=bool), boxes, kp2)
    still = confidence(*args, takeoff_frame=36, landing_frame=60, agreement=1.0, camera_motion=0.0)
    panned = confidence(*args, takeoff_frame=36, landing_frame=60, agreement=1.0, camera_motion=pan)
    assert panned.camera_motion == pan and panned.overall == pytest.approx(still.overall / (1 + 0.25 * pan))


def test_a_hidden_stretch_is_named_when_no_jump_is_found() -> None:
    from pose_service.analysis.quality import hidden_span, scoring

    frames = np.arange(90)
    interpolated = np.zeros(90, dtype=bool)
    scale = np.full(90, 140.0)
    assert hidden_span(frames, interpolated, scale, 30.0) is None
    scale[40:50] = 95.0  # a whole skeleton fitted into the legs below a banner
    interpolated[50:54] = True  # and then not found at all
    span = hidden_span(frames, interpolated, scale, 30.0)
    assert span == (40, 53)
    reasons = scoring(180.0, [], hidden=span, fps=30.0)["reasons"]
    assert reasons == ["no jump found, and the rider was hidden or only partly in view for 0.5 s (frames 40-53): a jump "
                       "there cannot be measured"]  # fmt: skip


def test_a_rider_riding_out_of_the_picture_after_a_clean_landing_is_not_graded_sketchy(  # type: ignore[no-untyped-def]
    analyzed_trick, session_dir, settings
) -> None:
    """A rendered frontside 360, stomped, its picture cut at the rider's shoulder on the landing frame, so the rider
    rides out of it as the landing is absorbed: the pose model squeezed the body into the part in view, and the
    clean landing read "not riding stable" (sketchy, at 480x480). Samples the edge cuts are not read: the landing is
    graded on what is seen whole, or not graded, the reason naming the edge; never sketchy or a crash."""
    from pose_service.pipeline import AnalyzeOptions, analyze
    from pose_service.video import VideoReader, probe
    from pose_service.video.encode import VideoWriter

    whole, _ = analyzed_trick("goofy,fs360", "front")
    jump = whole["analysis"]["jumps"][0]
    assert jump["landing"]["grade"] == "stomped", jump["landing"]
    rider = next(t for t in whole["tracks"] if t["id"] == whole["analysis"]["rider_track"])
    frames = list(rider["frames"])
    torso = np.asarray(rider["keypoints_2d"])[:, [11, 12, 23, 24], 0]
    at = frames.index(jump["landing_frame"])
    leftwards = torso[-1].mean() < torso[at].mean()
    clip = session_dir / "trick_goofy,fs360_front.mp4"
    info = probe(clip)
    lo, hi = (int(torso[at].min()) - 2, info.width) if leftwards else (0, int(torso[at].max()) + 2)
    lo, hi = lo - (hi - lo) % 2, hi  # an even width for the encoder
    cut = session_dir / "trick_fs360_cut_at_landing.mp4"
    with VideoReader(info) as reader, VideoWriter(cut, width=hi - lo, height=info.height, fps=info.fps) as writer:
        for frame in reader:
            writer.write(np.ascontiguousarray(frame.rgb[:, lo:hi]), frame.time_s)
    result = analyze(cut, out_dir=session_dir / "trick_fs360_cut_pose", options=AnalyzeOptions(mesh=False),
                     settings=settings).result  # fmt: skip
    jumps = result["analysis"]["jumps"]
    assert len(jumps) == 1, [(j["takeoff_frame"], j["landing_frame"]) for j in jumps]
    landing = jumps[0]["landing"]
    assert landing["grade"] in ("stomped", "unknown"), landing
    if landing["grade"] == "unknown":
        assert "picture's edge" in landing["reasons"][0], landing
