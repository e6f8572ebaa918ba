"""Callbacks that race, repeat, arrive out of order or early, and requests cut off midway
(reliability-security.md §6, cases 5, 6, 7 and 19). Every callback is HMAC-signed with the
job's real token, so only timing and order are at fault."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiosqlite
import httpx2
import pytest

from mcp_server_kie.domain import JobStatus
from mcp_server_kie.sandbox import Sandbox, SimTask
from mcp_server_kie.server.runtime import Runtime
from mcp_server_kie.storage import Store
from mcp_server_kie.storage.database import Transaction
from support import eventually, sandbox_and_runtime
from test_webhook_security import KEY, errors, local_url, signed, task_of
from test_webhook_sidecar import callback_body, snapshot, start_job


async def finished_task(sandbox: Sandbox, runtime: Runtime, prompt: str) -> tuple[str, SimTask]:
    """A job whose kie task has ended (its own callback dropped), not yet known to the job."""
    job_id = await start_job(runtime, prompt)
    task = task_of(sandbox, job_id)
    await eventually(lambda: sandbox.clock() >= task.completed_at, what="task ended")
    return job_id, task


async def deliver(task: SimTask, body: dict[str, Any]) -> int:
    assert task.callback_url is not None
    async with httpx2.AsyncClient() as client:
        response = await client.post(task.callback_url, json=body, headers=signed(task.task_id))
    return response.status_code


async def settled(runtime: Runtime, job_id: str) -> bool:
    """The job is terminal, its previews are made (they follow completion) and every
    delivery for it has been processed."""
    job = await runtime.engine.get(job_id)
    pending = await runtime.engine.store.pending_deliveries(job_id)
    previews = job is not None and any(a.preview_pending for a in job.assets)
    return job is not None and job.status.terminal and not pending and not previews


async def inbox_empty(runtime: Runtime) -> bool:
    return await runtime.engine.store.count("webhook_inbox") == 0


def media_gets(sandbox: Sandbox, task: SimTask) -> list[int]:
    return [sandbox.count(urlsplit(url).path) for url in task.result_urls]


def statuses(events: list[tuple[float, str | None, str, str]]) -> list[tuple[str | None, str]]:
    return [(before, after) for _at, before, after, _cause in events]


COMPLETED_HISTORY = [(None, "pending"), ("pending", "processing"), ("processing", "completed")]
FAILED_HISTORY = [(None, "pending"), ("pending", "processing"), ("processing", "failed")]


# --------------------------------------------------------------------------- case 5


@pytest.mark.parametrize("copies", [2, 10, 50])
async def test_concurrent_duplicates_complete_once_and_download_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, copies: int
) -> None:
    async with sandbox_and_runtime(tmp_path, image_seconds=0.2, hmac_key=KEY) as (sandbox, rt):
        sandbox.faults.drop_callbacks = True
        job_id, task = await finished_task(sandbox, rt, "a lighthouse")
        body = json.dumps(task.callback_body(sandbox.clock())).encode()
        headers = signed(task.task_id)
        async with httpx2.AsyncClient(
            base_url=rt.sidecar_url or "", limits=httpx2.Limits(max_connections=copies)
        ) as client:
            responses = await asyncio.gather(
                *(
                    client.post(local_url(task), content=body, headers=headers)
                    for _ in range(copies)
                )
            )
        assert [r.status_code for r in responses] == [200] * copies
        await eventually(lambda: settled(rt, job_id), what="job settled")
        job = await rt.engine.get(job_id)
        assert job is not None and job.status is JobStatus.COMPLETED
        assert statuses(await rt.engine.store.job_events(job_id)) == COMPLETED_HISTORY
        assert media_gets(sandbox, task) == [1] * len(task.result_urls)
        assert len(job.assets) == len(task.result_urls)
        # Identical copies are stored once; the processed row goes once the job has ended.
        await eventually(lambda: inbox_empty(rt), what="processed rows pruned")
    assert "database is locked" not in caplog.text
    assert errors(caplog) == []


# --------------------------------------------------------------------------- case 6


def claim(task: SimTask, state: str) -> dict[str, Any]:
    """A callback body for the task claiming ``state`` (kie's market shape)."""
    body = callback_body(task.task_id, state)
    if state == "fail":
        body.update(code=501, msg="Playground task failed.")
        body["data"].update(failCode="500", failMsg="Internal server error")
    return body


async def test_late_and_stale_callbacks_never_leave_a_terminal_state(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """success, then a stale `generating`, then `fail`, then `success` again: one completion."""
    async with sandbox_and_runtime(tmp_path, image_seconds=0.2, hmac_key=KEY) as (sandbox, rt):
        sandbox.faults.drop_callbacks = True
        job_id, task = await finished_task(sandbox, rt, "a lighthouse")
        assert await deliver(task, task.callback_body(sandbox.clock())) == 200
        await eventually(lambda: settled(rt, job_id), what="job completed")
        done = await rt.engine.get(job_id)
        assert done is not None and done.status is JobStatus.COMPLETED
        status_queries = sandbox.count("/recordInfo")
        for state in ("generating", "queuing", "fail", "success"):
            assert await deliver(task, claim(task, state)) == 200, state
            await eventually(lambda: settled(rt, job_id), what=f"{state} processed")
        job = await rt.engine.get(job_id)
        assert job == done  # not a field changed, not even updated_at
        assert statuses(await rt.engine.store.job_events(job_id)) == COMPLETED_HISTORY
        assert sandbox.count("/recordInfo") == status_queries  # terminal: nothing to ask
        assert media_gets(sandbox, task) == [1] * len(task.result_urls)
    assert errors(caplog) == []


@pytest.mark.parametrize(
    ("prompt", "lie", "outcome", "history"),
    [
        ("a lighthouse", "fail", JobStatus.COMPLETED, COMPLETED_HISTORY),
        ("a lighthouse [sandbox:fail]", "success", JobStatus.FAILED, FAILED_HISTORY),
    ],
)
async def test_conflicting_terminal_claims_are_settled_by_the_status_endpoint(
    tmp_path: Path, prompt: str, lie: str, outcome: JobStatus, history: list[Any]
) -> None:
    """The first callback claims the opposite of what kie's record says; the record wins,
    and the opposite claim arriving again later changes nothing."""
    async with sandbox_and_runtime(tmp_path, image_seconds=0.2, hmac_key=KEY) as (sandbox, rt):
        sandbox.faults.drop_callbacks = True
        job_id, task = await finished_task(sandbox, rt, prompt)
        assert await deliver(task, claim(task, lie)) == 200
        await eventually(lambda: settled(rt, job_id), what="job settled")
        assert await deliver(task, task.callback_body(sandbox.clock())) == 200
        assert await deliver(task, claim(task, lie)) == 200
        await eventually(lambda: settled(rt, job_id), what="repeats processed")
        job = await rt.engine.get(job_id)
        assert job is not None and job.status is outcome
        assert statuses(await rt.engine.store.job_events(job_id)) == history
        if outcome is JobStatus.FAILED:
            assert job.error is not None and job.error.category == "generation_failed"
            assert job.assets == ()


# --------------------------------------------------------------------------- case 7


async def test_callback_before_the_create_response(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """kie's callback lands while its create response is still 2 s away: the delivery waits
    in the inbox, and the job completes once the task id is known."""
    async with sandbox_and_runtime(tmp_path, image_seconds=0.2, hmac_key=KEY) as (sandbox, rt):
        sandbox.faults.create_delay = 2.0
        started = time.time()
        job_id = await start_job(rt, "a lighthouse")
        submitted = time.time()
        assert submitted - started >= 2.0
        [task] = sandbox.tasks.values()
        [attempt] = sandbox.callbacks
        assert attempt.ok and attempt.time < submitted  # acknowledged before create returned
        await eventually(lambda: settled(rt, job_id), what="job completed")
        job = await rt.engine.get(job_id)
        assert job is not None and job.status is JobStatus.COMPLETED
        assert job.task_id == task.task_id
        assert await rt.engine.store.count("jobs") == 1
        await eventually(lambda: inbox_empty(rt), what="processed row pruned")
        assert await rt.engine.store.pending_deliveries() == []
        assert sandbox.count("/createTask") == 1
        assert media_gets(sandbox, task) == [1] * len(task.result_urls)
    assert errors(caplog) == []


# --------------------------------------------------------------------------- case 19


async def can_write_within(path: Path, seconds: float) -> bool:
    """Another connection can take the write lock within ``seconds``: nobody holds a
    transaction open."""
    try:
        async with aiosqlite.connect(path, timeout=seconds, isolation_level=None) as other:
            await other.execute("BEGIN IMMEDIATE")
            await other.execute("ROLLBACK")
    except sqlite3.OperationalError:
        return False
    return True


async def timed_delivery(store: Store) -> float:
    start = time.monotonic()
    await store.add_delivery("job_probe", b"{}")
    return time.monotonic() - start


async def test_client_that_disconnects_mid_request_leaves_no_transaction_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with sandbox_and_runtime(tmp_path, image_seconds=30, hmac_key=KEY) as (sandbox, rt):
        sandbox.faults.drop_callbacks = True
        job_id = await start_job(rt, "a lighthouse [sandbox:slow]")
        task = task_of(sandbox, job_id)
        body = json.dumps(callback_body(task.task_id)).encode()
        before = await snapshot(rt.engine.store)
        sidecar = urlsplit(rt.sidecar_url or "")
        for sent in (0, 1, len(body) // 2, len(body) - 1):
            _reader, writer = await asyncio.open_connection(sidecar.hostname, sidecar.port)
            head = [f"POST {local_url(task)} HTTP/1.1", f"Host: {sidecar.netloc}"]
            head += [f"{k}: {v}" for k, v in signed(task.task_id).items()]
            head += [f"Content-Length: {len(body)}", "", ""]
            writer.write("\r\n".join(head).encode() + body[:sent])
            await writer.drain()
            writer.close()  # gone before the body is complete
            await writer.wait_closed()
        assert await snapshot(rt.engine.store) == before
        assert await can_write_within(rt.settings.database_path, 5.0)
        async with httpx2.AsyncClient(base_url=rt.sidecar_url or "") as client:
            start = time.monotonic()
            response = await client.post(
                local_url(task), content=body, headers=signed(task.task_id)
            )
            assert response.status_code == 200
            assert time.monotonic() - start < 5.0  # a wedged writer never answers
    assert "database is locked" not in caplog.text
    assert errors(caplog) == []


async def test_accept_cancelled_at_any_point_never_wedges_the_writer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Cancel the accepting coroutine after a growing delay (the server cancels a handler
    whose client went away), so the cut lands before, during and after its write: each
    delivery is stored whole or not at all, and the next write goes straight through."""
    async with sandbox_and_runtime(tmp_path, image_seconds=30, hmac_key=KEY) as (sandbox, rt):
        sandbox.faults.drop_callbacks = True
        job_id = await start_job(rt, "a lighthouse [sandbox:slow]")
        task = task_of(sandbox, job_id)
        token = local_url(task).split("token=")[1]
        store = rt.engine.store
        delays = [0.0] + [0.0002 * 1.25**k for k in range(30)]
        for attempt, delay in enumerate(delays):
            headers = signed(task.task_id)
            body = json.dumps({**callback_body(task.task_id), "attempt": attempt}).encode()
            accepting = asyncio.ensure_future(
                rt.engine.accept_callback(
                    job_id,
                    token,
                    body,
                    timestamp=headers["X-Webhook-Timestamp"],
                    signature=headers["X-Webhook-Signature"],
                )
            )
            if delay:  # 0: cut before it starts (a job submitted here is checked from memory,
                # so its first suspension may already be in the write)
                await asyncio.sleep(delay)
            accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await accepting
            assert await timed_delivery(store) < 5.0, attempt
        assert await can_write_within(rt.settings.database_path, 5.0)
        rows = await store.db.fetch_all("SELECT job_id, body FROM webhook_inbox ORDER BY id")
        stored = [json.loads(r["body"])["attempt"] for r in rows if r["job_id"] == job_id]
        assert stored == sorted(set(stored))  # whole rows, each stored at most once
        assert 0 not in stored and len(delays) - 1 in stored  # cut before and after the write
        assert await store.db.integrity_check() == "ok"
    assert "database is locked" not in caplog.text
    assert errors(caplog) == []


async def test_write_cancelled_between_statement_and_commit_still_commits(
    tmp_path: Path,
) -> None:
    """The caller is cancelled after its INSERT ran and before COMMIT: the transaction is
    finished for it (committed), and the writer is free for the next write at once."""
    store = await Store.open(tmp_path / "kie.sqlite3")
    try:
        loop = asyncio.get_running_loop()
        inserted, release = asyncio.Event(), threading.Event()

        async def insert_then_wait(conn: Transaction) -> None:
            await conn.execute(
                "INSERT INTO webhook_inbox (job_id, received_at, body) VALUES (?, ?, ?)",
                ("job_cancelled", time.time(), b"{}"),
            )
            loop.call_soon_threadsafe(inserted.set)  # this runs on the writer's thread
            release.wait(timeout=10)  # held open there until the caller is cancelled

        caller = asyncio.ensure_future(store.db.write(insert_then_wait))
        await inserted.wait()
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        release.set()
        assert await timed_delivery(store) < 5.0
        assert await can_write_within(tmp_path / "kie.sqlite3", 5.0)
        rows = await store.db.fetch_all("SELECT job_id FROM webhook_inbox ORDER BY id")
        assert [r["job_id"] for r in rows] == ["job_cancelled", "job_probe"]
    finally:
        await store.close()
