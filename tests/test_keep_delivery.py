"""keep_delivery on each backend: what becomes of authentic deliveries that commit together
(one batch, sent to PostgreSQL in one go) and one at a time: stored, duplicate, inbox full,
job ended, decided in order within the batch. And callback_target, which answers from memory
for the jobs this process submitted: never a pair the database does not hold."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from mcp_server_kie.domain import ApiFamily, MediaKind
from mcp_server_kie.storage import NewJob, Store
from mcp_server_kie.storage.database import Transaction
from mcp_server_kie.storage.inbox import Kept
from mcp_server_kie.storage.targets import KnownTargets


def running_job(job_id: str) -> NewJob:
    return NewJob(
        id=job_id,
        kind=MediaKind.IMAGE,
        family=ApiFamily.MARKET,
        model="google/nano-banana",
        prompt="a cat",
        params={},
        callback_token_hash="ab" * 32,
        callback_expected=True,
        idempotency_key=None,
        expected_credits=None,
    )


async def test_deliveries_committed_together_are_decided_in_order(database_url: str) -> None:
    store = await Store.connect(database_url)
    try:
        await store.create_job(running_job("job_a"))
        await store.create_job(running_job("job_b"))
        await store.create_job(running_job("job_ended"))
        await store.mark_submitted("job_ended", "t" * 32)
        assert await store.complete_job("job_ended", [], credits=None)

        asked = [
            ("job_a", b'{"n": 1}'),
            ("job_ended", b'{"n": 1}'),
            ("job_a", b'{"n": 1}'),  # the same body again, in the same batch
            ("job_b", b'{"n": 1}'),  # the same body for another job is its own
            ("job_a", b'{"n": 2}'),
            ("job_missing", b'{"n": 1}'),
            ("job_a", b'{"n": 3}'),
            ("job_a", b'{"n": 4}'),  # a fourth row: over the bound of 3
            ("job_a", b'{"n": 1}'),  # full and a duplicate: full is told first
        ]
        kept = await asyncio.gather(*(store.keep_delivery(j, b, 3) for j, b in asked))

        assert kept == [
            Kept.STORED,
            Kept.JOB_ENDED,
            Kept.DUPLICATE,
            Kept.STORED,
            Kept.STORED,
            Kept.UNKNOWN_JOB,
            Kept.STORED,
            Kept.INBOX_FULL,
            Kept.INBOX_FULL,
        ]
        assert await store.count_deliveries("job_a") == 3
        assert await store.count_deliveries("job_b") == 1
        assert await store.count_deliveries("job_ended") == 0
        bodies = [d.body for d in await store.pending_deliveries("job_a")]
        assert bodies == [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']

        # Any bytes come back as they went in, stored in a batch with others.
        await store.create_job(running_job("job_c"))
        odd = [bytes(range(256)), b'\x00\xff plain \\ " text']
        kept = await asyncio.gather(*(store.keep_delivery("job_c", b, 3) for b in odd))
        assert kept == [Kept.STORED, Kept.STORED]
        assert [d.body for d in await store.pending_deliveries("job_c")] == odd

        # One at a time, later: the same decisions from what is stored.
        assert await store.keep_delivery("job_b", b'{"n": 1}', 3) is Kept.DUPLICATE
        assert await store.keep_delivery("job_b", b'{"n": 2}', 3) is Kept.STORED
        assert await store.keep_delivery("job_a", b'{"n": 5}', 3) is Kept.INBOX_FULL
        assert await store.keep_delivery("job_ended", b'{"n": 9}', 3) is Kept.JOB_ENDED
    finally:
        await store.close()


async def test_a_submitted_job_is_checked_from_memory_and_a_pending_one_from_the_database(
    database_url: str,
) -> None:
    here, elsewhere = await Store.connect(database_url), await Store.connect(database_url)
    try:
        await here.create_job(running_job("job_here"))
        await here.mark_submitted("job_here", "task_here")
        await here.create_job(running_job("job_pending"))

        # Another process records the task id of a job this one created: read, not remembered.
        assert await elsewhere.mark_submitted("job_pending", "task_elsewhere")
        pending = await here.callback_target("job_pending")
        assert pending is not None
        assert (pending.task_id, pending.family) == ("task_elsewhere", ApiFamily.MARKET)

        from_database = await elsewhere.callback_target("job_here")  # (not remembered there)
        # Another process finishes and deletes a job this one submitted: the remembered pair
        # still lets the callback be checked, and the write finds the job gone.
        assert await elsewhere.complete_job("job_here", [], credits=None)
        assert (await elsewhere.delete_jobs(["job_here"]))[0] == ["job_here"]
        assert await elsewhere.callback_target("job_here") is None
        remembered = await here.callback_target("job_here")
        assert remembered is not None
        assert remembered[:3] == ("ab" * 32, "task_here", ApiFamily.MARKET)
        assert remembered == from_database  # what is remembered is what is stored (all of it)
        assert await here.keep_delivery("job_here", b"{}", 3) is Kept.UNKNOWN_JOB
    finally:
        await here.close()
        await elsewhere.close()


def test_remembered_targets_are_bounded_oldest_first() -> None:
    targets = KnownTargets(max_remembered=2)
    for n in range(3):
        targets.created(f"job_{n}", f"hash_{n}", ApiFamily.MARKET, MediaKind.IMAGE, float(n))
        targets.submitted(f"job_{n}", f"task_{n}")
    assert len(targets) == 2
    assert targets.get("job_0") is None
    assert targets.get("job_2") == ("hash_2", "task_2", ApiFamily.MARKET, MediaKind.IMAGE, 2.0)
    targets.submitted("job_9", "task_9")  # never created here: not remembered
    assert targets.get("job_9") is None


async def test_settling_an_ended_job_clears_its_inbox_and_nothing_else(
    database_url: str,
) -> None:
    """One statement clears a finished job's inbox: the deliveries just processed, those
    processed before and one not processed yet (an ended job has nothing to learn from it)
    all go; a job still running keeps every row, and so does another ended job."""
    store = await Store.connect(database_url)
    try:
        for job_id in ("job_done", "job_running", "job_other"):
            await store.create_job(running_job(job_id))
            await store.mark_submitted(job_id, f"task_{job_id}")
            for n in range(3):
                assert await store.keep_delivery(job_id, b'{"n": %d}' % n, 5) is Kept.STORED
        first, _, _ = await store.pending_deliveries("job_done")
        await store.mark_deliveries_processed([first.id])
        for job_id in ("job_done", "job_other"):
            assert await store.complete_job(job_id, [], credits=None)
        await store.settle_ended("job_done")
        assert await store.count_deliveries("job_done") == 0
        assert await store.count_deliveries("job_other") == 3

        await store.settle_ended("job_running")
        assert await store.count_deliveries("job_running") == 3
    finally:
        await store.close()


LOOP_TURNS = 20  # event-loop turns for a task to hand its write over (it takes one or two)
HOLD_LIMIT = 10.0  # seconds the test holds the event loop waiting for the rows


async def test_on_sqlite_a_delivery_queued_behind_a_commit_needs_no_event_loop_turn(
    tmp_path: Path,
) -> None:
    """SQLite's writer thread commits the writes queued while it was busy in its next
    transaction by itself: a delivery that arrives during a commit is committed right after it
    even while the event loop is busy (a burst of callbacks), not one loop turn later."""
    path = tmp_path / "kie.sqlite3"
    store = await Store.open(path)
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        await store.create_job(running_job("job_a"))
        await store.create_job(running_job("job_b"))
        blocker.execute("BEGIN IMMEDIATE")  # the writer waits for the file meanwhile
        first = asyncio.ensure_future(store.keep_delivery("job_a", b'{"n": 1}', 3))
        for _ in range(LOOP_TURNS):
            await asyncio.sleep(0)
        second = asyncio.ensure_future(store.keep_delivery("job_b", b'{"n": 1}', 3))
        for _ in range(LOOP_TURNS):
            await asyncio.sleep(0)
        blocker.execute("COMMIT")
        stored = inbox_rows_without_the_loop(path, 2)  # the event loop is held meanwhile
        assert stored == 2, "the second delivery waited for the event loop to commit"
        assert await first is Kept.STORED
        assert await second is Kept.STORED
    finally:
        blocker.close()
        await store.close()


STRAND_ROUNDS = 1500  # each hands the writer a few writes and waits for all of them
STRAND_LIMIT = 5.0  # seconds a round's writes may take (milliseconds when none is stranded)


async def test_on_sqlite_no_write_is_stranded_as_the_writer_runs_dry(tmp_path: Path) -> None:
    """SQLite's writer thread commits what is queued until nothing is left, and is handed the
    queue again only once it has stopped looking: a write queued just as it finds the queue
    empty still commits. Threads switch every microsecond here, so in many rounds some write
    lands in that moment (a write left there would wait for the next one, which never comes)."""
    store = await Store.open(tmp_path / "kie.sqlite3")
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for turn in range(STRAND_ROUNDS):
            writes = []
            for index in range(3):
                writes.append(
                    asyncio.ensure_future(store.db.write(_remember(turn, index), durable=False))
                )
                for _ in range((turn + index) % 4):
                    await asyncio.sleep(0)
            await asyncio.wait_for(asyncio.gather(*writes), timeout=STRAND_LIMIT)
        assert len(await store.preferences()) == 3 * STRAND_ROUNDS
    finally:
        sys.setswitchinterval(switch)
        await store.close()


def _remember(turn: int, index: int) -> Callable[[Transaction], Awaitable[None]]:
    async def write(conn: Transaction) -> None:
        await conn.execute(
            "INSERT INTO preferences (key, value, updated_at) VALUES (?, '1', 0)",
            (f"{turn}.{index}",),
        )

    return write


def inbox_rows_without_the_loop(path: Path, want: int) -> int:
    """Blocking (so the calling event loop is held): the inbox rows in the file once there
    are ``want``, or as many as there are after HOLD_LIMIT seconds."""
    deadline = time.monotonic() + HOLD_LIMIT
    with sqlite3.connect(path) as reader:
        while True:
            rows = int(reader.execute("SELECT count(*) FROM webhook_inbox").fetchone()[0])
            if rows >= want or time.monotonic() > deadline:
                return rows
            time.sleep(0.002)  # polling the file: the writer works in its own thread
