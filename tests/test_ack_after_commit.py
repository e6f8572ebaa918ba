"""An acknowledgement never precedes the commit that holds its delivery.

The test holds the database's write lock itself (SQLite: its own ``BEGIN IMMEDIATE`` on the
file; PostgreSQL: ``LOCK TABLE webhook_inbox IN EXCLUSIVE MODE``), so no transaction can store
the delivery. While it holds the lock, the sidecar must not answer 2xx; once it lets go, the
200 arrives and the delivery is in the inbox. Also: writes queued behind a busy writer
(which commit together) are answered only after their commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx2
import psycopg
import pytest

from mcp_server_kie.domain import Job
from mcp_server_kie.sandbox import Sandbox
from mcp_server_kie.server.runtime import Runtime
from mcp_server_kie.storage import Store
from mcp_server_kie.storage.backends import is_postgres
from mcp_server_kie.storage.database import Transaction
from support import eventually, sandbox_and_runtime
from test_webhook_security import KEY, local_url, signed, task_of
from test_webhook_sidecar import callback_body, start_job

# How long a held commit must keep the answer back: far longer than an answer takes when
# nothing holds it (milliseconds), far shorter than SQLite's 10 s busy timeout.
HOLD_SECONDS = 1.5
STATUS = "recordInfo"  # the Market family's status endpoint


@contextlib.contextmanager
def sqlite_write_lock(path: Path) -> Iterator[None]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


@contextlib.asynccontextmanager
async def postgres_inbox_lock(url: str) -> AsyncIterator[psycopg.AsyncConnection[object]]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await conn.execute("LOCK TABLE webhook_inbox IN EXCLUSIVE MODE")
        yield conn
        await conn.rollback()


@contextlib.asynccontextmanager
async def inbox_writes_held(rt: Runtime, database_url: str) -> AsyncIterator[None]:
    """No delivery can be stored meanwhile (SQLite: no write at all)."""
    if is_postgres(database_url):
        async with postgres_inbox_lock(database_url):
            yield
    else:
        with sqlite_write_lock(rt.settings.database_path):
            yield


async def inbox_writers_waiting(url: str) -> bool:
    """PostgreSQL: a transaction other than the lock holder waits for the inbox."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT count(*) FROM pg_locks WHERE relation = 'webhook_inbox'::regclass"
            " AND NOT granted"
        )
        row = await cursor.fetchone()
        return row is not None and int(row[0]) > 0


@contextlib.asynccontextmanager
async def signed_runtime(
    tmp_path: Path, database_url: str, image_seconds: float
) -> AsyncIterator[tuple[Sandbox, Runtime]]:
    """A sandbox signing its callbacks and a runtime requiring it, on the parametrised
    backend."""
    overrides = {"database_url": database_url} if is_postgres(database_url) else {}
    async with sandbox_and_runtime(
        tmp_path / "data", image_seconds=image_seconds, hmac_key=KEY, **overrides
    ) as pair:
        yield pair


async def stored(rt: Runtime, job_id: str) -> int:
    return await rt.engine.store.count_deliveries(job_id)


async def test_no_acknowledgement_before_the_delivery_commits(
    tmp_path: Path, database_url: str
) -> None:
    async with signed_runtime(tmp_path, database_url, image_seconds=30) as (sandbox, rt):
        sandbox.faults.drop_callbacks = True
        job_id = await start_job(rt, "a lighthouse [sandbox:slow]")
        task = task_of(sandbox, job_id)
        body = json.dumps(callback_body(task.task_id)).encode()
        async with httpx2.AsyncClient(base_url=rt.sidecar_url or "", timeout=30) as client:

            async def deliver() -> int:
                response = await client.post(
                    local_url(task), content=body, headers=signed(task.task_id)
                )
                return response.status_code

            async with inbox_writes_held(rt, database_url):
                answer = asyncio.ensure_future(deliver())
                if is_postgres(database_url):
                    await eventually(
                        lambda: inbox_writers_waiting(database_url),
                        what="the delivery's insert waiting for the inbox",
                    )
                done, _ = await asyncio.wait({answer}, timeout=HOLD_SECONDS)
                assert not done, f"answered {answer.result()} before its delivery committed"
                assert await stored(rt, job_id) == 0
            assert await asyncio.wait_for(answer, timeout=15) == 200
            assert await stored(rt, job_id) == 1


async def test_queued_writes_are_answered_after_their_group_commits(tmp_path: Path) -> None:
    """While the writer is busy, ten deliveries and a failing write queue behind it; none of
    their callers hears anything before the writer is free and their (shared) transaction
    commits. The failing write loses only its own changes."""
    store = await Store.open(tmp_path / "kie.sqlite3")
    try:
        loop = asyncio.get_running_loop()
        busy, release = asyncio.Event(), threading.Event()

        async def hold_writer(conn: Transaction) -> None:
            loop.call_soon_threadsafe(busy.set)  # runs on the writer's thread
            release.wait(timeout=10)

        async def failing(conn: Transaction) -> None:
            await conn.execute(
                "INSERT INTO preferences (key, value, updated_at) VALUES ('x', '1', 0)"
            )
            raise ValueError("this write fails")

        holder = asyncio.ensure_future(store.db.write(hold_writer))
        await busy.wait()
        adds = [asyncio.ensure_future(store.add_delivery(f"job_{i}", b"{}")) for i in range(10)]
        failed = asyncio.ensure_future(store.db.write(failing))
        done, _ = await asyncio.wait({*adds, failed}, timeout=0.5)
        assert not done  # nothing answered while the writer holds the lock
        release.set()
        await holder
        ids = await asyncio.gather(*adds)
        with pytest.raises(ValueError, match="this write fails"):
            await failed
        assert all(isinstance(i, int) for i in ids) and len(set(ids)) == 10
        assert await store.count("webhook_inbox") == 10
        assert await store.preferences() == {}  # the failed write's own insert was undone
    finally:
        await store.close()


async def test_a_lone_callback_is_verified_while_its_delivery_commits(
    tmp_path: Path, database_url: str
) -> None:
    """A callback that arrives alone starts its job's processing as soon as it is found
    authentic: the verifying status read reaches kie while the delivery's write is held back
    (and the answer with it). Once the write goes through, the callback is acknowledged, the
    job completes, and the delivery is processed (its row pruned with the finished job)."""
    async with signed_runtime(tmp_path, database_url, image_seconds=0.2) as (sandbox, rt):
        sandbox.faults.drop_callbacks = True
        job_id = await start_job(rt, "a lighthouse")
        task = task_of(sandbox, job_id)
        await eventually(lambda: task.terminal(sandbox.clock()), what="the task done at kie")
        statuses = sandbox.count(STATUS)
        body = json.dumps(callback_body(task.task_id)).encode()
        async with httpx2.AsyncClient(base_url=rt.sidecar_url or "", timeout=30) as client:
            async with inbox_writes_held(rt, database_url):
                answer = asyncio.ensure_future(
                    client.post(local_url(task), content=body, headers=signed(task.task_id))
                )
                await eventually(
                    lambda: sandbox.count(STATUS) > statuses,
                    what="the verifying status read, before the delivery commits",
                )
                assert not answer.done()
            assert (await asyncio.wait_for(answer, timeout=15)).status_code == 200
        store = rt.engine.store
        job = await eventually(lambda: _completed(store, job_id), what="the job completed")
        assert len(job.assets) == 1
        await eventually(lambda: _no_rows(store, job_id), what="the delivery processed and pruned")
        assert sandbox.count(STATUS) - statuses == 1  # one verifying read, not one per step


async def test_callbacks_arriving_together_are_each_verified_while_they_commit(
    tmp_path: Path, database_url: str
) -> None:
    """Two callbacks at once are not a burst: each job's verifying status read reaches kie
    while the deliveries' writes are held back, rather than waiting for them one by one."""
    async with signed_runtime(tmp_path, database_url, image_seconds=0.2) as (sandbox, rt):
        sandbox.faults.drop_callbacks = True
        tasks = [task_of(sandbox, await start_job(rt, f"a lighthouse {n}")) for n in range(2)]
        for task in tasks:
            await eventually(lambda t=task: t.terminal(sandbox.clock()), what="the tasks done")
        statuses = sandbox.count(STATUS)
        async with httpx2.AsyncClient(base_url=rt.sidecar_url or "", timeout=30) as client:
            async with inbox_writes_held(rt, database_url):
                answers = [
                    asyncio.ensure_future(
                        client.post(
                            local_url(task),
                            content=json.dumps(callback_body(task.task_id)).encode(),
                            headers=signed(task.task_id),
                        )
                    )
                    for task in tasks
                ]
                await eventually(
                    lambda: sandbox.count(STATUS) >= statuses + 2,
                    what="both verifying status reads, before the deliveries commit",
                )
                assert not any(answer.done() for answer in answers)
            for answer in answers:
                assert (await asyncio.wait_for(answer, timeout=15)).status_code == 200


async def _completed(store: Store, job_id: str) -> Job | None:
    job = await store.get_job(job_id)
    return job if job is not None and job.status.value == "completed" else None


async def _no_rows(store: Store, job_id: str) -> bool:
    return await store.count_deliveries(job_id) == 0
