"""Which stored files the library still refers to: what the sweep of unreferenced objects asks.

A writer publishes a job's files under write-once names before the job's completion records
them as assets (the path and the preview's path). A writer killed in between leaves files no
row names; the sweep (jobs.sweep) removes them once they are old enough, and only for jobs
that are no longer running, since a running job's writer may still be about to record them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mcp_server_kie.domain import JobStatus
from mcp_server_kie.storage.database import Database

_BATCH = 500  # ids per IN (...) list


@dataclass(frozen=True, slots=True)
class JobFiles:
    """A job's status and every location its assets refer to (files and previews)."""

    status: JobStatus
    locations: frozenset[str]


class FileQueries:
    db: Database

    async def job_files(self, job_ids: Sequence[str]) -> dict[str, JobFiles]:
        """The status and referenced locations of each of these jobs that exists (a job
        deleted from the library is absent)."""
        wanted = sorted(set(job_ids))
        found: dict[str, JobFiles] = {}
        for start in range(0, len(wanted), _BATCH):
            ids = wanted[start : start + _BATCH]
            marks = ", ".join("?" for _ in ids)
            jobs = await self.db.fetch_all(
                f"SELECT id, status FROM jobs WHERE id IN ({marks})", ids
            )
            assets = await self.db.fetch_all(
                f"SELECT job_id, path, thumbnail_path FROM assets WHERE job_id IN ({marks})", ids
            )
            locations: dict[str, set[str]] = {str(row["id"]): set() for row in jobs}
            for row in assets:
                named = locations.setdefault(str(row["job_id"]), set())
                named.update(str(p) for p in (row["path"], row["thumbnail_path"]) if p)
            for row in jobs:
                job_id = str(row["id"])
                found[job_id] = JobFiles(JobStatus(row["status"]), frozenset(locations[job_id]))
        return found
