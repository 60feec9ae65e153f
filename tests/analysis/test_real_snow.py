"""Real snowboard footage (../shared/media/real_snow/, annotated in its truth.json): follow-cams that move, tilt
and roll, and a drone. What must hold today, whatever the CPU: the drone clip is refused with its reason, no
jump is reported where none happened, no clean landing is graded a crash or sketchy, a moving camera is said to
move and gravity's up is not guessed from it, the rider is kept in the air, and the jumps the snow under the
feet finds are found. The timing of every jump is the benchmark's (`bench/real_snow.py`), with one exception
kept well inside its tolerance (seg1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pose_service.analysis.jumps import rider_chain
from pose_service.config import Settings
from pose_service.tracking.core import Track

REAL_SNOW = Path(__file__).resolve().parents[2].parent / "shared" / "media" / "real_snow"


@pytest.fixture(scope="session")
def real_snow(session_dir: Path, settings: Settings) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """clip name -> (result.json without the mesh, the clip's annotations)."""
    if not (REAL_SNOW / "truth.json").is_file():
        pytest.skip(f"real snowboard clips not found in {REAL_SNOW} (../shared/media is not beside this checkout)")
    from pose_service.pipeline import AnalyzeOptions, analyze

    truth = json.loads((REAL_SNOW / "truth.json").read_text())["clips"]
    out = {}
    for name, annotated in truth.items():
        outcome = analyze(REAL_SNOW / f"{name}.mov", out_dir=session_dir / f"{name}_pose",
                          options=AnalyzeOptions(mesh=False), settings=settings)  # fmt: skip
        out[name] = (outcome.result, annotated)
    return out


def test_the_drone_clip_is_refused_with_its_reason(real_snow) -> None:  # type: ignore[no-untyped-def]
    result, annotated = real_snow["snow_seg9"]
    assert annotated["scoreable"] is False
    scoring = result["analysis"]["scoring"]
    assert scoring["scoreable"] is False and any("60 px" in r for r in scoring["reasons"]), scoring
    assert all(j["trick"] is None for j in result["analysis"]["jumps"])


def test_no_jump_where_none_happened_and_no_clean_landing_called_a_fall(real_snow) -> None:  # type: ignore[no-untyped-def]
    for name, (result, annotated) in real_snow.items():
        for jump in result["analysis"]["jumps"]:
            overlaps = [a for a in annotated["jumps"]
                        if min(jump["landing_frame"], a["landing"]) > max(jump["takeoff_frame"], a["takeoff"])]  # fmt: skip
            assert overlaps, (name, jump["takeoff_frame"], jump["landing_frame"])
            # Every annotated landing was ridden away cleanly.
            assert (jump["landing"] or {}).get("grade") not in ("crash", "sketchy"), (name, jump["explanation"])


def test_a_moving_camera_is_said_to_move_and_up_is_not_guessed(real_snow) -> None:  # type: ignore[no-untyped-def]
    found = 0
    for name, (result, _) in real_snow.items():
        for jump in result["analysis"]["jumps"]:
            if jump["unscored"]:
                continue
            found += 1
            # Follow-cams: the picture moves a quarter frame width a second or more and rolls (measured 13-39°).
            assert jump["camera"]["moving"], (name, jump["camera"])
            assert jump["landing"]["grade"] == "unknown" and "camera" in jump["landing"]["reasons"][0]
            assert jump["landing"]["trunk_lean_deg"] is None and jump["landing"]["hands_down"] is None
            assert all(moment["trunk_lean"] is None for moment in jump["angles"].values())
            assert jump["height"]["method"] == "air_time"
            # nor is the stabilised picture's drop the body's: withheld, and the sentence gives the air time's height
            assert jump["drop_m"] is None and "by the air time alone" in jump["explanation"], jump["explanation"]
            assert "under the snow" not in jump["explanation"] and "m above the snow" not in jump["explanation"]
            assert "moving camera" in jump["explanation"] and jump["confidence"]["overall"] <= 0.5
            # Grabs are not read either: seg3 read one (hands held out at the sides) before they were withheld.
            assert jump["grab"] is None and "grabs are not measured" in jump["explanation"], (name, jump["trick"])
    assert found >= 1  # the straight airs of seg1 and seg3 are found (timing: the benchmark)


def test_the_follow_cam_jumps_are_found_by_the_snow_under_the_feet(real_snow) -> None:  # type: ignore[no-untyped-def]
    """The straight air of seg1 (filmed from below, its hips' parabola hidden by the camera's tilt) and the
    second kicker of seg6 (the camera passes under the rider) are found. seg1's takeoff is the snow's (measured:
    0 frames off), where the hips alone found the flight's last half (+20 frames); its landing is the
    snow's too (measured -1; +4 on the parabola's end while the snow had to stay pristine for 0.3 s, where the
    rider rides into shade 0.2 s after landing), asserted with room for another CPU's numbers."""
    found = {}
    for name, (result, annotated) in real_snow.items():
        for want in annotated["jumps"]:
            for jump in result["analysis"]["jumps"]:
                if min(jump["landing_frame"], want["landing"]) > max(jump["takeoff_frame"], want["takeoff"]):
                    found[name, want["takeoff"]] = (jump["takeoff_frame"], jump["landing_frame"])
    assert ("snow_seg6", 187) in found, found
    takeoff, landing = found["snow_seg1", 59]
    assert abs(takeoff - 59) <= 5 and abs(landing - 91) <= 8, (takeoff, landing)  # room for the parabola's +4 and more


def test_the_board_seen_from_below_on_a_lip_is_still_on_the_snow(real_snow) -> None:  # type: ignore[no-untyped-def]
    """A camera below a kicker's lip sees the board's base under the feet as it rides the lip's last stretch: the
    band under the feet reads no snow there, the snow just past the board pristine. seg3's takeoff (57) and seg6's
    second (187) are timed on it: measured 57 and 185 (with the pose model's outputs moved by a twentieth of a pixel,
    `bench/real_snow.py --jitter 1` to `3`: 57 and 185 in each), where the band alone put them at 54 and 182."""
    takeoffs = {}
    for name, (result, annotated) in real_snow.items():
        for want in annotated["jumps"]:
            for jump in result["analysis"]["jumps"]:
                if min(jump["landing_frame"], want["landing"]) > max(jump["takeoff_frame"], want["takeoff"]):
                    takeoffs[name, want["takeoff"]] = jump["takeoff_frame"]
    assert abs(takeoffs["snow_seg3", 57] - 57) <= 2, takeoffs
    assert abs(takeoffs["snow_seg6", 187] - 187) <= 3, takeoffs


def _flights_written_again(
    session_dir: Path, settings: Settings, name: str, tag: str, *, every: int = 1,
    gains: tuple[float, float, float] = (1.0, 1.0, 1.0), frames: tuple[int, int] = (0, 1 << 30),
) -> list[tuple[int, int]]:
    """The (takeoff, landing) frames `analyze` finds in real clip `name` written again: every `every`th frame kept
    (at that fraction of its frame rate), every level times `gains` (R, G, B), only `frames` (first, last; the
    frames found count from the first kept)."""
    if not (REAL_SNOW / "truth.json").is_file():
        pytest.skip(f"real snowboard clips not found in {REAL_SNOW} (../shared/media is not beside this checkout)")
    from pose_service.pipeline import AnalyzeOptions, analyze
    from pose_service.video import VideoReader, probe
    from pose_service.video.encode import VideoWriter

    info = probe(REAL_SNOW / f"{name}.mov")
    path = session_dir / f"{name}_{tag}.mp4"
    scale = np.array(gains, dtype=np.float32)
    with VideoReader(info) as reader, VideoWriter(path, width=info.width, height=info.height,
                                                  fps=info.fps / every) as writer:  # fmt: skip
        for frame in reader:
            if frame.index % every == 0 and frames[0] <= frame.index <= frames[1]:
                writer.write(np.clip(np.rint(frame.rgb * scale), 0, 255).astype(np.uint8), frame.time_s)
    result = analyze(path, out_dir=path.with_suffix(""), options=AnalyzeOptions(mesh=False), settings=settings).result
    return [(j["takeoff_frame"], j["landing_frame"]) for j in result["analysis"]["jumps"]]


@pytest.mark.parametrize("gains", [(0.7, 0.7, 0.7), (0.85, 1.0, 1.1)], ids=["darker", "blue cast"])
def test_a_darker_or_tinted_day_still_finds_and_times_the_straight_air(  # type: ignore[no-untyped-def]
    session_dir: Path, settings: Settings, gains: tuple[float, float, float]
) -> None:
    """seg1 written again with every level at 0.7 (an overcast or underexposed day: the snow's white at 160 of 255,
    under the 170 the snow under the feet once had to reach) or with a blue cast (its saturation past the 0.2 of
    "colourless"). Judged against the picture's own white, its straight air is found: most of it, landing where the
    clip's own does (measured: 60-94 and 60-90 against the truth's 59-91; before, the darker one went unfound and the
    tinted one took off 18 frames late on the hips' parabola). Its takeoff is left to the benchmark
    (`bench/real_snow.py --exposure 0.7`, `--tint`): in the darker picture the pose model loses the small rider on
    the lip against the trees, and with its outputs moved by a twentieth of a pixel (`--jitter`) over 7 runs of
    this file the darker takeoff read 46-53 in 4 and the tinted 52-53 in 2, where the clip's own held within 5
    frames in 6 (and in 20 of 20 benchmark runs)."""
    flights = _flights_written_again(session_dir, settings, "snow_seg1", "_".join(f"{g:g}" for g in gains), gains=gains)
    assert len(flights) == 1, flights
    takeoff, landing = flights[0]
    overlap = min(landing, 91) - max(takeoff, 59)
    assert overlap >= 0.6 * (91 - 59) and abs(landing - 91) <= 8, (takeoff, landing)


def test_a_darker_day_lands_both_kickers_on_the_slope_under_the_white(  # type: ignore[no-untyped-def]
    session_dir: Path, settings: Settings
) -> None:
    """seg6 written again with every level at 0.7: the white (its sunlit kicker) at 159, and the slope of the first
    landing at 0.82-0.89 of it, the line between snow and not at 0.85 of the white, which read much of that slope as
    no snow: the first flight ended 29 frames early (35-50 against 41-79) and the second landed 8 late. At 0.8 of the
    white (`contact.WHITE_SHARE`), measured with `bench/real_snow.py --exposure 0.7`: 35-75 and 186-225, and with the
    pose model's outputs moved by a twentieth of a pixel (`--jitter 1` to `3`) landings 74-78 and 224-230: the
    landings are held to 10 frames, the first flight's overlap is what the old line failed."""
    flights = _flights_written_again(session_dir, settings, "snow_seg6", "0.7", gains=(0.7, 0.7, 0.7))
    for takeoff, landing in ((41, 79), (187, 223)):
        overlap = [min(b, landing) - max(a, takeoff) for a, b in flights]
        best = int(np.argmax(overlap)) if flights else -1
        assert flights and overlap[best] >= 0.6 * (landing - takeoff), (takeoff, landing, flights)
        assert abs(flights[best][1] - landing) <= 10, (takeoff, landing, flights)


def test_a_clip_cut_close_to_its_takeoff_holds_its_small_rider_from_the_kicker(  # type: ignore[no-untyped-def]
    session_dir: Path, settings: Settings
) -> None:
    """seg6 cut 0.3 s before its first takeoff (as a rider trims a clip to the jump; `bench/real_snow.py --trim`):
    its rider, 75 px tall on the kicker's deck, is found by no look at the whole frame nor at either half of it, and
    was first held in the air 31 frames in; the jump went unfound. In 3 x 2 tiles of the frame the rider shows from
    frame 5 on (`chunks.seed_look`), and seeding goes on while the tracker holds nobody (`chunks.SEED_MORE_S`):
    measured 15-46 against the truth's 9-47, the rider held from frame 5."""
    flights = _flights_written_again(session_dir, settings, "snow_seg6", "cut0.3", frames=(32, 120))
    takeoff, landing = 41 - 32, 79 - 32
    overlap = [min(b, landing) - max(a, takeoff) for a, b in flights]
    assert overlap and max(overlap) >= 0.6 * (landing - takeoff), flights


def test_at_half_the_frame_rate_the_fisheye_straight_air_is_still_found(  # type: ignore[no-untyped-def]
    session_dir: Path, settings: Settings
) -> None:
    """seg3 (a tilted fisheye follow-cam) kept every other frame: 15 frames/s, as a phone saving battery or a
    clip cut down for sharing gives. The flight's seeds (five samples, 0.27 s) then read the stabilised hips' fall
    at 1.9-2.0 g around the apex, past the flight's own 0.75-1.5 g, and the jump went unfound (the seed's bound
    is now wider than the flight's: measured 28-37 against the truth's 28-41, in frames of 15 a second)."""
    flights = _flights_written_again(session_dir, settings, "snow_seg3", "every2", every=2)
    annotated = json.loads((REAL_SNOW / "truth.json").read_text())["clips"]["snow_seg3"]["jumps"][0]
    takeoff, landing = annotated["takeoff"] // 2, -(-annotated["landing"] // 2)  # 28, 41
    assert len(flights) == 1, flights
    found = flights[0]
    overlap = min(found[1], landing) - max(found[0], takeoff)
    assert abs(found[0] - takeoff) <= 2 and overlap >= 0.6 * (landing - takeoff), (found, (takeoff, landing))


def test_a_rider_the_pictures_edge_cuts_through_the_air_is_not_read_as_spinning(  # type: ignore[no-untyped-def]
    session_dir: Path, settings: Settings
) -> None:
    """seg1's middle 202 columns (a phone held upright, zoomed in): the rider flies along the right edge, the hips
    1-6 px inside it, and the pose model squeezed the body into the part in view with its shoulders edge-on. The
    straight air was named a "backside 180" (184 degrees measured, every air frame agreeing with it). Those frames
    are no sighting of the rider now: no spin is named, and a jump found there is not scored, the reason naming
    the edge. Whether the jump is found at all in this window turns on the pose model's numbers (written here with
    PyAV at CRF 18 it is found at 60-90, and the code before read "spin 180 left", 189 degrees; written at CRF 20
    with the faster preset, no jump): the edge is asserted on the rider's track either way."""
    from pose_service.analysis.airborne import pixels_per_metre
    from pose_service.analysis.quality import cut_by_edge
    from pose_service.pipeline import AnalyzeOptions, analyze
    from tests.clips import rewrite

    if not (REAL_SNOW / "truth.json").is_file():
        pytest.skip(f"real snowboard clips not found in {REAL_SNOW} (../shared/media is not beside this checkout)")
    clip = rewrite(REAL_SNOW / "snow_seg1.mov", session_dir / "snow_seg1_middle202.mp4", width=202)
    result = analyze(clip, out_dir=clip.with_suffix(""), options=AnalyzeOptions(mesh=False), settings=settings).result
    jumps = result["analysis"]["jumps"]
    assert all(j["trick"] in (None, "straight air") for j in jumps), [j["trick"] for j in jumps]
    rider = _chain(result)
    air = (rider.frames > 59) & (rider.frames < 91)
    scale = pixels_per_metre(rider.keypoints_2d, rider.keypoints_3d)
    cut = cut_by_edge(rider.keypoints_2d, scale, (202, result["video"]["height"]))
    assert air.sum() >= 20 and cut[air].mean() >= 0.5, (int(air.sum()), float(cut[air].mean()))
    for jump in jumps:
        if min(jump["landing_frame"], 91) > max(jump["takeoff_frame"], 59):
            seen = jump["confidence"]
            assert seen["edge_frames"] >= 0.5 * seen["air_frames"], seen
            assert "picture's edge" in (jump["unscored"] or ""), jump["unscored"]


def _chain(result: dict[str, Any]) -> Track:
    tracks = [Track(id=t["id"], frames=np.asarray(t["frames"]), bbox=np.asarray(t["bbox"], dtype=np.float32),
                    keypoints_2d=np.asarray(t["keypoints_2d"], dtype=np.float32),
                    keypoints_3d=np.asarray(t["keypoints_3d"], dtype=np.float32),
                    interpolated=np.asarray(t["interpolated"], dtype=bool)) for t in result["tracks"]]  # fmt: skip
    return rider_chain(tracks, result["analysis"]["rider_track"], fps=result["video"]["fps"])


@pytest.mark.parametrize(
    ("name", "least"),
    [
        ("snow_seg1", 0.85),  # small against the trees: the whole frame finds the rider in none of the 31 air
        # frames; the landmark model on the tracker's region (`pose.region`) reads all 31
        ("snow_seg3", 0.8),  # in view throughout: 24 of 24
        ("snow_seg6", 0.8),  # small, tucked, back-turned against trees from the lip: 36 of 37 with the short gaps
        # read between the readings either side (`pose.between`; 28 without, 20 with the turned crops alone). The
        # floor leaves room for another CPU's numerics: perturbed by a pixel's noise (`bench/real_snow.py --jitter`)
        # 34-36 of 37; the clip written again (H.264, CRF 20, pixels 1.9 levels apart on average) 25, the landmark
        # model's presence flipping between 0.95 and 0.00 over regions a few pixels apart
    ],
)
def test_the_rider_is_kept_in_the_air(real_snow, name: str, least: float) -> None:  # type: ignore[no-untyped-def]
    result, annotated = real_snow[name]
    _assert_seen_in_the_air(result, annotated, name, least)


def _assert_seen_in_the_air(result: dict[str, Any], annotated: dict[str, Any], name: str, least: float) -> None:
    chain = _chain(result)
    seen = {int(f) for f, filled in zip(chain.frames, chain.interpolated, strict=True) if not filled}
    jump = annotated["jumps"][0]
    air = set(range(jump["takeoff"] + 1, jump["landing"]))
    assert len(air & seen) >= least * len(air), (name, len(air & seen), len(air))


@pytest.mark.parametrize(
    ("name", "least"),
    [
        ("snow_seg1", 0.85),  # small against the trees: the whole frame finds the rider in none of the 31 air
        # frames, the wide turned crop in 26, with the crop followers (MediaPipe's tracking in a crop that follows
        # the lost rider) all 31 (the floor, 27, fails without them and leaves room for another CPU's numerics)
        ("snow_seg6", 0.45),  # small, tucked, back-turned against trees from the lip: 22 of 37 with the crop
        # followers (they keep the rider over the lip), 20 with the turned crops alone; the rest is not read by
        # the model at all (see rotated.py's detection_score)
    ],
)
def test_the_crop_followers_keep_the_rider_in_the_air(  # type: ignore[no-untyped-def]
    session_dir: Path, settings: Settings, name: str, least: float
) -> None:
    if not (REAL_SNOW / "truth.json").is_file():
        pytest.skip(f"real snowboard clips not found in {REAL_SNOW} (../shared/media is not beside this checkout)")
    from pose_service.pipeline import AnalyzeOptions, analyze

    annotated = json.loads((REAL_SNOW / "truth.json").read_text())["clips"][name]
    outcome = analyze(REAL_SNOW / f"{name}.mov", out_dir=session_dir / f"{name}_followers",
                      options=AnalyzeOptions(mesh=False, crop_followers=True), settings=settings)  # fmt: skip
    _assert_seen_in_the_air(outcome.result, annotated, name, least)


def test_a_grab_on_real_footage_lies_inside_its_flight(real_snow) -> None:  # type: ignore[no-untyped-def]
    """Whatever the pose model makes of a real rider's hands, a grab it reports is held in that jump's air, at
    least 0.1 s, and named by the table (which grab it was is the benchmark's, `bench/grab_real.py`, by eye)."""
    from pose_service.analysis.grab import GRAB_NAMES, MIN_HOLD_S

    for name, (result, _) in real_snow.items():
        for jump in result["analysis"]["jumps"]:
            grab = jump.get("grab")
            if grab is None:
                continue
            assert grab["name"] in GRAB_NAMES, name
            assert jump["takeoff_frame"] <= grab["start_frame"] <= grab["end_frame"] <= jump["landing_frame"], name
            assert grab["duration_s"] >= MIN_HOLD_S - 1e-6, name
            if jump["trick"]:
                assert grab["name"] in jump["trick"], name


def test_no_trick_is_named_from_a_rotation_few_air_frames_agree_with(real_snow) -> None:  # type: ignore[no-untyped-def]
    """A trick named on real footage stands on a rotation fit that at least `MIN_ROTATION_AGREEMENT` of the air
    frames agree with (seg6's first kicker read "backside double cork 540" at 19 %); the others say why not: the
    rotation, or a reason the gate puts first (the drone clip seg9's rider, found at 40 px since a clip's first frames
    are seeded, is too small for any number)."""
    from pose_service.analysis.quality import MIN_ROTATION_AGREEMENT

    for name, (result, _) in real_snow.items():
        for jump in result["analysis"]["jumps"]:
            if jump["trick"] is not None:
                assert jump["rotation_agreement"] >= MIN_ROTATION_AGREEMENT, (name, jump["trick"])
            elif jump["rotation_agreement"] < MIN_ROTATION_AGREEMENT:
                why = jump["unscored"] or ""
                assert "agree with the fitted rotation" in why or "px tall" in why, (name, why)

