"""Workers and a long clip's chunks (`analyze --jobs`): the memory limit counts the worker's whole process group, and
workers running at once share the cores."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from pose_service.config import Settings
from pose_service.jobs.supervisor import _rss_mb, worker_env

# A session leader that starts a child holding 200 MiB, then waits.
_SCRIPT = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c",
    "import time; block = bytearray(200 * 2**20); block[::4096] = b'x' * len(block[::4096]); print('ready', flush=True); time.sleep(60)"],
    stdout=subprocess.PIPE, text=True)
print(child.stdout.readline().strip(), flush=True)
child.wait()
"""


def test_the_memory_of_a_workers_children_counts() -> None:
    leader = subprocess.Popen([sys.executable, "-c", _SCRIPT], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)  # fmt: skip
    try:
        assert leader.stdout is not None and leader.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        assert _rss_mb(leader.pid) > 200, "the child's 200 MiB count towards the leader's group"
    finally:
        os.killpg(leader.pid, signal.SIGKILL)
        leader.wait()


def test_workers_share_the_cores_among_their_chunks() -> None:
    cores = len(os.sched_getaffinity(0))
    assert worker_env(Settings(workers=1))["POSE_SERVICE_JOBS"] == str(cores)
    assert worker_env(Settings(workers=64))["POSE_SERVICE_JOBS"] == "1"  # never none
    assert worker_env(Settings(jobs=3, workers=2))["POSE_SERVICE_JOBS"] == "3"  # configured: as configured
