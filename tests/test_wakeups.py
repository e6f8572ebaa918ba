"""Wake-ups across processes: a job finished by one server wakes another server's waiters
and its watchers (MCP resource subscribers, /events). On PostgreSQL through LISTEN/NOTIFY, at
once; on SQLite the waiter finds it by re-reading the store (watchers hear only their own
process there)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

from mcp_server_kie.catalog import DEFAULT_MODEL, get_model, validate_request
from mcp_server_kie.domain import Job, JobError, JobStatus, MediaKind
from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from mcp_server_kie.server.runtime import open_runtime
from mcp_server_kie.storage import Store
from postgres_server import new_database
from support import SANDBOX_KEY, settings_for
from test_storage import asset, new_job


async def test_a_completion_on_one_server_wakes_the_other(
    tmp_path: Path, database_url: str
) -> None:
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.3)
    async with serve_sandbox(config) as sandbox, AsyncExitStack() as stack:
        runtimes = []
        for webhooks in (False, True):  # only the second gets kie's callbacks
            settings = settings_for(sandbox, tmp_path / "data", webhooks=webhooks)
            settings = settings.model_copy(update={"database_url": database_url})
            runtimes.append(await stack.enter_async_context(open_runtime(settings)))
        waiting, finishing = (runtime.engine for runtime in runtimes)
        spec = get_model(DEFAULT_MODEL[MediaKind.IMAGE], MediaKind.IMAGE)
        with waiting.signals.watch() as news:
            job = await finishing.submit(
                MediaKind.IMAGE, validate_request(spec, "an owl", {}), "an owl"
            )
            waited = await waiting.wait(job.id, 20)
            assert waited is not None and waited.status is JobStatus.COMPLETED
            if database_url.startswith("postgresql"):
                heard: list[Job | None] = []
                async with asyncio.timeout(10):
                    while not heard or heard[-1] is None or not heard[-1].status.terminal:
                        heard.append(await news.get())
                assert heard[-1] is not None and heard[-1].id == job.id
                assert heard[-1].status is JobStatus.COMPLETED and heard[-1].assets
        assert len(sandbox.callbacks) >= 1


async def test_each_status_change_tells_the_other_processes_once_committed(
    postgres_server: str,
) -> None:
    """On PostgreSQL every status change (submitted, completed, failed) notifies the other
    processes' listeners with the job's id, and a change that does not happen (the job is
    already terminal) notifies nobody. The job's own process is not told (it told its own
    waiters already)."""
    url = new_database(postgres_server)
    heard: asyncio.Queue[str] = asyncio.Queue()

    async def on_change(job_id: str) -> None:
        await heard.put(job_id)

    changing, listening = await Store.connect(url), await Store.connect(url)
    ready, own_ready = asyncio.Event(), asyncio.Event()
    own: list[str] = []

    async def on_own_change(job_id: str) -> None:
        own.append(job_id)

    async with asyncio.TaskGroup() as group:
        listeners = [
            group.create_task(listening.db.listen(on_change, ready)),
            group.create_task(changing.db.listen(on_own_change, own_ready)),
        ]
        try:
            async with asyncio.timeout(10):
                await ready.wait()
                await own_ready.wait()
                for job_id, finish in (("job_a", "complete"), ("job_b", "fail")):
                    await changing.create_job(new_job(job_id))
                    assert await heard.get() == job_id  # created
                    assert await changing.mark_submitted(job_id, f"task_{job_id}")
                    assert await heard.get() == job_id
                    if finish == "complete":
                        assert await changing.complete_job(job_id, [asset(job_id)], 4.0)
                        assert not await changing.complete_job(job_id, [asset(job_id, 1)], 4.0)
                    else:
                        assert await changing.fail_job(job_id, JobError("x", "no"), None)
                        assert not await changing.fail_job(job_id, JobError("y", "late"), None)
                    assert await heard.get() == job_id
                # The refused changes sent nothing: the next notice is this note's.
                assert await changing.record_job_note("job_a", "a note")
                assert await heard.get() == "job_a" and heard.empty()
            assert own == []
        finally:
            for listener in listeners:
                listener.cancel()
    await changing.close()
    await listening.close()
