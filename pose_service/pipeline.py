"""The analysis pipeline: wires the stages together, nothing more.

probe -> decode -> pose (multi-person) -> track -> rider -> angles -> result.json, angles.csv
      -> overlay.mp4 (optional)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pose_service.analysis.angles import ANGLE_NAMES, body_angles
from pose_service.analysis.contact import read_ground
from pose_service.analysis.explain import summarize
from pose_service.analysis.forearm import ForearmReader
from pose_service.analysis.jumps import camera_moved, find_jumps, gate_jumps, overlay_labels, rider_chain
from pose_service.analysis.trick import STANCES
from pose_service.body.process import BodyProcess
from pose_service.config import Settings
from pose_service.errors import BadOption, PipelineError
from pose_service.export import build_result, write_angles_csv, write_json, write_overlay
from pose_service.progress import NullProgress, Progress
from pose_service.tracking import PoseTracker, Track, TrackerConfig, pick_rider
from pose_service.tracking.finalise import finalise_track
from pose_service.tracking.tracker import Followed
from pose_service.video import VideoInfo, frame_pts, probe

if TYPE_CHECKING:  # the pose stage is imported where it is used, after the probe
    from pose_service.chunks import PoseSetup
    from pose_service.pose.core import PoseTrack

__all__ = ["AnalyzeOptions", "AnalyzeOutcome", "analyze", "default_out_dir", "finish_backend_tracks", "pose_chunk"]

log = logging.getLogger(__name__)

BACKENDS = ("mediapipe", "hmr2")
DEVICES = ("cpu", "gpu", "auto")  # as pose_service.pose.gpu.DEVICES (not imported here: it stays light)
FRAME_RATES = ("full", "adaptive")  # as pose_service.adaptive.FRAME_RATES


@dataclass(frozen=True)
class AnalyzeOptions:
    """Per-run choices; stored with a job when the service runs one."""

    backend: str = "mediapipe"
    mesh: bool = True
    overlay: bool = False
    num_poses: int = 4
    rider: int | None = None  # a track id chosen by the user instead of the scored rider choice
    # The person detector runs every `redetect_every` frames while everyone is followed (0: every frame
    # while fewer than num_poses people are followed, as MediaPipe does on its own); see PoseLandmarkerBackend.
    redetect_every: int = 0
    stance: str | None = None  # the rider's natural stance (regular|goofy): tells a switch approach; None unknown
    # The pose stage's MediaPipe delegate: cpu, gpu (EGL; fails clearly when it cannot start) or auto (the GPU when
    # it starts, else the CPU); None: the process's setting (POSE_SERVICE_DEVICE, cpu; `worker --gpu`: auto).
    device: str | None = None
    # The longer side, pixels, of the frame the pose model sees (keypoints come back in the full frame's pixels;
    # second looks crop the full frame); 0: full size; None: the process's setting, else by device (cpu: full
    # size, gpu: 640, pose_service.pose.gpu.pose_max_side).
    pose_max_side: int | None = None
    # Processes posing chunks of a long clip side by side (pose_service.chunks); None: the process's setting (one
    # per core); 1: one serial pass. A clip shorter than two chunks (Settings.chunk_min_s) stays serial.
    jobs: int | None = None
    # full: the pose model on every frame; adaptive: on every frame only around candidate takeoffs, flights and
    # landings found by a first look at every third frame, the plain riding between interpolated (marked
    # `interpolated`); see pose_service.adaptive. result.json's backend.frame_rate says what was posed.
    frame_rate: str = "full"
    # The second look's crop followers (pose_service.pose.rotated): a lost rider kept in the air more often (seg1:
    # 31 of 31 air frames against 26), at the cost of seg6's first takeoff (+7 frames against +4). Off by default.
    crop_followers: bool = False

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise BadOption(
                f"unknown backend {self.backend!r}",
                hint=f"choose one of: {', '.join(BACKENDS)}",
            )
        if not 1 <= self.num_poses <= 16:
            raise BadOption(f"num_poses must be between 1 and 16, got {self.num_poses}")
        if self.rider is not None and (type(self.rider) is not int or self.rider < 1):
            raise BadOption(f"rider must be a track id (a whole number >= 1), got {self.rider!r}")
        if type(self.redetect_every) is not int or not 0 <= self.redetect_every <= 300:
            raise BadOption(f"redetect_every must be a whole number of frames from 0 to 300, got {self.redetect_every!r}")
        if self.stance is not None and self.stance not in STANCES:
            raise BadOption(f"stance must be regular or goofy, got {str(self.stance)[:40]!r}",
                            hint="regular: the left foot leads; goofy: the right foot leads")  # fmt: skip
        if self.device is not None and self.device not in DEVICES:
            raise BadOption(f"device must be cpu, gpu or auto, got {str(self.device)[:40]!r}",
                            hint="cpu: MediaPipe on the CPU; gpu: its GPU delegate (EGL); auto: the GPU when it "
                                 "starts here, else the CPU")  # fmt: skip
        if self.pose_max_side is not None and (
            type(self.pose_max_side) is not int or self.pose_max_side < 0 or 0 < self.pose_max_side < 64
        ):
            raise BadOption(f"pose_max_side must be 0 (full size) or a whole number of pixels >= 64, "
                            f"got {str(self.pose_max_side)[:40]!r}")  # fmt: skip
        if self.frame_rate not in FRAME_RATES:
            raise BadOption(f"frame_rate must be full or adaptive, got {str(self.frame_rate)[:40]!r}",
                            hint="full: the pose model on every frame; adaptive: at full rate around jumps only")
        if self.frame_rate == "adaptive" and self.backend != "mediapipe":
            raise BadOption("frame_rate adaptive works with the mediapipe backend only",
                            hint="the hmr2 backend poses every frame itself: use frame_rate full")  # fmt: skip
        if self.jobs is not None and (type(self.jobs) is not int or not 1 <= self.jobs <= 64):
            raise BadOption(f"jobs must be a whole number from 1 to 64, got {str(self.jobs)[:40]!r}",
                            hint="1 poses the clip in one pass; N cuts a long clip into N chunks posed side by side")


@dataclass
class AnalyzeOutcome:
    """What a run produced and how long each stage took."""

    out_dir: Path
    files: dict[str, Path]
    result: dict[str, Any]
    frames: int
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def frames_per_s(self) -> float:
        busy = sum(self.stage_seconds.values())
        return self.frames / busy if busy > 0 else 0.0


def default_out_dir(video: Path) -> Path:
    """`VIDEO` stem + `_pose/` beside the video."""
    return video.with_name(f"{video.stem}_pose")


def analyze(
    video: str | Path,
    *,
    out_dir: Path | None = None,
    options: AnalyzeOptions | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
    chunk_files: Sequence[Path] | None = None,
) -> AnalyzeOutcome:
    """Run every stage on `video` and write the result files into `out_dir`. `chunk_files`: the clip's chunks,
    posed and tracked elsewhere (`pose_chunk`, on Celery workers), in order: joined at the seams as a local
    chunked run joins its chunks, instead of posing here."""
    options = options or AnalyzeOptions()
    settings = settings or Settings()
    progress = progress or NullProgress()
    video = Path(video)
    seconds: dict[str, float] = {}

    t0 = time.perf_counter()
    info = probe(video, max_side_px=settings.max_side_px, max_duration_s=settings.max_duration_s)
    seconds["probe"] = time.perf_counter() - t0
    out_dir = out_dir or default_out_dir(video)
    out_dir.mkdir(parents=True, exist_ok=True)

    # The mesh's process starts now: torch and Anny load on the other core while the pose stage runs.
    body_process = BodyProcess(settings.anny_cache_dir) if options.mesh and options.backend == "mediapipe" else None
    try:
        return _analyze_probed(info, video, out_dir, options, settings, progress, chunk_files, seconds, body_process)
    finally:
        if body_process is not None:
            body_process.close()


def _analyze_probed(
    info: VideoInfo,
    video: Path,
    out_dir: Path,
    options: AnalyzeOptions,
    settings: Settings,
    progress: Progress,
    chunk_files: Sequence[Path] | None,
    seconds: dict[str, float],
    body_process: BodyProcess | None,
) -> AnalyzeOutcome:
    """`analyze` after the probe; the mesh fitted in `body_process` when given, else here."""

    backend_files: dict[str, Path] = {}
    if options.backend == "hmr2":
        tracks, timestamps, backend_info, backend_files = _hmr2_tracks(info, out_dir, settings, progress, seconds)
    else:
        tracks, timestamps, backend_info = _mediapipe_tracks(info, options, settings, progress, seconds, chunk_files)
    t0 = time.perf_counter()
    try:
        rider = pick_rider(
            tracks, frame_size=(info.width, info.height), n_frames=len(timestamps), override=options.rider
        )
    except ValueError as exc:
        raise BadOption(str(exc), hint="run once without a rider choice to see the track ids") from None
    angles = {t.id: body_angles(t.keypoints_3d) for t in tracks}
    seconds["track+angles"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    rider_of = {t.id: t for t in tracks}
    chain = rider_chain(tracks, rider, fps=info.fps) if rider is not None and rider in rider_of else None
    if chain is not None and camera_moved(chain, timestamps, info.width, info.height):
        # A moving camera hides the flight's parabola; the snow under the feet shows its takeoff and landing, and
        # the ground at the feet's depth the rider's travel (the stance).
        rate = backend_info.get("frame_rate") or {}
        ground = read_ground(info, chain, rate.get("windows") if rate.get("mode") == "adaptive" else None)
        chain.extras["ground_contact"], chain.extras["ground_shift_px"] = ground.snow, ground.shift_px
        chain.extras["ground_colour"] = ground.colour
        chain.extras["ground_beyond"] = ground.beyond
    jumps = (
        find_jumps(chain, timestamps, image_height=info.height, fps=info.fps, natural_stance=options.stance,
                   image_width=info.width, forearm=ForearmReader(info, chain),
                   ground_reader=lambda windows: read_ground(info, chain, windows, motion=False))  # fmt: skip
        if chain is not None
        else []
    )
    jumps, scoring = gate_jumps(jumps, chain, fps=info.fps)
    seconds["jumps"] = time.perf_counter() - t0

    mesh_files: dict[str, Path] = {}
    if options.mesh:
        t0 = time.perf_counter()
        with progress.stage("mesh", 1) as advance:
            if body_process is not None:
                bodies = body_process.run(tracks, timestamps, (info.width, info.height), out_dir)
            else:
                from pose_service.body.stage import run_body_stage  # torch and Anny load only when a mesh is wanted

                bodies = run_body_stage(tracks, timestamps, (info.width, info.height), out_dir, settings.anny_cache_dir)
            advance(1)
        for t in tracks:
            t.extras["body"] = bodies.bodies.get(t.id)
        if bodies.fits:
            mesh_files = {"result.glb": out_dir / "result.glb", "body.npz": out_dir / "body.npz"}
        seconds["mesh"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    result = build_result(
        info,
        backend=backend_info,
        timestamps_s=timestamps,
        tracks=tracks,
        rider_track=rider,
        angle_names=ANGLE_NAMES,
        angles_by_track=angles,
        summary=_summary(info, tracks, rider, len(timestamps)) + " " + summarize(jumps),
        jumps=[j.to_result() for j in jumps],
    )
    result["analysis"]["scoring"] = scoring
    files = {"result.json": out_dir / "result.json", "angles.csv": out_dir / "angles.csv"} | mesh_files | backend_files
    write_json(files["result.json"], result)
    write_angles_csv(
        files["angles.csv"], timestamps_s=timestamps, tracks=tracks, angle_names=ANGLE_NAMES, angles_by_track=angles
    )
    seconds["export"] = time.perf_counter() - t0

    if options.overlay:
        t0 = time.perf_counter()
        files["overlay.mp4"] = out_dir / "overlay.mp4"
        with progress.stage("overlay", len(timestamps)) as advance:
            write_overlay(
                info, tracks, files["overlay.mp4"], progress=advance, labels=overlay_labels(jumps, timestamps)
            )
        seconds["overlay"] = time.perf_counter() - t0

    log.info("analysed %s: %d frames, %d tracks, stages %s", video.name, len(timestamps), len(tracks), seconds)
    return AnalyzeOutcome(out_dir=out_dir, files=files, result=result, frames=len(timestamps), stage_seconds=seconds)


def _pose_setup(info: VideoInfo, options: AnalyzeOptions, settings: Settings) -> tuple[PoseSetup, TrackerConfig]:
    """What each process posing this clip needs: the pose stage's setup and the tracker's settings."""
    from pose_service.chunks import PoseSetup
    from pose_service.pose import ensure_bundle
    from pose_service.pose.gpu import pose_max_side, resolve_device

    bundle = ensure_bundle(settings.models_dir)
    device = resolve_device(options.device or settings.device, bundle)  # "cpu" or "gpu"; a bad gpu raises
    max_side = pose_max_side(options.pose_max_side if options.pose_max_side is not None else settings.pose_max_side,
                             device)  # fmt: skip
    setup = PoseSetup(bundle, device=device, max_side=max_side, num_poses=options.num_poses,
                      redetect_every=options.redetect_every, frame_rate=options.frame_rate,
                      crop_followers=options.crop_followers)  # fmt: skip
    return setup, TrackerConfig(min_frames=max(3, round(info.fps * 0.15)))


def pose_chunk(
    video: str | Path,
    out_file: Path,
    start: int,
    stop: int,
    *,
    options: AnalyzeOptions | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> int:
    """Pose and track frames start..stop of `video` as one chunk of a chunked run, into `out_file` (`save_chunk`):
    what a Celery worker does for one chunk of a long job. The number of frames followed.

    A chunk long enough is itself cut among this machine's cores as `analyze --jobs` cuts a clip (`options.jobs`,
    else `Settings.jobs`, `chunk_min_s`), so a remote chunk uses a worker's cores as a whole job would."""
    from pose_service.chunks import default_jobs, follow_chunk, follow_in_chunks, plan_chunks, save_chunk

    options = options or AnalyzeOptions()
    settings = settings or Settings()
    progress = progress or NullProgress()
    info = probe(Path(video), max_side_px=settings.max_side_px, max_duration_s=settings.max_duration_s)
    if not 0 <= start < stop <= info.frame_count:
        raise BadOption(f"chunk frames {start}-{stop - 1} are not within the clip's {info.frame_count} frames")
    pts = frame_pts(info)
    if pts is None:
        raise PipelineError(f"{info.name}: some frames have no timestamp, so the clip cannot be cut into chunks",
                            hint="turn POSE_SERVICE_REMOTE_CHUNKS off for such clips")  # fmt: skip
    setup, config = _pose_setup(info, options, settings)
    jobs = options.jobs if options.jobs is not None else (settings.jobs or default_jobs())
    parts = [(start + a, start + b) for a, b in plan_chunks(stop - start, info.fps, jobs, overlap_s=settings.chunk_overlap_s,
                                                           min_chunk_s=settings.chunk_min_s)]  # fmt: skip
    with progress.stage("pose", stop - start) as advance:
        if len(parts) > 1:
            followed, timestamps, backend_info = follow_in_chunks(info, setup, config, parts, advance=advance, pts=pts)
        else:
            followed, timestamps, backend_info = follow_chunk(info, setup, config, start, stop, pts, advance=advance)
    save_chunk(out_file, followed, timestamps, backend_info)
    return len(timestamps)


def _mediapipe_tracks(
    info: VideoInfo,
    options: AnalyzeOptions,
    settings: Settings,
    progress: Progress,
    seconds: dict[str, float],
    chunk_files: Sequence[Path] | None = None,
) -> tuple[list[Track], list[float], dict[str, Any]]:
    """The default backend: BlazePose on every decoded frame, followed by `PoseTracker`; a long clip in chunks
    posed side by side (`options.jobs`, `pose_service.chunks`), or posed elsewhere (`chunk_files`)."""
    # Imported after the probe: a bad file is rejected before mediapipe's slow import.
    from pose_service.chunks import (
        SEED_FRAMES,
        default_jobs,
        follow_frames,
        follow_in_chunks,
        join_chunks,
        load_chunk,
        plan_chunks,
    )
    from pose_service.pose import ensure_bundle

    if chunk_files:
        config = TrackerConfig(min_frames=max(3, round(info.fps * 0.15)))
        t0 = time.perf_counter()
        with progress.stage("join", len(chunk_files)) as advance:
            followed, timestamps, backend_info = join_chunks(info, [load_chunk(p) for p in chunk_files])
            advance(len(chunk_files))
        seconds["track"] = time.perf_counter() - t0
        bundle = ensure_bundle(settings.models_dir)
        tracks = _finished(info, followed, backend_info, bundle, config, seconds)
        return _looked_back(info, tracks, timestamps, backend_info, bundle, config, seconds)
    setup, config = _pose_setup(info, options, settings)
    jobs = options.jobs if options.jobs is not None else (settings.jobs or default_jobs())
    chunks = plan_chunks(info.frame_count, info.fps, jobs, overlap_s=settings.chunk_overlap_s,
                         min_chunk_s=settings.chunk_min_s)  # fmt: skip
    pts = frame_pts(info) if len(chunks) > 1 else None
    if len(chunks) > 1 and pts is None:
        log.info("%s: frames without timestamps: posed in one pass, not in chunks", info.name)
        chunks = [(0, info.frame_count)]
    t0 = time.perf_counter()
    with progress.stage("pose", info.frame_count) as advance:
        if len(chunks) > 1:
            followed, timestamps, backend_info = follow_in_chunks(info, setup, config, chunks, advance=advance,
                                                                  pts=pts)  # fmt: skip
            seconds["decode+pose"] = time.perf_counter() - t0
            t0 = time.perf_counter()
        else:
            tracker = PoseTracker(info.fps, config)
            timestamps, backend_info = follow_frames(info, setup, tracker, advance=advance, seed_frames=SEED_FRAMES)
            backend_info["jobs"] = 1
            seconds["decode+pose"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            followed = tracker.followed()
    seconds["track"] = time.perf_counter() - t0
    rate = backend_info.get("frame_rate") or {}
    if rate.get("mode") == "adaptive":
        log.info("%s: frame rate adaptive: the pose model looked at %d of %d frames (%.0f %%), %d model runs",
                 info.name, rate["frames_posed"], rate["frames"], 100.0 * rate["frames_posed"] / max(rate["frames"], 1),
                 rate["pose_runs"])  # fmt: skip
    tracks = _finished(info, followed, backend_info, setup.bundle, config, seconds)
    return _looked_back(info, tracks, timestamps, backend_info, setup.bundle, config, seconds)


def _finished(
    info: VideoInfo,
    followed: Followed,
    backend_info: dict[str, Any],
    bundle: Path,
    config: TrackerConfig,
    seconds: dict[str, float],
) -> list[Track]:
    """The tracks as followed, each read in its short gaps first (`pose.between`, in frames the pose model looked
    at), then finished as the tracker finishes them; what the reading did goes in `backend_info`."""
    from pose_service.analysis.contact import read_frames
    from pose_service.pose.between import Expected, LookBetween
    from pose_service.tracking.extend import expected_in_gaps, held_in_followed, with_readings
    from pose_service.tracking.tracker import finish_followed

    t0 = time.perf_counter()
    n_frames = max(followed.times, default=-1) + 1
    times = np.array([followed.times.get(f, f / info.fps) for f in range(n_frames)], dtype=np.float64)
    rate = backend_info.get("frame_rate") or {}
    windows = rate.get("windows") if rate.get("mode") == "adaptive" else None
    tracks = [t for t in followed.tracks if len(t.frames) >= config.min_frames]
    expected = [Expected(k, f, kp) for k, t in enumerate(tracks)
                for f, kp in expected_in_gaps(t, times, config.max_interp_s)
                if windows is None or any(a <= f <= b for a, b in windows)]  # fmt: skip

    def held(key: int, frame: int, box: np.ndarray) -> bool:
        return held_in_followed(followed.tracks, tracks[key], frame, box)

    look = LookBetween(lambda start, stop: read_frames(info, start=start, stop=stop), bundle)
    try:
        found = look.read(expected, held) if expected else {}
    finally:
        look.close()
    if found:
        read = {id(tracks[k]): with_readings(tracks[k], r) for k, r in found.items()}
        followed = replace(followed, tracks=[read.get(id(t), t) for t in followed.tracks])
        log.info("look between: %d tracks read in %d gap frames of %d", look.stats.tracks, look.stats.found,
                 look.stats.frames)  # fmt: skip
    backend_info["look_between"] = look.stats.to_result()
    seconds["look between"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    finished = finish_followed(followed, info.fps, config)
    seconds["track"] = seconds.get("track", 0.0) + time.perf_counter() - t0
    return finished


def _looked_back(
    info: VideoInfo,
    tracks: list[Track],
    timestamps: list[float],
    backend_info: dict[str, Any],
    bundle: Path,
    config: TrackerConfig,
    seconds: dict[str, float],
) -> tuple[list[Track], list[float], dict[str, Any]]:
    """The tracks extended back before their first frames (`pose.backfill`, `tracking.extend`), with what that did
    in `backend_info`: each of `MIN_TRACK_S` or more that starts after the clip's first frame."""
    from pose_service.analysis.contact import read_frames
    from pose_service.pose.backfill import MIN_TRACK_S, LookBack
    from pose_service.tracking.extend import held_by_another, prepended

    t0 = time.perf_counter()
    times = np.asarray(timestamps, dtype=np.float64)
    look = LookBack(lambda start, stop: read_frames(info, start=start, stop=stop), times, bundle)
    try:
        out = []
        for track in tracks:
            if len(track) and track.frames[0] > 0 and times[track.frames[-1]] - times[track.frames[0]] >= MIN_TRACK_S:
                readings = look.read(int(track.frames[0]), track.bbox[0], track.keypoints_2d[0],
                                     partial(held_by_another, tracks, track))  # fmt: skip
                if readings:
                    track = prepended(track, readings, times, config)
            out.append(track)
    finally:
        look.close()
    if look.stats.found:
        log.info("look back: %d tracks extended by %d frames (%d frames read)", look.stats.tracks, look.stats.found,
                 look.stats.frames)  # fmt: skip
    backend_info["look_back"] = look.stats.to_result()
    seconds["look back"] = time.perf_counter() - t0
    return out, timestamps, backend_info


def _hmr2_tracks(
    info: VideoInfo, out_dir: Path, settings: Settings, progress: Progress, seconds: dict[str, float]
) -> tuple[list[Track], list[float], dict[str, Any], dict[str, Path]]:
    """The GPU backend: the configured 4D-Humans install's track.py, its PHALP tracks converted and finished."""
    from pose_service.pose.hmr2_stage import analyze_hmr2

    outcome = analyze_hmr2(
        info,
        out_dir,
        python=settings.hmr2_python,
        checkout=settings.hmr2_dir,
        timeout_s=settings.hmr2_timeout_s,
        progress=progress,
    )
    seconds.update({f"hmr2 {k}": v for k, v in outcome.stage_seconds.items()})
    t0 = time.perf_counter()
    tracks = finish_backend_tracks(outcome.tracks, outcome.timestamps_s)
    seconds["hmr2 convert"] = seconds.get("hmr2 convert", 0.0) + time.perf_counter() - t0  # part of the conversion
    return tracks, outcome.timestamps_s, outcome.backend, outcome.files


def finish_backend_tracks(
    raw: Sequence[PoseTrack], timestamps_s: Sequence[float] | np.ndarray, config: TrackerConfig | None = None
) -> list[Track]:
    """The tracks a backend followed itself (hmr2: PHALP's), finished as `PoseTracker` finishes its own: left/right
    repair, short gaps filled, smoothing, with `config`'s settings (the tracker's defaults when None). The
    backend's boxes are kept, its numbers and extras too."""
    config = config or TrackerConfig()
    times = np.asarray(timestamps_s, dtype=np.float64)
    return [
        finalise_track(
            t.id,
            t.frames,
            t.keypoints_2d,
            t.keypoints_3d,
            times,
            bbox=t.bbox,
            fix_swaps=config.fix_swaps,
            max_interp_s=config.max_interp_s,
            smoothing=config.smoothing,
            extras=t.extras,
        )
        for t in raw
    ]


def _summary(info: VideoInfo, tracks: list[Track], rider: int | None, n_frames: int) -> str:
    if not tracks:
        return f"No person was found in the {info.duration_s:.1f} s clip."
    people = "1 person" if len(tracks) == 1 else f"{len(tracks)} people"
    rider_track = next(t for t in tracks if t.id == rider)
    seen = len(rider_track)
    knees = body_angles(rider_track.keypoints_3d)[:, :2]
    deepest = float(np.nanmin(knees)) if np.isfinite(knees).any() else float("nan")
    text = f"{people} tracked over {info.duration_s:.1f} s; the rider is #{rider}, seen in {seen} of {n_frames} frames."
    if np.isfinite(deepest):
        text += f" Deepest knee bend: {deepest:.0f}° (180° is a straight leg)."
    return text
