"""Body fitting: speed of the stage and accuracy against synthetic ground truth.

    python bench/fit.py speed      # frames/s of fitting alone on a 10 s, 30 fps, one-person track
    python bench/fit.py accuracy   # MPJPE / PA-MPJPE (mm) over spins, flips, side and back views
    python bench/fit.py memory     # peak resident memory of the whole stage on 1 min and 6 min tracks
    python bench/fit.py            # both

Speed: a 300-frame track made from a synthetic 360 (played forwards then backwards, so the motion stays
continuous) with pose-model-like noise (2 px in 2D, 2 cm in 3D); the model is loaded first (a warm-up fit),
then fit_track is timed alone, then the whole stage (fit + result.glb + body.npz).
Accuracy: for each clip, (a) the fit to perfect keypoints (the truth's own COCO joints, the true focal
length), and (b) the whole `analyze` on the rendered video (BlazePose keypoints, assumed focal length):
the rider's fitted joints against the truth. Figures depend on the machine (2 shared cores here).
Memory: the speed case's track made 1800 and 10800 frames long, each through `run_body_stage` (fit, result.glb,
body.npz) in a fresh process; the peak resident size before and after the stage (flat: no growth with length).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from pose_service.body.fit import FitOptions, fit_track
from pose_service.body.rig import FIT_KEYPOINTS
from pose_service.body.stage import run_body_stage
from pose_service.config import Settings
from pose_service.evaluation.body_fit import (
    fit_errors,
    mpjpe,
    pa_mpjpe,
    synthetic_truth,
    track_from_truth,
    truth_view_joints,
)
from pose_service.tracking.core import Track

SUITE = (("360", "front"), ("backflip", "side"), ("left540", "back"), ("backflip+360", "front"))


def _long_track(truth: dict, frames: int, rng: np.random.Generator) -> Track:
    base = track_from_truth(truth)
    n = len(base)
    order = np.concatenate([np.arange(n), np.arange(n)[::-1]])
    rows = np.resize(order, frames)
    kp2 = base.keypoints_2d[rows].copy()
    kp3 = base.keypoints_3d[rows].copy()
    seen = kp2[..., 2] > 0
    kp2[..., :2] += np.where(seen[..., None], rng.normal(0, 2.0, kp2[..., :2].shape), 0)
    kp3 += np.where(seen[..., None], rng.normal(0, 0.02, kp3.shape), 0)
    return Track(1, np.arange(frames), base.bbox[rows], kp2.astype(np.float32), kp3.astype(np.float32))


def speed(settings: Settings, seconds: float = 10.0, fps: float = 30.0) -> dict:
    truth = synthetic_truth("360", settings.anny_cache_dir)
    frames = int(seconds * fps)
    track = _long_track(truth, frames, np.random.default_rng(0))
    times = np.arange(frames) / fps
    warm = Track(1, track.frames[:10], track.bbox[:10], track.keypoints_2d[:10], track.keypoints_3d[:10])
    fit_track(warm, times[:10], (480, 480), settings.anny_cache_dir)  # warm-up: model load, caches
    runs, cpu = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        fit_track(track, times, (480, 480), settings.anny_cache_dir)
        runs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        stage = run_body_stage([track], times, (480, 480), Path(tmp), settings.anny_cache_dir)
        stage_s = time.perf_counter() - t0
    best = min(runs)
    return {
        "frames": frames,
        "fit_s": [round(r, 2) for r in runs],
        "fit_frames_per_s": round(frames / best, 1),
        "fit_cpu_s": [round(c, 2) for c in cpu],
        "fit_frames_per_cpu_s": round(frames / min(cpu), 1),
        "stage_s": round(stage_s, 2),
        "stage_frames_per_s": round(frames / stage_s, 1),
        "glb_bytes": stage.glb_bytes,
        "glb_bytes_per_s_video": round(stage.glb_bytes / seconds),
    }


def accuracy(settings: Settings, work: Path) -> list[dict]:
    from pose_service.pipeline import AnalyzeOptions, analyze
    from pose_service.synth import parse_trick, render_clip

    rows = []
    for spec, view in SUITE:
        truth = synthetic_truth(spec, settings.anny_cache_dir, view=view)
        focal = truth["camera"]["intrinsics"]["fx"]
        fit = fit_track(track_from_truth(truth), np.asarray(truth["timestamps_s"]), (480, 480),
                        settings.anny_cache_dir, FitOptions(focal_px=focal))  # fmt: skip
        perfect = fit_errors(fit, truth)
        clip = work / f"{spec.replace('+', '_')}_{view}.mp4"
        render_clip(parse_trick(spec), clip, view=view, anny_cache_dir=settings.anny_cache_dir)
        rendered = json.loads(clip.with_suffix(".truth.json").read_text())
        outcome = analyze(clip, out_dir=work / f"{clip.stem}_pose", options=AnalyzeOptions(), settings=settings)
        result = outcome.result
        rider = next((t for t in result["tracks"] if t["id"] == result["analysis"]["rider_track"]), None)
        row = {"clip": f"{spec} {view}", "frames": len(truth["timestamps_s"]),
               "perfect_mpjpe_mm": round(perfect["mpjpe_mm"], 1), "perfect_pa_mpjpe_mm": round(perfect["pa_mpjpe_mm"], 1),
               "mesh_s": round(outcome.stage_seconds.get("mesh", float("nan")), 2)}  # fmt: skip
        if rider is not None and rider.get("body"):
            with np.load(outcome.files["body.npz"]) as npz:
                joints = npz[f"track_{rider['id']}_joints"]
                frames = npz[f"track_{rider['id']}_frames"]
            names = rendered["joint_names"][:17]
            ours = joints[:, [FIT_KEYPOINTS.index(n) for n in names]]
            true = truth_view_joints(rendered)[frames][:, :17]
            hips = (names.index("left_hip"), names.index("right_hip"))
            size = outcome.files["result.glb"].stat().st_size
            row |= {
                "pose_model_frames": len(frames),
                "pose_model_mpjpe_mm": round(1000 * mpjpe(ours, true, hips), 1),
                "pose_model_pa_mpjpe_mm": round(1000 * pa_mpjpe(ours, true), 1),
                "residual_3d_mm": rider["body"]["residual_3d_mm"],
                "residual_2d_px": rider["body"]["residual_2d_px"],
                "glb_bytes_per_s": round(size / result["video"]["duration_s"]),
            }
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    return rows


def memory(frames: int) -> dict:
    """Peak resident memory (MB) of this process before and after the body stage on a `frames`-long track."""
    import resource

    settings = Settings()
    truth = synthetic_truth("360", settings.anny_cache_dir)
    track = _long_track(truth, frames, np.random.default_rng(0))
    times = np.arange(frames) / 30.0

    def peak_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    before = peak_mb()
    with tempfile.TemporaryDirectory() as tmp:
        run_body_stage([track], times, (1920, 1080), Path(tmp), settings.anny_cache_dir)
    return {"frames": frames, "peak_before_mb": round(before), "peak_after_mb": round(peak_mb())}


def _memory_cases(lengths: tuple[int, ...] = (1800, 10800)) -> list[dict]:
    import subprocess

    out = []
    for frames in lengths:  # a fresh process per length: the peak is per process
        code = f"import json, fit; print(json.dumps(fit.memory({frames})))"
        run = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent, capture_output=True,
                             text=True, check=True)  # fmt: skip
        out.append(json.loads(run.stdout.strip().splitlines()[-1]))
        print(json.dumps(out[-1]), file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", choices=("speed", "accuracy", "memory", "all"), default="all")
    args = parser.parse_args()
    settings = Settings()
    report: dict = {}
    if args.what in ("speed", "all"):
        report["speed"] = speed(settings)
        print(json.dumps(report["speed"]), file=sys.stderr)
    if args.what in ("accuracy", "all"):
        with tempfile.TemporaryDirectory() as tmp:
            report["accuracy"] = accuracy(settings, Path(tmp))
    if args.what == "memory":
        report["memory"] = _memory_cases()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
