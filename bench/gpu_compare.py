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
import os
import sys
import time
from collections.abc import Iterator
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

try:  # PyAV, as `analyze` reads; a GPU machine that carries only MediaPipe's wheels reads through OpenCV instead
    from pose_service.video import VideoReader, probe
except ImportError:  # pragma: no cover - exercised on the device machine only
    VideoReader = probe = None  # type: ignore[assignment,misc]


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


def clip_size(path: Path) -> str:
    """"WxH" of the upright frame, or raises when the clip cannot be read."""
    if probe is not None:
        info = probe(path)
        return f"{info.width}x{info.height}"
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        ok, frame = cap.read()
        if not ok:
            raise ValueError("OpenCV read no frame")
        return f"{frame.shape[1]}x{frame.shape[0]}"
    finally:
        cap.release()


def read_frames(path: Path, max_frames: int) -> Iterator[tuple[np.ndarray, float]]:
    """(RGB frame, time in seconds) pairs: through PyAV when installed, else through OpenCV."""
    if VideoReader is not None:
        with VideoReader(probe(path)) as reader:
            for i, frame in enumerate(reader):
                if i >= max_frames:
                    return
                yield frame.rgb, frame.time_s
        return
    import cv2

    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    try:
        for i in range(max_frames):
            ok, bgr = cap.read()
            if not ok:
                return
            yield np.ascontiguousarray(bgr[:, :, ::-1]), i / fps
    finally:
        cap.release()


def run_clip(path: Path, bundle: Path, device: str, *, max_frames: int, num_poses: int, max_side: int = 0) -> Run:
    """One delegate over one clip; `max_side` > 0 shrinks larger frames to that longer side first (timed, as part
    of the pose stage: OpenCV's area filter)."""
    run = Run()
    with PoseLandmarkerBackend(bundle, num_poses=num_poses, device=device) as backend:
        for rgb, time_s in read_frames(path, max_frames):
            t0 = time.perf_counter()
            if max_side and max(rgb.shape[:2]) > max_side:
                import cv2

                scale = max_side / max(rgb.shape[:2])
                size = (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale))
                rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
                poses = backend.detect(rgb, time_s)
                poses.keypoints_2d[:, :, :2] /= scale  # back to the full frame's pixels, to compare
            else:
                poses = backend.detect(rgb, time_s)
            run.seconds += time.perf_counter() - t0
            run.frames.append(poses)
    return run


def _scaling_worker(args: tuple[str, str, int, int]) -> tuple[int, float]:
    path, bundle, max_frames, num_poses = args
    with native_stderr_to_log("mediapipe"):
        run = run_clip(Path(path), Path(bundle), "cpu", max_frames=max_frames, num_poses=num_poses)
    return len(run.frames), run.seconds


def scaling(path: Path, bundle: Path, processes: list[int], *, max_frames: int, num_poses: int) -> list[dict[str, Any]]:
    """CPU processes side by side on one clip, each posing it whole: total frames/s (wall time, start-up of each
    process's graph included) for each count, so the ratio to one process shows how the pose stage scales."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    rows = []
    for n in processes:
        t0 = time.perf_counter()
        with ctx.Pool(n) as pool:
            results = pool.map(_scaling_worker, [(str(path), str(bundle), max_frames, num_poses)] * n)
        wall = time.perf_counter() - t0
        frames = sum(f for f, _ in results)
        rows.append({"processes": n, "frames": frames, "wall_s": wall, "fps": frames / wall,
                     "fps_in_detect": sum(f / s for f, s in results if s > 0)})
    base = rows[0]["fps"] if rows else 1.0
    for row in rows:
        row["ratio"] = row["fps"] / base
    return rows


def _greedy_pairs(cost: np.ndarray) -> tuple[list[int], list[int]]:
    rows: list[int] = []
    cols: list[int] = []
    for flat in np.argsort(cost, axis=None):
        i, j = np.unravel_index(flat, cost.shape)
        if i not in rows and j not in cols:
            rows.append(int(i))
            cols.append(int(j))
    return rows, cols


def compare(cpu: Run, gpu: Run) -> dict[str, Any]:
    """People-per-frame agreement and keypoint distances of matched people (see the module's docstring)."""
    try:
        from scipy.optimize import linear_sum_assignment
    except Exception:  # a machine whose SciPy refuses the NumPy MediaPipe needs: greedy pairs, nearest first
        linear_sum_assignment = _greedy_pairs

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
    parser.add_argument("--scaling", type=str, default="",
                        help="also run CPU processes side by side on the first clip, e.g. 1,4,16 (total frames/s)")
    parser.add_argument("--sizes", type=str, default="",
                        help="also pose the first clip shrunk to these longer sides, e.g. 1280,960,640, both "
                             "delegates, compared with the CPU at full size")
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
            size = clip_size(path)
        except Exception as exc:  # one unreadable clip does not stop the others
            print(f"{path.name}: cannot read it: {exc}", file=sys.stderr)
            status = 3
            continue
        cpu_run = run_clip(path, bundle, "cpu", max_frames=args.max_frames, num_poses=args.num_poses)
        row = Row(clip=path.name, size=size, frames=len(cpu_run.frames), cpu_fps=cpu_run.fps,
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
    size_rows: list[dict[str, Any]] = []
    if args.sizes and args.clips:
        path = args.clips[0]
        full = run_clip(path, bundle, "cpu", max_frames=args.max_frames, num_poses=args.num_poses)
        print()
        print(f"{path.name} shrunk before the pose model (longer side), against the CPU at full size:")
        print()
        print("| longer side | delegate | f/s | people agree | matched | mean px | p95 px |")
        print("|---:|---|---:|---:|---:|---:|---:|")
        for side in [int(n) for n in args.sizes.split(",") if n.strip()]:
            for device in ["cpu", "gpu"] if gpu.ok else ["cpu"]:
                run = run_clip(path, bundle, device, max_frames=args.max_frames, num_poses=args.num_poses,
                               max_side=side)
                c = compare(full, run)
                size_rows.append({"max_side": side, "device": device, "fps": run.fps, **c})
                print(f"| {side} | {device} | {run.fps:.1f} | {c['people_agree']} of {len(full.frames)} "
                      f"| {c['matched']} | {_f(c['mean_px'])} | {_f(c['p95_px'])} |", flush=True)
    scale_rows: list[dict[str, Any]] = []
    if args.scaling and args.clips:
        counts = [int(n) for n in args.scaling.split(",") if n.strip()]
        scale_rows = scaling(args.clips[0], bundle, counts, max_frames=args.max_frames, num_poses=args.num_poses)
        print()
        print(f"CPU processes side by side on {args.clips[0].name} ({os.cpu_count()} cores), each posing "
              f"{args.max_frames} frames:")
        print()
        print("| processes | frames | wall s | total f/s | vs 1 | f/s inside detect, summed |")
        print("|---:|---:|---:|---:|---:|---:|")
        for r in scale_rows:
            print(f"| {r['processes']} | {r['frames']} | {r['wall_s']:.1f} | {r['fps']:.1f} | {r['ratio']:.2f}x "
                  f"| {r['fps_in_detect']:.1f} |")
    if args.json is not None:
        args.json.write_text(json.dumps({"gpu": gpu.detail(), "gpu_ok": gpu.ok, "rows": [asdict(r) for r in rows],
                                         "scaling": scale_rows, "sizes": size_rows}, indent=2))
    return status


if __name__ == "__main__":
    sys.exit(main())
