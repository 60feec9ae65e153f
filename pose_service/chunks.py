"""The pose stage's loop, and a long clip split into overlapping chunks posed side by side (`analyze --jobs N`).

One process follows one run of frames: decoding runs ahead on a thread, the model reads frame i (MediaPipe
releases the GIL), the tracker follows frame i-1 (`follow_frames`). A long clip is cut into `jobs` chunks that
overlap by `overlap_s`; each is posed and tracked in its own process (spawned: each builds its own landmarker,
whose VIDEO mode needs increasing timestamps within its chunk only), and the chunks' tracks are joined at the
seams (`pose_service.tracking.seams`) before the whole clip's tracks are finished as a serial run finishes them.
A clip shorter than two chunks of `min_chunk_s` stays serial.

MediaPipe's video mode carries each person's region from frame to frame, so at the start of a chunk (a cold
graph, a cold tracker) its readings differ a little from a serial run's; the earlier chunk keeps the seam's
first half for that reason. How close the two runs come is measured in `tests/test_chunks.py`.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pose_service import errors
from pose_service.tracking import PoseTracker, TrackerConfig
from pose_service.tracking.seams import join_followed
from pose_service.tracking.tracker import Followed, FollowedTrack
from pose_service.video import VideoInfo, VideoReader, frame_pts

__all__ = ["PoseSetup", "default_jobs", "follow_chunk", "follow_frames", "follow_in_chunks", "halves", "join_chunks",
           "load_chunk", "plan_chunks", "save_chunk", "seed_look", "tiles"]

log = logging.getLogger(__name__)

# A chunk's process sends its progress every this many frames.
_PROGRESS_EVERY = 10
# A clip and each chunk of it also look at each half of their first frames (`follow_frames`); the tracker confirms a
# person after 3 detections.
SEED_FRAMES = 6
# ... and go on seeding while the tracker holds nobody, for up to this long from their first frame; where the halves
# find nobody either, the frame is looked at in 3 x 2 tiles (`seed_look`).
SEED_MORE_S = 1.0


@dataclass(frozen=True)
class PoseSetup:
    """What each process needs to build the pose stage: the bundle, the resolved delegate (cpu or gpu), the
    longer side the model sees (0: full size), people per frame and the detector's schedule."""

    bundle: Path
    device: str = "cpu"
    max_side: int = 0
    num_poses: int = 4
    redetect_every: int = 0
    # full: the model on every frame; adaptive: at full rate only around candidate flights, a frame every
    # `frame_step_s` elsewhere (every third at 30 fps, every sixth at 60), `frame_margin_s` of full rate either
    # side (pose_service.adaptive).
    frame_rate: str = "full"
    frame_step_s: float = 0.1
    frame_margin_s: float = 0.5
    crop_followers: bool = False  # the second look's crop followers (`pose.rotated.FOLLOW_SIZES`); off by default

    @property
    def follow_sizes(self) -> tuple[float, ...]:
        from pose_service.pose.rotated import FOLLOW_SIZES

        return FOLLOW_SIZES if self.crop_followers else ()


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not Linux
        return max(os.cpu_count() or 1, 1)


def plan_chunks(
    frame_count: int, fps: float, jobs: int, *, overlap_s: float = 1.5, min_chunk_s: float = 10.0
) -> list[tuple[int, int]]:
    """(start, stop) frame ranges, one per process: `jobs` chunks of about equal length (fewer when a chunk
    would be shorter than `min_chunk_s`), each but the first starting `overlap_s` before where the previous one's
    own part ends. One range, the whole clip, when it stays serial."""
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    overlap = max(int(round(overlap_s * fps)), 2)
    n = min(jobs, int(frame_count // max(min_chunk_s * fps, 1.0)))
    if n < 2:
        return [(0, frame_count)]
    edges = np.linspace(0, frame_count, n + 1).round().astype(int)
    return [(max(int(edges[k]) - (overlap if k else 0), 0), int(edges[k + 1])) for k in range(n)]


def follow_frames(
    info: VideoInfo,
    setup: PoseSetup,
    tracker: PoseTracker,
    *,
    start: int = 0,
    stop: int | None = None,
    pts: np.ndarray | None = None,
    advance: Callable[[int], None] | None = None,
    seed_frames: int = 0,
) -> tuple[list[float], dict[str, Any]]:
    """Pose and track frames start..stop of the clip into `tracker`; the frames' timestamps and the backend's
    name, version and settings.

    seed_frames: on this many first frames the model also looks at each half of the frame, and the second look
    (`pose.rotated`) follows the tracks not yet confirmed too. A clip or a chunk starts cold: a serial run's video
    graph may carry a person from earlier frames whom the whole frame's detector does not find on its own (a
    small or half-hidden one: on sports2d_demo one person went unseen for 100 frames), while in a half of the frame
    it does; once the tracker holds them, its second looks keep them. A clip trimmed to its jump starts cold as
    well: the real seg6 cut 0.6 s before its first takeoff showed its small rider on the lip in a half of frames
    0, 1 and 3 only, too few in a row for the tracker to confirm, and the rider was first held in the air 1.3 s
    later (no jump found); followed from the first reading by the second look, the rider is held from frame 0.
    Where the halves find nobody and the tracker follows nobody, the frame is looked at in tiles too, and while the
    tracker holds nobody, seeding goes on for up to `SEED_MORE_S` (`seed_look`)."""
    if setup.frame_rate == "adaptive":
        from pose_service.adaptive import follow_adaptive

        return follow_adaptive(info, setup, tracker, start=start, stop=stop, pts=pts, advance=advance,
                               seed_frames=seed_frames)  # fmt: skip
    # Imported here: a bad file is rejected before mediapipe's slow import.
    from pose_service.pose import PoseLandmarkerBackend
    from pose_service.pose.rotated import RotatedLook
    from pose_service.tracking.search import look_again

    timestamps: list[float] = []
    with (
        PoseLandmarkerBackend(
            setup.bundle, num_poses=setup.num_poses, redetect_every=setup.redetect_every, device=setup.device,
            max_side=setup.max_side,
        ) as backend,
        RotatedLook(setup.bundle, device=setup.device, follow_sizes=setup.follow_sizes) as rotated,
        VideoReader(info, prefetch=4, start=start, stop=stop, pts=pts) as reader,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="tracker") as tracking,
    ):
        backend_info = {"name": backend.name, "version": backend.version, "device": setup.device,
                        "pose_max_side": setup.max_side}  # fmt: skip
        pending: Future[None] | None = None
        held, first_s = False, None
        for n, frame in enumerate(reader):
            poses = backend.detect(frame.rgb, frame.time_s)
            first_s = frame.time_s if first_s is None else first_s
            seeding = n < seed_frames or (seed_frames > 0 and not held and frame.time_s - first_s <= SEED_MORE_S)
            if seeding:
                # the tracker is asked after the last frame's update (never while that runs, so that a run is the
                # same every time): past the seed frames, seeding goes on while it holds nobody, and the tiles are
                # looked at only where it follows nobody, not even a person not yet confirmed
                if pending is not None:
                    pending.result()
                    pending = None
                held = tracker.holds_anyone
                seeding = n < seed_frames or not held
            if seeding:
                following = bool(tracker.expected_boxes(1.0, tentative=True))
                poses = seed_look(backend, frame.rgb, poses, info.width, info.height, tiles_too=not following)
            if pending is not None:
                pending.result()
            # The model again on a crop around anyone the tracker just lost (nothing more while nobody is).
            poses = look_again(backend, tracker, frame.rgb, poses)
            # ... and on that crop turned by quarter turns: a flipping rider upside down or lying in the air.
            poses = rotated.look(frame.rgb, poses, tracker.expected_boxes(1.0, tentative=seeding), frame.time_s)
            pending = tracking.submit(tracker.update, frame.index, poses, rgb=frame.rgb, time_s=frame.time_s)
            timestamps.append(frame.time_s)
            if advance is not None:
                advance(1)
        if pending is not None:
            pending.result()
    n = len(timestamps)
    backend_info["frame_rate"] = {"mode": "full", "frames": n, "frames_posed": n, "pose_runs": n}
    backend_info["second_look"] = rotated.stats()
    return timestamps, backend_info


def seed_look(backend: Any, rgb: np.ndarray, poses: Any, width: int, height: int, *, tiles_too: bool = True) -> Any:
    """`poses` with the people the model finds in each half of the frame (`halves`), and with `tiles_too`, where the
    halves find nobody either, in 3 x 2 tiles (`tiles`): a small rider the frame shrunk to the detector's input
    passes over.
    The real seg6 cut 0.3 s before its first takeoff shows its rider (75 px tall of 360) on the kicker's deck in a
    tile of frames 5-8 and in no half; found there, the rider is held from frame 5, where it was first held in the
    air at frame 31 and the jump went unfound."""
    from pose_service.tracking.search import merge_found, paint_out

    for regions in (halves(width, height), tiles(width, height) if tiles_too else []):
        for region in regions:
            found = backend.detect_region(paint_out(rgb, poses, region), region)
            poses = merge_found(poses, found, region)
        if len(poses):
            break
    return poses


def tiles(width: int, height: int, *, columns: int = 3, rows: int = 2, share: tuple[float, float] = (0.45, 0.65)
          ) -> list[np.ndarray]:
    """A `columns` x `rows` grid of overlapping boxes over the frame, each `share` of its width and height."""
    w, h = share[0] * width, share[1] * height
    return [np.array([x, y, x + w, y + h]) for y in np.linspace(0, height - h, rows)
            for x in np.linspace(0, width - w, columns)]


def halves(width: int, height: int, *, share: float = 0.6) -> list[np.ndarray]:
    """The two halves of a frame along its longer side, each `share` of it (so they overlap), as boxes."""
    if width >= height:
        return [np.array([0, 0, share * width, height]), np.array([(1 - share) * width, 0, width, height])]
    return [np.array([0, 0, width, share * height]), np.array([0, (1 - share) * height, width, height])]


def follow_in_chunks(
    info: VideoInfo,
    setup: PoseSetup,
    config: TrackerConfig,
    chunks: list[tuple[int, int]],
    *,
    advance: Callable[[int], None] | None = None,
    timeout_s: float | None = None,
    pts: np.ndarray | None = None,
) -> tuple[Followed, list[float], dict[str, Any]]:
    """Each of `chunks` (from `plan_chunks`) posed and tracked in its own spawned process, the tracks joined at
    the seams: the whole clip as followed, the timestamps of every frame and the backend's description. `pts`:
    every frame's timestamp (`frame_pts`), looked up when not given."""
    pts = frame_pts(info) if pts is None else pts
    if pts is None:
        raise errors.PipelineError(f"{info.name}: some frames have no timestamp, so the clip cannot be cut into chunks",
                                   hint="run it with --jobs 1")  # fmt: skip
    ctx = multiprocessing.get_context("spawn")
    messages: Any = ctx.Queue()
    procs = [
        ctx.Process(target=_chunk_main, args=(k, info, setup, config, lo, hi, pts, messages), daemon=True,
                    name=f"pose chunk {k}")  # fmt: skip
        for k, (lo, hi) in enumerate(chunks)
    ]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    log.info("%s: %d chunks %s in %d processes", info.name, len(chunks), chunks, len(procs))
    results: dict[int, tuple[Followed, list[float], dict[str, Any]]] = {}
    # Frames counted once: a chunk's overlap with the previous one is not progress of the whole clip.
    own = [hi - lo if k == 0 else hi - chunks[k - 1][1] for k, (lo, hi) in enumerate(chunks)]
    counted = [0] * len(chunks)
    seen = [0] * len(chunks)
    try:
        while len(results) < len(chunks):
            try:
                kind, k, payload = messages.get(timeout=1.0)
            except queue.Empty:
                for i, p in enumerate(procs):
                    if i not in results and not p.is_alive():
                        raise errors.PipelineError(
                            f"the process posing chunk {i} (frames {chunks[i][0]}-{chunks[i][1] - 1}) died with exit "
                            f"code {p.exitcode}", hint="run with --jobs 1, or with less memory in use") from None  # fmt: skip
                if timeout_s is not None and time.perf_counter() - t0 > timeout_s:
                    raise errors.PipelineError(f"the chunks took longer than {timeout_s:.0f} s") from None
                continue
            if kind == "frames":
                seen[k] += payload
                step = max(min(seen[k] - (chunks[k][1] - chunks[k][0] - own[k]), own[k]) - counted[k], 0)
                counted[k] += step
                if advance is not None and step:
                    advance(step)
            elif kind == "done":
                results[k] = payload
            else:  # "error": (class name, message, hint)
                name, message, hint = payload
                cls = getattr(errors, name, None)
                if not (isinstance(cls, type) and issubclass(cls, errors.PoseServiceError)):
                    cls = errors.PipelineError
                raise cls(f"chunk {k} (frames {chunks[k][0]}-{chunks[k][1] - 1}): {message}", hint=hint or None)
    finally:
        for p in procs:
            if p.is_alive() and len(results) < len(chunks):
                p.terminate()
        for p in procs:
            p.join(timeout=30)
        messages.close()
    followed, timestamps, backend_info = join_chunks(info, [results[k] for k in range(len(chunks))])
    log.info("%s: chunks posed and joined in %.1f s", info.name, time.perf_counter() - t0)
    return followed, timestamps, backend_info


def join_chunks(
    info: VideoInfo, results: list[tuple[Followed, list[float], dict[str, Any]]]
) -> tuple[Followed, list[float], dict[str, Any]]:
    """The chunks' results (what `follow_chunk` gives, in order) joined at the seams: the whole clip as followed,
    the timestamps of every frame and the backend's description, its frame counts added up."""
    followed = join_followed([r[0] for r in results])
    timestamps = [followed.times[f] for f in range(info.frame_count) if f in followed.times]
    backend_info = results[0][2] | {"jobs": len(results)}
    rates = [r[2].get("frame_rate") for r in results]
    if all(isinstance(r, dict) for r in rates):  # the chunks' counts added up (their overlaps counted twice)
        backend_info["frame_rate"] = dict(rates[0]) | {  # type: ignore[arg-type]
            key: sum(r[key] for r in rates) for key in ("frames", "frames_posed", "pose_runs")  # type: ignore[index]
        }
        if "windows" in rates[0]:  # type: ignore[operator]
            backend_info["frame_rate"]["windows"] = [w for r in rates for w in r["windows"]]  # type: ignore[index]
    looks = [r[2].get("second_look") for r in results]
    if all(isinstance(x, dict) for x in looks):  # the chunks' counts added up (their overlaps counted twice)
        backend_info["second_look"] = {key: sum(x[key] for x in looks) for key in looks[0]}  # type: ignore[index, union-attr]
    return followed, timestamps, backend_info


def follow_chunk(
    info: VideoInfo,
    setup: PoseSetup,
    config: TrackerConfig,
    start: int,
    stop: int,
    pts: np.ndarray,
    *,
    advance: Callable[[int], None] | None = None,
) -> tuple[Followed, list[float], dict[str, Any]]:
    """One chunk of a long clip, frames start..stop, posed and tracked as `follow_in_chunks` does each: what
    was followed (not finished), the frames' timestamps and the backend's description."""
    from pose_service.native_stderr import native_stderr_to_log

    tracker = PoseTracker(info.fps, config)
    with native_stderr_to_log("mediapipe"):
        timestamps, backend_info = follow_frames(info, setup, tracker, start=start, stop=stop, pts=pts,
                                                 advance=advance, seed_frames=SEED_FRAMES)  # fmt: skip
    return tracker.followed(), timestamps, backend_info


def save_chunk(path: Path, followed: Followed, timestamps: list[float], backend_info: dict[str, Any]) -> None:
    """A chunk's result as one .npz file (no pickle): each track's arrays, the frames' times, the camera's pan and
    path, and the timestamps and backend description as JSON. `load_chunk` gives back exactly the same."""
    arrays: dict[str, np.ndarray] = {
        "uids": np.array([t.uid for t in followed.tracks], dtype=np.int64),
        "times_f": np.array(list(followed.times), dtype=np.int64),
        "times_s": np.array(list(followed.times.values()), dtype=np.float64),
        "pan_f": np.array(list(followed.pan), dtype=np.int64),
        "pan": np.array(list(followed.pan.values()), dtype=np.float64),
        "path_f": np.array(list(followed.path), dtype=np.int64),
        "path": np.array(list(followed.path.values()), dtype=np.float64).reshape(len(followed.path), 3, 3),
        "meta": np.array(json.dumps({"timestamps": timestamps, "backend": backend_info})),
    }
    for i, t in enumerate(followed.tracks):
        arrays[f"t{i}_frames"], arrays[f"t{i}_kp2d"], arrays[f"t{i}_kp3d"] = t.frames, t.keypoints_2d, t.keypoints_3d
    tmp = path.with_name(path.name + ".part")
    with tmp.open("wb") as f:
        np.savez(f, **arrays)  # type: ignore[arg-type]
    tmp.replace(path)


def load_chunk(path: Path) -> tuple[Followed, list[float], dict[str, Any]]:
    """What `save_chunk` wrote."""
    with np.load(path, allow_pickle=False) as z:
        tracks = [FollowedTrack(int(uid), z[f"t{i}_frames"], z[f"t{i}_kp2d"], z[f"t{i}_kp3d"])
                  for i, uid in enumerate(z["uids"])]  # fmt: skip
        times = {int(f): float(t) for f, t in zip(z["times_f"], z["times_s"], strict=True)}
        pan = {int(f): float(v) for f, v in zip(z["pan_f"], z["pan"], strict=True)}
        path_ = {int(f): m for f, m in zip(z["path_f"], z["path"], strict=True)}
        meta = json.loads(str(z["meta"]))
    return Followed(tracks, times, pan, path_), list(meta["timestamps"]), dict(meta["backend"])


def _chunk_main(
    k: int,
    info: VideoInfo,
    setup: PoseSetup,
    config: TrackerConfig,
    start: int,
    stop: int,
    pts: np.ndarray,
    messages: Any,
) -> None:
    """A chunk's process: pose and track frames start..stop, send what was followed (or the error)."""
    try:
        lock = threading.Lock()
        pending = [0]

        def advance(n: int) -> None:
            with lock:
                pending[0] += n
                if pending[0] >= _PROGRESS_EVERY:
                    messages.put(("frames", k, pending[0]))
                    pending[0] = 0

        result = follow_chunk(info, setup, config, start, stop, pts, advance=advance)
        if pending[0]:
            messages.put(("frames", k, pending[0]))
        messages.put(("done", k, result))
    except errors.PoseServiceError as exc:
        messages.put(("error", k, (type(exc).__name__, exc.message, exc.hint)))
    except Exception as exc:  # any other failure, as one line for the parent
        messages.put(("error", k, ("PipelineError", f"{type(exc).__name__}: {exc}", "")))
