"""Group commit: many small writes that arrive together share one transaction (one fsync).

Each caller hands over one step (a function of the open transaction) and gets its result only
after the transaction that ran it has committed; if that transaction fails, every caller in it
gets the error and nothing of theirs is kept. While one transaction commits, the steps that
arrive meanwhile queue for the next one, so the batch grows with the load and a lone step
waits for nobody. A caller cancelled meanwhile does not withdraw its step: it is committed all
the same (as a single write would be).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from mcp_server_kie.storage.database import Database, Transaction

log = logging.getLogger(__name__)

T = TypeVar("T")
Step = Callable[[Transaction], Awaitable[T]]

# Steps per transaction: bounds one transaction's time on the writer (other writes wait for it).
MAX_BATCH = 256


class _Queued(Generic[T]):
    __slots__ = ("done", "step")

    def __init__(self, step: Step[T], done: asyncio.Future[T]) -> None:
        self.step = step
        self.done = done


class GroupCommit:
    """One queue of steps and at most one task committing them, batch after batch."""

    def __init__(self, db: Database, max_batch: int = MAX_BATCH) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: list[_Queued[Any]] = []
        self._committer: asyncio.Task[None] | None = None

    async def run(self, step: Step[T]) -> T:
        """``step``'s result, once the transaction that ran it has committed."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append(_Queued(step, done))
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit_all(), name="kie-group-commit")
        return await asyncio.shield(done)

    async def close(self) -> None:
        """Wait until every step handed over so far has committed (or failed)."""
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

    async def _commit(self, batch: list[_Queued[Any]]) -> None:
        async def all_steps(conn: Transaction) -> list[object]:
            return [await queued.step(conn) for queued in batch]

        try:
            results = await self._db.write(all_steps)
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
