"""A quiet terminal: MediaPipe's C++ log lines go to the run's log, not through the progress bars."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

# What mediapipe 0.10.21's native code prints on fd 2 when a PoseLandmarker graph starts and runs on the CPU.
NATIVE_MARKERS = ("EGL", "Feedback manager", "IMAGE_DIMENSIONS", "W0000", "I0000", "INFO: Created TensorFlow Lite",
                  "absl::InitializeLog")


def _analyze(clip: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pose_service", *extra, "analyze", str(clip), "--out", str(out), "--no-mesh"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def test_analyze_prints_no_mediapipe_lines(small_spin_clip: Path, tmp_path: Path) -> None:
    run = _analyze(small_spin_clip, tmp_path / "quiet")
    assert run.returncode == 0, run.stderr
    for stream, text in (("stdout", run.stdout), ("stderr", run.stderr)):
        noisy = [ln for ln in text.splitlines() if any(m in ln for m in NATIVE_MARKERS)]
        assert not noisy, f"MediaPipe lines on {stream}: {noisy}"
    assert "1 jump" in run.stdout and "frames/s" in run.stdout  # the summary is still there


def test_mediapipe_lines_go_to_the_debug_log(small_spin_clip: Path, tmp_path: Path) -> None:
    run = _analyze(small_spin_clip, tmp_path / "verbose", "-vv")
    assert run.returncode == 0, run.stderr
    native = [ln for ln in run.stderr.splitlines() if any(m in ln for m in NATIVE_MARKERS)]
    assert native, "mediapipe printed nothing at all: the test no longer shows anything"
    assert all(" DEBUG mediapipe: " in ln for ln in native), native


def test_python_output_still_reaches_stderr() -> None:
    script = textwrap.dedent("""
        import logging, os, sys
        from pose_service.native_stderr import native_stderr_to_log
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
        with native_stderr_to_log("mediapipe"):
            os.write(2, b"W0000 00:00:1.0 1 native.cc:1] a native warning\\n")
            os.write(2, b"E0000 00:00:1.0 1 native.cc:2] a native error\\n")
            print("python's own message", file=sys.stderr)
            logging.getLogger("pose_service").warning("a python warning")
        os.write(2, b"fd 2 is back\\n")
        raise SystemExit("python's last word")
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    lines = run.stderr.splitlines()
    assert run.returncode == 1
    assert "a native warning" not in run.stderr  # debug: only in the log
    assert "WARNING mediapipe: E0000 00:00:1.0 1 native.cc:2] a native error" in lines  # an error still shows
    assert {"python's own message", "WARNING pose_service: a python warning", "fd 2 is back",
            "python's last word"} <= set(lines), lines
