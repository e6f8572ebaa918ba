"""The store on real SQLite files: schema, monotonic transitions, durability under cancel."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from mcp_server_kie.domain import ApiFamily, Asset, JobError, JobStatus, MediaKind, TaskState
from mcp_server_kie.storage import IdempotencyConflict, MediaQuery, NewJob, Store
from mcp_server_kie.storage.backends import is_postgres
from mcp_server_kie.storage.database import Transaction
from mcp_server_kie.storage.sqlite.schema import MIGRATIONS
from support import eventually


def new_job(job_id: str = "job_1", key: str | None = None) -> NewJob:
    return NewJob(
        id=job_id,
        kind=MediaKind.IMAGE,
        family=ApiFamily.MARKET,
        model="google/nano-banana",
        prompt="a cat",
        params={"aspect_ratio": "1:1"},
        callback_token_hash="ab" * 32,
        callback_expected=True,
        idempotency_key=key,
        expected_credits=4.0,
    )


def asset(job_id: str = "job_1", index: int = 0) -> Asset:
    return Asset(
        id=f"asset_{job_id}_{index}",
        job_id=job_id,
        index=index,
        kind=MediaKind.IMAGE,
        path=f"/tmp/{job_id}/{index}.png",
        mime_type="image/png",
        bytes=10,
        sha256="0" * 64,
        source_url="https://cdn/x.png",
        created_at=time.time(),
        width=4,
        height=3,
    )


async def test_schema_is_created_by_migration_in_wal_mode(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")
    await store.close()
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"jobs", "assets", "webhook_inbox", "job_events"} <= tables
    reopened = await Store.open(tmp_path / "db.sqlite3")  # migrating again is a no-op
    assert await reopened.db.integrity_check() == "ok"
    await reopened.close()


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        conn.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="newer mcp-server-kie"):
        await Store.open(tmp_path / "db.sqlite3")


async def test_terminal_states_are_sticky(database_url: str) -> None:
    store = await Store.connect(database_url)
    try:
        job = await store.create_job(new_job())
        assert job.status is JobStatus.PENDING
        assert await store.mark_submitted(job.id, "t" * 32)
        assert not await store.mark_submitted(job.id, "u" * 32)  # only from pending
        assert await store.complete_job(job.id, [asset()], credits=4.0)
        # Late or duplicate events change nothing.
        assert not await store.complete_job(job.id, [asset(index=1)], credits=9.0)
        assert not await store.fail_job(job.id, JobError("x", "late"), TaskState.FAIL)
        await store.set_task_state(job.id, TaskState.GENERATING)
        done = await store.get_job(job.id)
        assert done is not None
        assert done.status is JobStatus.COMPLETED and done.task_state is TaskState.SUCCESS
        assert done.credits == 4.0 and done.error is None and len(done.assets) == 1
        events = [(e[1], e[2]) for e in await store.job_events(job.id)]
        assert events == [(None, "pending"), ("pending", "processing"), ("processing", "completed")]
    finally:
        await store.close()


async def test_a_job_reads_back_with_every_asset_exactly_as_stored(database_url: str) -> None:
    """Every field of every output, in index order, floats to the last digit, whichever
    backend (PostgreSQL reads a job and its assets in one query)."""
    store = await Store.connect(database_url)
    try:
        job = await store.create_job(new_job())
        assert await store.mark_submitted(job.id, "t" * 32)
        outputs = [
            replace(
                asset(index=index),
                created_at=1764570000.1234567 + index,
                duration=5.041666666666667 if index else None,
                bytes=6_442_450_941,  # past 32 bits
                preview_pending=index == 1,
                thumbnail_path="/tmp/job_1/2.thumb.jpg" if index == 2 else None,
            )
            for index in (2, 0, 1)
        ]
        completed = await store.complete_job(job.id, outputs, credits=4.0)
        done = await store.get_job(job.id)
        assert done is not None
        assert done.assets == tuple(sorted(outputs, key=lambda a: a.index))
        # The completion hands back the job as stored: its waiters need no second read.
        assert completed == done
        assert await store.get_job("job_missing") is None
    finally:
        await store.close()


async def test_idempotency_key_finds_the_same_job(database_url: str) -> None:
    store = await Store.connect(database_url)
    try:
        await store.create_job(new_job("job_1", key="k-1"))
        found = await store.find_by_idempotency_key("k-1")
        assert found is not None and found.id == "job_1"
        assert await store.find_by_idempotency_key("k-2") is None
        # A second create with the key returns the first job; another request is refused.
        again = await store.create_job(new_job("job_2", key="k-1"))
        assert again.id == "job_1"
        await store.create_job(replace(new_job("job_3", key="k-3"), request_hash="a" * 64))
        with pytest.raises(IdempotencyConflict):
            await store.create_job(replace(new_job("job_4", key="k-3"), request_hash="b" * 64))
        with pytest.raises(IdempotencyConflict):
            await store.find_by_idempotency_key("k-3", "b" * 64)
        assert await store.count("jobs") == 2
    finally:
        await store.close()


async def test_cancelled_caller_never_leaves_a_transaction_open(database_url: str) -> None:
    store = await Store.connect(database_url)
    try:
        loop = asyncio.get_running_loop()
        started, release = asyncio.Event(), threading.Event()

        async def slow_write(conn: Transaction) -> None:
            await conn.execute(
                "INSERT INTO webhook_inbox (job_id, received_at, body) VALUES ('j', 0, ?)",
                (b"\x00",),
            )
            loop.call_soon_threadsafe(started.set)  # SQLite runs this on its writer's thread
            if is_postgres(database_url):
                await conn.execute("SELECT pg_sleep(0.2)")
            else:  # the transaction holds the writer's thread until the caller is cancelled
                release.wait(timeout=10)

        caller = asyncio.create_task(store.db.write(slow_write))
        await started.wait()
        caller.cancel()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await caller
        # The cancelled caller's transaction still commits, and the next write goes through
        # (on SQLite after it; on PostgreSQL beside it).
        delivery = await asyncio.wait_for(store.add_delivery("j2", b"{}"), timeout=2)
        assert delivery > 0

        async def both_committed() -> bool:
            return await store.count("webhook_inbox") == 2

        await eventually(both_committed, timeout=5, what="the cancelled caller's commit")
    finally:
        await store.close()


async def test_list_jobs_newest_first_by_kind(database_url: str) -> None:
    store = await Store.connect(database_url)
    try:
        for i in range(3):
            await store.create_job(new_job(f"job_{i}"))
        page = await store.list_jobs(MediaQuery(kind=MediaKind.IMAGE, limit=2))
        assert [j.id for j in page.jobs] == ["job_2", "job_1"]
        assert page.next_cursor is not None
        assert (await store.list_jobs(MediaQuery(kind=MediaKind.VIDEO))).jobs == []
    finally:
        await store.close()


async def test_a_write_that_need_not_survive_a_power_cut_never_weakens_one_that_must(
    tmp_path: Path,
) -> None:
    """On SQLite a write of state that expires by itself (durable=False: leases, pace slots)
    commits without the fsync, unless a durable write shares its commit; afterwards every
    commit is durable again (synchronous=FULL, 2, as the file was opened)."""
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        loop = asyncio.get_running_loop()
        busy, release = asyncio.Event(), threading.Event()

        async def hold_the_writer(conn: Transaction) -> None:
            loop.call_soon_threadsafe(busy.set)
            release.wait(timeout=10)

        async def synchronous(conn: Transaction) -> int:
            row = await conn.fetch_one("PRAGMA synchronous")
            assert row is not None
            return int(next(iter(row.values())))

        assert await store.db.write(synchronous, durable=False) == 1  # alone: no fsync
        assert await store.db.write(synchronous) == 2  # and back to FULL after it
        # Queued behind a held writer, a lease-like write and a durable one share a commit.
        holding = asyncio.create_task(store.db.write(hold_the_writer))
        await busy.wait()
        together = [
            asyncio.create_task(store.db.write(synchronous, durable=False)),
            asyncio.create_task(store.db.write(synchronous)),
        ]
        await asyncio.sleep(0)  # both queued while the writer is held
        release.set()
        await holding
        assert [await task for task in together] == [2, 2]
        assert await store.db.write(synchronous) == 2
    finally:
        await store.close()
