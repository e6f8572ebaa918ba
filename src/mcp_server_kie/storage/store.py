"""Jobs, assets, the webhook inbox and job events, in domain words.

State transitions are monotonic and enforced in SQL: an update that would leave a terminal
state matches no row, so a duplicate or late event is a no-op whatever order it arrives in.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from mcp_server_kie.domain import (
    ApiFamily,
    Asset,
    Job,
    JobError,
    JobStatus,
    MediaKind,
    TaskState,
)
from mcp_server_kie.storage.database import Database
from mcp_server_kie.storage.errors import DailyLimitReached, IdempotencyConflict
from mcp_server_kie.storage.library import MediaQuery, encode_cursor, where_clause

_OPEN = "('pending', 'processing')"
DAY_SECONDS = 24 * 60 * 60
_WriteStep = Callable[[aiosqlite.Connection], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class NewJob:
    id: str
    kind: MediaKind
    family: ApiFamily
    model: str
    prompt: str
    params: dict[str, object]
    callback_token_hash: str | None
    callback_expected: bool
    idempotency_key: str | None
    expected_credits: float | None
    client_ref: str | None = None
    request_hash: str | None = None  # what the idempotency key was first used for


@dataclass(frozen=True, slots=True)
class MediaPage:
    jobs: list[Job]
    next_cursor: str | None  # None on the last page


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    job_id: str
    body: bytes


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    async def open(cls, path: Path) -> Store:
        return cls(await Database.open(path))

    async def close(self) -> None:
        await self.db.close()

    # ------------------------------------------------------------------ jobs

    async def create_job(self, new: NewJob, *, daily_limit: float | None = None) -> Job:
        """Write a new pending job, deciding idempotency and the daily credit limit in the same
        transaction (one writer at a time across processes): concurrent callers with one
        idempotency key all get the first caller's job, and together they never commit more
        than ``daily_limit`` credits. Raises IdempotencyConflict when the key was first used for
        another request, DailyLimitReached when the job would go over the limit."""
        now = time.time()

        async def insert(conn: aiosqlite.Connection) -> str:
            if new.idempotency_key is not None:
                async with conn.execute(
                    "SELECT id, request_hash FROM jobs WHERE idempotency_key = ?",
                    (new.idempotency_key,),
                ) as cursor:
                    row = await cursor.fetchone()
                if row is not None:
                    _check_same_request(row, new.request_hash)
                    return str(row["id"])
            if daily_limit is not None:
                committed = await _committed_since(conn, now - DAY_SECONDS)
                if committed + (new.expected_credits or 0.0) > daily_limit:
                    raise DailyLimitReached(committed, daily_limit)
            await conn.execute(
                "INSERT INTO jobs (id, kind, family, model, prompt, params, status,"
                " callback_token_hash, callback_expected, idempotency_key, expected_credits,"
                " client_ref, request_hash, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new.id,
                    new.kind.value,
                    new.family.value,
                    new.model,
                    new.prompt,
                    json.dumps(new.params, sort_keys=True),
                    new.callback_token_hash,
                    int(new.callback_expected),
                    new.idempotency_key,
                    new.expected_credits,
                    new.client_ref,
                    new.request_hash,
                    now,
                    now,
                ),
            )
            await _event(conn, new.id, None, JobStatus.PENDING, "created", now)
            return new.id

        job = await self.get_job(await self.db.write(insert))
        assert job is not None
        return job

    async def mark_submitted(self, job_id: str, task_id: str) -> bool:
        """pending -> processing, recording kie's task id."""
        return await self._transition(
            job_id,
            JobStatus.PROCESSING,
            "submitted to kie.ai",
            "task_id = ?, task_state = 'waiting'",
            (task_id,),
            only_from=(JobStatus.PENDING,),
        )

    async def adopt_task(self, job_id: str, task_id: str) -> bool:
        """pending -> processing with the task id an authentic callback names, for a job whose
        create response never came back; False if it is not pending or the id is taken."""
        if await self.db.fetch_one("SELECT 1 FROM jobs WHERE task_id = ?", (task_id,)):
            return False
        return await self._transition(
            job_id,
            JobStatus.PROCESSING,
            "task id taken from kie.ai's callback",
            "task_id = ?, task_state = 'waiting'",
            (task_id,),
            only_from=(JobStatus.PENDING,),
        )

    async def set_task_state(self, job_id: str, state: TaskState) -> None:
        """Record kie's latest non-terminal state; never touches a terminal job."""

        async def update(conn: aiosqlite.Connection) -> None:
            await conn.execute(
                "UPDATE jobs SET task_state = ?, updated_at = ?"
                f" WHERE id = ? AND status IN {_OPEN}",
                (state.value, time.time(), job_id),
            )

        await self.db.write(update)

    async def complete_job(
        self, job_id: str, assets: Sequence[Asset], credits: float | None
    ) -> bool:
        """processing -> completed with its assets in one transaction; False if already terminal."""

        async def insert_assets(conn: aiosqlite.Connection) -> None:
            await conn.executemany(
                "INSERT INTO assets (id, job_id, idx, kind, path, mime_type, bytes, sha256,"
                " source_url, width, height, duration, created_at, thumbnail_path)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        a.id,
                        a.job_id,
                        a.index,
                        a.kind.value,
                        a.path,
                        a.mime_type,
                        a.bytes,
                        a.sha256,
                        a.source_url,
                        a.width,
                        a.height,
                        a.duration,
                        a.created_at,
                        a.thumbnail_path,
                    )
                    for a in assets
                ],
            )

        return await self._transition(
            job_id,
            JobStatus.COMPLETED,
            "kie.ai reported success; outputs stored",
            "task_state = 'success', credits = ?",
            (credits,),
            then=insert_assets,
        )

    async def fail_job(self, job_id: str, error: JobError, task_state: TaskState | None) -> bool:
        return await self._transition(
            job_id,
            JobStatus.FAILED,
            f"failed: {error.category}",
            "task_state = COALESCE(?, task_state), error_category = ?, error_message = ?,"
            " error_retryable = ?, error_provider_code = ?",
            (
                task_state.value if task_state else None,
                error.category,
                error.message,
                int(error.retryable),
                error.provider_code,
            ),
        )

    async def _transition(
        self,
        job_id: str,
        to: JobStatus,
        cause: str,
        assignments: str,
        values: tuple[object, ...],
        only_from: tuple[JobStatus, ...] = (JobStatus.PENDING, JobStatus.PROCESSING),
        then: _WriteStep | None = None,
    ) -> bool:
        allowed = ", ".join(f"'{s.value}'" for s in only_from)

        async def update(conn: aiosqlite.Connection) -> bool:
            now = time.time()
            async with conn.execute(
                f"SELECT status FROM jobs WHERE id = ? AND status IN ({allowed})", (job_id,)
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return False
            await conn.execute(
                f"UPDATE jobs SET status = ?, updated_at = ?, {assignments} WHERE id = ?",
                (to.value, now, *values, job_id),
            )
            await _event(conn, job_id, JobStatus(row["status"]), to, cause, now)
            if then is not None:
                await then(conn)
            return True

        return await self.db.write(update)

    async def get_job(self, job_id: str) -> Job | None:
        row = await self.db.fetch_one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        if row is None:
            return None
        assets = await self.db.fetch_all(
            "SELECT * FROM assets WHERE job_id = ? ORDER BY idx", (job_id,)
        )
        return _job(row, tuple(_asset(a) for a in assets))

    async def find_by_idempotency_key(
        self, key: str, request_hash: str | None = None
    ) -> Job | None:
        """The job first made with ``key``; IdempotencyConflict if it was made from a request
        other than ``request_hash`` (when both are known)."""
        row = await self.db.fetch_one(
            "SELECT id, request_hash FROM jobs WHERE idempotency_key = ?", (key,)
        )
        if row is None:
            return None
        _check_same_request(row, request_hash)
        return await self.get_job(str(row["id"]))

    async def callback_token_hash(self, job_id: str) -> str | None:
        row = await self.db.fetch_one(
            "SELECT callback_token_hash FROM jobs WHERE id = ?", (job_id,)
        )
        return str(row["callback_token_hash"]) if row and row["callback_token_hash"] else None

    async def open_jobs(self) -> list[Job]:
        rows = await self.db.fetch_all(
            f"SELECT * FROM jobs WHERE status IN {_OPEN} ORDER BY created_at"
        )
        return [_job(row, ()) for row in rows]

    async def list_jobs(self, query: MediaQuery) -> MediaPage:
        """One page of jobs with their assets (see storage.library for the paging rules)."""
        clause, params = where_clause(query)
        rows = await self.db.fetch_all(f"SELECT * FROM jobs {clause}", params)
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        jobs = await self._with_assets(rows)
        next_cursor = None
        if more and jobs:
            last = jobs[-1]
            next_cursor = encode_cursor(last.created_at, last.id, query.newest_first)
        return MediaPage(jobs, next_cursor)

    async def _with_assets(self, rows: Sequence[sqlite3.Row]) -> list[Job]:
        if not rows:
            return []
        ids = [str(r["id"]) for r in rows]
        marks = ", ".join("?" for _ in ids)
        asset_rows = await self.db.fetch_all(
            f"SELECT * FROM assets WHERE job_id IN ({marks}) ORDER BY job_id, idx", ids
        )
        by_job: dict[str, list[Asset]] = {}
        for a in asset_rows:
            by_job.setdefault(str(a["job_id"]), []).append(_asset(a))
        return [_job(r, tuple(by_job.get(str(r["id"]), ()))) for r in rows]

    async def get_asset(self, asset_id: str) -> Asset | None:
        row = await self.db.fetch_one("SELECT * FROM assets WHERE id = ?", (asset_id,))
        return _asset(row) if row else None

    # ------------------------------------------------------------------ deleting

    async def delete_asset(self, asset_id: str) -> Asset | None:
        """Remove one asset's row; the caller removes its files. None if there was none."""

        async def delete(conn: aiosqlite.Connection) -> Asset | None:
            async with conn.execute("SELECT * FROM assets WHERE id = ?", (asset_id,)) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            await conn.execute("DELETE FROM assets WHERE id = ?", (asset_id,))
            return _asset(row)

        return await self.db.write(delete)

    async def delete_jobs(self, job_ids: Sequence[str] | None) -> tuple[list[str], list[Asset]]:
        """Remove finished jobs (all finished jobs when ``job_ids`` is None) with their assets,
        events and inbox rows. Running jobs are never removed: kie.ai is still working (and
        charging) for them. Returns the ids removed and their assets, whose files the caller
        removes after the commit."""

        async def delete(conn: aiosqlite.Connection) -> tuple[list[str], list[Asset]]:
            scope, params = ("", []) if job_ids is None else _in("id", job_ids)
            async with conn.execute(
                f"SELECT id FROM jobs WHERE status NOT IN {_OPEN} {scope}", params
            ) as cursor:
                ids = [str(r["id"]) for r in await cursor.fetchall()]
            if not ids:
                return [], []
            chosen, chosen_params = _in("job_id", ids)
            async with conn.execute(
                f"SELECT * FROM assets WHERE 1 {chosen}", chosen_params
            ) as cursor:
                assets = [_asset(r) for r in await cursor.fetchall()]
            if job_ids is None:  # clearing everything: empty the index in one go
                await conn.execute(
                    "DELETE FROM jobs_fts WHERE job_id IN"
                    f" (SELECT id FROM jobs WHERE status NOT IN {_OPEN})"
                )
            await conn.execute(f"DELETE FROM webhook_inbox WHERE 1 {chosen}", chosen_params)
            by_id, by_id_params = _in("id", ids)
            await conn.execute(f"DELETE FROM jobs WHERE 1 {by_id}", by_id_params)
            return ids, assets

        return await self.db.write(delete)

    async def job_events(self, job_id: str) -> list[tuple[float, str | None, str, str]]:
        rows = await self.db.fetch_all(
            "SELECT at, from_status, to_status, cause FROM job_events WHERE job_id = ? ORDER BY id",
            (job_id,),
        )
        return [(r["at"], r["from_status"], r["to_status"], r["cause"]) for r in rows]

    async def credits_committed_since(self, since: float) -> float:
        """Credits spent or at stake for jobs created since ``since`` (see _committed_since)."""
        row = await self.db.fetch_one(_COMMITTED_SQL, (since,))
        return float(row[0]) if row else 0.0

    # ------------------------------------------------------------------ preferences

    async def preferences(self) -> dict[str, object]:
        rows = await self.db.fetch_all("SELECT key, value FROM preferences ORDER BY key")
        return {str(r["key"]): json.loads(r["value"]) for r in rows}

    async def set_preferences(self, changes: dict[str, object]) -> None:
        """Set each key to its value; a None value removes the key (back to the default)."""

        async def update(conn: aiosqlite.Connection) -> None:
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

    # ------------------------------------------------------------------ webhook inbox

    async def add_delivery(self, job_id: str, body: bytes) -> int:
        async def insert(conn: aiosqlite.Connection) -> int:
            cursor = await conn.execute(
                "INSERT INTO webhook_inbox (job_id, received_at, body) VALUES (?, ?, ?)",
                (job_id, time.time(), body),
            )
            return int(cursor.lastrowid or 0)

        return await self.db.write(insert)

    async def mark_delivery_processed(self, delivery_id: int) -> None:
        async def update(conn: aiosqlite.Connection) -> None:
            await conn.execute(
                "UPDATE webhook_inbox SET processed_at = ? WHERE id = ?",
                (time.time(), delivery_id),
            )

        await self.db.write(update)

    async def pending_deliveries(self, job_id: str | None = None) -> list[Delivery]:
        """Unprocessed deliveries, oldest first; only one job's when ``job_id`` is given."""
        where, params = ("AND job_id = ?", (job_id,)) if job_id else ("", ())
        rows = await self.db.fetch_all(
            "SELECT id, job_id, body FROM webhook_inbox"
            f" WHERE processed_at IS NULL {where} ORDER BY id",
            params,
        )
        return [Delivery(int(r["id"]), str(r["job_id"]), bytes(r["body"])) for r in rows]

    async def count(self, table: str) -> int:
        if table not in {"jobs", "assets", "webhook_inbox", "job_events"}:
            raise ValueError(f"unknown table {table!r}")
        row = await self.db.fetch_one(f"SELECT count(*) FROM {table}")
        return int(row[0]) if row else 0


_COMMITTED_SQL = (
    "SELECT COALESCE(SUM(COALESCE(credits, expected_credits)), 0) FROM jobs"
    " WHERE created_at >= ? AND (status != 'failed' OR error_category = 'uncertain')"
)


async def _committed_since(conn: aiosqlite.Connection, since: float) -> float:
    """What kie.ai charged where known, else the expected cost of jobs that are running, done,
    or whose submit may have gone through ("uncertain"): those are counted as spent."""
    async with conn.execute(_COMMITTED_SQL, (since,)) as cursor:
        row = await cursor.fetchone()
    return float(row[0]) if row else 0.0


def _check_same_request(row: sqlite3.Row, request_hash: str | None) -> None:
    stored = row["request_hash"]
    if stored is not None and request_hash is not None and stored != request_hash:
        raise IdempotencyConflict(str(row["id"]))


def _in(column: str, values: Sequence[str]) -> tuple[str, list[str]]:
    return f"AND {column} IN ({', '.join('?' for _ in values)})", list(values)


async def _event(
    conn: aiosqlite.Connection,
    job_id: str,
    from_status: JobStatus | None,
    to_status: JobStatus,
    cause: str,
    at: float,
) -> None:
    await conn.execute(
        "INSERT INTO job_events (job_id, at, from_status, to_status, cause) VALUES (?, ?, ?, ?, ?)",
        (job_id, at, from_status.value if from_status else None, to_status.value, cause),
    )


def _job(row: sqlite3.Row, assets: tuple[Asset, ...]) -> Job:
    error = None
    if row["error_category"]:
        error = JobError(
            category=row["error_category"],
            message=row["error_message"] or "",
            retryable=bool(row["error_retryable"]),
            provider_code=row["error_provider_code"],
        )
    return Job(
        id=row["id"],
        kind=MediaKind(row["kind"]),
        family=ApiFamily(row["family"]),
        model=row["model"],
        prompt=row["prompt"],
        params=json.loads(row["params"]),
        status=JobStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        task_id=row["task_id"],
        task_state=TaskState(row["task_state"]) if row["task_state"] else None,
        callback_expected=bool(row["callback_expected"]),
        expected_credits=row["expected_credits"],
        credits=row["credits"],
        error=error,
        assets=assets,
        client_ref=row["client_ref"],
    )


def _asset(row: sqlite3.Row) -> Asset:
    return Asset(
        id=row["id"],
        job_id=row["job_id"],
        index=row["idx"],
        kind=MediaKind(row["kind"]),
        path=row["path"],
        mime_type=row["mime_type"],
        bytes=row["bytes"],
        sha256=row["sha256"],
        source_url=row["source_url"],
        created_at=row["created_at"],
        width=row["width"],
        height=row["height"],
        duration=row["duration"],
        thumbnail_path=row["thumbnail_path"],
    )
