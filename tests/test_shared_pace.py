"""kie.ai's account limits kept by several processes together: a pace shared through the
store never lets more than its limit start in any window, whoever asks; servers on one
PostgreSQL using one key never meet kie.ai's 429 between them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import psycopg
import pytest

from mcp_server_kie.catalog import DEFAULT_MODEL, get_model, validate_request
from mcp_server_kie.domain import MediaKind
from mcp_server_kie.jobs.pace import SharedPace, shared_paces
from mcp_server_kie.kie.limits import KieLimits
from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from mcp_server_kie.server.runtime import open_runtime
from mcp_server_kie.storage import Store
from mcp_server_kie.storage.postgres.database import _POOL_SIZE as POOL_SIZE
from mcp_server_kie.storage.postgres.database import lock_key
from postgres_server import new_database
from support import SANDBOX_KEY, eventually, settings_for

CREATE = "/api/v1/jobs/createTask"


@pytest.mark.parametrize("spare", [False, True], ids=["taken-on-demand", "with-a-spare"])
async def test_a_shared_pace_admits_its_limit_per_window_across_stores(
    database_url: str, spare: bool
) -> None:
    stores = [await Store.connect(database_url) for _ in range(2)]
    try:
        paces = [
            SharedPace(store, "creates:test", limit=3, window=0.5, spare_for=0.5 * spare)
            for store in stores
        ]
        started: list[float] = []

        async def request(pace: SharedPace) -> None:
            async with pace.slot():
                started.append(time.monotonic())

        await asyncio.gather(*(request(paces[n % 2]) for n in range(9)))
        started.sort()
        # No more than 3 starts in any half second: the 4th after the 1st waited a window.
        assert len(started) == 9
        assert all(b - a >= 0.5 - 0.05 for a, b in zip(started, started[3:], strict=False))
    finally:
        for store in stores:
            await store.close()


async def unfinished_slots(store: Store, pace: str) -> int:
    row = await store.db.fetch_one(
        "SELECT count(*) AS n FROM pace_slots WHERE pace = ? AND finished_at IS NULL", (pace,)
    )
    assert row is not None
    return int(row["n"])


async def test_answered_slots_are_marked_finished_soon_and_at_shut_down(
    database_url: str,
) -> None:
    """A slot is marked finished shortly after its answer (several in one write), not in the
    way of what the answer sets off; what is still unmarked at shut-down is marked then, so
    other processes do not count it until it goes stale."""
    store = await Store.connect(database_url)
    try:
        pace = SharedPace(store, "status:test", limit=10, window=1.0)
        for _ in range(3):
            async with pace.slot():
                pass

        async def all_finished() -> bool:
            return await unfinished_slots(store, "status:test") == 0

        await eventually(all_finished, what="the slots marked finished")
        closing = SharedPace(store, "status:closing", limit=10, window=1.0)
        for _ in range(3):
            async with closing.slot():
                pass
        await closing.close()
        assert await unfinished_slots(store, "status:closing") == 0
    finally:
        await store.close()


async def test_a_pace_counts_in_flight_and_recent_slots_and_honours_a_pause(
    database_url: str,
) -> None:
    """An unfinished slot counts (ask again soon); a finished one counts for a window from
    its answer (ask again when it leaves); a pause holds every request back until it ends."""
    store = await Store.connect(database_url)
    try:
        first, wait = await store.take_pace_slot("p", limit=1, window=30.0, stale=100.0)
        assert first is not None and wait == 0.0
        refused, wait = await store.take_pace_slot("p", limit=1, window=30.0, stale=100.0)
        assert refused is None and 0 < wait <= 0.05  # in flight: its answer frees it
        await store.finish_pace_slots([first])
        refused, wait = await store.take_pace_slot("p", limit=1, window=30.0, stale=100.0)
        assert refused is None and 29.0 < wait <= 30.0  # counts for the window after it
        other, _ = await store.take_pace_slot("q", limit=1, window=30.0, stale=100.0)
        assert other is not None  # another pace has its own slots
        await store.pause_pace("r", 20.0)
        refused, wait = await store.take_pace_slot("r", limit=5, window=1.0, stale=100.0)
        assert refused is None and 19.0 < wait <= 20.0
    finally:
        await store.close()


async def test_takers_waiting_for_the_pace_leave_the_store_free(postgres_server: str) -> None:
    """Callers waiting for a slot while another process holds the pace's lock wait in memory,
    one per process at the database: the pooled connections stay free for other writes (the
    acknowledgements' commits), however many callers wait. (PostgreSQL: on SQLite, where
    processes wait for the one writer anyway, paces are each process's own.)"""
    database_url = new_database(postgres_server)
    store = await Store.connect(database_url)
    holder = await psycopg.AsyncConnection.connect(database_url)
    try:
        await holder.execute("BEGIN")
        await holder.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("pace:creates:busy"),))
        pace = SharedPace(store, "creates:busy", limit=100, window=1.0)

        async def request() -> None:
            async with pace.slot():
                pass

        takers = [asyncio.create_task(request()) for _ in range(POOL_SIZE + 5)]
        waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        deadline = time.monotonic() + 10
        while (await (await holder.execute(waiting)).fetchone() or (0,))[0] < 1:
            assert time.monotonic() < deadline, "no taker reached the pace's lock"
            await asyncio.sleep(0.01)
        # Bounded so that a regression fails instead of hanging: with every pooled
        # connection waiting for the lock, this write would wait for the holder.
        await asyncio.wait_for(store.pause_pace("another", 1.0), timeout=10)
        row = await (await holder.execute(waiting)).fetchone()
        assert row is not None and row[0] == 1  # one taker at the database, the rest in memory
        await holder.execute("COMMIT")
        await asyncio.wait_for(asyncio.gather(*takers), timeout=30)
    finally:
        await holder.close()
        await store.close()


def slot_rows(
    store: Store, pace: str, finished: int, unfinished: int
) -> Callable[[], Awaitable[bool]]:
    """A probe: whether ``pace`` has exactly that many finished and unfinished slots."""

    async def probe() -> bool:
        row = await store.db.fetch_one(
            "SELECT count(finished_at) AS done, count(*) - count(finished_at) AS open"
            " FROM pace_slots WHERE pace = ?",
            (pace,),
        )
        return row is not None and (int(row["done"]), int(row["open"])) == (finished, unfinished)

    return probe


async def test_a_spare_starts_the_next_request_at_once_and_goes_back_unused(
    postgres_server: str,
) -> None:
    """Once an answer is in, a pace that keeps a spare takes the next slot in the background:
    the next request starts without asking the database (here, while another process holds
    the pace's lock). A spare left unused for its time (here 3 s, three windows) is deleted
    (it stops counting), not before; one held at shut-down is deleted then."""
    database_url = new_database(postgres_server)
    store = await Store.connect(database_url)
    holder = await psycopg.AsyncConnection.connect(database_url)
    pace = SharedPace(store, "status:spare", limit=10, window=1.0, spare_for=3.0)

    async def request() -> None:
        async with pace.slot():
            pass

    def rows(finished: int, unfinished: int) -> Callable[[], Awaitable[bool]]:
        return slot_rows(store, "status:spare", finished, unfinished)

    try:
        await request()
        await eventually(rows(1, 1), what="the slot finished and a spare taken")
        await holder.execute("BEGIN")
        await holder.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("pace:status:spare"),))
        await asyncio.wait_for(request(), timeout=5)  # a take would wait for the holder
        await holder.execute("COMMIT")
        await eventually(rows(2, 1), what="the next spare taken")
        await asyncio.sleep(1.5)  # past a window, within the spare's time: nothing changes
        assert await rows(2, 1)(), "the spare went back after a window, not after its time"
        await eventually(rows(2, 0), what="the unused spare deleted after its time")
        await request()
        await eventually(rows(3, 1), what="a spare taken again")
        await pace.close()
        assert await rows(3, 0)()
    finally:
        await holder.close()
        await store.close()


async def test_status_reads_keep_two_spares_for_two_callbacks_close_together(
    postgres_server: str,
) -> None:
    """The server's status-read pace keeps two spares: two reads that start together (two
    callbacks close together) both start without asking the database, here while another
    process holds the pace's lock; both are taken again once the answers are in."""
    database_url = new_database(postgres_server)
    store = await Store.connect(database_url)
    holder = await psycopg.AsyncConnection.connect(database_url)
    pace = shared_paces(store, "key-for-two-spares", KieLimits()).status_queries
    assert isinstance(pace, SharedPace)

    async def two_together() -> None:
        async with pace.slot(), pace.slot():
            pass

    try:
        async with pace.slot():  # taken on demand; the spares follow its answer
            pass
        row = await store.db.fetch_one("SELECT DISTINCT pace FROM pace_slots")  # (its only one)
        assert row is not None
        name = str(row["pace"])
        await eventually(slot_rows(store, name, 1, 2), what="two spares taken")
        await holder.execute("BEGIN")
        await holder.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(f"pace:{name}"),))
        await asyncio.wait_for(two_together(), timeout=5)  # a take would wait for the holder
        await holder.execute("COMMIT")
        await eventually(slot_rows(store, name, 3, 2), what="two spares taken again")
        await pace.close()
        assert await slot_rows(store, name, 3, 0)()
    finally:
        await holder.close()
        await store.close()


async def test_slots_that_stop_counting_are_cleared(database_url: str) -> None:
    """A slot whose process died stops counting once stale, and slots that no longer count
    do not pile up: the table stays within a few limits' worth of rows."""
    store = await Store.connect(database_url)
    try:
        abandoned, _ = await store.take_pace_slot("p", limit=1, window=0.01, stale=0.2)
        assert abandoned is not None  # never finished: its process "died"
        deadline = time.monotonic() + 10
        while (taken := await store.take_pace_slot("p", 1, 0.01, 0.2))[0] is None:
            assert time.monotonic() < deadline, "a stale slot kept counting"
            await asyncio.sleep(taken[1])
        for _ in range(20):
            slot = taken[0]
            assert slot is not None
            await store.finish_pace_slots([slot])
            while (taken := await store.take_pace_slot("p", 1, 0.01, 0.2))[0] is None:
                assert time.monotonic() < deadline
                await asyncio.sleep(taken[1])
        row = await store.db.fetch_one("SELECT count(*) AS n FROM pace_slots")
        assert row is not None and int(row["n"]) <= 3
    finally:
        await store.close()


async def test_servers_sharing_postgres_share_kies_create_limit(
    tmp_path: Path, postgres_server: str
) -> None:
    database = new_database(postgres_server)
    config = SandboxConfig(
        api_key=SANDBOX_KEY, image_seconds=0.2, create_rate_limit=4, create_rate_window=3.0
    )
    async with serve_sandbox(config) as sandbox, AsyncExitStack() as stack:
        engines = []
        for _ in range(2):
            settings = settings_for(sandbox, tmp_path / "data", webhooks=False)
            settings = settings.model_copy(update={"database_url": database, "create_limit": 4})
            runtime = await stack.enter_async_context(open_runtime(settings))
            engines.append(runtime.engine)
        spec = get_model(DEFAULT_MODEL[MediaKind.IMAGE], MediaKind.IMAGE)
        # kie's window is 10 s; the sandbox's is shorter, so our 10 s pace is the stricter.
        jobs = await asyncio.gather(
            *(
                engines[n % 2].submit(
                    MediaKind.IMAGE, validate_request(spec, f"fox {n}", {}), f"fox {n}"
                )
                for n in range(8)
            )
        )
    assert len({job.task_id for job in jobs}) == 8
    assert sandbox.count(CREATE) == 8  # not one create refused with 429
