"""Remote attempts and workers, in the job store's SQLite file: who runs which attempt, and when it last spoke.

Every change of a job's state made here is one conditional transaction on the store's own tables (`jobs`,
`attempts`, `events`), guarded by the attempt number: whatever a worker sends about attempt n only counts
while n is the job's current attempt and the job is running. That is what keeps a stale run (a redelivered
task, a worker that came back after being given up) from overwriting a newer attempt.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pose_service.jobs.sqlite import WalDatabase

__all__ = ["Claim", "RemoteAttempt", "Registry", "WorkerInfo"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS remote_attempts (
    job_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    worker TEXT NOT NULL,
    task_id TEXT NOT NULL,
    claimed_at REAL NOT NULL,
    last_heartbeat REAL NOT NULL,
    log_bytes INTEGER NOT NULL DEFAULT 0,
    finished_at REAL,
    outcome TEXT,
    PRIMARY KEY (job_id, n)
);
CREATE TABLE IF NOT EXISTS remote_workers (
    name TEXT PRIMARY KEY,
    hostname TEXT,
    pid INTEGER,
    concurrency INTEGER,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Claim:
    """What a claim gave: `status` ok (the attempt `n` is the worker's), busy, finished, gone or failed."""

    status: str
    n: int = 0
    detail: str = ""


@dataclass(frozen=True)
class RemoteAttempt:
    job_id: str
    n: int
    worker: str
    task_id: str
    claimed_at: float
    last_heartbeat: float
    log_bytes: int
    finished_at: float | None
    outcome: str | None


@dataclass(frozen=True)
class WorkerInfo:
    """One worker as the API knows it: last heard of, and what it runs now."""

    name: str
    hostname: str | None
    pid: int | None
    concurrency: int | None
    first_seen: float
    last_seen: float
    running: list[tuple[str, int]]
    outcomes: dict[str, int]


class Registry(WalDatabase):
    """Remote attempts and workers beside the jobs, in the same SQLite file (its own connection)."""

    def __init__(self, db_path: Path, *, heartbeat_timeout_s: float) -> None:
        self.heartbeat_timeout_s = heartbeat_timeout_s
        super().__init__(db_path, _SCHEMA)

    @staticmethod
    def _event(db: sqlite3.Connection, job_id: str, kind: str, data: dict[str, Any]) -> None:
        db.execute("INSERT INTO events (job_id, ts, kind, data) VALUES (?, ?, ?, ?)",
                   (job_id, time.time(), kind, json.dumps(data)))

    def _seen(self, db: sqlite3.Connection, worker: str, now: float, **info: Any) -> None:
        db.execute("INSERT INTO remote_workers (name, first_seen, last_seen) VALUES (?, ?, ?)"
                   " ON CONFLICT(name) DO UPDATE SET last_seen = excluded.last_seen", (worker, now, now))
        if info:
            db.execute("UPDATE remote_workers SET hostname = ?, pid = ?, concurrency = ? WHERE name = ?",
                       (info.get("hostname"), info.get("pid"), info.get("concurrency"), worker))

    # workers ------------------------------------------------------------------------------------------
    def worker_heartbeat(self, worker: str, *, hostname: str | None, pid: int | None, concurrency: int | None) -> None:
        with self._tx() as db:
            self._seen(db, worker, time.time(), hostname=hostname, pid=pid, concurrency=concurrency)

    def workers(self) -> list[WorkerInfo]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM remote_workers ORDER BY name").fetchall()
            running = self._db.execute(
                "SELECT r.worker, r.job_id, r.n FROM remote_attempts r JOIN jobs j ON j.id = r.job_id"
                " WHERE j.state = 'running' AND j.attempts = r.n AND r.finished_at IS NULL").fetchall()
            outcomes = self._db.execute(
                "SELECT worker, COALESCE(outcome, 'running') AS outcome, COUNT(*) AS n FROM remote_attempts"
                " GROUP BY worker, COALESCE(outcome, 'running')").fetchall()
        out = []
        for r in rows:
            out.append(WorkerInfo(
                name=r["name"], hostname=r["hostname"], pid=r["pid"], concurrency=r["concurrency"],
                first_seen=r["first_seen"], last_seen=r["last_seen"],
                running=[(x["job_id"], x["n"]) for x in running if x["worker"] == r["name"]],
                outcomes={x["outcome"]: x["n"] for x in outcomes if x["worker"] == r["name"]}))
        return out

    def attempts(self, job_id: str) -> list[RemoteAttempt]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM remote_attempts WHERE job_id = ? ORDER BY n", (job_id,)).fetchall()
        return [RemoteAttempt(**dict(r)) for r in rows]

    # attempts -----------------------------------------------------------------------------------------
    def claim(self, job_id: str, *, worker: str, task_id: str) -> Claim:
        """Start the next attempt of a queued job for `worker`, or take over one whose run is lost.

        A running job's attempt is lost when its worker has been silent for the heartbeat timeout, or when
        the very message that started it arrives again (the broker redelivers a message only once the
        consumer that had it is gone).
        """
        now = time.time()
        with self._tx() as db:
            job = db.execute("SELECT state, attempts, max_attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if job is None:
                return Claim("gone", detail="the job was deleted")
            if job["state"] == "running":
                cur = db.execute("SELECT * FROM remote_attempts WHERE job_id = ? AND n = ?",
                                 (job_id, job["attempts"])).fetchone()
                if cur is not None and cur["task_id"] != task_id and now - cur["last_heartbeat"] < self.heartbeat_timeout_s:
                    return Claim("busy", n=job["attempts"], detail=f"attempt {job['attempts']} runs on {cur['worker']}")
                how = "its task was delivered again" if cur is not None and cur["task_id"] == task_id else \
                    f"its worker was silent for {self.heartbeat_timeout_s:.0f} s"
                state = self._lose(db, job_id, job["attempts"], job["max_attempts"], now, how)
                if state != "queued":
                    return Claim("failed", detail=f"attempt {job['attempts']} was lost and no attempts are left")
            elif job["state"] != "queued":
                return Claim("finished", detail=f"the job is {job['state']}")
            n = db.execute("SELECT attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()[0] + 1
            db.execute(
                "UPDATE jobs SET state = 'running', attempts = ?, started_at = ?, updated_at = ?, progress = 0,"
                " stage = 'starting', error_code = NULL, error_message = NULL, error_hint = NULL,"
                " error_log_tail = NULL, finished_at = NULL, pid = NULL WHERE id = ?", (n, now, now, job_id))
            db.execute("INSERT OR REPLACE INTO attempts (job_id, n, started_at) VALUES (?, ?, ?)", (job_id, n, now))
            db.execute("INSERT OR REPLACE INTO remote_attempts (job_id, n, worker, task_id, claimed_at, last_heartbeat)"
                       " VALUES (?, ?, ?, ?, ?, ?)", (job_id, n, worker, task_id, now, now))
            self._seen(db, worker, now)
            self._event(db, job_id, "state", {"state": "running", "progress": 0.0, "stage": "starting",
                                              "attempt": n, "worker": worker})
        return Claim("ok", n=n)

    def _lose(self, db: sqlite3.Connection, job_id: str, n: int, max_attempts: int, now: float, how: str) -> str:
        """End running attempt n as lost: queue the job again, or fail it once its attempts are used up."""
        state = "queued" if n < max_attempts else "failed"
        message = f"attempt {n} was lost: {how}"
        db.execute("UPDATE remote_attempts SET finished_at = ?, outcome = 'lost' WHERE job_id = ? AND n = ?"
                   " AND finished_at IS NULL", (now, job_id, n))
        db.execute("UPDATE attempts SET ended_at = ?, outcome = ? WHERE job_id = ? AND n = ? AND ended_at IS NULL",
                   (now, message, job_id, n))
        if state == "queued":
            db.execute("UPDATE jobs SET state = 'queued', updated_at = ?, pid = NULL WHERE id = ?", (now, job_id))
            self._event(db, job_id, "state", {"state": "queued"})
        else:
            db.execute(
                "UPDATE jobs SET state = 'failed', updated_at = ?, finished_at = ?, pid = NULL,"
                " error_code = 'worker_lost', error_message = ?, error_hint = ?, error_log_tail = '' WHERE id = ?",
                (now, now, f"{message} (attempt {n} of {max_attempts})",
                 "retry the job; GET /api/v1/workers shows which workers are alive", job_id))
            self._event(db, job_id, "state", {"state": "failed", "error": {"code": "worker_lost", "message": message}})
        return state

    def expire_lost(self) -> list[tuple[str, int, str]]:
        """Give up running attempts whose worker fell silent: (job id, attempt, new state) for each."""
        now = time.time()
        limit = now - self.heartbeat_timeout_s
        out = []
        with self._tx() as db:
            rows = db.execute(
                "SELECT j.id, j.attempts, j.max_attempts, j.updated_at, r.last_heartbeat FROM jobs j"
                " LEFT JOIN remote_attempts r ON r.job_id = j.id AND r.n = j.attempts WHERE j.state = 'running'"
            ).fetchall()
            for row in rows:
                last = row["last_heartbeat"] if row["last_heartbeat"] is not None else row["updated_at"]
                if last < limit:
                    how = f"its worker was silent for {now - last:.0f} s"
                    out.append((row["id"], row["attempts"],
                                self._lose(db, row["id"], row["attempts"], row["max_attempts"], now, how)))
        return out

    def _current(self, db: sqlite3.Connection, job_id: str, n: int, worker: str) -> sqlite3.Row | None:
        """The remote attempt row if attempt n of this worker is the job's running attempt, else None."""
        job = db.execute("SELECT state, attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if job is None or job["state"] != "running" or job["attempts"] != n:
            return None
        row: sqlite3.Row | None = db.execute(
            "SELECT * FROM remote_attempts WHERE job_id = ? AND n = ? AND worker = ? AND finished_at IS NULL",
            (job_id, n, worker)).fetchone()
        return row

    def is_current(self, job_id: str, n: int, worker: str) -> bool:
        with self._lock:
            return self._current(self._db, job_id, n, worker) is not None

    def progress(self, job_id: str, n: int, *, worker: str, progress: float, stage: str | None,
                 log_offset: int, log_end: int, log: bytes, log_path: Path) -> bool:
        """A heartbeat with progress and new log bytes from attempt n; False if n is not the running attempt."""
        now = time.time()
        with self._tx() as db:
            cur = self._current(db, job_id, n, worker)
            self._seen(db, worker, now)
            if cur is None:
                return False
            db.execute("UPDATE remote_attempts SET last_heartbeat = ? WHERE job_id = ? AND n = ?", (now, job_id, n))
            job = db.execute("SELECT progress, stage FROM jobs WHERE id = ?", (job_id,)).fetchone()
            progress = max(0.0, min(1.0, progress))
            if abs(job["progress"] - progress) > 1e-4 or job["stage"] != stage:
                db.execute("UPDATE jobs SET progress = ?, stage = ?, updated_at = ? WHERE id = ?",
                           (progress, stage, now, job_id))
                self._event(db, job_id, "progress", {"progress": round(progress, 4), "stage": stage})
            # The log arrives in order, as byte ranges of the worker's file; a chunk sent twice (a retried
            # request) is appended once.
            if log and cur["log_bytes"] == log_offset < log_end:
                with log_path.open("ab") as f:
                    if log_offset == 0:
                        f.write(f"=== attempt {n} on worker {worker}\n".encode())
                    f.write(log)
                db.execute("UPDATE remote_attempts SET log_bytes = ? WHERE job_id = ? AND n = ?", (log_end, job_id, n))
        return True

    def finish(self, job_id: str, n: int, *, worker: str, state: str, error: dict[str, str] | None,
               exit_code: int | None, outcome: str, install: Callable[[], None] | None = None) -> str:
        """End attempt n: `done`, `duplicate` (this attempt already ended so) or `stale` (not the current one).

        `state` is succeeded, failed, cancelled or queued (the run was cut off and may be tried again);
        `install` moves a successful attempt's uploaded files into place, inside the transaction.
        """
        now = time.time()
        with self._tx() as db:
            cur = self._current(db, job_id, n, worker)
            if cur is None:
                prev = db.execute("SELECT outcome FROM remote_attempts WHERE job_id = ? AND n = ? AND worker = ?",
                                  (job_id, n, worker)).fetchone()
                return "duplicate" if prev is not None and prev["outcome"] == outcome else "stale"
            job = db.execute("SELECT max_attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if state == "queued" and n >= job["max_attempts"]:
                state = "failed"
            if state == "succeeded" and install is not None:
                install()
            err = error or {}
            db.execute(
                "UPDATE jobs SET state = ?, updated_at = ?, finished_at = ?, pid = NULL,"
                " progress = CASE WHEN ? = 'succeeded' THEN 1.0 ELSE progress END,"
                " error_code = ?, error_message = ?, error_hint = ?, error_log_tail = ? WHERE id = ?",
                (state, now, None if state == "queued" else now, state, err.get("code"), err.get("message"),
                 err.get("hint"), err.get("log_tail"), job_id))
            db.execute("UPDATE attempts SET ended_at = ?, exit_code = ?, outcome = ? WHERE job_id = ? AND n = ?"
                       " AND ended_at IS NULL", (now, exit_code, f"{outcome} on {worker}", job_id, n))
            db.execute("UPDATE remote_attempts SET finished_at = ?, last_heartbeat = ?, outcome = ?"
                       " WHERE job_id = ? AND n = ?", (now, now, outcome, job_id, n))
            self._seen(db, worker, now)
            data: dict[str, Any] = {"state": state, "attempt": n, "worker": worker}
            if err:
                data["error"] = {k: err.get(k, "") for k in ("code", "message", "hint")}
            self._event(db, job_id, "state", data)
        return "done"

    def cancel_running(self, job_id: str) -> bool:
        """Cancel a running remote job; its worker learns at its next heartbeat (409) and stops."""
        now = time.time()
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET state = 'cancelled', updated_at = ?, finished_at = ?, pid = NULL,"
                " error_code = 'cancelled', error_message = 'cancelled while running', error_hint = '',"
                " error_log_tail = '' WHERE id = ? AND state = 'running'", (now, now, job_id))
            if not cur.rowcount:
                return False
            db.execute("UPDATE attempts SET ended_at = ?, outcome = 'cancelled' WHERE job_id = ?"
                       " AND n = (SELECT attempts FROM jobs WHERE id = ?) AND ended_at IS NULL", (now, job_id, job_id))
            db.execute("UPDATE remote_attempts SET finished_at = ?, outcome = 'cancelled' WHERE job_id = ?"
                       " AND n = (SELECT attempts FROM jobs WHERE id = ?) AND finished_at IS NULL",
                       (now, job_id, job_id))
            self._event(db, job_id, "state", {"state": "cancelled"})
        return True

    def running_remote(self, job_id: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM jobs j JOIN remote_attempts r ON r.job_id = j.id AND r.n = j.attempts"
                " WHERE j.id = ? AND j.state = 'running' AND r.finished_at IS NULL", (job_id,)).fetchone()
        return row is not None


def install_files(staged: Path, out: Path) -> None:
    """Replace `out` with the folder `staged` (renames only: quick enough to run inside a transaction)."""
    old = out.with_name(out.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.replace(old)
    staged.replace(out)
    shutil.rmtree(old, ignore_errors=True)
