"""The bounded pool behind the acknowledgements: at most ``workers`` jobs are processed at
once, at most ``max_queued`` job ids wait in memory, and a backlog larger than that is read
back from the inbox (durable) as the queue drains: every delivery is processed, none twice
at once for one job."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mcp_server_kie.jobs.inbox_workers import InboxWorkers
from mcp_server_kie.storage import Store
from support import eventually


async def test_a_backlog_past_the_queue_waits_in_the_inbox_and_is_all_processed(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "kie.sqlite3")
    try:
        jobs = [f"job_{i:03d}" for i in range(60)]
        for job_id in jobs:
            await store.add_delivery(job_id, b"{}")
        release = asyncio.Event()
        running: set[str] = set()
        most_at_once = 0
        processed: list[str] = []

        async def process(job_id: str) -> None:
            nonlocal most_at_once
            assert job_id not in running  # never twice at once for one job
            running.add(job_id)
            most_at_once = max(most_at_once, len(running))
            await release.wait()
            for delivery in await store.pending_deliveries(job_id):
                await store.mark_deliveries_processed([delivery.id])
            processed.append(job_id)
            running.discard(job_id)

        workers = InboxWorkers(store, process, workers=4, max_queued=10)
        for job_id in jobs:
            workers.submit(job_id)
            assert workers.backlog <= 10 + 4  # memory holds the bound, not the burst
        await eventually(lambda: len(running) == 4, what="four workers busy")
        release.set()
        await eventually(lambda: len(set(processed)) == len(jobs), what="every job processed")
        assert most_at_once == 4
        assert await store.pending_deliveries() == []
        await workers.close()
    finally:
        await store.close()


async def test_a_job_that_gets_a_delivery_while_processed_goes_round_again(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "kie.sqlite3")
    try:
        started, release = asyncio.Event(), asyncio.Event()
        rounds: list[int] = []

        async def process(job_id: str) -> None:
            started.set()
            await release.wait()
            rounds.append(len(await store.pending_deliveries(job_id)))
            for delivery in await store.pending_deliveries(job_id):
                await store.mark_deliveries_processed([delivery.id])

        workers = InboxWorkers(store, process, workers=2)
        await store.add_delivery("job_a", b"1")
        workers.submit("job_a")
        await started.wait()
        await store.add_delivery("job_a", b"2")  # arrives while the first run is going
        workers.submit("job_a")
        release.set()
        await eventually(lambda: len(rounds) == 2, what="a second round")
        assert rounds == [2, 0]  # the first round took both; the second found nothing left
        await workers.close()
    finally:
        await store.close()
