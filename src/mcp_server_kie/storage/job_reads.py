"""Reading jobs back: one job with its assets, by id or by idempotency key; the open jobs;
and the credits committed over a period (what the daily limit counts).
"""

from __future__ import annotations

from mcp_server_kie.domain import Job
from mcp_server_kie.storage.database import Database, Row, Transaction
from mcp_server_kie.storage.errors import IdempotencyConflict
from mcp_server_kie.storage.records import (
    ASSET_COLUMNS,
    OPEN_STATUSES,
    asset_from_row,
    job_columns,
    job_from_row,
)

# A job's row, once per asset (once when it has none), each with that asset's columns.
_JOB_AND_ASSETS = (
    f"SELECT {job_columns('j')}, "
    + ", ".join(f"a.{column} AS asset_{column}" for column in ASSET_COLUMNS)
    + " FROM jobs j LEFT JOIN assets a ON a.job_id = j.id WHERE j.id = ? ORDER BY a.idx"
)


class JobReads:
    db: Database

    async def get_job(self, job_id: str) -> Job | None:
        """The job with its assets, in one query: one snapshot, one round trip."""
        rows = await self.db.fetch_by_key(_JOB_AND_ASSETS, (job_id,))
        if not rows:
            return None
        assets = tuple(
            asset_from_row({column: row[f"asset_{column}"] for column in ASSET_COLUMNS})
            for row in rows
            if row["asset_id"] is not None
        )
        return job_from_row(rows[0], assets)

    async def find_by_idempotency_key(
        self, key: str, request_hash: str | None = None
    ) -> Job | None:
        """The job first made with ``key``; IdempotencyConflict if it was made from a request
        other than ``request_hash`` (when both are known)."""
        rows = await self.db.fetch_by_key(
            "SELECT id, request_hash FROM jobs WHERE idempotency_key = ?", (key,)
        )
        if not rows:
            return None
        check_same_request(rows[0], request_hash)
        return await self.get_job(str(rows[0]["id"]))

    async def open_jobs(self) -> list[Job]:
        rows = await self.db.fetch_all(
            f"SELECT {job_columns()} FROM jobs WHERE status IN {OPEN_STATUSES} ORDER BY created_at"
        )
        return [job_from_row(row, ()) for row in rows]

    async def credits_committed_since(self, since: float) -> float:
        """Credits spent or at stake for jobs created since ``since`` (see committed_since)."""
        row = await self.db.fetch_one(COMMITTED_SQL, (since,))
        return float(row["committed"]) if row else 0.0


COMMITTED_SQL = (
    "SELECT COALESCE(SUM(COALESCE(credits, expected_credits)), 0) AS committed FROM jobs"
    " WHERE created_at >= ? AND (status != 'failed' OR error_category = 'uncertain')"
)


async def committed_since(conn: Transaction, since: float) -> float:
    """What kie.ai charged where known, else the expected cost of jobs that are running, done,
    or whose submit may have gone through ("uncertain"): those are counted as spent."""
    row = await conn.fetch_one(COMMITTED_SQL, (since,))
    return float(row["committed"]) if row else 0.0


def check_same_request(row: Row, request_hash: str | None) -> None:
    stored = row["request_hash"]
    if stored is not None and request_hash is not None and stored != request_hash:
        raise IdempotencyConflict(str(row["id"]))
