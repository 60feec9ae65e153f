"""A jump filmed by a camera that travels with the rider (`render_clip(camera="follow-front")`: in front of the
rider, keeping them centred): the flight is found in the background-stabilised picture and timed as the truth
says. In the picture alone the hips rise and fall a third as far as they do, and no flight was found there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pose_service.config import Settings

NEAR_FRAMES = 3  # the target for moving cameras (measured at 256 px: 0 and 0 frames off)


def _filmed(session_dir: Path, settings: Settings, name: str, trick: str, camera: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(result.json, truth.json) of `trick` filmed by `camera`, 256x256, 30 fps."""
    from pose_service.pipeline import AnalyzeOptions, analyze
    from pose_service.synth import parse_trick, render_clip

    clip = session_dir / f"{name}.mp4"
    truth = render_clip(parse_trick(trick), clip, width=256, height=256, fps=30.0, camera=camera,
                        anny_cache_dir=settings.anny_cache_dir)  # fmt: skip
    outcome = analyze(clip, out_dir=session_dir / f"{name}_pose", options=AnalyzeOptions(mesh=False),
                      settings=settings)  # fmt: skip
    return outcome.result, json.loads(Path(truth).read_text())


@pytest.fixture(scope="session")
def follow_front_360(session_dir: Path, settings: Settings) -> tuple[dict[str, Any], dict[str, Any]]:
    """A frontside 360 filmed by a follow-cam in front."""
    return _filmed(session_dir, settings, "follow_front_360", "360", "follow-front")


def test_the_follow_cams_jump_is_found_and_timed(follow_front_360) -> None:  # type: ignore[no-untyped-def]
    result, truth = follow_front_360
    want = truth["jumps"][0]
    jumps = result["analysis"]["jumps"]
    assert len(jumps) == 1, [(j["takeoff_frame"], j["landing_frame"]) for j in jumps]
    jump = jumps[0]
    assert abs(jump["takeoff_frame"] - want["takeoff_frame"]) <= NEAR_FRAMES, (jump["takeoff_frame"], want)
    assert abs(jump["landing_frame"] - want["landing_frame"]) <= NEAR_FRAMES, (jump["landing_frame"], want)
    assert jump["air_time_s"] == pytest.approx(want["air_time_s"], abs=NEAR_FRAMES / truth["fps"])


def test_the_follow_cams_spin_is_counted_and_the_camera_said_to_move(follow_front_360) -> None:  # type: ignore[no-untyped-def]
    result, truth = follow_front_360
    jump = result["analysis"]["jumps"][0]
    assert jump["spin_deg"] == truth["trick"]["spin_deg"] and jump["spin_direction"] == truth["trick"]["spin_direction"]
    assert jump["camera"]["moving"] is True
    # the stabilised picture's drop is the camera's too: withheld, the height is the air time's
    assert jump["drop_m"] is None and "by the air time alone" in jump["explanation"]
    # Gravity's up is not the picture's with such a camera: the landing is not graded on the picture's up.
    assert (jump["landing"] or {}).get("grade") == "unknown"


@pytest.fixture(scope="session")
def rolled_wildcat(session_dir: Path, settings: Settings) -> tuple[dict[str, Any], dict[str, Any]]:
    """A wildcat filmed by a follow-cam whose horizon is rolled 12-35°, rocking."""
    return _filmed(session_dir, settings, "rolled_wildcat", "wildcat", "roll")


def test_a_rolled_follow_cam_still_reads_the_stance_and_names_the_roll(rolled_wildcat) -> None:  # type: ignore[no-untyped-def]
    """The rider's travel is read against the ground at the feet, along the rider's own level in the rolled
    picture (`contact.ground_shift`): read along the picture's rows, the ground seemed still, no stance was
    read, and the wildcat was a "roll" of no known direction (measured at 256 and 480 px)."""
    result, truth = rolled_wildcat
    jumps = result["analysis"]["jumps"]
    assert len(jumps) == 1, [(j["takeoff_frame"], j["landing_frame"]) for j in jumps]
    jump = jumps[0]
    assert jump["camera"]["moving"] is True
    assert jump["stance"] == truth["stance"] == "regular"
    assert (jump["roll_deg"], jump["roll_direction"]) == (360, "wildcat"), jump["trick"]
    assert jump["trick"] == truth["expected"]["trick"] == "wildcat"
