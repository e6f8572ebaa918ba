"""A job's history: every status change and note, in order, with its cause; and the event
feed that resumed /events streams and other replicas read (each event also notifies).
"""

from __future__ import annotations

import time

from mcp_server_kie.domain import JobStatus
from mcp_server_kie.storage.database import Database, Transaction


class JobHistory:
    db: Database

    async def job_events(self, job_id: str) -> list[tuple[float, str | None, str, str]]:
        rows = await self.db.fetch_all(
            "SELECT at, from_status, to_status, cause FROM job_events WHERE job_id = ? ORDER BY id",
            (job_id,),
        )
        return [(r["at"], r["from_status"], r["to_status"], r["cause"]) for r in rows]

    async def record_job_note(self, job_id: str, cause: str) -> bool:
        """Add an event to a job's history that does not change its status (for instance, a
        task requester that stopped waiting). False when the job does not exist."""

        async def note(conn: Transaction) -> bool:
            row = await conn.fetch_one("SELECT status FROM jobs WHERE id = ?", (job_id,))
            if row is None:
                return False
            status = JobStatus(row["status"])
            await record_event(conn, job_id, status, status, cause, time.time())
            return True

        return await self.db.write(note)

    async def job_events_after(
        self, after: int, limit: int = 500
    ) -> list[tuple[int, str, JobStatus]]:
        """(event id, job id, the status it moved to) of the job events written after event
        ``after``, oldest first: what a resumed event stream has missed."""
        rows = await self.db.fetch_all(
            "SELECT id, job_id, to_status FROM job_events WHERE id > ? ORDER BY id LIMIT ?",
            (after, limit),
        )
        return [(int(r["id"]), str(r["job_id"]), JobStatus(r["to_status"])) for r in rows]

    async def last_job_event(self) -> int:
        """The id of the newest job event (0 when there is none)."""
        row = await self.db.fetch_one("SELECT COALESCE(MAX(id), 0) AS last FROM job_events")
        return int(row["last"]) if row else 0


async def record_event(
    conn: Transaction,
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
    await conn.notify(job_id)
