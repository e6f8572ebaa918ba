"""Leases on shared work, on both backends: the store's claim/renew/expire rules, and the
engine using them so that one process at a time refreshes a job and downloads its outputs,
and a holder that died is replaced once its lease runs out."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path

from mcp_server_kie.catalog import DEFAULT_MODEL, get_model, validate_request
from mcp_server_kie.domain import JobStatus, MediaKind
from mcp_server_kie.jobs.leases import Held, Leases
from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from mcp_server_kie.server.runtime import open_runtime
from mcp_server_kie.storage import Store
from support import SANDBOX_KEY, eventually, sandbox_and_runtime, settings_for


async def test_a_lease_has_one_holder_until_it_expires(database_url: str) -> None:
    store = await Store.connect(database_url)
    try:
        assert await store.claim_lease("job:1", "a", 30)
        assert await store.claim_lease("job:1", "a", 30)  # a holder may claim again
        assert not await store.claim_lease("job:1", "b", 30)
        assert await store.lease_holder("job:1") == "a"
        assert not await store.renew_lease("job:1", "b", 30)  # only the holder renews
        await store.release_lease("job:1", "b")  # ... or releases
        assert await store.lease_holder("job:1") == "a"
        await store.release_lease("job:1", "a")
        assert await store.lease_holder("job:1") is None
        assert await store.claim_lease("job:1", "b", 0.3)

        # "b" dies without renewing: the lease is free once it runs out, and only then.
        assert not await store.claim_lease("job:1", "c", 30)
        await eventually(lambda: store.claim_lease("job:1", "c", 30), timeout=5, what="expiry")
        assert not await store.renew_lease("job:1", "b", 30)  # the dead holder lost it
        assert await store.renew_lease("job:1", "c", 30)
    finally:
        await store.close()


async def test_a_hold_tells_whether_the_lease_was_free_at_once(database_url: str) -> None:
    """A job read before its lease was claimed is used as read only when the lease was free
    at once (jobs/completion.py): a lease had after another holder let it go says so."""
    store = await Store.connect(database_url)
    try:
        mine, other = Leases(store, 30, holder="mine"), Leases(store, 30, holder="other")
        async with mine.hold("job:1", wait=0) as held:
            assert held is Held.AT_ONCE
        async with other.hold("job:1", wait=0):
            async with mine.hold("job:1", wait=0) as held:
                assert held is Held.NO and not held

        # Another holder has it (and stops renewing: it runs out in 0.3 s): had after waiting.
        assert await store.claim_lease("job:1", "other", 0.3)
        async with mine.hold("job:1", wait=10) as held:
            assert held is Held.AFTER_WAITING
    finally:
        await store.close()


async def test_concurrent_claims_have_exactly_one_winner(database_url: str) -> None:
    stores = [await Store.connect(database_url) for _ in range(3)]
    try:
        claims = [
            store.claim_lease(f"job:{n}", f"holder{i}-{k}", 30)
            for n in range(10)
            for i, store in enumerate(stores)
            for k in range(2)
        ]
        won = await asyncio.gather(*claims)
        assert sum(won) == 10  # one winner per lease
    finally:
        for store in stores:
            await store.close()


async def test_a_holder_that_died_on_this_machine_is_replaced_at_once(database_url: str) -> None:
    finished = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await finished.wait()  # its pid now names no process
    dead = f"{socket.gethostname()}:{finished.pid}:0000"
    alive = f"{socket.gethostname()}:{os.getppid()}:0000"  # the process that started pytest
    store = await Store.connect(database_url)
    try:
        leases = Leases(store, seconds=600)
        for holder in (alive, "another-host:1:0000"):
            assert await store.claim_lease("job:alive", holder, 600)
            async with leases.hold("job:alive", wait=0.2) as held:
                assert not held
            await store.release_lease("job:alive", holder)
        assert await store.claim_lease("job:dead", dead, 600)
        async with leases.hold("job:dead", wait=0) as held:
            assert held
            assert await store.lease_holder("job:dead") == leases.holder
        assert await store.lease_holder("job:dead") is None  # released after the work
    finally:
        await store.close()


async def test_a_dead_holders_job_is_taken_over_when_its_lease_runs_out(
    tmp_path: Path, database_url: str
) -> None:
    async with sandbox_and_runtime(
        tmp_path, image_seconds=0.5, database_url=database_url, lease_seconds=30
    ) as (sandbox, runtime):
        engine = runtime.engine
        spec = get_model(DEFAULT_MODEL[MediaKind.IMAGE], MediaKind.IMAGE)
        job = await engine.submit(MediaKind.IMAGE, validate_request(spec, "a gate", {}), "a gate")
        # Another replica claims the job and is killed: its lease stays for 2 s.
        claimed_at = time.time()
        assert await engine.store.claim_lease(f"job:{job.id}", "killed-replica", 2.0)
        # kie's callback arrives meanwhile; this runtime waits for the lease, then finishes it.
        done = await engine.wait(job.id, 20)
        assert done is not None and done.status is JobStatus.COMPLETED
        [completed_at] = [
            e[0] for e in await engine.store.job_events(job.id) if e[2] == "completed"
        ]
        assert completed_at >= claimed_at + 2.0 - 0.05  # not before the dead lease ran out
        assert len(sandbox.callbacks) >= 1


async def test_two_processes_refreshing_one_job_download_its_output_once(
    tmp_path: Path, database_url: str
) -> None:
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.3)
    async with serve_sandbox(config) as sandbox, AsyncExitStack() as stack:
        runtimes = []
        for _ in range(2):
            settings = settings_for(sandbox, tmp_path / "data", webhooks=False)
            settings = settings.model_copy(update={"database_url": database_url})
            runtimes.append(await stack.enter_async_context(open_runtime(settings)))
        first, second = (runtime.engine for runtime in runtimes)
        spec = get_model(DEFAULT_MODEL[MediaKind.IMAGE], MediaKind.IMAGE)
        job = await first.submit(MediaKind.IMAGE, validate_request(spec, "a bell", {}), "a bell")

        async def both_refresh() -> bool:
            await asyncio.gather(first.check(job.id), second.check(job.id))
            current = await first.get(job.id)
            return current is not None and current.status.terminal

        await eventually(both_refresh, timeout=20, what="the job to finish")
        done = await second.get(job.id)
        assert done is not None and done.status is JobStatus.COMPLETED
        downloads = [r for r in sandbox.requests if r.method == "GET" and "/cdn/" in r.path]
        assert len(downloads) == len(done.assets) == 1
        events = await first.store.job_events(job.id)
        assert [e[2] for e in events].count("completed") == 1
        [asset] = done.assets
        assert Path(asset.path).is_file()
