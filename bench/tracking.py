"""Tracker measurements on real and synthetic clips: tracks found, rider coverage, cost per frame, lag.

    .venv/bin/python bench/tracking.py [CLIP ...] [--spin SYNTH_CLIP.mp4] [--crossing CLIP.mp4]

For each clip the real pose model runs once, plus once more on a crop around each track lost for up to
a second (`pose_service.tracking.search.look_again`, as `analyze` does; `--no-search` leaves it out, and
the pose time then includes it); the tracker's own time (`update` per frame, `finish` once)
is measured apart from it. With `--spin` (a clip from `pose-service synth`, its truth beside it), the
smoothing lag: the frame of the peak spin rate (yaw of the shoulder line in 3D) before and after the
smoothing, and in the truth, and the keypoint error in pixels before and after smoothing. With
`--crossing`, two synthetic riders crossing (rendered there by `pose_service.synth.crossing.render_crossing`
when the file is missing): ID switches and IDF1. With `--scenes DIR`, the synthetic tracking suite (the
crossing, 480x480, and `pose_service.synth.scenes` reentry, pan and blur at 320x240, rendered into DIR when
missing; about a minute of rendering each here) and one table: ID switches, IDF1, MOTA, matched share, and
the keypoint error in pixels of the raw and the smoothed tracks. Figures are from one run on whatever machine
runs it: quote them as ratios.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from pose_service.config import Settings
from pose_service.pose import PoseLandmarkerBackend, ensure_bundle
from pose_service.skeleton import KEYPOINT_NAMES, Poses
from pose_service.tracking import OneEuro, PoseTracker, Track, TrackerConfig, pick_rider
from pose_service.tracking.search import look_again
from pose_service.video import VideoReader, probe

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"


SEARCH = {"on": True}  # --no-search: no second look around lost tracks
REDETECT = {"every": 0}  # --redetect-every: PoseLandmarkerBackend(redetect_every=...)


def detect_and_track(clip: Path, settings: Settings) -> tuple[list[Poses], list[Track], dict[str, float], int, tuple]:
    info = probe(clip, max_side_px=settings.max_side_px, max_duration_s=settings.max_duration_s)
    search_s = TrackerConfig().search_s if SEARCH["on"] else 0.0
    tracker = PoseTracker(info.fps, TrackerConfig(min_frames=max(3, round(info.fps * 0.15)), search_s=search_s))
    detections: list[Poses] = []
    pose_s = track_s = 0.0
    with PoseLandmarkerBackend(
        ensure_bundle(settings.models_dir), num_poses=4, redetect_every=REDETECT["every"]
    ) as backend, VideoReader(info) as r:
        for frame in r:
            t0 = time.perf_counter()
            poses = look_again(backend, tracker, frame.rgb, backend.detect(frame.rgb, frame.time_s))
            t1 = time.perf_counter()
            tracker.update(frame.index, poses, rgb=frame.rgb, time_s=frame.time_s)
            t2 = time.perf_counter()
            pose_s, track_s = pose_s + t1 - t0, track_s + t2 - t1
            detections.append(poses)
    t0 = time.perf_counter()
    tracks = tracker.finish()
    finish_s = time.perf_counter() - t0
    n = len(detections)
    pick_rider(tracks, frame_size=(info.width, info.height), n_frames=n)
    cost = {"pose_ms": 1000 * pose_s / n, "update_ms": 1000 * track_s / n, "finish_ms": 1000 * finish_s}
    return detections, tracks, cost, n, (info.width, info.height, info.fps)


def report(clip: Path, tracks: list[Track], cost: dict[str, float], n: int) -> None:
    print(f"\n{clip.name}: {n} frames, {len(tracks)} tracks")
    for t in tracks:
        breaks = np.flatnonzero(np.diff(t.frames) > 1)
        spans = [
            f"{a}-{b}"
            for a, b in zip(
                np.r_[t.frames[0], t.frames[breaks + 1]], np.r_[t.frames[breaks], t.frames[-1]], strict=True
            )
        ]
        print(
            f"  track {t.id}{' (rider)' if t.is_rider else ''}: {len(t)}/{n} frames "
            f"({int(t.interpolated.sum())} interpolated, {t.extras['swaps_repaired']} left/right repaired), spans {', '.join(spans)}"
        )
    print(
        f"  tracker update {cost['update_ms']:.1f} ms/frame, finish {cost['finish_ms']:.0f} ms; "
        f"pose model {cost['pose_ms']:.1f} ms/frame (tracker = {cost['update_ms'] / cost['pose_ms']:.0%} of pose)"
    )


def _yaw(kp3d: np.ndarray, left: int, right: int) -> np.ndarray:
    v = kp3d[:, right] - kp3d[:, left]
    return np.unwrap(np.arctan2(v[:, 2], v[:, 0]))


def spin_lag(clip: Path, detections: list[Poses], fps: float) -> None:
    truth = json.loads(clip.with_suffix(".truth.json").read_text())
    jump = truth["jumps"][0]
    results = {}
    for name, smoothing in (("raw", None), ("smoothed", TrackerConfig().smoothing)):
        tracker = PoseTracker(fps, TrackerConfig(smoothing=smoothing))
        for i, poses in enumerate(detections):
            tracker.update(i, poses)
        rider = max(tracker.finish(), key=len)
        yaw = np.full(len(detections), np.nan)
        yaw[rider.frames] = _yaw(
            rider.keypoints_3d, KEYPOINT_NAMES.index("left_shoulder"), KEYPOINT_NAMES.index("right_shoulder")
        )
        results[name] = yaw
    raw_tracks = _retrack(detections, fps, None)
    smooth_tracks = _retrack(detections, fps, TrackerConfig().smoothing)
    true_2d = [np.array(truth["keypoints_2d"], dtype=float)]
    err_raw = keypoint_error(true_2d, truth["joint_names"], raw_tracks)
    err_smooth = keypoint_error(true_2d, truth["joint_names"], smooth_tracks)
    print(
        f"\n{clip.name}: keypoint error raw {err_raw:.2f} px, smoothed {err_smooth:.2f} px (mean over joints and frames)"
    )
    names = truth["joint_names"]
    joints = np.array(truth["joints_3d"])
    results["truth"] = _yaw(joints, names.index("left_shoulder"), names.index("right_shoulder"))
    lo, hi = jump["takeoff_frame"], jump["landing_frame"] + 1
    peaks = {}
    for name, yaw in results.items():
        rate = np.abs(np.gradient(yaw))[lo:hi]
        peaks[name] = lo + int(np.nanargmax(rate))
    # The lag of the whole rate curve, not of one noisy sample: the shift that best aligns the smoothed
    # spin rate with the raw one over the jump and a few frames either side.
    span = slice(max(lo - 5, 0), hi + 5)
    raw_rate, smooth_rate = np.gradient(results["raw"])[span], np.gradient(results["smoothed"])[span]
    shifts = range(-4, 5)
    fit = [np.nanmean((np.roll(smooth_rate, -s) - raw_rate)[5:-5] ** 2) for s in shifts]
    curve_lag = list(shifts)[int(np.argmin(fit))]
    total = {k: float(np.degrees(abs(v[hi - 1] - v[lo]))) for k, v in results.items()}
    print(
        f"\n{clip.name}: peak spin rate at frame truth {peaks['truth']}, raw {peaks['raw']}, smoothed {peaks['smoothed']}"
        f" (peak lag {peaks['smoothed'] - peaks['raw']:+d}), rate curve lag {curve_lag:+d} frames; yaw over the jump: "
        + ", ".join(f"{k} {v:.0f} deg" for k, v in total.items())
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clips", nargs="*", type=Path)
    ap.add_argument("--spin", type=Path, help="a synthetic spin clip with its .truth.json beside it")
    ap.add_argument("--crossing", type=Path, help="two riders crossing (rendered here if missing)")
    ap.add_argument("--scenes", type=Path, help="folder of the synthetic tracking suite (rendered there if missing)")
    ap.add_argument("--no-search", action="store_true", help="no second look (pose model on a crop) for lost tracks")
    ap.add_argument("--redetect-every", type=int, default=0, help="the person detector every N frames (0: off)")
    args = ap.parse_args()
    SEARCH["on"] = not args.no_search
    REDETECT["every"] = args.redetect_every
    clips = args.clips
    if not (args.clips or args.spin or args.crossing or args.scenes):
        clips = [p for p in (MEDIA / "sports2d_demo.mp4", MEDIA / "phalp_vid.mp4") if p.is_file()]
    settings = Settings()
    for clip in clips:
        _, tracks, cost, n, _ = detect_and_track(clip, settings)
        report(clip, tracks, cost, n)
    if args.spin:
        detections, tracks, cost, n, (_, _, fps) = detect_and_track(args.spin, settings)
        report(args.spin, tracks, cost, n)
        spin_lag(args.spin, detections, fps)
    if args.crossing:
        crossing(args.crossing, settings)
    if args.scenes:
        scene_table(args.scenes, settings)


def crossing(clip: Path, settings: Settings) -> None:
    from pose_service.synth.crossing import render_crossing
    from pose_service.tracking.evaluate import identity_scores

    if not clip.is_file():
        render_crossing(clip, anny_cache_dir=settings.anny_cache_dir)
    truth = json.loads(clip.with_suffix(".truth.json").read_text())
    _, tracks, cost, n, _ = detect_and_track(clip, settings)
    report(clip, tracks, cost, n)
    people = [np.array(p["keypoints_2d"], dtype=float) for p in truth["people"]]
    s = identity_scores(people, truth["joint_names"], tracks)
    long_tracks = [t for t in tracks if len(t) >= 10]
    print(
        f"  vs truth: {s.id_switches} ID switches, IDF1 {s.idf1:.3f}, MOTA {s.mota:.3f} ({s.misses} misses, "
        f"{s.false_positives} false positives), {s.matched:.0%} of person-frames matched; "
        f"{len(long_tracks)} tracks of 10+ frames for 2 people"
    )


def _retrack(detections: list[Poses], fps: float, smoothing: OneEuro | None) -> list[Track]:
    """The tracker again on stored detections (no frames: no camera motion or colour), smoothing as given."""
    tracker = PoseTracker(fps, TrackerConfig(smoothing=smoothing, min_frames=max(3, round(fps * 0.15))))
    for i, poses in enumerate(detections):
        tracker.update(i, poses)
    return tracker.finish()


def keypoint_error(truth: list[np.ndarray], joint_names: list[str], tracks: list[Track]) -> float:
    """Mean pixel distance of the named joints to the nearest track in each frame a person is present
    (frames with no track within half a body scale are left out: those are misses, not errors)."""
    shared = [n for n in joint_names if n in KEYPOINT_NAMES]
    ti, ki = [joint_names.index(n) for n in shared], [KEYPOINT_NAMES.index(n) for n in shared]
    errors = []
    for person in truth:
        for f in range(person.shape[0]):
            pts = person[f, ti]
            if not np.isfinite(pts).all():
                continue
            scale = float(np.sqrt(np.prod(np.maximum(np.ptp(pts, axis=0), 1.0))))
            best = np.inf
            for t in tracks:
                k = np.flatnonzero(t.frames == f)
                if len(k):
                    best = min(best, float(np.linalg.norm(t.keypoints_2d[k[0], ki, :2] - pts, axis=1).mean()))
            if best <= 0.5 * scale:
                errors.append(best)
    return float(np.mean(errors)) if errors else float("nan")


def detector_gap_s(truth: list[np.ndarray], joint_names: list[str], detections: list[Poses], fps: float) -> float:
    """The longest time a person in the picture goes without any detection within half a body scale: what
    the tracker must bridge (a gap over `max_lost_s` means a new id is the specified behaviour)."""
    shared = [n for n in joint_names if n in KEYPOINT_NAMES]
    ti, ki = [joint_names.index(n) for n in shared], [KEYPOINT_NAMES.index(n) for n in shared]
    longest = 0
    for person in truth:
        run = 0
        for f, poses in enumerate(detections):
            pts = person[f, ti]
            if not np.isfinite(pts).all():
                continue  # out of the picture: not the detector's miss
            scale = float(np.sqrt(np.prod(np.maximum(np.ptp(pts, axis=0), 1.0))))
            near = any(
                float(np.linalg.norm(kp[ki, :2] - pts, axis=1).mean()) <= 0.5 * scale for kp in poses.keypoints_2d
            )
            run = 0 if near else run + 1
            longest = max(longest, run)
    return longest / fps


def scene_table(folder: Path, settings: Settings) -> None:
    from pose_service.synth.crossing import render_crossing
    from pose_service.synth.scenes import SCENES, render_scene
    from pose_service.tracking.evaluate import identity_scores

    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for kind in ("crossing", *SCENES):
        clip = folder / f"{kind}.mp4"
        if not clip.is_file():
            if kind == "crossing":
                render_crossing(clip, anny_cache_dir=settings.anny_cache_dir)
            else:
                render_scene(kind, clip, anny_cache_dir=settings.anny_cache_dir)
        truth = json.loads(clip.with_suffix(".truth.json").read_text())
        detections, tracks, cost, n, (_, _, fps) = detect_and_track(clip, settings)
        report(clip, tracks, cost, n)
        people = [np.array(p["keypoints_2d"], dtype=float) for p in truth["people"]]
        s = identity_scores(people, truth["joint_names"], tracks)
        raw = keypoint_error(people, truth["joint_names"], _retrack(detections, fps, None))
        smooth = keypoint_error(people, truth["joint_names"], _retrack(detections, fps, TrackerConfig().smoothing))
        gap = detector_gap_s(people, truth["joint_names"], detections, fps)
        rows.append((kind, n, len([t for t in tracks if len(t) >= 10]), len(people), s, raw, smooth, gap))
    print(
        "\nscene     frames  tracks(10+)/people  ID sw  IDF1   MOTA   matched  kp err raw / smoothed px"
        "  longest detector gap"
    )
    for kind, n, long_tracks, n_people, s, raw, smooth, gap in rows:
        print(
            f"{kind:9s} {n:6d}  {long_tracks:5d} / {n_people:<10d}  {s.id_switches:5d}  {s.idf1:.3f}  {s.mota:6.3f}"
            f"  {s.matched:6.0%}   {raw:6.2f} / {smooth:<6.2f}      {gap:.2f} s"
        )


if __name__ == "__main__":
    main()
