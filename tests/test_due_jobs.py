"""The reconciler's schedule in the store (issue 16): a sweep reads only the open jobs that are
due, through an index, and one taker moves a due job forward; on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import replace
from pathlib import Path

from mcp_server_kie.domain import JobError, JobStatus
from mcp_server_kie.storage import Store
from mcp_server_kie.storage.due import DUE_JOBS_SQL
from test_storage import asset, new_job


async def test_a_sweep_reads_only_due_jobs_and_one_taker_moves_each(
    tmp_path: Path, database_url: str
) -> None:
    store = await Store.connect(database_url, tmp_path / "kie.sqlite3")
    try:
        for job_id in ("job_new", "job_due", "job_later", "job_done"):
            await store.create_job(new_job(job_id))
            await store.mark_submitted(job_id, f"task_{job_id}")
        now = time.time()
        assert await store.reschedule("job_due", None, now - 1)
        assert await store.reschedule("job_later", None, now + 60)
        assert await store.reschedule("job_done", None, now - 1)
        await store.fail_job("job_done", JobError("timeout", "gone"), None)
        due = await store.due_jobs(now)
        # Never scheduled (None) and overdue ones only, the most overdue first; none that ended.
        assert [(job.id, seen) for job, seen in due] == [("job_new", None), ("job_due", now - 1)]
        # Two processes that read the same due time: only the first moves it.
        assert await store.reschedule("job_due", now - 1, now + 5)
        assert not await store.reschedule("job_due", now - 1, now + 7)
        assert not await store.reschedule("job_done", now - 1, now + 5)  # ended: no schedule
        assert [job.id for job, _ in await store.due_jobs(now)] == ["job_new"]
        # A job that starts processing is scheduled afresh (its first look comes first), and
        # a move meant for it while pending no longer applies.
        await store.create_job(new_job("job_pending"))
        assert await store.reschedule("job_pending", None, now + 120, JobStatus.PENDING)
        await store.mark_submitted("job_pending", "task_pending")
        assert "job_pending" in {job.id for job, _ in await store.due_jobs(now)}
        assert not await store.reschedule("job_pending", None, now + 120, JobStatus.PENDING)
        assert await store.open_among(["job_due", "job_done", "job_none"]) == {"job_due"}
    finally:
        await store.close()


async def test_previews_pending_are_found_and_recorded_once(
    tmp_path: Path, database_url: str
) -> None:
    store = await Store.connect(database_url, tmp_path / "kie.sqlite3")
    try:
        await store.create_job(new_job("job_1"))
        await store.mark_submitted("job_1", "task_1")
        pending = asset("job_1")
        await store.complete_job("job_1", [replace(pending, preview_pending=True)], 4.0)
        assert await store.jobs_awaiting_preview() == ["job_1"]
        assert await store.record_preview(pending.id, "/tmp/job_1/0.thumb.jpg")
        assert not await store.record_preview(pending.id, "/tmp/job_1/0.other.thumb.jpg")
        job = await store.get_job("job_1")
        assert job is not None
        assert job.assets[0].thumbnail_path == "/tmp/job_1/0.thumb.jpg"
        assert not job.assets[0].preview_pending
        assert await store.jobs_awaiting_preview() == []
    finally:
        await store.close()


async def test_the_due_query_reads_an_index_on_sqlite(tmp_path: Path) -> None:
    """The sweep's query reads the partial index over open jobs, never the whole table."""
    store = await Store.open(tmp_path / "kie.sqlite3")
    await store.close()
    with sqlite3.connect(tmp_path / "kie.sqlite3") as conn:
        plan = [
            str(row[-1])
            for row in conn.execute(f"EXPLAIN QUERY PLAN {DUE_JOBS_SQL}", (time.time(), 100))
        ]
    reads = [step for step in plan if "jobs" in step]
    assert reads and all("USING INDEX" in step for step in reads), plan
