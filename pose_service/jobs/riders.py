"""Riders and shares, in the job store's SQLite file: who rode each job, and read-only links to results.

Tables (created beside `jobs` by `migrate`, so an existing jobs.db gains them on the next start):
`job_riders` (one row per tagged job: the rider's name as typed and its case-folded key) and `shares`
(an unguessable token for one job or one comparison of two jumps, optionally expiring, revocable).
A deleted job drops out of every query by the join with `jobs`; its shares answer 404 like revoked ones.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from pose_service.jobs.sqlite import WalDatabase

__all__ = ["RiderStore", "Share", "normalize_rider", "MAX_RIDER_CHARS"]

MAX_RIDER_CHARS = 60

_SCHEMA = """
CREATE TABLE IF NOT EXISTS job_riders (
    job_id TEXT PRIMARY KEY,
    rider TEXT NOT NULL,
    rider_key TEXT NOT NULL,
    tagged_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS job_riders_key ON job_riders(rider_key);
CREATE TABLE IF NOT EXISTS shares (
    token TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    job_a TEXT NOT NULL,
    jump_a INTEGER,
    job_b TEXT,
    jump_b INTEGER,
    created_at REAL NOT NULL
);
"""
# Columns added after the first release of a table: (table, column, declaration). Added when missing.
_ADDED_COLUMNS = (
    ("shares", "expires_at", "REAL"),
    ("shares", "revoked_at", "REAL"),
)


def normalize_rider(name: str) -> str:
    """The name as stored: inner whitespace collapsed, ends trimmed; ValueError when empty or too long."""
    text = " ".join(str(name).split())
    if not text:
        raise ValueError("the rider's name is empty")
    if len(text) > MAX_RIDER_CHARS:
        raise ValueError(f"the rider's name has {len(text)} characters; at most {MAX_RIDER_CHARS}")
    if any(ord(c) < 32 for c in text):
        raise ValueError("the rider's name has control characters")
    return text


@dataclass(frozen=True)
class Share:
    """A read-only link: `kind` "job" (job_a) or "compare" (job_a:jump_a against job_b:jump_b)."""

    token: str
    kind: str
    job_a: str
    jump_a: int | None
    job_b: str | None
    jump_b: int | None
    created_at: float
    expires_at: float | None
    revoked_at: float | None

    def live(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    @property
    def job_ids(self) -> frozenset[str]:
        return frozenset(j for j in (self.job_a, self.job_b) if j)


class RiderStore(WalDatabase):
    """Rider tags and shares; its own connection to the job store's file (WAL lets both write in turn)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.migrate()

    def migrate(self) -> None:
        """Create missing tables and add missing columns; safe to run on every start."""
        with self._lock:
            self._db.executescript(_SCHEMA)
            for table, column, decl in _ADDED_COLUMNS:
                have = {r["name"] for r in self._db.execute(f"PRAGMA table_info({table})")}
                if column not in have:
                    try:
                        self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
                    except sqlite3.OperationalError as exc:  # another process added it meanwhile
                        if "duplicate column" not in str(exc):
                            raise

    # riders -------------------------------------------------------------------------------------------
    def tag(self, job_id: str, rider: str | None) -> str | None:
        """Set (or with None, remove) the rider of a job; returns the stored name."""
        with self._lock:
            if rider is None:
                self._db.execute("DELETE FROM job_riders WHERE job_id = ?", (job_id,))
                return None
            name = normalize_rider(rider)
            self._db.execute(
                "INSERT INTO job_riders (job_id, rider, rider_key, tagged_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(job_id) DO UPDATE SET rider = excluded.rider, rider_key = excluded.rider_key,"
                " tagged_at = excluded.tagged_at",
                (job_id, name, name.casefold(), time.time()),
            )
            return name

    def rider_of(self, job_id: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT rider FROM job_riders WHERE job_id = ?", (job_id,)).fetchone()
        return str(row["rider"]) if row else None

    def riders(self) -> list[tuple[str, int, float]]:
        """(name, number of jobs, newest job's creation time) per rider, by name; deleted jobs left out."""
        with self._lock:
            rows = self._db.execute(
                "SELECT MAX(r.rider) AS rider, COUNT(*) AS n, MAX(j.created_at) AS last FROM job_riders r"
                " JOIN jobs j ON j.id = r.job_id GROUP BY r.rider_key ORDER BY r.rider_key"
            ).fetchall()
        return [(str(r["rider"]), int(r["n"]), float(r["last"])) for r in rows]

    def jobs_of(self, rider: str) -> list[str]:
        """Ids of the rider's jobs (any state), oldest first; the name matches whatever its case."""
        key = " ".join(str(rider).split()).casefold()
        with self._lock:
            rows = self._db.execute(
                "SELECT r.job_id FROM job_riders r JOIN jobs j ON j.id = r.job_id WHERE r.rider_key = ?"
                " ORDER BY j.created_at, j.id",
                (key,),
            ).fetchall()
        return [str(r["job_id"]) for r in rows]

    # shares -------------------------------------------------------------------------------------------
    def create_share(
        self, *, kind: str, job_a: str, jump_a: int | None = None, job_b: str | None = None,
        jump_b: int | None = None, ttl_s: float | None = None,
    ) -> Share:
        token = secrets.token_urlsafe(24)  # 192 random bits
        now = time.time()
        with self._lock:
            self._db.execute(
                "INSERT INTO shares (token, kind, job_a, jump_a, job_b, jump_b, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (token, kind, job_a, jump_a, job_b, jump_b, now, None if ttl_s is None else now + ttl_s),
            )
        share = self.get_share(token)
        assert share is not None
        return share

    def get_share(self, token: str) -> Share | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM shares WHERE token = ?", (token,)).fetchone()
        if row is None:
            return None
        return Share(
            token=row["token"], kind=row["kind"], job_a=row["job_a"], jump_a=row["jump_a"], job_b=row["job_b"],
            jump_b=row["jump_b"], created_at=row["created_at"], expires_at=row["expires_at"],
            revoked_at=row["revoked_at"],
        )

    def revoke_share(self, token: str) -> bool:
        with self._lock:
            cur = self._db.execute(
                "UPDATE shares SET revoked_at = ? WHERE token = ? AND revoked_at IS NULL", (time.time(), token)
            )
        return bool(cur.rowcount)
