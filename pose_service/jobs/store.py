"""The durable job store: SQLite in WAL mode, one small module, safe to share between threads.

Tables: `jobs` (one row per job, its current state), `attempts` (one row per worker run), `events` (what
the server-sent events endpoint replays), `uploads` (tus uploads: declared length, durable offset).
States: queued -> running -> succeeded | failed | cancelled. A job left `running` by a server that died
is queued again, or failed with a reason once it has used all its attempts (`recover`).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pose_service.jobs.sqlite import WalDatabase

__all__ = ["TERMINAL", "STATES", "Attempt", "Event", "Job", "JobStore", "Upload", "new_id"]

STATES = ("queued", "running", "succeeded", "failed", "cancelled")
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    stage TEXT,
    video_name TEXT NOT NULL,
    video_path TEXT NOT NULL,
    options TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    updated_at REAL NOT NULL,
    error_code TEXT,
    error_message TEXT,
    error_hint TEXT,
    error_log_tail TEXT,
    pid INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, created_at);
CREATE TABLE IF NOT EXISTS attempts (
    job_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    pid INTEGER,
    exit_code INTEGER,
    outcome TEXT,
    PRIMARY KEY (job_id, n)
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    ts REAL NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_job ON events(job_id, seq);
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY,
    length INTEGER,
    offset INTEGER NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    job_id TEXT
);
"""


def new_id() -> str:
    """An unguessable id (128 random bits) that is safe in a path and a URL."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Job:
    """One analysis request and where it has got to."""

    id: str
    state: str
    progress: float
    stage: str | None
    video_name: str
    video_path: str
    options: dict[str, Any]
    attempts: int
    max_attempts: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    updated_at: float
    error: dict[str, Any] | None
    pid: int | None = None

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL


@dataclass(frozen=True)
class Attempt:
    job_id: str
    n: int
    started_at: float
    ended_at: float | None
    pid: int | None
    exit_code: int | None
    outcome: str | None


@dataclass(frozen=True)
class Event:
    seq: int
    job_id: str
    ts: float
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Upload:
    """A tus upload: `length` is None while the client has deferred it."""

    id: str
    length: int | None
    offset: int
    metadata: dict[str, str]
    created_at: float
    updated_at: float
    expires_at: float
    job_id: str | None

    @property
    def complete(self) -> bool:
        return self.length is not None and self.offset >= self.length


def _job(row: sqlite3.Row) -> Job:
    error = None
    if row["error_code"] is not None:
        error = {
            "code": row["error_code"],
            "message": row["error_message"] or "",
            "hint": row["error_hint"] or "",
            "log_tail": row["error_log_tail"] or "",
        }
    return Job(
        id=row["id"],
        state=row["state"],
        progress=row["progress"],
        stage=row["stage"],
        video_name=row["video_name"],
        video_path=row["video_path"],
        options=json.loads(row["options"]),
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        updated_at=row["updated_at"],
        error=error,
        pid=row["pid"],
    )


def _upload(row: sqlite3.Row) -> Upload:
    return Upload(
        id=row["id"],
        length=row["length"],
        offset=row["offset"],
        metadata=json.loads(row["metadata"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        expires_at=row["expires_at"],
        job_id=row["job_id"],
    )


class JobStore(WalDatabase):
    """Jobs, attempts, events and uploads in one SQLite file; every method is one short transaction."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        super().__init__(path, _SCHEMA)

    def _event(self, db: sqlite3.Connection, job_id: str, kind: str, data: dict[str, Any]) -> None:
        db.execute(
            "INSERT INTO events (job_id, ts, kind, data) VALUES (?, ?, ?, ?)",
            (job_id, time.time(), kind, json.dumps(data)),
        )

    # jobs ---------------------------------------------------------------------------------------------
    def create(
        self, *, job_id: str, video_name: str, video_path: Path, options: dict[str, Any], max_attempts: int
    ) -> Job:
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO jobs (id, state, video_name, video_path, options, max_attempts, created_at, updated_at)"
                " VALUES (?, 'queued', ?, ?, ?, ?, ?, ?)",
                (job_id, video_name, str(video_path), json.dumps(options), max_attempts, now, now),
            )
            self._event(db, job_id, "state", {"state": "queued", "progress": 0.0, "stage": None})
        return self.get_required(job_id)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def get_required(self, job_id: str) -> Job:
        job = self.get(job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    def list_jobs(self, *, state: str | None = None, limit: int = 100, offset: int = 0) -> tuple[list[Job], int]:
        where, args = ("WHERE state = ?", [state]) if state else ("", [])
        with self._lock:
            count = self._db.execute(f"SELECT COUNT(*) FROM jobs {where}", args).fetchone()[0]
            rows = self._db.execute(
                f"SELECT * FROM jobs {where} ORDER BY created_at DESC LIMIT ? OFFSET ?", [*args, limit, offset]
            ).fetchall()
        return [_job(r) for r in rows], int(count)

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        out = dict.fromkeys(STATES, 0)
        out.update({r[0]: int(r[1]) for r in rows})
        return out

    def claim_next(self) -> Job | None:
        """Move the oldest queued job to `running` (attempt + 1) and return it; None if nothing is queued."""
        now = time.time()
        with self._tx() as db:
            row = db.execute("SELECT id FROM jobs WHERE state = 'queued' ORDER BY created_at LIMIT 1").fetchone()
            if row is None:
                return None
            job_id = row[0]
            db.execute(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?, updated_at = ?,"
                " progress = 0, stage = 'starting', error_code = NULL, error_message = NULL, error_hint = NULL,"
                " error_log_tail = NULL, finished_at = NULL WHERE id = ?",
                (now, now, job_id),
            )
            n = db.execute("SELECT attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()[0]
            db.execute(
                "INSERT OR REPLACE INTO attempts (job_id, n, started_at) VALUES (?, ?, ?)", (job_id, n, now)
            )
            self._event(db, job_id, "state", {"state": "running", "progress": 0.0, "stage": "starting", "attempt": n})
        return self.get_required(job_id)

    def set_pid(self, job_id: str, pid: int | None) -> None:
        with self._tx() as db:
            db.execute("UPDATE jobs SET pid = ? WHERE id = ?", (pid, job_id))
            if pid is not None:
                db.execute(
                    "UPDATE attempts SET pid = ? WHERE job_id = ? AND n = (SELECT attempts FROM jobs WHERE id = ?)",
                    (pid, job_id, job_id),
                )

    def set_progress(self, job_id: str, progress: float, stage: str | None) -> None:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET progress = ?, stage = ?, updated_at = ? WHERE id = ? AND state = 'running'",
                (max(0.0, min(1.0, progress)), stage, time.time(), job_id),
            )
            if cur.rowcount:
                self._event(db, job_id, "progress", {"progress": round(progress, 4), "stage": stage})

    def finish(
        self,
        job_id: str,
        state: str,
        *,
        error: dict[str, str] | None = None,
        exit_code: int | None = None,
        outcome: str | None = None,
    ) -> Job:
        """End the current attempt; `state` is terminal, or `queued` to try again."""
        if state not in TERMINAL and state != "queued":
            raise ValueError(f"finish: state must be terminal or queued, got {state!r}")
        now = time.time()
        error = error or {}
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET state = ?, updated_at = ?, finished_at = ?, pid = NULL,"
                " progress = CASE WHEN ? = 'succeeded' THEN 1.0 ELSE progress END,"
                " error_code = ?, error_message = ?, error_hint = ?, error_log_tail = ? WHERE id = ?",
                (
                    state,
                    now,
                    None if state == "queued" else now,
                    state,
                    error.get("code"),
                    error.get("message"),
                    error.get("hint"),
                    error.get("log_tail"),
                    job_id,
                ),
            )
            db.execute(
                "UPDATE attempts SET ended_at = ?, exit_code = ?, outcome = ?"
                " WHERE job_id = ? AND n = (SELECT attempts FROM jobs WHERE id = ?) AND ended_at IS NULL",
                (now, exit_code, outcome or state, job_id, job_id),
            )
            data: dict[str, Any] = {"state": state}
            if error:
                data["error"] = {k: error.get(k, "") for k in ("code", "message", "hint")}
            self._event(db, job_id, "state", data)
        return self.get_required(job_id)

    def release(self, job_id: str, *, reason: str) -> None:
        """Give a running job back to the queue without using up an attempt (the server is shutting down)."""
        now = time.time()
        with self._tx() as db:
            db.execute(
                "UPDATE attempts SET ended_at = ?, outcome = ? WHERE job_id = ?"
                " AND n = (SELECT attempts FROM jobs WHERE id = ?) AND ended_at IS NULL",
                (now, f"released: {reason}", job_id, job_id),
            )
            cur = db.execute(
                "UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0), pid = NULL, progress = 0,"
                " stage = NULL, updated_at = ? WHERE id = ? AND state = 'running'",
                (now, job_id),
            )
            if cur.rowcount:
                self._event(db, job_id, "state", {"state": "queued", "progress": 0.0, "stage": None})

    def cancel_queued(self, job_id: str) -> bool:
        """Cancel a job that has not started; False if it is no longer queued."""
        now = time.time()
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET state = 'cancelled', finished_at = ?, updated_at = ?,"
                " error_code = 'cancelled', error_message = 'cancelled before it started'"
                " WHERE id = ? AND state = 'queued'",
                (now, now, job_id),
            )
            if cur.rowcount:
                self._event(db, job_id, "state", {"state": "cancelled"})
            return bool(cur.rowcount)

    def requeue(self, job_id: str, *, extra_attempts: int = 1) -> bool:
        """Queue a finished job again (the retry button); False if it is not failed or cancelled."""
        now = time.time()
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET state = 'queued', progress = 0, stage = NULL, finished_at = NULL, updated_at = ?,"
                " max_attempts = MAX(max_attempts, attempts + ?), error_code = NULL, error_message = NULL,"
                " error_hint = NULL, error_log_tail = NULL WHERE id = ? AND state IN ('failed', 'cancelled')",
                (now, extra_attempts, job_id),
            )
            if cur.rowcount:
                self._event(db, job_id, "state", {"state": "queued", "progress": 0.0, "stage": None})
            return bool(cur.rowcount)

    def delete(self, job_id: str) -> bool:
        with self._tx() as db:
            cur = db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            db.execute("DELETE FROM attempts WHERE job_id = ?", (job_id,))
            db.execute("DELETE FROM events WHERE job_id = ?", (job_id,))
            return bool(cur.rowcount)

    def attempts(self, job_id: str) -> list[Attempt]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM attempts WHERE job_id = ? ORDER BY n", (job_id,)).fetchall()
        return [Attempt(**dict(r)) for r in rows]

    def events(self, job_id: str, *, after: int = 0) -> list[Event]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM events WHERE job_id = ? AND seq > ? ORDER BY seq", (job_id, after)
            ).fetchall()
        return [Event(r["seq"], r["job_id"], r["ts"], r["kind"], json.loads(r["data"])) for r in rows]

    def recover(self, *, reason: str) -> list[Job]:
        """Jobs a dead server left `running`: queue again, or fail once their attempts are used up."""
        with self._lock:
            rows = self._db.execute("SELECT id, attempts, max_attempts FROM jobs WHERE state = 'running'").fetchall()
        out = []
        for row in rows:
            if row["attempts"] < row["max_attempts"]:
                out.append(self.finish(row["id"], "queued", outcome=f"interrupted: {reason}"))
            else:
                out.append(
                    self.finish(
                        row["id"],
                        "failed",
                        error={
                            "code": "interrupted",
                            "message": f"{reason} after attempt {row['attempts']} of {row['max_attempts']}",
                            "hint": "retry the job",
                            "log_tail": "",
                        },
                        outcome="interrupted",
                    )
                )
        return out

    # uploads ------------------------------------------------------------------------------------------
    def create_upload(self, upload_id: str, *, length: int | None, metadata: dict[str, str], ttl_s: float) -> Upload:
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO uploads (id, length, offset, metadata, created_at, updated_at, expires_at)"
                " VALUES (?, ?, 0, ?, ?, ?, ?)",
                (upload_id, length, json.dumps(metadata), now, now, now + ttl_s),
            )
        upload = self.get_upload(upload_id)
        assert upload is not None
        return upload

    def get_upload(self, upload_id: str) -> Upload | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM uploads WHERE id = ?", (upload_id,)).fetchone()
        return _upload(row) if row else None

    def update_upload(
        self, upload_id: str, *, offset: int, ttl_s: float, length: int | None = None, job_id: str | None = None
    ) -> None:
        now = time.time()
        with self._tx() as db:
            db.execute(
                "UPDATE uploads SET offset = ?, updated_at = ?, expires_at = ?, length = COALESCE(?, length),"
                " job_id = COALESCE(?, job_id) WHERE id = ?",
                (offset, now, now + ttl_s, length, job_id, upload_id),
            )

    def delete_upload(self, upload_id: str) -> bool:
        with self._tx() as db:
            return bool(db.execute("DELETE FROM uploads WHERE id = ?", (upload_id,)).rowcount)

    def expired_uploads(self, now: float | None = None) -> list[Upload]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM uploads WHERE expires_at < ?", (time.time() if now is None else now,)
            ).fetchall()
        return [_upload(r) for r in rows]
