"""Jobs, assets, the webhook inbox and job events, in domain words.

State transitions are monotonic and enforced in SQL: an update that would leave a terminal
state matches no row, so a duplicate or late event is a no-op whatever order it arrives in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from mcp_server_kie.domain import Asset, Job, JobError, JobStatus, TaskState
from mcp_server_kie.storage import transitions
from mcp_server_kie.storage.backends import open_database
from mcp_server_kie.storage.database import Database, OnChange, OnHearing, Row, Transaction
from mcp_server_kie.storage.due import DueQueries
from mcp_server_kie.storage.errors import DailyLimitReached
from mcp_server_kie.storage.files import FileQueries
from mcp_server_kie.storage.group_commit import BatchCommit, GroupCommit
from mcp_server_kie.storage.history import JobHistory, record_event
from mcp_server_kie.storage.inbox import InboxAndPreferences, keep_all
from mcp_server_kie.storage.job_reads import JobReads, check_same_request, committed_since
from mcp_server_kie.storage.leases import LeaseQueries
from mcp_server_kie.storage.library import LibraryQueries
from mcp_server_kie.storage.pace import PaceQueries
from mcp_server_kie.storage.records import OPEN_STATUSES, NewJob, job_from_row
from mcp_server_kie.storage.sqlite import SqliteDatabase
from mcp_server_kie.storage.targets import KnownTargets

_OPEN = OPEN_STATUSES
DAY_SECONDS = 24 * 60 * 60


class Store(
    LibraryQueries,
    InboxAndPreferences,
    LeaseQueries,
    PaceQueries,
    DueQueries,
    FileQueries,
    JobHistory,
    JobReads,
):
    """The one object the engine, tools and server hold; the SQL behind it is portable and
    runs on the Database it was opened with (SQLite or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.inbox_commits = GroupCommit(db)
        self.delivery_commits = BatchCommit(db, partial(keep_all, db))
        self.known_targets = KnownTargets()

    @classmethod
    async def open(cls, path: Path) -> Store:
        """The store in a SQLite file (the embedded default)."""
        return cls(await SqliteDatabase.open(path))

    @classmethod
    async def connect(cls, url: str | None, default_path: Path | None = None) -> Store:
        """The store ``url`` names (see storage.backends.open_database)."""
        return cls(await open_database(url, default_path))

    @property
    def backend(self) -> str:
        """Which database this is, for logs and doctor (never a password)."""
        return self.db.description

    @property
    def backend_kind(self) -> str:
        """'sqlite' or 'postgresql' (what /healthz may tell anyone)."""
        return self.db.dialect.name

    async def answers(self) -> bool:
        return await self.db.ping()

    async def check(self) -> str:
        """'ok' when the database answers and is sound; otherwise what is wrong."""
        return await self.db.integrity_check()

    @property
    def announces_changes(self) -> bool:
        """Whether another process's job changes are announced (``follow_changes``) rather
        than found by re-reading the store (PostgreSQL: yes; SQLite: no)."""
        return self.db.dialect.announces_changes

    async def follow_changes(self, on_change: OnChange, on_hearing: OnHearing) -> None:
        """Call ``on_change(job_id)`` whenever another process changes a job (PostgreSQL's
        LISTEN/NOTIFY), and ``on_hearing`` as listening starts and breaks off (see
        Database.listen); on SQLite nothing arrives. Runs until cancelled."""
        await self.db.listen(on_change, on_hearing)

    async def close(self) -> None:
        await self.inbox_commits.close()
        await self.delivery_commits.close()
        await self.db.close()

    # ------------------------------------------------------------------ jobs

    async def create_job(self, new: NewJob, *, daily_limit: float | None = None) -> Job:
        """Write a new pending job, deciding idempotency and the daily credit limit in the same
        transaction (one writer at a time across processes): concurrent callers with one
        idempotency key all get the first caller's job, and together they never commit more
        than ``daily_limit`` credits. Raises IdempotencyConflict when the key was first used for
        another request, DailyLimitReached when the job would go over the limit."""
        now = time.time()

        async def insert(conn: Transaction) -> str:
            await conn.serialize("jobs.create")  # one create at a time, across all processes
            if new.idempotency_key is not None:
                row = await conn.fetch_one(
                    "SELECT id, request_hash FROM jobs WHERE idempotency_key = ?",
                    (new.idempotency_key,),
                )
                if row is not None:
                    check_same_request(row, new.request_hash)
                    return str(row["id"])
            if daily_limit is not None:
                committed = await committed_since(conn, now - DAY_SECONDS)
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
            await record_event(conn, new.id, None, JobStatus.PENDING, "created", now)
            return new.id

        job = await self.get_job(await self.db.write(insert))
        assert job is not None
        if job.id == new.id:
            self.known_targets.created(
                new.id, new.callback_token_hash, new.family, job.kind, job.created_at
            )
        return job

    async def mark_submitted(self, job_id: str, task_id: str) -> bool:
        """pending -> processing, recording kie's task id."""
        moved = await self._transition(
            job_id,
            JobStatus.PROCESSING,
            "submitted to kie.ai",
            "task_id = ?, task_state = 'waiting', check_at = NULL",
            (task_id,),
            only_from=(JobStatus.PENDING,),
        )
        if moved is None:
            return False
        self.known_targets.submitted(job_id, task_id)
        return True

    async def adopt_task(self, job_id: str, task_id: str) -> bool:
        """pending -> processing with the task id an authentic callback names, for a job whose
        create response never came back; False if it is not pending or the id is taken."""
        if await self.db.fetch_one("SELECT 1 FROM jobs WHERE task_id = ?", (task_id,)):
            return False
        moved = await self._transition(
            job_id,
            JobStatus.PROCESSING,
            "task id taken from kie.ai's callback",
            "task_id = ?, task_state = 'waiting', check_at = NULL",
            (task_id,),
            only_from=(JobStatus.PENDING,),
        )
        if moved is None:
            return False
        self.known_targets.submitted(job_id, task_id)
        return True

    async def set_task_state(self, job_id: str, state: TaskState) -> None:
        """Record kie's latest non-terminal state; never touches a terminal job."""

        async def update(conn: Transaction) -> None:
            await conn.execute(
                "UPDATE jobs SET task_state = ?, updated_at = ?"
                f" WHERE id = ? AND status IN {_OPEN}",
                (state.value, time.time(), job_id),
            )
            await conn.notify(job_id)

        await self.db.write(update)

    async def complete_job(
        self, job_id: str, assets: Sequence[Asset], credits: float | None
    ) -> Job | None:
        """processing -> completed with its assets in one transaction: the job as stored then
        (what get_job would read), or None if it was terminal already."""
        row = await self._transition(
            job_id,
            JobStatus.COMPLETED,
            "kie.ai reported success; outputs stored",
            "task_state = 'success', credits = ?",
            (credits,),
            assets=assets,
        )
        if row is None:
            return None
        return job_from_row(row, tuple(sorted(assets, key=lambda asset: asset.index)))

    async def fail_job(self, job_id: str, error: JobError, task_state: TaskState | None) -> bool:
        moved = await self._transition(
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
        return moved is not None

    async def _transition(
        self,
        job_id: str,
        to: JobStatus,
        cause: str,
        assignments: str,
        values: tuple[object, ...],
        only_from: tuple[JobStatus, ...] = (JobStatus.PENDING, JobStatus.PROCESSING),
        assets: Sequence[Asset] = (),
    ) -> Row | None:
        change = transitions.Transition(job_id, to, cause, assignments, values, only_from, assets)
        return await transitions.apply(self.db, change)
