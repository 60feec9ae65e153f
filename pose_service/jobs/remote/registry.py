"""Remote attempts and workers, in the job store's SQLite file: who runs which attempt, and when it last spoke.

Every change of a job's state made here is one conditional transaction on the store's own tables (`jobs`,
`attempts`, `events`), guarded by the attempt number: whatever a worker sends about attempt n only counts
while n is the job's current attempt and the job is running. That is what keeps a stale run (a redelivered
task, a worker that came back after being given up) from overwriting a newer attempt.

A long clip's attempt may run in parts (`remote_parts`, Settings.remote_chunks): the claim that starts it also
plans its chunks, each one Celery task claimed by any worker (`claim_part`), and one join part, queued once every
chunk is done. A part's heartbeat is the attempt's; a part that fails ends the attempt; the join part's worker
uploads the result files and finishes the attempt as the claiming worker would. Parts waiting in the broker for a
worker are not silence: the attempt is lost only when a running part's worker falls silent.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pose_service.jobs.sqlite import WalDatabase

__all__ = ["JOIN", "POSE_SHARE", "Claim", "Part", "RemoteAttempt", "Registry", "WorkerInfo", "part_label"]

JOIN = "join"
# The join part of attempt n run by a worker: it may upload and finish as the attempt's own worker.
_JOIN_BY = ("SELECT 1 FROM remote_parts WHERE job_id = ? AND n = ? AND part = 'join' AND state = 'running'"
            " AND worker = ?")
# Share of a chunked job's progress the chunks' posing takes; the join (analysis, mesh, exports) the rest.
POSE_SHARE = 0.7

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
CREATE TABLE IF NOT EXISTS remote_parts (
    job_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    part TEXT NOT NULL,              -- a chunk's number '0', '1', ... or 'join'
    start INTEGER NOT NULL,          -- the chunk's frames start..stop-1 (the join: the whole clip)
    stop INTEGER NOT NULL,
    task_id TEXT NOT NULL,
    state TEXT NOT NULL,             -- waiting (the join, until the chunks are done), queued, running, done,
                                     -- failed, cancelled, lost (the attempt was given up)
    queued_at REAL,
    worker TEXT,
    claimed_at REAL,
    last_heartbeat REAL,
    progress REAL NOT NULL DEFAULT 0,
    log_bytes INTEGER NOT NULL DEFAULT 0,
    finished_at REAL,
    PRIMARY KEY (job_id, n, part)
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
class Part:
    """One part of a chunked attempt: chunk `part` ('0', '1', ...) of frames start..stop-1, or the join."""

    job_id: str
    n: int
    part: str
    start: int
    stop: int
    task_id: str
    state: str
    worker: str | None
    last_heartbeat: float | None
    progress: float


def part_label(part: str, start: int, stop: int) -> str:
    """'chunk 1 (frames 31-90)' or 'the join'."""
    return "the join" if part == JOIN else f"chunk {part} (frames {start}-{stop - 1})"


def _part(row: sqlite3.Row) -> Part:
    return Part(job_id=row["job_id"], n=row["n"], part=row["part"], start=row["start"], stop=row["stop"],
                task_id=row["task_id"], state=row["state"], worker=row["worker"], last_heartbeat=row["last_heartbeat"],
                progress=row["progress"])


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
                " WHERE j.state = 'running' AND j.attempts = r.n AND r.finished_at IS NULL"
                " AND NOT EXISTS (SELECT 1 FROM remote_parts p WHERE p.job_id = r.job_id AND p.n = r.n)"
                " UNION SELECT p.worker, p.job_id, p.n FROM remote_parts p JOIN jobs j ON j.id = p.job_id"
                " WHERE j.state = 'running' AND j.attempts = p.n AND p.state = 'running'").fetchall()
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
    def claim(self, job_id: str, *, worker: str, task_id: str,
              chunks: list[tuple[int, int]] | None = None, frame_count: int = 0) -> Claim:
        """Start the next attempt of a queued job for `worker`, or take over one whose run is lost.

        A running job's attempt is lost when its worker has been silent for the heartbeat timeout, or when
        the very message that started it arrives again (the broker redelivers a message only once the
        consumer that had it is gone). `chunks`: the attempt runs in parts, these chunks (queued, each with a
        fresh task id: `parts`) and a join waiting for them.
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
            db.execute("DELETE FROM remote_parts WHERE job_id = ? AND n = ?", (job_id, n))
            for k, (start, stop) in enumerate(chunks or []):
                db.execute("INSERT INTO remote_parts (job_id, n, part, start, stop, task_id, state, queued_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)", (job_id, n, str(k), start, stop, uuid.uuid4().hex,
                                                                      now))
            if chunks:
                db.execute("INSERT INTO remote_parts (job_id, n, part, start, stop, task_id, state)"
                           " VALUES (?, ?, ?, 0, ?, ?, 'waiting')", (job_id, n, JOIN, frame_count, uuid.uuid4().hex))
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
        db.execute("UPDATE remote_parts SET state = 'lost', finished_at = ? WHERE job_id = ? AND n = ?"
                   " AND state NOT IN ('done', 'failed', 'cancelled')", (now, job_id, n))
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
                parts = db.execute("SELECT * FROM remote_parts WHERE job_id = ? AND n = ?",
                                   (row["id"], row["attempts"])).fetchall()
                if parts:  # a part waiting in the broker is not silence; a running part's worker must speak
                    silent = [p for p in parts if p["state"] == "running" and p["last_heartbeat"] < limit]
                    if silent:
                        p = silent[0]
                        how = (f"the worker {p['worker']} running {part_label(p['part'], p['start'], p['stop'])} "
                               f"was silent for {now - p['last_heartbeat']:.0f} s")
                        out.append((row["id"], row["attempts"],
                                    self._lose(db, row["id"], row["attempts"], row["max_attempts"], now, how)))
                    continue
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
            "SELECT * FROM remote_attempts WHERE job_id = ? AND n = ? AND finished_at IS NULL AND (worker = ? OR"
            f" EXISTS ({_JOIN_BY}))", (job_id, n, worker, job_id, n, worker)).fetchone()
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
                prev = db.execute("SELECT outcome FROM remote_attempts WHERE job_id = ? AND n = ? AND (worker = ? OR"
                                  " EXISTS (SELECT 1 FROM remote_parts WHERE job_id = ? AND n = ? AND part = 'join'"
                                  " AND worker = ?))", (job_id, n, worker, job_id, n, worker)).fetchone()
                return "duplicate" if prev is not None and prev["outcome"] == outcome else "stale"
            self._end(db, job_id, n, worker=worker, state=state, error=error, exit_code=exit_code, outcome=outcome,
                      install=install, now=now)
        return "done"

    def _end(self, db: sqlite3.Connection, job_id: str, n: int, *, worker: str, state: str,
             error: dict[str, str] | None, exit_code: int | None, outcome: str, install: Callable[[], None] | None,
             now: float) -> None:
        """End running attempt n (see `finish`), inside the caller's transaction."""
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
        db.execute("UPDATE remote_parts SET state = CASE WHEN state = 'running' AND ? = 'succeeded' THEN 'done'"
                   " WHEN state IN ('done', 'failed', 'cancelled', 'lost') THEN state ELSE 'failed' END, finished_at = ?"
                   " WHERE job_id = ? AND n = ? AND finished_at IS NULL", (state, now, job_id, n))
        self._seen(db, worker, now)
        data: dict[str, Any] = {"state": state, "attempt": n, "worker": worker}
        if err:
            data["error"] = {k: err.get(k, "") for k in ("code", "message", "hint")}
        self._event(db, job_id, "state", data)

    # parts of a chunked attempt -------------------------------------------------------------------------
    def parts(self, job_id: str, n: int) -> list[Part]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM remote_parts WHERE job_id = ? AND n = ? ORDER BY part = 'join',"
                                    " CAST(part AS INTEGER)", (job_id, n)).fetchall()
        return [_part(r) for r in rows]

    def queued_parts(self, older_than_s: float = 0.0) -> list[Part]:
        """Parts of running attempts that wait in the broker for a worker, queued over `older_than_s` ago."""
        with self._lock:
            rows = self._db.execute(
                "SELECT p.* FROM remote_parts p JOIN jobs j ON j.id = p.job_id AND j.attempts = p.n"
                " WHERE j.state = 'running' AND p.state = 'queued' AND p.queued_at < ?",
                (time.time() - older_than_s,)).fetchall()
        return [_part(r) for r in rows]

    def claim_part(self, job_id: str, n: int, part: str, *, worker: str, task_id: str) -> Claim:
        """Part `part` of attempt n runs on `worker` now: `ok`, or `stale` (n is not the running attempt), `gone`,
        `busy` (not this part's task), `finished` (done already), `waiting` (the join, before the chunks)."""
        now = time.time()
        with self._tx() as db:
            job = db.execute("SELECT state, attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if job is None:
                return Claim("gone", detail="the job was deleted")
            if job["state"] != "running" or job["attempts"] != n:
                return Claim("stale", detail=f"the job is {job['state']} at attempt {job['attempts']}")
            row = db.execute("SELECT * FROM remote_parts WHERE job_id = ? AND n = ? AND part = ?",
                             (job_id, n, part)).fetchone()
            if row is None:
                return Claim("gone", detail=f"attempt {n} has no part {part}")
            if row["task_id"] != task_id:
                return Claim("busy", detail=f"task {task_id} is not the task of part {part}")
            if row["state"] in ("done", "failed", "waiting"):
                return Claim("finished" if row["state"] != "waiting" else "waiting",
                             detail=f"part {part} is {row['state']}")
            # queued, or running and its very message delivered again (its worker is gone): this worker runs it.
            db.execute("UPDATE remote_parts SET state = 'running', worker = ?, claimed_at = ?, last_heartbeat = ?,"
                       " progress = 0, log_bytes = 0 WHERE job_id = ? AND n = ? AND part = ?",
                       (worker, now, now, job_id, n, part))
            db.execute("UPDATE remote_attempts SET last_heartbeat = ? WHERE job_id = ? AND n = ?", (now, job_id, n))
            self._seen(db, worker, now)
        return Claim("ok", n=n)

    def _running_part(self, db: sqlite3.Connection, job_id: str, n: int, part: str, worker: str) -> sqlite3.Row | None:
        job = db.execute("SELECT state, attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if job is None or job["state"] != "running" or job["attempts"] != n:
            return None
        row: sqlite3.Row | None = db.execute(
            "SELECT * FROM remote_parts WHERE job_id = ? AND n = ? AND part = ? AND worker = ? AND state = 'running'",
            (job_id, n, part, worker)).fetchone()
        return row

    def is_running_part(self, job_id: str, n: int, part: str, worker: str) -> bool:
        with self._lock:
            return self._running_part(self._db, job_id, n, part, worker) is not None

    def part_progress(self, job_id: str, n: int, part: str, *, worker: str, progress: float, stage: str | None,
                      log_offset: int, log_end: int, log: bytes, log_path: Path) -> bool:
        """A part's heartbeat (the attempt's too), its progress folded into the job's, its log lines into the
        job's log (each marked with the part); False if it is not a running part of the running attempt."""
        now = time.time()
        with self._tx() as db:
            cur = self._running_part(db, job_id, n, part, worker)
            self._seen(db, worker, now)
            if cur is None:
                return False
            progress = max(0.0, min(1.0, progress))
            db.execute("UPDATE remote_parts SET last_heartbeat = ?, progress = ? WHERE job_id = ? AND n = ? AND part = ?",
                       (now, progress, job_id, n, part))
            db.execute("UPDATE remote_attempts SET last_heartbeat = ? WHERE job_id = ? AND n = ?", (now, job_id, n))
            rows = db.execute("SELECT part, state, progress FROM remote_parts WHERE job_id = ? AND n = ?",
                              (job_id, n)).fetchall()
            chunks = [1.0 if r["state"] == "done" else r["progress"] for r in rows if r["part"] != JOIN]
            join = next((r["progress"] for r in rows if r["part"] == JOIN and r["state"] == "running"), 0.0)
            overall = POSE_SHARE * sum(chunks) / max(len(chunks), 1) + (1.0 - POSE_SHARE) * join
            stage = stage if part == JOIN else "pose"
            job = db.execute("SELECT progress, stage FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if abs(job["progress"] - overall) > 1e-4 or job["stage"] != stage:
                db.execute("UPDATE jobs SET progress = ?, stage = ?, updated_at = ? WHERE id = ?",
                           (overall, stage, now, job_id))
                self._event(db, job_id, "progress", {"progress": round(overall, 4), "stage": stage})
            if log and cur["log_bytes"] == log_offset < log_end:  # whole lines, in order; a piece sent twice once
                label = part_label(part, cur["start"], cur["stop"])
                mark = f"[{'join' if part == JOIN else 'chunk ' + part}] "
                text = log.decode("utf-8", "replace")
                lines = "".join(mark + line for line in text.splitlines(keepends=True))
                with log_path.open("ab") as f:
                    if log_offset == 0:
                        f.write(f"=== attempt {n}, {label} on worker {worker}\n".encode())
                    f.write(lines.encode() + (b"" if lines.endswith("\n") else b"\n"))
                db.execute("UPDATE remote_parts SET log_bytes = ? WHERE job_id = ? AND n = ? AND part = ?",
                           (log_end, job_id, n, part))
        return True

    def finish_part(self, job_id: str, n: int, part: str, *, worker: str, state: str, error: dict[str, str] | None,
                    exit_code: int | None, outcome: str) -> tuple[str, bool]:
        """End a chunk: `done`, `duplicate` or `stale`, and whether the join is now due (every chunk done). A chunk
        that did not succeed ends the attempt: failed (its error named after the chunk), or queued again when it
        was cut off and attempts are left."""
        now = time.time()
        with self._tx() as db:
            cur = self._running_part(db, job_id, n, part, worker)
            if cur is None:
                prev = db.execute("SELECT state FROM remote_parts WHERE job_id = ? AND n = ? AND part = ? AND worker = ?",
                                  (job_id, n, part, worker)).fetchone()
                same = prev is not None and prev["state"] == ("done" if state == "succeeded" else "failed")
                return ("duplicate" if same else "stale"), False
            if state == "succeeded":
                db.execute("UPDATE remote_parts SET state = 'done', progress = 1, finished_at = ?, last_heartbeat = ?"
                           " WHERE job_id = ? AND n = ? AND part = ?", (now, now, job_id, n, part))
                left = db.execute("SELECT COUNT(*) FROM remote_parts WHERE job_id = ? AND n = ? AND part != 'join'"
                                  " AND state != 'done'", (job_id, n)).fetchone()[0]
                if left:
                    return "done", False
                db.execute("UPDATE remote_parts SET state = 'queued', queued_at = ? WHERE job_id = ? AND n = ?"
                           " AND part = 'join' AND state = 'waiting'", (now, job_id, n))
                db.execute("UPDATE jobs SET progress = ?, stage = 'join', updated_at = ? WHERE id = ?",
                           (POSE_SHARE, now, job_id))
                self._event(db, job_id, "progress", {"progress": POSE_SHARE, "stage": "join"})
                return "done", True
            err = dict(error or {"code": outcome, "message": f"it ended {state}", "hint": ""})
            err["message"] = f"{part_label(part, cur['start'], cur['stop'])} on worker {worker}: {err.get('message', '')}"
            db.execute("UPDATE remote_parts SET state = 'failed', finished_at = ? WHERE job_id = ? AND n = ? AND part = ?",
                       (now, job_id, n, part))
            self._end(db, job_id, n, worker=worker, state=state, error=err, exit_code=exit_code,
                      outcome=f"{outcome} in chunk {part}", install=None, now=now)
        return "done", False


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
            db.execute("UPDATE remote_parts SET state = 'cancelled', finished_at = ? WHERE job_id = ?"
                       " AND n = (SELECT attempts FROM jobs WHERE id = ?) AND state NOT IN ('done', 'failed')",
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
