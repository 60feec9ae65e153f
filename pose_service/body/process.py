"""The body stage in a process of its own, started before the pose stage.

Importing torch and Anny and loading the model take about 2 CPU seconds, most of it Python code holding the
interpreter's lock. On a thread of the analysing process they either wait for the pose stage to end (on two cores
it keeps both busy at the full frame rate) or slow it down, and at the adaptive rate on a clip of plain riding
nothing follows the pose stage to overlap them with: phalp_vid with the mesh spent 2.3 s of its 7.0 s in the mesh
stage, 0.35 s of it fitting. A process of its own imports on the other core while the pose stage runs, then takes
the tracks, fits them, writes result.glb and body.npz and hands back the `BodyStageResult`.

Its log lines come back with the result and are logged here, so a job's log holds them as before; an exception
in it is raised here; a process that ends without answering (killed, out of memory) is a clear error. It is this
interpreter run on this module (`python -m pose_service.body.process FD CACHE`), talking over a socket pair, not
a `multiprocessing` start: a spawned child imports the parent's main module again, and `python -m pose_service`
would run the command line once more there.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import subprocess
import sys
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pose_service.body.stage import BodyStageResult
    from pose_service.tracking.core import Track

__all__ = ["BodyProcess"]

log = logging.getLogger(__name__)


class BodyProcess:
    """A started body-stage process (a context manager that ends it): `run` once, with the clip's tracks."""

    def __init__(self, anny_cache_dir: Path) -> None:
        self._conn, child = multiprocessing.Pipe()
        fd = child.fileno()
        self._process = subprocess.Popen(  # its own interpreter: no fork of a process whose pose model runs threads
            [sys.executable, "-m", __name__, str(fd), str(anny_cache_dir)], pass_fds=(fd,), stdin=subprocess.DEVNULL
        )
        child.close()

    def run(
        self, tracks: list[Track], timestamps_s: list[float] | np.ndarray, image_size: tuple[int, int], out_dir: Path
    ) -> BodyStageResult:
        """`stage.run_body_stage` on these tracks, in the process."""
        try:
            self._conn.send((tracks, np.asarray(timestamps_s, dtype=np.float64), image_size, str(out_dir)))
            status, payload, records = self._conn.recv()
        except (EOFError, OSError) as exc:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(5)
            raise RuntimeError(
                f"the body stage's process ended before it answered (exit code {self._process.returncode}): "
                "run again without the mesh (--no-mesh) to get the rest"
            ) from exc
        for record in records:
            logger = logging.getLogger(record.name)
            if logger.isEnabledFor(record.levelno):
                logger.handle(record)
        if status == "error":
            raise payload
        return payload  # type: ignore[no-any-return]

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._conn.send(None)  # a process still waiting for tracks ends
        self._conn.close()
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> BodyProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _Collect(logging.Handler):
    """Keeps the process's log records, made plain (message formatted, traceback as text) to cross the pipe."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.msg = record.getMessage()
        record.args = None
        if record.exc_info:
            record.msg += "\n" + "".join(traceback.format_exception(*record.exc_info))
            record.exc_info = None
        self.records.append(record)


def _serve(conn: Connection, anny_cache_dir: str) -> None:
    collect = _Collect()
    root = logging.getLogger()
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    try:
        from pose_service.body.stage import preload

        preload(Path(anny_cache_dir))
    except Exception as exc:  # the stage loads again and reports the problem itself
        log.debug("mesh preload failed: %s", exc)
    try:
        job = conn.recv()
    except EOFError:
        return
    if job is None:
        return
    tracks, timestamps, image_size, out_dir = job
    try:
        from pose_service.body.stage import run_body_stage

        result = run_body_stage(tracks, timestamps, image_size, Path(out_dir), Path(anny_cache_dir))
        conn.send(("ok", result, collect.records))
    except Exception as exc:
        try:
            conn.send(("error", exc, collect.records))
        except Exception:  # an exception that does not pickle: its text
            conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}"), collect.records))


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])), sys.argv[2])
