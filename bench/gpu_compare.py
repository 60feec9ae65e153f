"""The pose model on MediaPipe's GPU delegate (EGL) against the CPU delegate, clip by clip, as a Markdown table.

    .venv/bin/python bench/gpu_compare.py CLIP [CLIP ...] [--max-frames 300] [--json OUT.json]

Each clip is read twice (decode is not timed): once through `PoseLandmarkerBackend(device="cpu")`, once through
`device="gpu"`, both in VIDEO mode with the same settings as `analyze`, so the numbers are the pose model's
alone (no second looks, no tracker). Per frame the people of the two runs are paired (Hungarian, on the mean 2D
distance of their keypoints; a pair further apart than half the person's box size is no match), and for every
matched person the distance of each keypoint the CPU sees (visibility >= 0.5) is pooled:

    people agree   frames where both found the same number of people
    matched        people paired / people the CPU found
    mean, p95 px   2D keypoint distance of matched people, pixels of the upright frame
    3D mm          mean world-keypoint distance of matched people (each pose about its own mid-hip)
    CPU, GPU f/s   frames per second of the `detect` calls alone (wall time)

Where the GPU delegate cannot start (`pose_service.pose.gpu.probe_gpu`), the CPU half still runs and the table
says "GPU not usable: <why>" above it; exit code 0 either way (3 when a clip cannot be read).
docs/design.md ("A GPU machine") has the numbers measured so far.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pose_service.config import Settings  # noqa: E402
from pose_service.native_stderr import native_stderr_to_log  # noqa: E402
from pose_service.pose import PoseLandmarkerBackend, ensure_bundle  # noqa: E402
from pose_service.pose.gpu import probe_gpu  # noqa: E402
from pose_service.skeleton import Poses  # noqa: E402
from pose_service.video import VideoReader, probe  # noqa: E402


@dataclass
class Run:
    """One delegate's poses on one clip."""

    frames: list[Poses] = field(default_factory=list)
    seconds: float = 0.0  # wall time inside detect()

    @property
    def fps(self) -> float:
        return len(self.frames) / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Row:
    clip: str
    size: str
    frames: int
    cpu_fps: float
    gpu_fps: float | None = None
    people_agree: int | None = None
    cpu_people: int = 0
    gpu_people: int | None = None
    matched: int | None = None
    mean_px: float | None = None
    p95_px: float | None = None
    mean_3d_mm: float | None = None
    frames_with_someone_cpu: int = 0
    frames_with_someone_gpu: int | None = None


def run_clip(path: Path, bundle: Path, device: str, *, max_frames: int, num_poses: int) -> Run:
    info = probe(path)
    run = Run()
    with PoseLandmarkerBackend(bundle, num_poses=num_poses, device=device) as backend, VideoReader(info) as reader:
        for frame in reader:
            if len(run.frames) >= max_frames:
                break
            t0 = time.perf_counter()
            poses = backend.detect(frame.rgb, frame.time_s)
            run.seconds += time.perf_counter() - t0
            run.frames.append(poses)
    return run


def compare(cpu: Run, gpu: Run) -> dict[str, Any]:
    """People-per-frame agreement and keypoint distances of matched people (see the module's docstring)."""
    from scipy.optimize import linear_sum_assignment

    agree = matched = 0
    d2: list[np.ndarray] = []
    d3: list[np.ndarray] = []
    for a, b in zip(cpu.frames, gpu.frames, strict=False):
        agree += len(a) == len(b)
        if not len(a) or not len(b):
            continue
        ka, kb = a.keypoints_2d[:, :, :2], b.keypoints_2d[:, :, :2]
        cost = np.linalg.norm(ka[:, None] - kb[None], axis=-1).mean(axis=-1)  # (n_cpu, n_gpu) mean px
        boxes = a.bboxes()
        size = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        for i, j in zip(*linear_sum_assignment(cost), strict=True):
            if cost[i, j] > 0.5 * max(float(size[i]), 1.0):
                continue
            matched += 1
            seen = a.keypoints_2d[i, :, 2] >= 0.5
            d2.append(np.linalg.norm(ka[i] - kb[j], axis=-1)[seen])
            wa = a.keypoints_3d[i] - a.keypoints_3d[i, [23, 24]].mean(axis=0)  # about each pose's mid-hip
            wb = b.keypoints_3d[j] - b.keypoints_3d[j, [23, 24]].mean(axis=0)
            d3.append(np.linalg.norm(wa - wb, axis=-1)[seen] * 1000.0)
    px = np.concatenate(d2) if d2 else np.zeros(0)
    mm = np.concatenate(d3) if d3 else np.zeros(0)
    return {
        "people_agree": agree,
        "matched": matched,
        "mean_px": float(px.mean()) if px.size else None,
        "p95_px": float(np.percentile(px, 95)) if px.size else None,
        "mean_3d_mm": float(mm.mean()) if mm.size else None,
    }


def _f(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(rows: list[Row]) -> str:
    lines = [
        "| clip | size | frames | people agree | matched / CPU people | mean px | p95 px | 3D mm | CPU f/s | GPU f/s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        agree = "-" if r.people_agree is None else f"{r.people_agree} of {r.frames}"
        matched = "-" if r.matched is None else f"{r.matched} / {r.cpu_people}"
        lines.append(f"| {r.clip} | {r.size} | {r.frames} | {agree} | {matched} | {_f(r.mean_px)} | {_f(r.p95_px)} "
                     f"| {_f(r.mean_3d_mm, 0)} | {_f(r.cpu_fps)} | {_f(r.gpu_fps)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", type=Path, nargs="+")
    parser.add_argument("--max-frames", type=int, default=300, help="frames read per clip (default 300)")
    parser.add_argument("--num-poses", type=int, default=4)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="show MediaPipe's own log lines")
    args = parser.parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
        return _main(args)
    # MediaPipe's C++ lines on fd 2 (each CPU graph says the GPU is not available) go to the log, not the table.
    with native_stderr_to_log("mediapipe"):
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    settings = Settings()
    bundle = ensure_bundle(settings.models_dir)
    gpu = probe_gpu(bundle)
    print(f"GPU: {gpu.detail()}" if gpu.ok else gpu.detail(), flush=True)
    if not gpu.ok and gpu.fix():
        print(f"  fix: {gpu.fix()}", flush=True)
    rows: list[Row] = []
    status = 0
    for path in args.clips:
        try:
            info = probe(path)
        except Exception as exc:  # one unreadable clip does not stop the others
            print(f"{path.name}: cannot read it: {exc}", file=sys.stderr)
            status = 3
            continue
        cpu_run = run_clip(path, bundle, "cpu", max_frames=args.max_frames, num_poses=args.num_poses)
        row = Row(clip=path.name, size=f"{info.width}x{info.height}", frames=len(cpu_run.frames), cpu_fps=cpu_run.fps,
                  cpu_people=sum(len(p) for p in cpu_run.frames),
                  frames_with_someone_cpu=sum(1 for p in cpu_run.frames if len(p)))
        if gpu.ok:
            gpu_run = run_clip(path, bundle, "gpu", max_frames=args.max_frames, num_poses=args.num_poses)
            row.gpu_fps = gpu_run.fps
            row.gpu_people = sum(len(p) for p in gpu_run.frames)
            row.frames_with_someone_gpu = sum(1 for p in gpu_run.frames if len(p))
            for key, value in compare(cpu_run, gpu_run).items():
                setattr(row, key, value)
        rows.append(row)
        print(f"{path.name}: {row.frames} frames, CPU {row.cpu_fps:.1f} f/s"
              + (f", GPU {row.gpu_fps:.1f} f/s" if row.gpu_fps is not None else ""), flush=True)
    print()
    if not gpu.ok:
        print(f"{gpu.detail()} (CPU half only)")
        print()
    print(table(rows))
    if args.json is not None:
        args.json.write_text(json.dumps({"gpu": gpu.detail(), "gpu_ok": gpu.ok, "rows": [asdict(r) for r in rows]},
                                        indent=2))
    return status


if __name__ == "__main__":
    sys.exit(main())
