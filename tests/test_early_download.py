"""A success callback's result downloads while the status read that verifies it is on its way,
and is kept only if that read names the same URLs (fetch-to-verify still decides).

The sandbox holds the status read back (a stalled answer); the callback is the one kie sends.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx2
import psycopg
import pytest

from mcp_server_kie.domain import Job, JobStatus
from mcp_server_kie.sandbox import RecordFault, Sandbox, SimTask
from mcp_server_kie.sandbox.cdn import path_of
from mcp_server_kie.server.runtime import Runtime
from postgres_server import new_database
from support import eventually, sandbox_and_runtime
from test_ack_after_commit import signed_runtime
from test_webhook_security import KEY, local_url, signed, task_of
from test_webhook_sidecar import start_job

# The status read's answer is held back this long: far longer than a download takes.
STALL_SECONDS = 3.0


async def finished_task(sandbox: Sandbox, rt: Runtime) -> tuple[str, SimTask]:
    sandbox.faults.drop_callbacks = True
    job_id = await start_job(rt, "a lighthouse")
    task = task_of(sandbox, job_id)
    await eventually(lambda: task.terminal(sandbox.clock()), what="the task done at kie")
    return job_id, task


async def deliver(rt: Runtime, task: SimTask, body: dict[str, object]) -> None:
    async with httpx2.AsyncClient(base_url=rt.sidecar_url or "", timeout=30) as client:
        answer = await client.post(
            local_url(task), content=json.dumps(body).encode(), headers=signed(task.task_id)
        )
    assert answer.status_code == 200


async def completed(rt: Runtime, job_id: str) -> Job | None:
    job = await rt.engine.store.get_job(job_id)
    return job if job is not None and job.status is JobStatus.COMPLETED else None


def saved_files(rt: Runtime, job: Job) -> list[Path]:
    """The job's files in the media folder, previews (and previews being written) aside."""
    folder = Path(job.assets[0].path).parent
    assert folder.is_relative_to(rt.settings.media_dir)
    return sorted(p for p in folder.iterdir() if ".thumb.jpg" not in p.name)


async def test_the_result_downloads_while_its_status_read_is_held_back(
    tmp_path: Path, database_url: str
) -> None:
    async with signed_runtime(tmp_path, database_url, image_seconds=0.2) as (sandbox, rt):
        job_id, task = await finished_task(sandbox, rt)
        (url,) = task.result_urls
        sandbox.faults.record_faults.append(RecordFault.stalled(STALL_SECONDS))
        await deliver(rt, task, task.callback_body(sandbox.clock()))
        await eventually(
            lambda: sandbox.count(path_of(url)),
            timeout=STALL_SECONDS / 2,
            what="the result's download while the status read is held back",
        )
        assert await completed(rt, job_id) is None  # not before the status read says so
        job = await eventually(lambda: completed(rt, job_id), what="the job completed")
        (asset,) = job.assets
        assert asset.sha256 == sandbox.served_sha256(url)
        assert sandbox.count(path_of(url)) == 1  # the early download was kept, not repeated
        assert saved_files(rt, job) == [Path(asset.path)]


@pytest.mark.parametrize("claim", ["the same file by another URL", "a file that is not there"])
async def test_a_callback_naming_other_urls_changes_nothing_kept(
    tmp_path: Path, claim: str
) -> None:
    """The claimed URL is fetched early but differs from the verified one: the job keeps the
    verified URL's file, downloaded after the status read; the early file is removed."""
    async with sandbox_and_runtime(tmp_path / "data", image_seconds=0.2, hmac_key=KEY) as (
        sandbox,
        rt,
    ):
        job_id, task = await finished_task(sandbox, rt)
        (url,) = task.result_urls
        other = f"{url}?copy=1" if claim.startswith("the same") else url.replace("/0.", "/7.")
        body = task.callback_body(sandbox.clock())
        data = body["data"]
        assert isinstance(data, dict)
        data["resultJson"] = json.dumps({"resultUrls": [other]})
        await deliver(rt, task, body)
        job = await eventually(lambda: completed(rt, job_id), what="the job completed")
        (asset,) = job.assets
        assert asset.source_url == url
        assert asset.sha256 == sandbox.served_sha256(url)
        assert sandbox.count(path_of(other)) >= 1  # it was fetched early
        assert sandbox.count(path_of(url)) == (2 if path_of(other) == path_of(url) else 1)
        await eventually(
            lambda: saved_files(rt, job) == [Path(asset.path)],
            what="only the verified file left in the job's folder",
        )


async def test_the_download_starts_before_the_job_is_read_and_goes_if_it_had_ended(
    tmp_path: Path, postgres_server: str
) -> None:
    """A lone callback's claimed result downloads before its job is read (what places the
    files was learnt when the job was created): with the jobs table locked, so that the read
    waits, the file still arrives. The job turns out to have ended already (completed by an
    earlier status read, its own callback lost): the early file is removed, the job keeps its
    own. (PostgreSQL: a lock that holds a plain read back.)"""
    database_url = new_database(postgres_server)
    async with signed_runtime(tmp_path, database_url, image_seconds=0.2) as (sandbox, rt):
        job_id, task = await finished_task(sandbox, rt)
        await rt.engine.refresh(job_id)
        job = await completed(rt, job_id)
        assert job is not None
        own = saved_files(rt, job)
        holder = await psycopg.AsyncConnection.connect(database_url)
        try:
            await holder.execute("BEGIN")
            await holder.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
            delivering = asyncio.create_task(deliver(rt, task, task.callback_body(sandbox.clock())))
            await eventually(
                lambda: len(saved_files(rt, job)) > len(own),
                what="the early download published while the job's read waits",
            )
            await holder.execute("COMMIT")
            await asyncio.wait_for(delivering, timeout=30)
        finally:
            await holder.close()
        await eventually(
            lambda: saved_files(rt, job) == own, what="the early file removed, the job's kept"
        )
        after = await completed(rt, job_id)
        assert after is not None and [a.path for a in after.assets] == [a.path for a in job.assets]
