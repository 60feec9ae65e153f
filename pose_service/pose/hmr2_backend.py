"""The GPU backend: an existing 4D-Humans (HMR2.0 + PHALP) install, run the way the original should have.

    preflight(install)    the install's own interpreter runs `hmr2_probe.py`: imports, CUDA, free GPU
                          memory, SMPL model and checkpoints; every missing piece comes back named with its fix
    run_track(...)        that interpreter (never a bare `python`, never a shell) runs the checkout's track.py
                          on an .mp4 in the job's folder, `video.end_frame=-1`; its output streams into the
                          log line by line, GPU memory is sampled, a time limit applies, and an exit code 0
                          without a results pickle is a failure (track.py catches its own exceptions)
    analyze_hmr2(...)     the two above plus the input's transcode and the pickle's conversion to `PoseTrack`s
                          (hmr2_stage.py; the pipeline finishes them into `Track`s)

Nothing here imports torch, hmr2 or phalp: they live in the other environment.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pose_service.errors import EnvironmentProblem, PipelineError, parts_message

__all__ = [
    "Hmr2Install",
    "Hmr2Preflight",
    "Hmr2Run",
    "ProbeItem",
    "child_env",
    "hydra_value",
    "preflight",
    "run_track",
]

log = logging.getLogger(__name__)
track_log = logging.getLogger("pose_service.hmr2.track")

_MARKER = "POSE_SERVICE_PROBE "
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Za-z0-9]")
_COUNTER = re.compile(r"(\d+)\s*/\s*(\d+)")
_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%")
_BAR_CHARS = ("\u2501", "\u2588", "|")  # rich's ━, tqdm's █ and its frame
_CONFIGURE = "set POSE_SERVICE_HMR2_PYTHON to the python of the environment where 4D-Humans is installed"
# Variables of this process that must not leak into the other environment's interpreter.
_DROP_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH")


@dataclass(frozen=True)
class Hmr2Install:
    """Where 4D-Humans lives: the interpreter of its environment and its checkout (holding track.py)."""

    python: Path
    checkout: Path

    @classmethod
    def configured(cls, python: Path | None, checkout: Path | None) -> Hmr2Install:
        """From the settings `hmr2_python` and `hmr2_dir`; an `EnvironmentProblem` when either is unset."""
        if python is None or checkout is None:
            unset = [n for n, v in (("POSE_SERVICE_HMR2_PYTHON", python), ("POSE_SERVICE_HMR2_DIR", checkout)) if v is None]
            raise EnvironmentProblem(
                f"the hmr2 backend is not configured: {' and '.join(unset)} not set",
                hint=f"{_CONFIGURE}, and POSE_SERVICE_HMR2_DIR to its checkout (the folder with track.py)",
            )
        return cls(Path(python).expanduser(), Path(checkout).expanduser())

    @property
    def track_py(self) -> Path:
        return self.checkout / "track.py"

    def check_paths(self) -> None:
        """Raise `EnvironmentProblem` naming the setting when the interpreter or track.py is not there."""
        if not self.python.is_file():
            raise EnvironmentProblem(
                f"POSE_SERVICE_HMR2_PYTHON is {self.python}, which does not exist", hint=_CONFIGURE
            )
        if not os.access(self.python, os.X_OK):
            raise EnvironmentProblem(f"POSE_SERVICE_HMR2_PYTHON is {self.python}, which is not executable", hint=_CONFIGURE)
        if not self.track_py.is_file():
            raise EnvironmentProblem(
                f"POSE_SERVICE_HMR2_DIR is {self.checkout}, which has no track.py",
                hint="set POSE_SERVICE_HMR2_DIR to the 4D-Humans checkout (the folder holding track.py)",
            )


def child_env(install: Hmr2Install) -> dict[str, str]:
    """This process's environment, cleaned for the other interpreter: its bin folder first on PATH (as an
    activation would do, so its ffmpeg is found), none of our Python variables, output unbuffered."""
    env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV and not k.startswith("POSE_SERVICE_")}
    env["PATH"] = os.pathsep.join([str(install.python.parent), env.get("PATH", os.defpath)])
    env["PYTHONUNBUFFERED"] = "1"
    # PHALP draws its progress with rich, which stays silent when not on a terminal until the bar ends;
    # FORCE_COLOR makes it redraw (with \r and escape codes, both undone in `_emit`) so progress can be read.
    env.setdefault("FORCE_COLOR", "1")
    return env


# -- preflight -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeItem:
    """One finding of the preflight: a doctor row."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


@dataclass
class Hmr2Preflight:
    """Everything the probe learned; `ok` only when every item is."""

    install: Hmr2Install
    items: list[ProbeItem]
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(i.ok for i in self.items)

    @property
    def problems(self) -> list[ProbeItem]:
        return [i for i in self.items if not i.ok]

    def versions(self) -> dict[str, str]:
        """Module -> version for every module the probe imported."""
        mods = self.report.get("modules", {})
        return {k: str(v.get("version")) for k, v in mods.items() if v.get("ok")}

    def raise_if_not_ready(self) -> None:
        """An `EnvironmentProblem` whose message says in its first line that the install is not ready, then
        names each missing piece with its fix, one line each (`parts_message`)."""
        if self.ok:
            return
        problems = self.problems
        n = len(problems)
        headline = f"the 4D-Humans install is not ready: {n} missing part{'s' if n != 1 else ''}, each below with its fix"
        raise EnvironmentProblem(
            parts_message(headline, [(p.detail, p.fix) for p in problems]),
            hint="then run `pose-service doctor` to check the install again",
        )


def probe_source() -> str:
    """The probe script's source, run by the other interpreter with `-c`."""
    return resources.files("pose_service.pose").joinpath("hmr2_probe.py").read_text("utf-8")


def preflight(install: Hmr2Install, *, timeout_s: float = 180.0) -> Hmr2Preflight:
    """Run the probe in the install's interpreter (cwd: its checkout) and turn its report into items."""
    name = "4D-Humans interpreter"
    if not install.python.is_file() or not os.access(install.python, os.X_OK):
        what = "does not exist" if not install.python.exists() else "is not an executable file"
        detail = f"POSE_SERVICE_HMR2_PYTHON is {install.python}, which {what}"
        return Hmr2Preflight(install, [ProbeItem(name, False, detail, _CONFIGURE)])
    cmd = [str(install.python), "-c", probe_source(), str(install.checkout)]
    try:
        out = subprocess.run(
            cmd,
            cwd=install.checkout if install.checkout.is_dir() else None,
            env=child_env(install),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        detail = f"the probe in {install.python} did not finish within {timeout_s:.0f} s (an import hangs)"
        return Hmr2Preflight(install, [ProbeItem(name, False, detail, "run the probe's imports by hand in it")])
    except OSError as exc:
        return Hmr2Preflight(install, [ProbeItem(name, False, f"{install.python} cannot run: {exc}", _CONFIGURE)])
    report = _parse_probe(out.stdout)
    if report is None or "fatal" in report:
        tail = (out.stderr or out.stdout).strip().splitlines()[-3:]
        why = report["fatal"] if report else f"exit code {out.returncode}: {' | '.join(tail) or 'no output'}"
        detail = f"the probe failed in {install.python}: {why}"
        return Hmr2Preflight(install, [ProbeItem(name, False, detail, "use a Python 3 environment with 4D-Humans")])
    return Hmr2Preflight(install, _items(install, report), report)


def _parse_probe(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith(_MARKER):
            try:
                doc = json.loads(line[len(_MARKER) :])
            except ValueError:
                return None
            return doc if isinstance(doc, dict) else None
    return None


def _items(install: Hmr2Install, report: dict[str, Any]) -> list[ProbeItem]:
    py = report.get("python", {})
    items = [ProbeItem("4D-Humans interpreter", True, f"{install.python} (Python {py.get('version', '?')})")]
    if report.get("track_py"):
        items.append(ProbeItem("4D-Humans checkout", True, f"{install.checkout} (track.py)"))
    else:
        detail = f"POSE_SERVICE_HMR2_DIR is {install.checkout}, which has no track.py"
        items.append(ProbeItem("4D-Humans checkout", False, detail, "set it to the 4D-Humans checkout (holding track.py)"))
    for module, m in report.get("modules", {}).items():
        if m.get("ok"):
            items.append(ProbeItem(f"4D-Humans import {module}", True, f"{module} {m.get('version') or '?'}"))
        else:
            detail = f"import {module} failed in {install.python}: {m.get('error', 'unknown error')}"
            items.append(ProbeItem(f"4D-Humans import {module}", not m.get("required", True), detail, m.get("fix", "")))
    if report.get("modules", {}).get("torch", {}).get("ok"):
        items.append(_cuda_item(install, report.get("cuda", {}), report["modules"]["torch"].get("version")))
    missing_assets: list[str] = []
    asset_fix = ""
    for f in report.get("files", []):
        if f["name"].startswith("PHALP ") and f["required"]:
            if not f["found"]:
                missing_assets.append(os.path.relpath(f["paths"][0], os.path.dirname(os.path.dirname(f["paths"][0]))))
                asset_fix = f["fix"]
            continue
        if f["found"]:
            items.append(ProbeItem(f"4D-Humans {f['name']}", True, f["found"]))
        else:
            where = " or ".join(f["paths"])
            detail = f"{f['name']} not found at {where}" + ("" if f["required"] else " (it is downloaded at first run)")
            items.append(ProbeItem(f"4D-Humans {f['name']}", not f["required"], detail, f["fix"]))
    n_assets = sum(1 for f in report.get("files", []) if f["name"].startswith("PHALP "))
    if missing_assets:
        detail = f"{len(missing_assets)} of {n_assets} PHALP assets missing from ~/.cache/phalp: {', '.join(missing_assets)}"
        items.append(ProbeItem("4D-Humans PHALP assets", False, detail, asset_fix))
    elif n_assets:
        items.append(ProbeItem("4D-Humans PHALP assets", True, f"all {n_assets} in ~/.cache/phalp"))
    return items


def _cuda_item(install: Hmr2Install, cuda: dict[str, Any], torch_version: str | None) -> ProbeItem:
    if not cuda.get("available"):
        why = cuda.get("error") or f"torch {torch_version} (CUDA build: {cuda.get('torch_cuda') or 'none'}) sees no GPU"
        return ProbeItem(
            "4D-Humans CUDA",
            False,
            f"CUDA is not available in {install.python}: {why}",
            "4D-Humans needs an NVIDIA GPU: check `nvidia-smi`, and install a CUDA build of torch in that environment",
        )
    devices = cuda.get("devices", [])
    detail = "; ".join(f"GPU {d['index']} {d['name']}: {d['free_mb']:,} of {d['total_mb']:,} MiB free" for d in devices)
    return ProbeItem("4D-Humans CUDA", True, detail or "available")


# -- running track.py ----------------------------------------------------------------------------------


def hydra_value(text: str) -> str:
    """A value quoted for a Hydra command-line override, so paths with spaces, commas or `=` stay one value."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass
class Hmr2Run:
    """What one run of track.py left behind."""

    pickle: Path
    log: Path
    returncode: int
    seconds: float
    gpu: dict[str, Any]
    command: list[str]


def results_pickle(output_dir: Path, source: Path) -> Path:
    """Where PHALP writes its results: `<output_dir>/results/demo_<stem>.pkl` (PHALP.py:155)."""
    return output_dir / "results" / f"demo_{source.stem}.pkl"


def run_track(
    install: Hmr2Install,
    source: Path,
    output_dir: Path,
    *,
    timeout_s: float,
    total_frames: int | None = None,
    advance: Callable[[int], None] | None = None,
    gpu_interval_s: float = 2.0,
    extra_overrides: tuple[str, ...] = (),
) -> Hmr2Run:
    """Run the checkout's track.py on `source` (.mp4) with `output_dir` as PHALP's output folder.

    Output (stdout and stderr together) goes line by line to `output_dir/track.log` and to the logger
    `pose_service.hmr2.track`; `n/total` counters matching `total_frames`, or a progress bar's percentage,
    advance the progress. GPU memory is sampled every `gpu_interval_s` (`Hmr2Run.gpu`, and the log's last line).
    Raises `EnvironmentProblem` when the interpreter or track.py is missing, `PipelineError` on a non-zero
    exit, a signal, the time limit, or an exit code 0 without the results pickle.
    """
    from pose_service.pose.gpu_memory import GpuMemorySampler

    install.check_paths()
    output_dir.mkdir(parents=True, exist_ok=True)
    pickle_path = results_pickle(output_dir, source)
    pickle_path.unlink(missing_ok=True)  # a stale pickle from an earlier attempt must not pass for this one
    cmd = [
        str(install.python),
        str(install.track_py),
        f"video.source={hydra_value(str(source.absolute()))}",  # not resolved: a link's name names the pickle
        f"video.output_dir={hydra_value(str(output_dir.resolve()))}",
        "video.end_frame=-1",  # the default, 1300, silently drops the rest of a longer clip
        "render.enable=False",
        "overwrite=True",
        *extra_overrides,
    ]
    log_path = output_dir / "track.log"
    log.info("running 4D-Humans: %s (cwd %s)", " ".join(cmd), install.checkout)
    tail: deque[str] = deque(maxlen=40)
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log_file, GpuMemorySampler(gpu_interval_s) as sampler:
        log_file.write(f"$ {' '.join(cmd)}\n# cwd {install.checkout}\n")
        log_file.flush()
        try:
            proc = subprocess.Popen(
                cmd,
                cwd=install.checkout,
                env=child_env(install),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            raise EnvironmentProblem(f"cannot start {install.python}: {exc}", hint=_CONFIGURE) from exc
        counter = _Counter(total_frames, advance)
        reader = threading.Thread(
            target=_pump, args=(proc, log_file, tail, counter), name="track.py output", daemon=True
        )
        reader.start()
        timed_out = False
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _stop(proc)
        finally:
            if proc.poll() is None:  # interrupted (Ctrl-C, job cancelled): never leave it running on the GPU
                _stop(proc)
            reader.join(timeout=10)
        seconds = time.monotonic() - started
        gpu = sampler.summary()
        log_file.write(f"# exit code {proc.returncode} after {seconds:.1f} s; GPU memory: {json.dumps(gpu)}\n")
    log.info("track.py exit code %s after %.1f s; GPU memory %s", proc.returncode, seconds, gpu)
    run = Hmr2Run(pickle_path, log_path, proc.returncode, seconds, gpu, cmd)
    _raise_for_outcome(run, tail, timed_out, timeout_s)
    return run


class _Counter:
    """Reads progress from track.py's output: tqdm/rich `n/total` counters matching the clip's frame count,
    or a bar's percentage; a redrawn bar is kept in the log about once per percent, not at every redraw."""

    def __init__(self, total: int | None, advance: Callable[[int], None] | None) -> None:
        self.total, self.advance = total, advance
        self.done = 0
        self.logged: int | None = None

    def parse(self, line: str) -> int | None:
        """Frames done according to `line`, or None if it is not a progress line."""
        for n_text, total_text in _COUNTER.findall(line):
            n, total = int(n_text), int(total_text)
            if total > 0 and n <= total and (not self.total or abs(total - self.total) <= 2):
                return n
        if self.total and any(c in line for c in _BAR_CHARS):
            found = _PERCENT.findall(line)
            if found and float(found[-1]) <= 100:
                return int(float(found[-1]) * self.total / 100)
        return None

    def feed(self, line: str) -> bool:
        """Advance the progress; True when the line belongs in the log."""
        n = self.parse(line)
        if n is None:
            return True
        if n > self.done:
            if self.advance is not None:
                self.advance(n - self.done)
            self.done = n
        step = max(1, (self.total or 100) // 100)
        if self.logged is None or n >= self.logged + step or (n == self.total and self.logged != n):
            self.logged = n
            return True
        return False


def _pump(proc: subprocess.Popen[bytes], log_file: Any, tail: deque[str], counter: _Counter) -> None:
    """Copy the child's output into the log as it comes; progress bars redraw with `\\r`, so split on it too."""
    assert proc.stdout is not None
    pending = b""
    while True:
        chunk = proc.stdout.read1(65536) if hasattr(proc.stdout, "read1") else proc.stdout.read(4096)
        if not chunk:
            break
        pending += chunk
        *lines, pending = re.split(rb"\r\n|\r|\n", pending)
        for raw in lines:
            _emit(raw, log_file, tail, counter)
    if pending:
        _emit(pending, log_file, tail, counter)


def _emit(raw: bytes, log_file: Any, tail: deque[str], counter: _Counter) -> None:
    line = _ANSI.sub("", raw.decode("utf-8", errors="replace")).rstrip()
    if not line.strip() or not counter.feed(line):
        return
    log_file.write(line + "\n")
    log_file.flush()
    tail.append(line)
    track_log.info("%s", line)


def _stop(proc: subprocess.Popen[bytes], grace_s: float = 5.0) -> None:
    """SIGTERM, then SIGKILL if it is still there after `grace_s`."""
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except ProcessLookupError:
        pass


def _last_error(tail: deque[str]) -> str:
    """The line that best says what went wrong: the last exception line, else the last line."""
    for line in reversed(tail):
        if re.match(r"^\s*[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b", line):
            return line.strip()
    return tail[-1].strip() if tail else "no output"


def _raise_for_outcome(run: Hmr2Run, tail: deque[str], timed_out: bool, timeout_s: float) -> None:
    hint = f"its log is {run.log}; last lines: " + " | ".join(list(tail)[-5:]) if tail else f"its log is {run.log}"
    if timed_out:
        raise PipelineError(
            f"4D-Humans track.py did not finish within {timeout_s:.0f} s and was stopped",
            hint="raise POSE_SERVICE_HMR2_TIMEOUT_S for long clips; " + hint,
        )
    if run.returncode < 0:
        try:
            name = signal.Signals(-run.returncode).name
        except ValueError:
            name = f"signal {-run.returncode}"
        raise PipelineError(
            f"4D-Humans track.py was killed by {name} after {run.seconds:.0f} s",
            hint="the system may have run out of memory (check `dmesg`); " + hint,
        )
    if run.returncode != 0:
        raise PipelineError(f"4D-Humans track.py failed (exit code {run.returncode}): {_last_error(tail)}", hint=hint)
    if not run.pickle.is_file():
        raise PipelineError(
            f"4D-Humans track.py exited 0 but wrote no results ({run.pickle} is missing); it catches its own "
            f"errors, last line: {_last_error(tail)}",
            hint=hint,
        )
