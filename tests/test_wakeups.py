"""Wake-ups across processes: a job finished by one server wakes another server's waiters
and its watchers (MCP resource subscribers, /events). On PostgreSQL through LISTEN/NOTIFY, at
once; on SQLite the waiter finds it by re-reading the store (watchers hear only their own
process there)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

from mcp_server_kie.catalog import DEFAULT_MODEL, get_model, validate_request
from mcp_server_kie.domain import Job, JobError, JobStatus, MediaKind
from mcp_server_kie.jobs.waiters import JobSignals
from mcp_server_kie.jobs.waiting import Waiting
from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from mcp_server_kie.server.runtime import open_runtime
from mcp_server_kie.storage import Store
from postgres_server import new_database
from support import SANDBOX_KEY, eventually, settings_for
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

    def hearing(event: asyncio.Event) -> Callable[[bool], None]:
        return lambda now: event.set() if now else event.clear()

    async with asyncio.TaskGroup() as group:
        listeners = [
            group.create_task(listening.db.listen(on_change, hearing(ready))),
            group.create_task(changing.db.listen(on_own_change, hearing(own_ready))),
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


async def _hearing_waiting(
    url: str, jobs: tuple[str, ...], **periods: float
) -> tuple[Store, Store, Waiting, asyncio.Task[None]]:
    """A waiter's side (its store, a Waiting hearing other processes' changes) and another
    process's store, on the database at ``url``; ``jobs`` running (before anyone listens, so
    that no announcement of theirs is still on its way)."""
    here, there = await Store.connect(url), await Store.connect(url)
    for job_id in jobs:
        await there.create_job(new_job(job_id))
        assert await there.mark_submitted(job_id, f"task_{job_id}")
    waiting = Waiting(here, JobSignals(), **periods)
    ready = asyncio.Event()
    follower = asyncio.create_task(waiting.follow_changes(ready))
    async with asyncio.timeout(10):
        await ready.wait()
    return here, there, waiting, follower


async def _waiting_on(
    waiting: Waiting, job_id: str, seconds: float, heartbeats: list[Job] | None = None
) -> asyncio.Task[Job | None]:
    """A waiter on the job, once it has read the job (still running) for the first time;
    with ``heartbeats``, one every 50 ms, each noted there."""
    read = asyncio.Event()

    async def seen(job: Job) -> None:
        if read.is_set() and heartbeats is not None:
            heartbeats.append(job)
        read.set()

    beat = 0.05 if heartbeats is not None else math.inf
    waiter = asyncio.create_task(waiting.wait(job_id, seconds, seen, heartbeat=beat))
    async with asyncio.timeout(10):
        await read.wait()
    return waiter


async def test_a_change_announced_while_the_listener_was_away_still_wakes_the_waiter(
    postgres_server: str,
) -> None:
    """The listening connection dies; the job completes before it is back (its announcement
    goes unheard); the waiter re-reads the store once hearing resumes, and returns the
    completed job. Neither re-read period could find it: both are an hour here."""
    here, there, waiting, follower = await _hearing_waiting(
        new_database(postgres_server), ("job_a",), recheck_seconds=3600, heard_recheck_seconds=3600
    )
    try:
        waiter = await _waiting_on(waiting, "job_a", 15)
        await there.db.fetch_all(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
        )
        await eventually(lambda: not waiting.hearing, what="the listener to notice")
        assert await there.complete_job("job_a", [asset("job_a")], 4.0)
        async with asyncio.timeout(10):
            job = await waiter
        assert job is not None and job.status is JobStatus.COMPLETED and waiting.hearing
    finally:
        follower.cancel()
        await here.close()
        await there.close()


async def test_while_changes_are_heard_a_waiter_does_not_poll_the_store(
    postgres_server: str,
) -> None:
    """A job finished behind the notifications' back (a bare UPDATE, announced to nobody) is
    not seen by a waiter hearing announcements: it does not re-read every second (that was
    most of a replica's reads), nor for its progress heartbeats. Once it stops hearing, it
    re-reads on the short period."""
    here, there, waiting, follower = await _hearing_waiting(
        new_database(postgres_server),
        ("job_a", "job_b"),
        recheck_seconds=0.05,
        heard_recheck_seconds=3600,
    )

    async def finished_unannounced(
        job_id: str, heartbeats: list[Job] | None = None
    ) -> asyncio.Task[Job | None]:
        waiter = await _waiting_on(waiting, job_id, 60, heartbeats)
        await there.db.write_one("UPDATE jobs SET status = 'completed' WHERE id = ?", (job_id,))
        return waiter

    try:
        heartbeats: list[Job] = []  # the job as last read, again: a heartbeat reads nothing
        waiter = await finished_unannounced("job_a", heartbeats)
        await asyncio.wait({waiter}, timeout=1.0)  # twenty short periods, twenty heartbeats
        assert not waiter.done()
        assert len(heartbeats) >= 5 and {job.status for job in heartbeats} == {JobStatus.PROCESSING}
        waiter.cancel()
        follower.cancel()
        await eventually(lambda: not waiting.hearing, what="the listener to notice")
        waiter = await finished_unannounced("job_b")
        async with asyncio.timeout(10):  # found well before the wait's own end
            job = await waiter
        assert job is not None and job.status is JobStatus.COMPLETED
    finally:
        follower.cancel()
        await here.close()
        await there.close()
