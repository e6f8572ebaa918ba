"""Two properties a mutant could quietly break: a waiter is woken by the completion itself
(not by its periodic re-read of the store), and paging through jobs that share one timestamp
returns each exactly once (the id breaks the tie)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from mcp_server_kie.domain import JobError
from mcp_server_kie.jobs import Engine, OutputStore
from mcp_server_kie.media import Fetcher
from mcp_server_kie.storage import MediaQuery, Store, decode_cursor
from test_webhook_security import TASK_ID, open_job

# Seconds from the completion's commit to the waiters' return (it takes ~1 ms): far below the
# hour between re-reads, with room for a busy CI machine.
WAKE_BOUND = 2.0


@pytest.mark.parametrize("waiters", [1, 5])
async def test_waiters_are_woken_by_the_completion_not_by_re_reading(
    tmp_path: Path, waiters: int
) -> None:
    store = await Store.open(tmp_path / "kie.sqlite3")
    try:
        async with Fetcher() as fetcher:
            # The re-read comes once an hour: only the completion's own signal can wake them.
            engine = Engine(
                store, None, OutputStore(fetcher, tmp_path / "media"), wait_recheck_seconds=3600
            )
            job_id = "job_" + "c" * 24
            await open_job(store, job_id, TASK_ID)
            waiting = [asyncio.create_task(engine.wait(job_id, 30)) for _ in range(waiters)]
            for _ in range(5):  # let them subscribe and read the job as still running
                await asyncio.sleep(0)
            assert not any(task.done() for task in waiting)
            await engine.give_up(job_id, JobError("deadline", "took too long"))
            finished = time.monotonic()
            jobs = await asyncio.wait_for(asyncio.gather(*waiting), timeout=5)
            woke = time.monotonic() - finished
        assert all(job is not None and job.status.terminal for job in jobs)
        assert woke < WAKE_BOUND, f"woken {woke * 1000:.0f} ms after completion"
    finally:
        await store.close()


@pytest.mark.parametrize("newest_first", [True, False])
async def test_paging_through_equal_timestamps_returns_each_job_once(
    tmp_path: Path, newest_first: bool
) -> None:
    path = tmp_path / "kie.sqlite3"
    store = await Store.open(path)
    try:
        ids = [f"job_{i:024x}" for i in (7, 3, 11, 5, 1, 9, 2)]
        for job_id in ids:
            await open_job(store, job_id, None)
        with sqlite3.connect(path) as db:
            db.execute("UPDATE jobs SET created_at = 1700000000.5")
        seen: list[str] = []
        after = None
        while True:
            page = await store.list_jobs(
                MediaQuery(limit=2, newest_first=newest_first, after=after)
            )
            seen += [job.id for job in page.jobs]
            if page.next_cursor is None:
                break
            after = decode_cursor(page.next_cursor, newest_first)
        assert seen == sorted(ids, reverse=newest_first)
    finally:
        await store.close()
