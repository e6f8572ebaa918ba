"""The reconciler's writes (issue 16): a sweep moves every due job it saw in one transaction
(compare-and-set per job), not one transaction (and one fsync) per job. A burst of new jobs
used to cost the writer one commit each while callbacks were being acknowledged."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from mcp_server_kie.domain import Job, JobError, JobStatus
from mcp_server_kie.storage import Move, Store
from support import eventually
from test_reconciler import reconciler, sandbox_config
from test_storage import new_job

JOBS = 60


async def test_many_moves_in_one_call_each_compare_and_set(
    tmp_path: Path, database_url: str
) -> None:
    store = await Store.connect(database_url, tmp_path / "kie.sqlite3")
    try:
        for job_id in ("job_a", "job_b", "job_c", "job_done", "job_pending"):
            await store.create_job(new_job(job_id))
            if job_id != "job_pending":
                await store.mark_submitted(job_id, f"task_{job_id}")
        now = time.time()
        assert await store.reschedule_all([]) == set()
        assert await store.reschedule_all(
            [Move("job_a", None, now - 1), Move("job_b", None, now - 2), Move("job_done", None, 1)]
        ) == {"job_a", "job_b", "job_done"}
        await store.fail_job("job_done", JobError("timeout", "gone"), None)
        moved = await store.reschedule_all(
            [
                Move("job_a", now - 1, now + 5),  # as read: moved
                Move("job_b", now - 7, now + 5),  # read something else: another process's
                Move("job_c", None, now + 9),  # never scheduled: moved
                Move("job_done", 1, now + 5),  # ended: no schedule
                Move("job_pending", None, now + 120, JobStatus.PENDING),
                Move("job_missing", None, now),
            ]
        )
        assert moved == {"job_a", "job_c", "job_pending"}
        # A status that no longer holds moves nothing.
        assert not await store.reschedule_all([Move("job_a", now + 5, now + 6, JobStatus.PENDING)])
        due = {job.id: seen for job, seen in await store.due_jobs(now + 10)}
        assert due == {"job_a": now + 5, "job_b": now - 2, "job_c": now + 9}
    finally:
        await store.close()


async def test_a_sweep_schedules_a_burst_of_new_jobs_in_one_transaction(tmp_path: Path) -> None:
    """Counted in the write-ahead log: one transaction writes each page it changes once, one
    transaction per job writes the jobs' pages (and the index's) again for every job."""
    database = tmp_path / "kie.sqlite3"
    store = await Store.open(database)
    for n in range(JOBS):
        await store.create_job(new_job(f"job_{n:03}"))
        await store.mark_submitted(f"job_{n:03}", f"task_{n}")
    await store.close()  # the last connection out checkpoints: the log starts empty
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1] in (0, -1)

        def all_scheduled() -> bool:
            return not conn.execute("SELECT 1 FROM jobs WHERE check_at IS NULL").fetchone()

        config = sandbox_config()
        async with reconciler(tmp_path, config, public_url="http://127.0.0.1:9", callback_wait=60):
            await eventually(all_scheduled, what="every new job's first look scheduled")
            frames = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
            looks = [row[0] for row in conn.execute("SELECT check_at FROM jobs")]
    assert len(looks) == JOBS and all(at > time.time() + 30 for at in looks)
    # One transaction: a handful of pages; one per job would be at least two per job.
    assert 0 < frames < JOBS / 2, frames


async def test_a_sweep_abandons_a_stale_pending_job_and_leaves_a_fresh_one(tmp_path: Path) -> None:
    """A job still pending two minutes after creation was interrupted mid-submit (a killed
    process): the sweep that moves it fails it as uncertain; a fresh pending one waits."""
    database = tmp_path / "kie.sqlite3"
    store = await Store.open(database)
    await store.create_job(new_job("job_stale"))
    await store.create_job(new_job("job_fresh"))
    await store.close()
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE jobs SET created_at = created_at - 200 WHERE id = 'job_stale'")
    async with reconciler(tmp_path, sandbox_config(), callback_wait=60) as (_, engine):
        stale = await eventually(
            lambda: _ended(engine.store, "job_stale"), what="the stale job abandoned"
        )
        fresh = await engine.store.get_job("job_fresh")
        due = {job.id for job, _ in await engine.store.due_jobs(time.time() + 60)}
    assert stale.error is not None and stale.error.category == "uncertain", stale
    assert fresh is not None and fresh.status is JobStatus.PENDING
    assert "job_fresh" not in due  # looked at again once stale, two minutes after creation


async def _ended(store: Store, job_id: str) -> Job | None:
    job = await store.get_job(job_id)
    return job if job is not None and job.status.terminal else None
