"""Recall of the rider over the real clip's flip with and without the rotated second look.

Runs the mediapipe pose stage and the tracker on ../shared/media/sports2d_demo.mp4 twice (with the upright
second look `look_again`, as `analyze`), without and with `RotatedLook` (pose_service/pose/rotated.py), and prints for each: the rider's frames seen over the airborne
phase of the box jump (tests/analysis/data/sports2d_demo.truth.json), the crops searched, the pose stage's
seconds, and the jumps the analysis finds for the rider.

    .venv/bin/python bench/pose_rotated.py
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from pose_service.analysis.jumps import find_jumps, rider_chain
from pose_service.config import Settings
from pose_service.pose import PoseLandmarkerBackend, ensure_bundle
from pose_service.pose.rotated import RotatedLook
from pose_service.tracking import PoseTracker, TrackerConfig, pick_rider
from pose_service.tracking.search import look_again
from pose_service.video import VideoReader, probe

ROOT = Path(__file__).resolve().parents[1]
TRUTH = ROOT / "tests" / "analysis" / "data" / "sports2d_demo.truth.json"


def run(video: Path, rotated: bool) -> None:
    settings = Settings()
    info = probe(video, max_side_px=settings.max_side_px, max_duration_s=settings.max_duration_s)
    bundle = ensure_bundle(settings.models_dir)
    tracker = PoseTracker(info.fps, TrackerConfig(min_frames=max(3, round(info.fps * 0.15))))
    look = RotatedLook(bundle) if rotated else None
    times = []
    t0 = time.perf_counter()
    with PoseLandmarkerBackend(bundle) as backend, VideoReader(info) as reader:
        for frame in reader:
            poses = backend.detect(frame.rgb, frame.time_s)
            poses = look_again(backend, tracker, frame.rgb, poses)  # as `analyze`: the upright second look first
            if look is not None:
                poses = look.look(frame.rgb, poses, tracker.expected_boxes(1.0))
            tracker.update(frame.index, poses, rgb=frame.rgb, time_s=frame.time_s)
            times.append(frame.time_s)
    seconds = time.perf_counter() - t0
    if look is not None:
        look.close()
    tracks = tracker.finish()
    rider = pick_rider(tracks, frame_size=(info.width, info.height), n_frames=len(times))
    want = json.loads(TRUTH.read_text())["rider"]["jump"]
    airborne = range(want["takeoff_frame"] + 1, want["landing_frame"])
    chain = rider_chain(tracks, rider, fps=info.fps) if rider is not None else None
    seen = (
        sorted(int(f) for f in chain.frames if f in airborne and not chain.interpolated[list(chain.frames).index(f)])
        if chain
        else []
    )
    print(
        f"rotated={'on ' if rotated else 'off'}: {seconds:5.1f} s pose+track, {len(tracks)} tracks, rider #{rider}, "
        f"airborne {len(seen)}/{len(airborne)} frames seen {seen}; crops searched {look.looks if look else 0}, "
        f"found {look.found if look else 0}"
    )
    if chain is not None:
        for jump in find_jumps(chain, times, image_height=info.height, fps=info.fps):
            j = jump.to_result()
            print(
                f"   jump frames {j['takeoff_frame']}-{j['landing_frame']}, air {j['air_time_s']:.2f} s, "
                f"spin {j['spin_deg']:.0f} {j['spin_direction']}, flip {j['flip_deg']:.0f} {j['flip_direction']}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=ROOT.parent / "shared" / "media" / "sports2d_demo.mp4")
    parser.add_argument("--only", choices=("off", "on"))
    args = parser.parse_args()
    for rotated in (False, True):
        if args.only is None or args.only == ("on" if rotated else "off"):
            run(args.video, rotated)


if __name__ == "__main__":
    main()
