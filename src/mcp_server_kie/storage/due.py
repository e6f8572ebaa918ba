"""Work that comes due: the reconciler's next look at each open job, and previews still to
be made for completed jobs.

``jobs.check_at`` is when the reconciler next looks at an open job (NULL: it has not been
scheduled yet); an index on it over open jobs lets a sweep read only the jobs that are due,
however many are open. A process takes a due job by moving its ``check_at`` forward from
the value it read (compare-and-set), so across processes and replicas one of them polls it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from mcp_server_kie.domain import Job, JobStatus
from mcp_server_kie.storage.database import Database, Transaction
from mcp_server_kie.storage.records import OPEN_STATUSES, job_columns, job_from_row

# Open jobs due by a time (parameters: now, limit); reads the partial index jobs_due.
DUE_JOBS_SQL = (
    f"SELECT {job_columns()}, check_at FROM jobs WHERE status IN {OPEN_STATUSES}"
    " AND (check_at IS NULL OR check_at <= ?)"
    " ORDER BY COALESCE(check_at, 0) LIMIT ?"
)


class Move(NamedTuple):
    """One job's next look: to ``at``, if its ``check_at`` is still ``seen`` (as read) and,
    when ``status`` is given, its status still that."""

    job_id: str
    seen: float | None
    at: float
    status: JobStatus | None = None


def _move_params(move: Move) -> tuple[object, ...]:
    params: tuple[object, ...] = (move.at, move.job_id)
    if move.seen is not None:
        params += (move.seen,)
    if move.status is not None:
        params += (move.status.value,)
    return params


class DueQueries:
    db: Database

    async def due_jobs(self, now: float, limit: int = 100) -> list[tuple[Job, float | None]]:
        """Open jobs whose ``check_at`` has come (or was never set), the most overdue first,
        without their assets; each with the ``check_at`` read (for ``reschedule``)."""
        rows = await self.db.fetch_all(DUE_JOBS_SQL, (now, limit))
        return [(job_from_row(row, ()), row["check_at"]) for row in rows]

    async def reschedule(
        self, job_id: str, seen: float | None, at: float, status: JobStatus | None = None
    ) -> bool:
        """Set an open job's ``check_at`` to ``at`` if it is still ``seen`` (the value the
        caller read), and its status still ``status`` when given: True for the one caller
        that moved it."""
        return job_id in await self.reschedule_all([Move(job_id, seen, at, status)])

    async def reschedule_all(self, moves: Sequence[Move]) -> set[str]:
        """`reschedule` for many jobs (one move per job) in one transaction: the ids of the
        jobs moved. Written without waiting for the disk: a move a power cut loses only
        brings a job's next look sooner (one status read more), never loses a job."""
        if not moves:
            return set()
        shapes: dict[tuple[bool, bool], list[Move]] = {}
        for move in moves:
            shapes.setdefault((move.seen is None, move.status is not None), []).append(move)

        async def move_all(conn: Transaction) -> set[str]:
            moved: set[str] = set()
            for (unseen, with_status), group in shapes.items():
                matches = "check_at IS NULL" if unseen else "check_at = ?"
                if with_status:
                    matches += " AND status = ?"
                rows = await conn.fetch_each(
                    f"UPDATE jobs SET check_at = ? WHERE id = ? AND status IN {OPEN_STATUSES}"
                    f" AND {matches} RETURNING id",
                    [_move_params(move) for move in group],
                )
                moved.update(str(row["id"]) for row in rows if row is not None)
            return moved

        return await self.db.write(move_all, durable=False)

    async def open_among(self, job_ids: Sequence[str]) -> set[str]:
        """Which of these jobs are still open."""
        if not job_ids:
            return set()
        marks = ", ".join("?" for _ in job_ids)
        rows = await self.db.fetch_all(
            f"SELECT id FROM jobs WHERE id IN ({marks}) AND status IN {OPEN_STATUSES}",
            tuple(job_ids),
        )
        return {str(row["id"]) for row in rows}

    async def jobs_awaiting_preview(self, limit: int = 100) -> list[str]:
        """Ids of completed jobs with an asset whose preview is still to be made, oldest
        first (a crash can leave them so; the process that completed a job makes them)."""
        rows = await self.db.fetch_all(
            "SELECT job_id, MIN(created_at) AS first FROM assets WHERE preview_pending = 1"
            " GROUP BY job_id ORDER BY first LIMIT ?",
            (limit,),
        )
        return [str(row["job_id"]) for row in rows]

    async def record_preview(self, asset_id: str, thumbnail_path: str | None) -> bool:
        """Record an asset's preview (None: it has none) once; False when it was recorded
        already or the asset is gone, so the caller discards the file it made."""

        async def record(conn: Transaction) -> bool:
            row = await conn.fetch_one(
                "UPDATE assets SET thumbnail_path = ?, preview_pending = 0"
                " WHERE id = ? AND preview_pending = 1 RETURNING job_id",
                (thumbnail_path, asset_id),
            )
            if row is None:
                return False
            await conn.notify(str(row["job_id"]))
            return True

        return await self.db.write(record)
