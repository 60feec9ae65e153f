"""CPU cost of each part of `analyze`'s pose loop, per frame, measured one part at a time.

    .venv/bin/python bench/pose_loop.py CLIP [--frames N] [--redetect-every K]

The loop runs serially here (no prefetch thread, no tracker thread), so the process CPU time spent in
each call is that part's own cost: decode + RGB conversion, the pose model (`PoseLandmarkerBackend.detect`,
including its own graph threads), the second looks (`look_again`, `RotatedLook.look`) and the tracker's
`update` (camera motion, Kalman, association). CPU milliseconds per frame are steadier than wall time on a
shared machine; quote them with the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pose_service.config import Settings  # noqa: E402
from pose_service.pose import PoseLandmarkerBackend, ensure_bundle  # noqa: E402
from pose_service.pose.rotated import RotatedLook  # noqa: E402
from pose_service.tracking import PoseTracker, TrackerConfig  # noqa: E402
from pose_service.tracking.search import look_again  # noqa: E402
from pose_service.video import VideoReader, probe  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--num-poses", type=int, default=4)
    parser.add_argument("--redetect-every", type=int, default=0, help="0: the detector whenever a slot is free")
    args = parser.parse_args(argv)
    settings = Settings()
    info = probe(args.clip)
    bundle = ensure_bundle(settings.models_dir)
    tracker = PoseTracker(info.fps, TrackerConfig(min_frames=max(3, round(info.fps * 0.15))))
    cost = dict.fromkeys(("decode", "pose model", "look_again", "rotated look", "tracker.update"), 0.0)
    n = people = 0
    extra = {"redetect_every": args.redetect_every} if args.redetect_every else {}
    with (
        PoseLandmarkerBackend(bundle, num_poses=args.num_poses, **extra) as backend,
        RotatedLook(bundle) as rotated,
        VideoReader(info) as reader,
    ):
        frames = iter(reader)
        while n < args.frames:
            t = time.process_time()
            frame = next(frames, None)
            if frame is None:
                break
            t1 = time.process_time()
            poses = backend.detect(frame.rgb, frame.time_s)
            t2 = time.process_time()
            poses = look_again(backend, tracker, frame.rgb, poses)
            t3 = time.process_time()
            poses = rotated.look(frame.rgb, poses, tracker.expected_boxes(1.0))
            t4 = time.process_time()
            tracker.update(frame.index, poses, rgb=frame.rgb, time_s=frame.time_s)
            t5 = time.process_time()
            for key, dt in zip(cost, (t1 - t, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
                cost[key] += dt
            n += 1
            people += len(poses)
    tracks = tracker.finish()
    total = sum(cost.values())
    print(f"{args.clip.name}: {n} frames {info.width}x{info.height}, {people / max(n, 1):.2f} people per frame, "
          f"{len(tracks)} tracks; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for key, sec in cost.items():
        print(f"  {key:15s} {1000 * sec / max(n, 1):6.1f} ms CPU/frame ({sec / total:4.0%})")
    print(f"  {'total':15s} {1000 * total / max(n, 1):6.1f} ms CPU/frame")
    if hasattr(backend, "stats"):
        print(f"  pose model: {backend.stats}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
