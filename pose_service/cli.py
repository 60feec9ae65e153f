"""`pose-service`: the command line. The only module that prints.

Exit codes: 0 success, 2 bad input (the file, an option), 1 anything else, with one line on stderr (or, when
several parts are missing, as in a not-ready 4D-Humans install, that line and one line per part with its fix).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from pose_service import __version__
from pose_service.config import Settings
from pose_service.errors import BadOption, InputError, PoseServiceError

__all__ = ["main"]

log = logging.getLogger("pose_service")

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pose-service",
        description="Track every person in a snowboarding clip, recover 2D/3D pose and explain each jump.",
    )
    p.add_argument("--version", action="version", version=f"pose-service {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="log more (-v info, -vv debug)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    a = sub.add_parser("analyze", help="track every person in a clip and write result.json, angles.csv, ...")
    a.add_argument("video", type=Path, help="the video file")
    a.add_argument("--out", type=Path, help="output folder (default: VIDEO stem + _pose/ beside the video)")
    a.add_argument("--backend", default="mediapipe", choices=["mediapipe", "hmr2"],
                   help="pose engine: mediapipe (CPU, built in) or hmr2 (a configured 4D-Humans install, GPU)")
    a.add_argument("--no-mesh", action="store_true", help="skip the body mesh (result.glb)")
    a.add_argument("--overlay", action="store_true", help="also write overlay.mp4 with skeletons drawn")
    a.add_argument("--num-poses", type=int, default=None, help="most people per frame (default 4)")
    a.add_argument("--rider", type=int, default=None, metavar="ID",
                   help="the track id of the rider (default: chosen by time on screen, size and motion)")
    a.add_argument("--stance", default=None, choices=["regular", "goofy"],
                   help="the rider's natural stance (regular: left foot leads), so a switch approach is named so")
    a.add_argument("--device", default=None, choices=["cpu", "gpu", "auto"],
                   help="where the pose model runs: cpu (default, or POSE_SERVICE_DEVICE), gpu (MediaPipe's GPU "
                        "delegate through EGL; fails naming what is missing) or auto (the GPU when it starts, else "
                        "the CPU)")
    a.add_argument("--pose-max-side", type=int, default=None, metavar="PX",
                   help="the longer side, in pixels, of the frame the pose model sees; keypoints stay in the full "
                        "frame's pixels (0: full size; default: full size on the CPU, 640 on the GPU, where the "
                        "frame's upload is the bottleneck; or POSE_SERVICE_POSE_MAX_SIDE)")
    a.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="processes posing a long clip side by side, in overlapping chunks joined at the seams "
                        "(default: one per core, or POSE_SERVICE_JOBS; clips under 20 s stay serial; 1: serial)")
    a.add_argument("--redetect-every", type=int, default=None, metavar="N",
                   help="run the person detector every N frames while everyone is followed (default: off)")
    a.add_argument("--frame-rate", default="full", choices=["full", "adaptive"],
                   help="full (default): the pose model on every frame; adaptive: on every frame only around "
                        "candidate takeoffs, flights and landings (a first look at every third frame finds them), "
                        "plain riding at a third of the rate, interpolated between")
    a.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")

    s = sub.add_parser("synth", help="render a synthetic rider clip with exact ground truth")
    s.add_argument("--trick", required=True,
                   help="e.g. straight, 360, right540, backflip, wildcat, cork720, goofy,switch,bs540, "
                        "regular,fs360,under=40, backflip,crash, 360,sketchy, 360,tiny, 360,hidden, regular,fs360,indy,hold=0.4 "
                        "(a grab; a wrong one "
                        "lists every form)")
    s.add_argument("--out", type=Path, required=True, help="the clip to write (.mp4); clip.truth.json goes beside it")
    s.add_argument("--size", default="480x480", help="WIDTHxHEIGHT (default 480x480)")
    s.add_argument("--fps", type=float, default=30.0)
    s.add_argument("--view", default="front", choices=["front", "side", "back", "front45", "back45"],
                   help="camera view at takeoff (stance, switch and rolls need front or back; front45 and back45: "
                        "the still camera walked 45 degrees round the jump)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--camera", default="still", metavar="KIND",
                   help="how the camera moves: still (default), follow-front, follow-behind, follow-below, pan, roll, "
                        "zoom, fisheye, drone; the truth gains the camera path per frame")

    d = sub.add_parser("doctor", help="check that this environment is ready; exit 0 only if it is")
    d.add_argument("--json", action="store_true", help="print the checks as JSON")

    sub.add_parser("prepare", help="build the pose model bundle and the body model cache in the data folder")

    v = sub.add_parser("serve", help="run the HTTP API and a local pool of workers")
    v.add_argument("--host", default="127.0.0.1", help="address to listen on (beyond loopback needs a token)")
    v.add_argument("--port", type=int, default=8000)
    v.add_argument("--workers", type=int, default=None, help="jobs analysed at once (default 1; 0 runs none)")
    v.add_argument("--data", type=Path, default=None, help="data folder (default POSE_SERVICE_DATA_DIR)")
    v.add_argument("--queue", choices=["local", "celery"], default=None,
                   help="who runs jobs: the local pool (default) or Celery workers on other machines")
    v.add_argument("--broker", default=None, help="Celery broker for --queue celery, e.g. redis://HOST:6379/0")

    w = sub.add_parser("worker", help="run jobs of a remote `serve --queue celery` (a Celery worker)")
    w.add_argument("--broker", default=None, help="the server's Celery broker, e.g. redis://HOST:6379/0")
    w.add_argument("--api", required=True, help="the server's API, e.g. http://HOST:8000/api/v1")
    w.add_argument("--token", default=None, help="the server's API token (default POSE_SERVICE_API_TOKEN)")
    w.add_argument("--concurrency", type=int, default=1, help="jobs run at once (default 1)")
    w.add_argument("--name", default=None, help="this worker's name in the API (default pose-PID@HOST)")
    w.add_argument("--data", type=Path, default=None, help="data folder: models, caches, job files")
    w.add_argument("--gpu", action="store_true",
                   help="a GPU machine: also take jobs of the hmr2 backend (4D-Humans), and run the pose stage with "
                        "device auto (the GPU through EGL when it starts) for jobs that do not choose a device")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        settings = Settings()
        handler = {"analyze": _analyze, "synth": _synth, "doctor": _doctor, "prepare": _prepare, "serve": _serve,
                   "worker": _worker}[
            args.command
        ]
        return handler(args, settings)
    except InputError as exc:
        print(f"pose-service: {exc.text()}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PoseServiceError as exc:
        print(f"pose-service: {exc.text()}", file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        print("pose-service: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: one line, not a stack trace
        log.debug("internal error", exc_info=True)
        print(f"pose-service: internal error: {type(exc).__name__}: {exc} (run with -vv for details)", file=sys.stderr)
        return EXIT_INTERNAL


def _analyze(args: argparse.Namespace, settings: Settings) -> int:
    from pose_service.native_stderr import native_stderr_to_log
    from pose_service.pipeline import AnalyzeOptions, analyze
    from pose_service.progress import RichProgress

    options = AnalyzeOptions(
        backend=args.backend,
        mesh=not args.no_mesh,
        overlay=args.overlay,
        num_poses=args.num_poses or settings.num_poses,
        rider=args.rider,
        stance=args.stance,
        device=args.device,
        pose_max_side=args.pose_max_side,
        jobs=args.jobs,
        redetect_every=args.redetect_every if args.redetect_every is not None else AnalyzeOptions.redetect_every,
        frame_rate=args.frame_rate,
    )
    # MediaPipe's C++ logs to fd 2 through the progress bars: into the log (debug, `-vv` shows it) instead.
    with native_stderr_to_log("mediapipe"):
        outcome = analyze(args.video, out_dir=args.out, options=options, settings=settings, progress=RichProgress())
    result = outcome.result
    if args.json:
        summary: dict[str, Any] = {
            "out_dir": str(outcome.out_dir),
            "files": {k: str(v) for k, v in outcome.files.items()},
            "people": len(result["tracks"]),
            "rider_track": result["analysis"]["rider_track"],
            "jumps": result["analysis"]["jumps"],
            "scoring": result["analysis"].get("scoring"),
            "summary": result["analysis"]["summary"],
            "frames": outcome.frames,
            "frames_per_s": round(outcome.frames_per_s, 2),
            "stage_seconds": {k: round(v, 3) for k, v in outcome.stage_seconds.items()},
        }
        print(json.dumps(summary, indent=2))
        return EXIT_OK
    print(result["analysis"]["summary"])
    scoring = result["analysis"].get("scoring") or {}
    if scoring and not scoring.get("scoreable", True):
        print("Cannot score this clip: " + "; ".join(scoring.get("reasons") or ["no reason given"]) + ".")
    for jump in result["analysis"]["jumps"]:
        print(f"  jump at {jump['takeoff_s']:.2f} s: {_jump_line(jump)}")
    if options.mesh:
        fitted = sum(1 for t in result["tracks"] if t.get("body"))
        print(f"Body mesh: {fitted} of {len(result['tracks'])} people fitted (result.glb, body.npz).")
    print(f"{outcome.frames} frames at {outcome.frames_per_s:.1f} frames/s; files in {outcome.out_dir}:")
    for name in outcome.files:
        print(f"  {name}")
    return EXIT_OK


def _jump_line(jump: dict[str, Any]) -> str:
    """The trick, stance, air time and height, rotation measured against nominal, landing grade and one coaching
    cue; or, for a jump that cannot be scored, why not (instead of numbers it does not have)."""
    if jump.get("unscored"):
        return f"{jump['air_time_s']:.2f} s in the air; not scored: {jump['unscored']}."
    if not jump.get("trick"):  # a result written before trick names
        spin = f"spin {jump['spin_deg']:.0f}°" + (f" {jump['spin_direction']}" if jump["spin_direction"] else "")
        flip = f"flip {jump['flip_deg']:.0f}°" + (f" {jump['flip_direction']}" if jump["flip_direction"] else "")
        return f"{jump['air_time_s']:.2f} s in the air, {spin}, {flip}."
    stance = jump.get("stance") or "stance unseen"
    if jump.get("switch"):
        stance += ", switch"
    if jump.get("landing_stance") and jump["landing_stance"] != jump.get("stance"):
        stance += f", rode away {jump['landing_stance']}"
    height = jump.get("height") or {}
    how = {"trajectory": "from the trajectory", "air_time": "from the air time"}.get(height.get("method", ""), "")
    parts = [f"{jump['trick']} ({stance}), {jump['air_time_s']:.2f} s in the air, {jump['height_m']:.2f} m high {how}"]
    grab = jump.get("grab")
    if grab:
        tweak = ", tweaked" if grab.get("tweaked") else ""
        parts.append(f"grab {grab['name']} {grab['start_s']:.2f}-{grab['end_s']:.2f} s (held {grab['duration_s']:.2f} s"
                     f"{tweak})")  # fmt: skip
    for axis, r in (jump.get("rotation") or {}).items():
        if r["nominal_deg"] or r["measured_deg"] >= 45:
            parts.append(f"{axis} {r['nominal_deg']:.0f} nominal, {r['measured_deg']:.0f}° measured "
                         f"({r['difference_deg']:+.0f}°)")  # fmt: skip
    landing = jump.get("landing") or {}
    if landing:
        why = "; ".join(landing.get("reasons") or [])
        if landing["grade"] == "unknown":
            parts.append(f"landing not graded: {why}")
        else:
            parts.append("landed in an airbag" if landing["grade"] == "airbag" else f"landing {landing['grade']}")
    conf = jump.get("confidence") or {}
    if conf:
        parts.append(f"confidence {conf['overall']:.2f}")
    cue = jump.get("cue") or ""
    return "; ".join(parts) + "." + (f" {cue}" if cue else "")


def _synth(args: argparse.Namespace, settings: Settings) -> int:
    from pose_service.progress import RichProgress
    from pose_service.synth import parse_trick, render_clip

    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise BadOption(f"--size must look like 480x480, got {args.size!r}") from None
    if not (64 <= width <= 4096 and 64 <= height <= 4096):
        raise BadOption(f"--size must be between 64 and 4096 per side, got {width}x{height}")
    if not 1 <= args.fps <= 240:
        raise BadOption(f"--fps must be between 1 and 240, got {args.fps}")
    trick = parse_trick(args.trick)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    progress = RichProgress()
    with progress.stage("render", None) as advance:
        truth = render_clip(
            trick,
            args.out,
            width=width,
            height=height,
            fps=args.fps,
            view=args.view,
            anny_cache_dir=settings.anny_cache_dir,
            seed=args.seed,
            progress=lambda done, total: advance(1),
            camera=args.camera,
        )
    print(f"wrote {args.out} and {truth}")
    return EXIT_OK


def _doctor(args: argparse.Namespace, settings: Settings) -> int:
    from pose_service.doctor import is_ready, run_checks

    checks = run_checks(settings)
    ready = is_ready(checks)
    if args.json:
        print(json.dumps({"ready": ready, "checks": [c.__dict__ for c in checks]}, indent=2))
        return EXIT_OK if ready else EXIT_INTERNAL
    from rich.console import Console
    from rich.table import Table

    table = Table(title="pose-service doctor")
    for col in ("check", "", "detail", "fix"):
        table.add_column(col)
    for c in checks:
        mark = "[green]ok[/]" if c.ok else "[red]FAIL[/]" if c.required else "[yellow]no[/] (info)"
        table.add_row(c.name, mark, c.detail, c.fix)
    Console().print(table)
    print("ready" if ready else "NOT ready: fix the lines marked FAIL")
    return EXIT_OK if ready else EXIT_INTERNAL


def _prepare(args: argparse.Namespace, settings: Settings) -> int:
    from pose_service.body.model import prepare_anny
    from pose_service.pose import ensure_bundle
    from pose_service.progress import RichProgress

    progress = RichProgress()
    with progress.stage("pose bundle", 1) as advance:
        path = ensure_bundle(settings.models_dir)
        advance(1)
    print(f"pose bundle: {path}")
    with progress.stage("anny cache", 1) as advance:
        prepare_anny(settings.anny_cache_dir)
        advance(1)
    print(f"anny cache: {settings.anny_cache_dir}")
    return EXIT_OK


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from pose_service.api import serve

    update: dict[str, Any] = {}
    if args.data is not None:
        update["data_dir"] = args.data.resolve()
    if args.workers is not None:
        if not 0 <= args.workers <= 64:
            raise BadOption(f"--workers must be between 0 and 64, got {args.workers}")
        update["workers"] = args.workers
    if args.queue is not None:
        update["queue"] = args.queue
    if args.broker is not None:
        update["broker_url"] = args.broker
    queue, broker = update.get("queue", settings.queue), update.get("broker_url", settings.broker_url)
    if queue == "celery" and not broker:
        raise BadOption("--queue celery needs --broker redis://HOST:PORT/DB (or POSE_SERVICE_BROKER_URL)")
    if queue == "celery" and not settings.api_token:
        raise BadOption("--queue celery needs an API token: remote workers authenticate with it",
                        hint="set POSE_SERVICE_API_TOKEN to a long random string and give it to each worker")
    if args.verbose == 0:
        logging.getLogger("pose_service").setLevel(logging.INFO)
    serve(settings.model_copy(update=update), host=args.host, port=args.port)
    return EXIT_OK


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from pose_service.jobs.remote.worker import run_worker

    broker = args.broker or settings.broker_url
    token = args.token or settings.api_token
    if not broker:
        raise BadOption("worker needs --broker redis://HOST:PORT/DB (or POSE_SERVICE_BROKER_URL)")
    if not token:
        raise BadOption("worker needs --token (or POSE_SERVICE_API_TOKEN): the server's API token")
    if not args.api.startswith(("http://", "https://")):
        raise BadOption(f"--api must be the server's API URL, e.g. http://HOST:8000/api/v1, got {args.api!r}")
    if not 1 <= args.concurrency <= 64:
        raise BadOption(f"--concurrency must be between 1 and 64, got {args.concurrency}")
    if args.data is not None:
        settings = settings.model_copy(update={"data_dir": args.data.resolve()})
    if args.gpu and "POSE_SERVICE_DEVICE" not in os.environ:  # an explicit POSE_SERVICE_DEVICE still wins
        settings = settings.model_copy(update={"device": "auto"})
    if args.verbose == 0:
        logging.getLogger("pose_service").setLevel(logging.INFO)
    run_worker(settings, broker=broker, api=args.api, token=token, concurrency=args.concurrency, name=args.name,
               gpu=args.gpu)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
