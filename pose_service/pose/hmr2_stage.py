"""The hmr2 backend as the pipeline uses it: preflight, input as track.py wants it, the run, the conversion.

The tracks come back as PHALP followed them (`PoseTrack`): the pipeline finishes them like every backend's.

Files in the job's output folder: `hmr2/` (PHALP's output folder: `track.log`, `results/demo_clip.pkl`),
`smpl.npz` (SMPL parameters and all 45 joints per track and frame). PHALP's extracted frames
(`hmr2/_DEMO/`) and a transcoded copy of the input are deleted after a successful run.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av

from pose_service.errors import PipelineError
from pose_service.pose.core import PoseTrack
from pose_service.pose.hmr2_backend import Hmr2Install, preflight, run_track
from pose_service.pose.phalp_convert import convert_phalp, load_phalp_pickle, raw_tracks, write_smpl_sidecar
from pose_service.progress import NullProgress, Progress
from pose_service.video import VideoInfo, VideoReader, VideoWriter

__all__ = ["Hmr2Outcome", "analyze_hmr2", "frame_times", "prepare_input"]

log = logging.getLogger(__name__)

_INPUT_NAME = "clip.mp4"  # so the pickle is always results/demo_clip.pkl


@dataclass
class Hmr2Outcome:
    """Tracks as PHALP followed them (numbered 1..), one timestamp per decoded frame, the result's `backend` block,
    files written."""

    tracks: list[PoseTrack]
    timestamps_s: list[float]
    backend: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)


def frame_times(info: VideoInfo) -> list[float]:
    """Presentation times of every frame from the first, read from the packets (no decoding)."""
    with av.open(str(info.path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        tb = stream.time_base
        pts = sorted(p.pts for p in container.demux(stream) if p.pts is not None and p.size > 0)
    if tb is None or len(pts) != info.frame_count or not pts:
        return [i / info.fps for i in range(info.frame_count)]
    return [float((p - pts[0]) * tb) for p in pts]


def prepare_input(info: VideoInfo, folder: Path, progress: Progress) -> tuple[Path, list[float], bool]:
    """An .mp4 track.py accepts, its frame times, and whether it is a transcoded copy.

    track.py takes only names ending in `.mp4` (or JPEG folders) and may ignore a rotation tag, so anything
    else (another container, an upper-case suffix, a rotated phone clip) is re-encoded upright with PyAV,
    keeping the original timestamps; a plain upright .mp4 is linked, not copied.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / _INPUT_NAME
    target.unlink(missing_ok=True)
    if info.path.suffix == ".mp4" and info.rotation_deg == 0:
        target.symlink_to(info.path.resolve())
        return target, frame_times(info), False
    times: list[float] = []
    with (
        VideoReader(info) as reader,
        VideoWriter(target, width=info.width, height=info.height, fps=info.fps, crf=17) as writer,
        progress.stage("transcode", info.frame_count) as advance,
    ):
        for frame in reader:
            writer.write(frame.rgb, frame.time_s)
            times.append(frame.time_s)
            advance(1)
    log.info("transcoded %s to %s for track.py (%d frames)", info.name, target, len(times))
    return target, times, True


def analyze_hmr2(
    info: VideoInfo,
    out_dir: Path,
    *,
    python: Path | None,
    checkout: Path | None,
    timeout_s: float,
    progress: Progress | None = None,
) -> Hmr2Outcome:
    """Run 4D-Humans on the probed video and return its tracks in our keypoints; any failure is a clear, named
    error."""
    progress = progress or NullProgress()
    seconds: dict[str, float] = {}
    install = Hmr2Install.configured(python, checkout)
    t0 = time.perf_counter()
    with progress.stage("hmr2 preflight", 1) as advance:
        ready = preflight(install)
        advance(1)
    for item in ready.items:
        log.info("preflight %s: %s %s", item.name, "ok" if item.ok else "FAIL", item.detail)
    ready.raise_if_not_ready()
    seconds["preflight"] = time.perf_counter() - t0

    work = out_dir / "hmr2"
    t0 = time.perf_counter()
    source, timestamps, transcoded = prepare_input(info, work / "input", progress)
    seconds["input"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    with progress.stage("pose", len(timestamps)) as advance:
        run = run_track(install, source, work, timeout_s=timeout_s, total_frames=len(timestamps), advance=advance)
    seconds["track.py"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    try:
        raw = load_phalp_pickle(run.pickle)
        results = convert_phalp(raw, width=info.width, height=info.height)
    except Exception as exc:  # a pickle we cannot read is the install's problem, said plainly
        raise PipelineError(
            f"cannot read 4D-Humans' results {run.pickle}: {type(exc).__name__}: {exc}",
            hint="check that the configured install is 4D-Humans with PHALP (see its track.log)",
        ) from exc
    if results.n_frames != len(timestamps):
        log.warning("track.py saw %d frames, the video has %d", results.n_frames, len(timestamps))
    min_frames = max(3, round(info.fps * 0.15))
    tracks = raw_tracks(results, len(timestamps), min_frames=min_frames)
    smpl = write_smpl_sidecar(out_dir / "smpl.npz", results, tracks)
    for t in tracks:  # where the rest of this person's HMR2 output is: all 45 joints, SMPL, camera
        t.extras["result_fields"] = {"phalp_tid": t.extras["phalp_tid"], "smpl": {"file": smpl["file"],
                                                                                   "prefix": f"track{t.id}_"}}
    seconds["convert"] = time.perf_counter() - t0

    shutil.rmtree(work / "_DEMO", ignore_errors=True)  # PHALP's JPEG of every frame
    if transcoded:
        source.unlink(missing_ok=True)
    versions = ready.versions()
    backend = {
        "name": "hmr2",
        "version": versions.get("hmr2", "unknown"),
        "versions": versions,
        "python": str(install.python),
        "checkout": str(install.checkout),
        "track_seconds": round(run.seconds, 2),
        "gpu_memory": run.gpu,
        "smpl": smpl,
        "log": str(run.log.relative_to(out_dir)),
        "frames_seen": results.n_frames,
        "shot_frames": results.shot_frames,
        "ghost_entries_dropped": results.ghosts_dropped,
        "keypoints": "21 of 33 mapped from OpenPose BODY_25; the other 12 copy a neighbour with visibility 0",
    }
    files = {"smpl.npz": out_dir / "smpl.npz", "hmr2/track.log": run.log}
    return Hmr2Outcome(tracks, timestamps, backend, files, seconds)
