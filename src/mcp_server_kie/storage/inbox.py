"""The webhook inbox (every accepted callback, stored before it is answered) and the user's
saved defaults, one JSON value per key."""

from __future__ import annotations

import enum
import hashlib
import json
import time
from collections import Counter
from collections.abc import Sequence
from functools import partial
from typing import NamedTuple

from mcp_server_kie.domain import ApiFamily, MediaKind
from mcp_server_kie.storage.database import Database, Transaction
from mcp_server_kie.storage.group_commit import BatchCommit, GroupCommit
from mcp_server_kie.storage.records import OPEN_STATUSES, Delivery
from mcp_server_kie.storage.targets import CallbackTarget, KnownTargets


class Kept(enum.Enum):
    """What became of an authentic delivery (each is acknowledged all the same)."""

    STORED = "stored"
    DUPLICATE = "the same body is already stored"
    JOB_ENDED = "the job has already ended"
    UNKNOWN_JOB = "no such job (deleted since it was checked)"
    INBOX_FULL = "the job's inbox is full"


class Keep(NamedTuple):
    """One authentic delivery to store (keep_delivery)."""

    job_id: str
    body: bytes
    digest: str
    max_rows: int


class InboxAndPreferences:
    db: Database
    inbox_commits: GroupCommit  # deliveries arriving together share one transaction
    delivery_commits: BatchCommit[Keep, Kept]  # keep_all: kept deliveries, a batch at a time
    known_targets: KnownTargets  # of the jobs this process created and submitted

    async def preferences(self) -> dict[str, object]:
        rows = await self.db.fetch_all("SELECT key, value FROM preferences ORDER BY key")
        return {str(r["key"]): json.loads(r["value"]) for r in rows}

    async def set_preferences(self, changes: dict[str, object]) -> None:
        """Set each key to its value; a None value removes the key (back to the default)."""

        async def update(conn: Transaction) -> None:
            now = time.time()
            for key, value in changes.items():
                if value is None:
                    await conn.execute("DELETE FROM preferences WHERE key = ?", (key,))
                else:
                    await conn.execute(
                        "INSERT INTO preferences (key, value, updated_at) VALUES (?, ?, ?)"
                        " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                        " updated_at = excluded.updated_at",
                        (key, json.dumps(value), now),
                    )

        await self.db.write(update)

    async def add_delivery(self, job_id: str, body: bytes) -> int | None:
        """Store a delivery; None (nothing written) when the same body is already stored
        for this job, so a replayed delivery is kept once. Returns once the delivery is
        committed: deliveries that arrive together share one transaction (group commit)."""
        digest = hashlib.sha256(body).hexdigest()

        async def insert(conn: Transaction) -> int | None:
            row = await conn.fetch_one(
                "INSERT INTO webhook_inbox (job_id, received_at, body, digest)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (job_id, digest) DO NOTHING RETURNING id",
                (job_id, time.time(), body, digest),
            )
            return int(row["id"]) if row is not None else None

        return await self.inbox_commits.run(insert)

    async def callback_target(self, job_id: str) -> CallbackTarget | None:
        """The job's callback token hash and kie task id; None for an unknown job. A job this
        process submitted is answered from memory (storage/targets.py)."""
        known = self.known_targets.get(job_id)
        if known is not None:
            return known
        rows = await self.db.fetch_by_key(
            "SELECT callback_token_hash, task_id, family, kind, created_at FROM jobs WHERE id = ?",
            (job_id,),
        )
        if not rows:
            return None
        row = rows[0]
        return CallbackTarget(
            row["callback_token_hash"] or None,
            row["task_id"],
            ApiFamily(row["family"]),
            MediaKind(row["kind"]),
            float(row["created_at"]),
        )

    async def keep_delivery(self, job_id: str, body: bytes, max_rows: int) -> Kept:
        """Store an authentic delivery for a running job, unless the job has ended (or is gone:
        UNKNOWN_JOB), the same
        body is already stored for it, or it already holds ``max_rows`` deliveries: decided
        in the transaction that stores it, which it shares with the deliveries that arrive
        together (group commit). Returns once that transaction has committed."""
        keep = Keep(job_id, body, hashlib.sha256(body).hexdigest(), max_rows)
        return await self.delivery_commits.run(keep)

    async def jobs_with_pending_deliveries(self, limit: int) -> list[str]:
        """Up to ``limit`` jobs that have unprocessed deliveries, oldest delivery first."""
        rows = await self.db.fetch_all(
            "SELECT job_id, MIN(id) AS first FROM webhook_inbox WHERE processed_at IS NULL"
            " GROUP BY job_id ORDER BY first LIMIT ?",
            (limit,),
        )
        return [str(r["job_id"]) for r in rows]

    async def count_deliveries(self, job_id: str) -> int:
        """Rows the inbox holds for one job, processed or not."""
        row = await self.db.fetch_one(
            "SELECT count(*) AS n FROM webhook_inbox WHERE job_id = ?", (job_id,)
        )
        return int(row["n"]) if row else 0

    async def prune_deliveries(self, job_id: str | None = None) -> int:
        """Delete processed deliveries of jobs that are no longer running (one job's when
        ``job_id`` is given); unprocessed ones and those of running jobs are kept. Returns
        how many rows went."""
        where, params = ("AND job_id = ?", (job_id,)) if job_id else ("", ())

        rows = await self.db.write_one(
            "DELETE FROM webhook_inbox WHERE processed_at IS NOT NULL"
            " AND job_id NOT IN"
            " (SELECT id FROM jobs WHERE status IN ('pending', 'processing'))"
            f" {where} RETURNING id",
            params,
        )
        return len(rows)

    async def settle_ended(self, job_id: str) -> None:
        """Clear the inbox of a job that has ended (or is gone), in one statement: none of
        its deliveries, processed or not, has anything left to tell it. (Were the job still
        running, nothing would go: the deliveries stay to be processed.)"""
        await self.db.write_one(
            "DELETE FROM webhook_inbox WHERE job_id = ? AND NOT EXISTS"
            f" (SELECT 1 FROM jobs WHERE id = ? AND status IN {OPEN_STATUSES})",
            (job_id, job_id),
        )

    async def mark_deliveries_processed(self, delivery_ids: Sequence[int]) -> None:
        if not delivery_ids:
            return
        marks = ", ".join("?" * len(delivery_ids))

        await self.db.write_one(
            f"UPDATE webhook_inbox SET processed_at = ? WHERE id IN ({marks})",
            (time.time(), *delivery_ids),
        )

    async def pending_deliveries(self, job_id: str | None = None) -> list[Delivery]:
        """Unprocessed deliveries, oldest first; only one job's when ``job_id`` is given."""
        where, params = ("AND job_id = ?", (job_id,)) if job_id else ("", ())
        fetch = self.db.fetch_by_key if job_id else self.db.fetch_all  # one job's: a handful
        rows = await fetch(
            "SELECT id, job_id, body FROM webhook_inbox"
            f" WHERE processed_at IS NULL {where} ORDER BY id",
            params,
        )
        return [Delivery(int(r["id"]), str(r["job_id"]), bytes(r["body"])) for r in rows]

    async def count(self, table: str) -> int:
        if table not in {"jobs", "assets", "webhook_inbox", "job_events"}:
            raise ValueError(f"unknown table {table!r}")
        row = await self.db.fetch_one(f"SELECT count(*) AS n FROM {table}")
        return int(row["n"]) if row else 0


# Stores a delivery only for a running job with room; its id, or no row.
_KEEP = (
    "INSERT INTO webhook_inbox (job_id, received_at, body, digest)"
    " SELECT ?, ?, ?, ? WHERE EXISTS"
    f" (SELECT 1 FROM jobs WHERE id = ? AND status IN {OPEN_STATUSES})"
    " AND (SELECT count(*) FROM webhook_inbox WHERE job_id = ?) < ?"
    " ON CONFLICT (job_id, digest) DO NOTHING RETURNING id"
)


def _keep_params(keep: Keep, now: float) -> tuple[object, ...]:
    return (keep.job_id, now, keep.body, keep.digest, keep.job_id, keep.job_id, keep.max_rows)


async def keep_all(db: Database, batch: list[Keep]) -> list[Kept]:
    """keep_delivery's work for a batch, all or nothing: each delivery is stored only for a
    running job with room, in order; the few not stored are told apart as they stood at their
    turn (unknown, ended, then full, then duplicate). One statement where the dialect has it
    (Dialect.keep_batch: one round trip), else one INSERT per delivery in a transaction."""
    if db.dialect.keep_batch is None:
        return await db.write(partial(_keep_each, batch=batch))
    now = time.time()
    rows = await db.write_one(
        db.dialect.keep_batch,
        (
            list(range(len(batch))),
            [keep.job_id for keep in batch],
            [keep.body for keep in batch],
            [keep.digest for keep in batch],
            [keep.max_rows for keep in batch],
            now,
        ),
    )
    kept: list[Kept] = []
    stored_before: Counter[str] = Counter()  # of each job, in this batch, before each turn
    for keep, row in zip(batch, rows, strict=True):
        if row["stored"]:
            stored_before[keep.job_id] += 1
            kept.append(Kept.STORED)
        else:
            held = int(row["held"]) + stored_before[keep.job_id]
            kept.append(_why_not(bool(row["known"]), bool(row["running"]), held, keep))
    return kept


async def _keep_each(conn: Transaction, batch: list[Keep]) -> list[Kept]:
    now = time.time()
    stored = await conn.fetch_each(_KEEP, [_keep_params(keep, now) for keep in batch])
    kept: list[Kept] = []
    for turn, (keep, row) in enumerate(zip(batch, stored, strict=True)):
        if row is not None:
            kept.append(Kept.STORED)
            continue
        # Rows its job holds now, less those stored after its turn.
        later = sum(
            1
            for other, found in zip(batch[turn + 1 :], stored[turn + 1 :], strict=True)
            if other.job_id == keep.job_id and found is not None
        )
        kept.append(await _not_kept(conn, keep, later))
    return kept


async def _not_kept(conn: Transaction, keep: Keep, stored_later: int) -> Kept:
    """Why ``keep`` was not stored, given ``stored_later`` rows of its job stored after it."""
    row = await conn.fetch_one(
        "SELECT status IN " + OPEN_STATUSES + " AS running,"
        " (SELECT count(*) FROM webhook_inbox WHERE job_id = ?) AS held"
        " FROM jobs WHERE id = ?",
        (keep.job_id, keep.job_id),
    )
    if row is None:
        return Kept.UNKNOWN_JOB
    return _why_not(True, bool(row["running"]), int(row["held"]) - stored_later, keep)


def _why_not(known: bool, running: bool, held: int, keep: Keep) -> Kept:
    """Why ``keep`` was not stored, its job standing so (``held``: rows at its turn)."""
    if not known:
        return Kept.UNKNOWN_JOB
    if not running:
        return Kept.JOB_ENDED
    if held >= keep.max_rows:
        return Kept.INBOX_FULL
    return Kept.DUPLICATE
