"""Native libraries' stderr into the log: MediaPipe's C++ (absl/glog, TFLite) writes straight to file
descriptor 2, through any progress bar, lines such as

    I0000 00:00:... task_runner.cc:85] GPU suport is not available: ... Unable to initialize EGL
    INFO: Created TensorFlow Lite XNNPACK delegate for CPU.
    W0000 00:00:... inference_feedback_manager.cc:114] Feedback manager requires a model with a single ...

Neither GLOG_minloglevel nor TF_CPP_MIN_LOG_LEVEL silences them (mediapipe 0.10.21 logs through absl), so
`native_stderr_to_log` works at the descriptor: fd 2 becomes a pipe whose lines a thread hands to the logger
`mediapipe` (debug; a glog error or fatal line at warning, so a real failure still shows), while Python's own
`sys.stderr` (error messages, tracebacks, logging, rich's progress bars) keeps writing to the real stderr
through a duplicate of the old fd 2. Everything is put back on exit.
"""

from __future__ import annotations

import io
import logging
import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["native_stderr_to_log"]

_GLOG = re.compile(r"^([IWEF])\d{4} ")  # absl/glog: severity, MMDD, time, thread, file:line]


def _level(line: str) -> int:
    m = _GLOG.match(line)
    return logging.WARNING if m and m.group(1) in "EF" else logging.DEBUG


def _pump(fd: int, logger: logging.Logger) -> None:
    """Read the pipe until every writer has closed it; one log record per line."""
    pending = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            _emit(raw, logger)
    if pending:
        _emit(pending, logger)


def _emit(raw: bytes, logger: logging.Logger) -> None:
    line = raw.decode("utf-8", errors="replace").rstrip()
    if line.strip():
        logger.log(_level(line), "%s", line)


def _python_writes_fd2() -> bool:
    """Whether Python's sys.stderr is the process's fd 2 (not so under pytest's capture or a replaced stream)."""
    try:
        return sys.stderr is not None and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        return False


def _handlers_on(stream: object) -> list[logging.StreamHandler[TextIO]]:
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    return [h for lg in loggers for h in lg.handlers if isinstance(h, logging.StreamHandler) and h.stream is stream]


@contextmanager
def native_stderr_to_log(logger_name: str = "mediapipe") -> Iterator[None]:
    """While inside, whatever native code writes to fd 2 goes, line by line, to the logger `logger_name`;
    Python's `sys.stderr` still reaches the terminal. A no-op where fd 2 cannot be redirected."""
    logger = logging.getLogger(logger_name)
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (AttributeError, OSError, ValueError):
        yield
        return
    old_stderr = sys.stderr
    new_stderr: TextIO | None = None
    moved: list[logging.StreamHandler[TextIO]] = []
    if _python_writes_fd2():
        # Python keeps its own stderr: a stream on a copy of the old fd 2, also for the logging handlers on it.
        new_stderr = io.TextIOWrapper(
            io.FileIO(os.dup(saved), "w"),
            encoding=getattr(old_stderr, "encoding", None) or "utf-8",
            errors="backslashreplace",
            line_buffering=True,
        )
        moved = _handlers_on(old_stderr)
        for h in moved:
            h.setStream(new_stderr)
        sys.stderr = new_stderr
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    reader = threading.Thread(target=_pump, args=(read_end, logger), name="native stderr", daemon=True)
    reader.start()
    try:
        yield
    finally:
        os.dup2(saved, 2)  # the pipe's last writer goes: the reader drains it and ends
        os.close(saved)
        reader.join(timeout=5)
        if not reader.is_alive():
            os.close(read_end)
        if new_stderr is not None:
            new_stderr.flush()
            for h in moved:
                h.setStream(old_stderr)
            sys.stderr = old_stderr
            new_stderr.close()
