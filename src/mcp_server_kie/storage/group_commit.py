"""Group commit: many small writes that arrive together share one transaction (one fsync).

Each caller hands over one step (a function of the open transaction) and gets its result only
after the transaction that ran it has committed; if that transaction fails, every caller in it
gets the error and nothing of theirs is kept. While one transaction commits, the steps that
arrive meanwhile queue for the next one, so the batch grows with the load and a lone step
waits for nobody. A caller cancelled meanwhile does not withdraw its step: it is committed all
the same (as a single write would be).

BatchCommit is the same with the batch's work given whole: one function writes every caller's
item atomically and returns their results in order, so a backend can send the batch as one
statement or its statements together (PostgreSQL: one round trip for the batch, not one per
item). GroupCommit is a BatchCommit whose items are steps, run one after another in one
transaction.

On a database whose own writes already group this way (SQLite's writer thread, which takes
every write queued during a commit into its next transaction), each item goes straight to it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar, cast

from mcp_server_kie.storage.database import Database, Transaction

log = logging.getLogger(__name__)

T = TypeVar("T")
Item = TypeVar("Item")
R = TypeVar("R")
Step = Callable[[Transaction], Awaitable[T]]
BatchFn = Callable[[list[Item]], Awaitable[list[R]]]

# Steps per transaction: bounds one transaction's time on the writer (other writes wait for it).
MAX_BATCH = 256


class _Queued(Generic[Item, R]):
    __slots__ = ("done", "item")

    def __init__(self, item: Item, done: asyncio.Future[R]) -> None:
        self.item = item
        self.done = done


class BatchCommit(Generic[Item, R]):
    """One queue of items and at most one task committing them, batch after batch."""

    def __init__(
        self,
        db: Database,
        run_all: BatchFn[Item, R],
        max_batch: int = MAX_BATCH,
    ) -> None:
        """``run_all(items)``: writes every item in ``db``, all or none, and returns their
        results in order once committed."""
        self._db = db
        self._run_all = run_all
        self._max_batch = max_batch
        self._queue: list[_Queued[Item, R]] = []
        self._committer: asyncio.Task[None] | None = None

    async def run(self, item: Item) -> R:
        """``item``'s result, once the transaction that ran it has committed."""
        if self._db.dialect.groups_writes:
            # The database commits what queues during a commit in its next transaction by
            # itself, without the event loop (SQLite's writer): a queue here would only add a
            # wait for a turn of the loop between batches.
            (result,) = await self._run_all([item])
            return result
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append(_Queued(item, done))
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit_all(), name="kie-group-commit")
        # The item is queued: a cancelled caller cancels only ``done`` (left alone when the
        # batch is settled). Unshielded, the result arrives one loop turn sooner.
        return await done

    async def close(self) -> None:
        """Wait until every item handed over so far has committed (or failed)."""
        if self._committer is not None:
            await asyncio.wait({self._committer})

    async def _commit_all(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                await self._commit(batch)
        finally:
            self._committer = None
            for queued in self._queue:  # only when cancelled (shutting down): never started
                queued.done.cancel()
            self._queue.clear()

    async def _commit(self, batch: list[_Queued[Item, R]]) -> None:
        try:
            results = await self._run_all([queued.item for queued in batch])
        except BaseException as exc:  # every caller learns of it; theirs may not be kept
            log.warning("a group of %d writes failed: %s", len(batch), type(exc).__name__)
            for queued in batch:
                if not queued.done.done():
                    queued.done.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for queued, result in zip(batch, results, strict=True):
            if not queued.done.done():
                queued.done.set_result(result)


class GroupCommit:
    """Steps (functions of the open transaction) committed together, each in its turn."""

    def __init__(self, db: Database, max_batch: int = MAX_BATCH) -> None:
        async def each_step(steps: list[Step[object]]) -> list[object]:
            async def in_turn(conn: Transaction) -> list[object]:
                return [await step(conn) for step in steps]

            return await db.write(in_turn)

        self._steps: BatchCommit[Step[object], object] = BatchCommit(db, each_step, max_batch)

    async def run(self, step: Step[T]) -> T:
        """``step``'s result, once the transaction that ran it has committed."""
        return cast(T, await self._steps.run(step))

    async def close(self) -> None:
        """Wait until every step handed over so far has committed (or failed)."""
        await self._steps.close()
