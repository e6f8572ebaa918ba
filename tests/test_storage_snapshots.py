"""Reads see every committed write, even while many other reads are in flight.

Found by the benchmarks: with 200 agents waiting on jobs, reads interleaved on the reader
connection kept one read transaction open, so a job just written could not be read back
(create_job failed) and a finished job could look unfinished to its waiter.
"""

from __future__ import annotations

import asyncio

from mcp_server_kie.domain import ApiFamily, MediaKind
from mcp_server_kie.storage import NewJob, Store


def new_job(index: int) -> NewJob:
    return NewJob(
        id=f"job_{index:024x}",
        kind=MediaKind.IMAGE,
        family=ApiFamily.MARKET,
        model="google/nano-banana",
        prompt=f"prompt {index}",
        params={},
        callback_token_hash=None,
        callback_expected=False,
        idempotency_key=None,
        expected_credits=None,
    )


async def test_writes_are_visible_to_reads_despite_concurrent_readers(database_url: str) -> None:
    store = await Store.connect(database_url)
    try:
        watched = await store.create_job(new_job(0))
        reading = True

        async def keep_reading() -> None:
            while reading:
                assert await store.get_job(watched.id) is not None

        readers = [asyncio.create_task(keep_reading()) for _ in range(40)]
        try:
            for index in range(1, 101):
                created = await store.create_job(new_job(index))  # reads its own row back
                assert created.id == f"job_{index:024x}"
        finally:
            reading = False
            await asyncio.gather(*readers)
        assert await store.count("jobs") == 101
    finally:
        await store.close()
