"""Pose recall on real clips: legacy single-person BlazePose against our multi-person Tasks backend.

    .venv/bin/python bench/pose_recall.py [VIDEO ...] [--sweep] [--models-dir DIR]

Per clip it prints the frames, the frames with at least one person and the mean people per frame for the
legacy `mediapipe.solutions.pose.Pose` (model_complexity=1, video mode) and for `PoseLandmarkerBackend`
(defaults), and each one's frames/s including decoding. `--sweep` adds the settings that explain the gap:
the detector's input normalisation written into the bundle, thresholds, running mode, num_poses, image size
and duplicate suppression. Defaults to both clips in ../shared/media.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pose_service.pose.bundle import DETECTOR_NORM, Normalization, build_bundle, ensure_bundle  # noqa: E402
from pose_service.pose.landmarker import (  # noqa: E402
    PoseLandmarkerBackend,
    poses_from_result,
    suppress_duplicates,
)

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
DEFAULT_CLIPS = [MEDIA / "sports2d_demo.mp4", MEDIA / "phalp_vid.mp4"]


@dataclass
class Run:
    label: str
    frames: int
    with_person: int
    people: int
    seconds: float
    per_frame: list[int]

    def line(self) -> str:
        return (
            f"  {self.label:<44} {self.with_person:>4}/{self.frames:<4} frames with a person, "
            f"{self.people / max(self.frames, 1):.2f} people/frame, max {max(self.per_frame, default=0)}, "
            f"{self.frames / self.seconds:5.1f} frames/s"
        )


def frames(path: Path, scale: float = 1.0) -> Iterator[tuple[float, np.ndarray]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            if scale != 1.0:
                frame = frame.reformat(width=round(frame.width * scale / 2) * 2,
                                       height=round(frame.height * scale / 2) * 2)
            yield float(frame.time or 0.0), frame.to_ndarray(format="rgb24")


def run_legacy(path: Path) -> Run:
    import mediapipe as mp

    counts: list[int] = []
    t0 = time.perf_counter()
    with mp.solutions.pose.Pose(model_complexity=1, static_image_mode=False) as pose:
        for _, rgb in frames(path):
            counts.append(int(pose.process(rgb).pose_landmarks is not None))
    return _run("legacy solutions.pose (1 person)", counts, time.perf_counter() - t0)


def run_backend(path: Path, bundle: Path, label: str = "ours: PoseLandmarkerBackend defaults",
                **kwargs: object) -> Run:
    counts: list[int] = []
    t0 = time.perf_counter()
    with PoseLandmarkerBackend(bundle, **kwargs) as backend:  # type: ignore[arg-type]
        for t, rgb in frames(path):
            counts.append(len(backend.detect(rgb, t)))
    return _run(label, counts, time.perf_counter() - t0)


def run_tasks(path: Path, bundle: Path, label: str, *, mode: str = "VIDEO", num_poses: int = 4,
              det: float = 0.5, pres: float = 0.5, trk: float = 0.5, dedupe: bool = False,
              scale: float = 1.0) -> Run:
    """The bare Tasks API (no duplicate suppression unless asked), for the settings sweep."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(bundle), delegate=BaseOptions.Delegate.CPU),
        running_mode=getattr(vision.RunningMode, mode), num_poses=num_poses,
        min_pose_detection_confidence=det, min_pose_presence_confidence=pres,
        min_tracking_confidence=trk,
    )
    counts: list[int] = []
    last_ms = -1
    t0 = time.perf_counter()
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        for t, rgb in frames(path, scale):
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
            if mode == "VIDEO":
                last_ms = max(int(round(t * 1000)), last_ms + 1)
                result = landmarker.detect_for_video(image, last_ms)
            else:
                result = landmarker.detect(image)
            poses = poses_from_result(result, rgb.shape[1], rgb.shape[0])
            counts.append(len(suppress_duplicates(poses) if dedupe else poses))
    return _run(label, counts, time.perf_counter() - t0)


def _run(label: str, counts: list[int], seconds: float) -> Run:
    return Run(label, len(counts), sum(c > 0 for c in counts), sum(counts), seconds, counts)


def sweep(path: Path, bundle: Path, workdir: Path, say: Callable[[str], None]) -> None:
    """The settings that explain the recall gap, one line each."""
    flat = build_bundle(workdir / "detector_0_1.task", detector_norm=Normalization(0.0, 255.0))
    both_pm1 = build_bundle(workdir / "both_pm1.task", landmarks_norm=DETECTOR_NORM)
    cases: list[tuple[Path, str, dict[str, object]]] = [
        (flat, "detector [0,1] (docs/design.md), defaults", {}),
        (flat, "detector [0,1], thresholds 0.3", {"det": 0.3, "pres": 0.3, "trk": 0.3}),
        (flat, "detector [0,1], IMAGE mode", {"mode": "IMAGE"}),
        (both_pm1, "detector [-1,1], landmarks [-1,1]", {}),
        (bundle, "detector [-1,1] (ours), no dedupe", {}),
        (bundle, "detector [-1,1], IMAGE mode", {"mode": "IMAGE"}),
        (bundle, "detector [-1,1], num_poses=1", {"num_poses": 1}),
        (bundle, "detector [-1,1], num_poses=2", {"num_poses": 2}),
        (bundle, "detector [-1,1], detection 0.3", {"det": 0.3}),
        (bundle, "detector [-1,1], detection 0.7", {"det": 0.7}),
        (bundle, "detector [-1,1], presence 0.3", {"pres": 0.3}),
        (bundle, "detector [-1,1], presence 0.7", {"pres": 0.7}),
        (bundle, "detector [-1,1], tracking 0.3", {"trk": 0.3}),
        (bundle, "detector [-1,1], tracking 0.7", {"trk": 0.7}),
        (bundle, "detector [-1,1], half-size frames", {"scale": 0.5}),
        (bundle, "detector [-1,1], dedupe (= ours)", {"dedupe": True}),
    ]
    for b, label, kw in cases:
        say(run_tasks(path, b, label, **kw).line())  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="*", type=Path, default=DEFAULT_CLIPS)
    parser.add_argument("--sweep", action="store_true", help="also run the settings sweep")
    parser.add_argument("--models-dir", type=Path, default=None,
                        help="where the bundle lives (default: the service's models folder)")
    args = parser.parse_args(argv)
    if args.models_dir is None:
        from pose_service.config import Settings

        args.models_dir = Settings().models_dir
    bundle = ensure_bundle(args.models_dir, progress=print)
    import os

    print(f"machine: {os.cpu_count()} logical CPUs; bundle {bundle}")
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.videos:
            if not path.is_file():
                print(f"{path}: missing, skipped")
                continue
            print(f"{path.name}")
            print(run_legacy(path).line(), flush=True)
            print(run_backend(path, bundle).line(), flush=True)
            if args.sweep:
                sweep(path, bundle, Path(tmp), lambda s: print(s, flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
