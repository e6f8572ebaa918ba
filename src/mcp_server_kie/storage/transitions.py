"""A job's status change: the rule (only from the statuses named, so a late or duplicate
event matches nothing), its event in the job's history, its files, and the notification
that wakes waiters in other processes, all committed together or not at all.

On SQLite the steps are statements of one write transaction, all run on the writer's thread
in one hop. On PostgreSQL each statement of a transaction is a round trip (seven for a
completion: BEGIN, the row lock, the update, the event, the files, NOTIFY, COMMIT), so there
the change is one statement: data-modifying WITH clauses, committed on their own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from mcp_server_kie.domain import Asset, JobStatus
from mcp_server_kie.storage.database import Database, Row, Transaction
from mcp_server_kie.storage.history import record_event
from mcp_server_kie.storage.records import ASSET_COLUMNS, asset_row, job_columns

_ASSET_COLUMNS = ", ".join(ASSET_COLUMNS)
_FILE_COLUMNS = ", ".join(f"file.{column}" for column in ASSET_COLUMNS)  # (moved has an id too)
_INSERT_ASSETS = (
    f"INSERT INTO assets ({_ASSET_COLUMNS}) VALUES ({', '.join('?' for _ in ASSET_COLUMNS)})"
)


@dataclass(frozen=True, slots=True)
class Transition:
    job_id: str
    to: JobStatus
    cause: str  # recorded in the job's history
    assignments: str  # "column = ?, ..." set beside the status and updated_at
    values: tuple[object, ...]  # the assignments' parameters
    only_from: tuple[JobStatus, ...]
    assets: Sequence[Asset] = ()  # inserted with the change


async def apply(db: Database, change: Transition) -> Row | None:
    """Make the change; the job's row as it committed (JOB_COLUMNS), so that nobody needs to
    read it back. None (and nothing written) when the job is not in one of the statuses it
    may move from (already terminal, or gone)."""
    notice = db.notice(change.job_id)
    if db.dialect.writable_ctes and notice is not None:
        sql, params = _one_statement(change, notice, time.time())
        rows = await db.write_one(sql, params)
        return rows[0] if rows else None

    async def in_transaction(conn: Transaction) -> Row | None:
        return await _in_transaction(conn, change, db.dialect.for_update, time.time())

    return await db.write(in_transaction)


async def _in_transaction(
    conn: Transaction, change: Transition, for_update: str, now: float
) -> Row | None:
    was = await conn.fetch_one(
        f"SELECT status FROM jobs WHERE id = ? AND status IN ({_allowed(change)})" + for_update,
        (change.job_id,),
    )
    if was is None:
        return None
    row = await conn.fetch_one(
        f"UPDATE jobs SET status = ?, updated_at = ?, {change.assignments} WHERE id = ?"
        f" RETURNING {job_columns()}",
        (change.to.value, now, *change.values, change.job_id),
    )
    await record_event(conn, change.job_id, JobStatus(was["status"]), change.to, change.cause, now)
    if change.assets:
        await conn.execute_many(_INSERT_ASSETS, [asset_row(a) for a in change.assets])
    return row


def _one_statement(
    change: Transition, notice: tuple[str, Sequence[object]], now: float
) -> tuple[str, list[object]]:
    """The change as one PostgreSQL statement; it returns the job's row if the job moved. The row
    lock, and the re-check of the status after waiting for it, are the transaction's own
    (SELECT ... FOR UPDATE under READ COMMITTED)."""
    notify_sql, notify_params = notice
    sql = (
        "WITH was AS ("
        f" SELECT id, status FROM jobs WHERE id = ? AND status IN ({_allowed(change)}) FOR UPDATE"
        "), moved AS ("
        f" UPDATE jobs SET status = ?, updated_at = ?, {change.assignments}"
        " FROM was WHERE jobs.id = was.id"
        f" RETURNING was.status AS from_status, {job_columns('jobs')}"
        "), event AS ("
        " INSERT INTO job_events (job_id, at, from_status, to_status, cause)"
        " SELECT ?, ?, from_status, ?, ? FROM moved"
        ")"
    )
    params: list[object] = [
        change.job_id,
        change.to.value,
        now,
        *change.values,
        change.job_id,
        now,
        change.to.value,
        change.cause,
    ]
    if change.assets:
        # The files as JSON rows typed by the table's own row type (no second spelling of it).
        sql += (
            f", files AS (INSERT INTO assets ({_ASSET_COLUMNS}) SELECT {_FILE_COLUMNS}"
            " FROM moved, jsonb_populate_recordset(NULL::assets, ?::jsonb) AS file)"
        )
        rows = [dict(zip(ASSET_COLUMNS, asset_row(a), strict=True)) for a in change.assets]
        params.append(json.dumps(rows))
    sql += f" SELECT {job_columns()}, {notify_sql} FROM moved"
    params.extend(notify_params)
    return sql, params


def _allowed(change: Transition) -> str:
    return ", ".join(f"'{s.value}'" for s in change.only_from)
