"""The webhook inbox stays bounded under replay: a delivery for a finished job is acknowledged
and not stored, identical deliveries for a running job are stored once, a job's rows are
capped, processed rows of finished jobs are pruned, and none of it costs kie a status call."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx2

from mcp_server_kie.domain import Job
from mcp_server_kie.jobs.callbacks import MAX_DELIVERIES_PER_JOB
from mcp_server_kie.server.runtime import Runtime
from mcp_server_kie.storage import Store
from support import eventually, sandbox_and_runtime
from test_webhook_security import task_of
from test_webhook_sidecar import callback_body, start_job

STATUS = "recordInfo"  # the Market family's status endpoint


def padded(task_id: str, size: int, state: str = "success", **extra: object) -> bytes:
    """A valid callback for ``task_id`` of about ``size`` bytes."""
    body = {**callback_body(task_id, state), **extra}
    body["pad"] = "x" * max(0, size - len(json.dumps(body)) - 10)
    return json.dumps(body).encode()


async def replay(url: str, body: bytes, times: int) -> list[int]:
    async with httpx2.AsyncClient(timeout=10) as client:
        codes = []
        for _ in range(times):
            response = await client.post(
                url, content=body, headers={"content-type": "application/json"}
            )
            codes.append(response.status_code)
    return codes


async def test_replays_to_a_finished_job_are_acknowledged_and_not_stored(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path, image_seconds=0.2) as (sandbox, rt):
        job_id = await start_job(rt, "a lighthouse")
        task = task_of(sandbox, job_id)
        assert task.callback_url is not None
        store = rt.engine.store
        job = await eventually(lambda: _terminal(rt, job_id), what="job finished")
        assert job.status.value == "completed"
        # The real delivery was processed, and its row pruned once the job had ended.
        await eventually(
            lambda: _no_rows(store, job_id), what="processed rows of a finished job pruned"
        )
        statuses = sandbox.count(STATUS)
        size_before = rt.settings.database_path.stat().st_size

        codes = await replay(task.callback_url, padded(task.task_id, 60_000), 200)

        assert codes == [200] * 200  # acknowledged: kie stops retrying
        assert await store.count_deliveries(job_id) == 0
        assert sandbox.count(STATUS) == statuses
        wal = rt.settings.database_path.with_name(rt.settings.database_path.name + "-wal")
        grown = rt.settings.database_path.stat().st_size - size_before
        assert grown < 1_000_000 and (not wal.exists() or wal.stat().st_size < 4_000_000)


async def test_replays_to_a_running_job_are_stored_once_and_cost_one_status_call(
    tmp_path: Path,
) -> None:
    async with sandbox_and_runtime(tmp_path, image_seconds=60) as (sandbox, rt):
        sandbox.faults.drop_callbacks = True
        job_id = await start_job(rt)
        task = task_of(sandbox, job_id)
        assert task.callback_url is not None
        store = rt.engine.store
        statuses = sandbox.count(STATUS)
        body = padded(task.task_id, 2_000, state="generating")

        codes = await asyncio.gather(*(replay(task.callback_url, body, 10) for _ in range(5)))

        assert [c for batch in codes for c in batch] == [200] * 50
        await eventually(
            lambda: _all_processed(store, job_id), what="the stored delivery processed"
        )
        assert await store.count_deliveries(job_id) == 1
        # The one stored delivery triggers one verifying status call; its 49 replays none.
        assert sandbox.count(STATUS) - statuses <= 1


async def test_a_jobs_inbox_rows_are_capped(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path, image_seconds=60) as (sandbox, rt):
        sandbox.faults.drop_callbacks = True
        job_id = await start_job(rt)
        task = task_of(sandbox, job_id)
        assert task.callback_url is not None
        async with httpx2.AsyncClient(timeout=10) as client:
            for attempt in range(MAX_DELIVERIES_PER_JOB + 10):
                body = padded(task.task_id, 500, state="generating", attempt=attempt)
                response = await client.post(
                    task.callback_url, content=body, headers={"content-type": "application/json"}
                )
                assert response.status_code == 200
        assert await rt.engine.store.count_deliveries(job_id) == MAX_DELIVERIES_PER_JOB


async def _terminal(rt: Runtime, job_id: str) -> Job | None:
    job = await rt.engine.get(job_id)
    return job if job is not None and job.status.terminal else None


async def _no_rows(store: Store, job_id: str) -> bool:
    return await store.count_deliveries(job_id) == 0


async def _all_processed(store: Store, job_id: str) -> bool:
    return await store.count_deliveries(job_id) > 0 and not await store.pending_deliveries(job_id)
