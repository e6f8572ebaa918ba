"""kie.ai's account limits kept by every process and replica together.

kie counts creates (20 per 10 s) and status queries per account, not per process: replicas
that each kept the limit alone would together exceed it and meet 429s. These paces take their
slots from the store instead (storage/pace.py), under a name derived from the API key (a hash:
the key itself is never stored), so every process using one key shares one pace.

Taking a slot is a round trip to the database (and the pace's lock). A pace that keeps
spares (status reads, on the way from a callback to its waiter) takes the next slots in the
background once an answer is in, so the next requests start at once; a spare counts as in
flight, and one left unused for a while (10 s for status reads) is handed back (deleted), so
an idle process never holds the account's slots for long. Handed back after one window (1 s),
one spare was gone for 21 of 61 status reads in the callback benchmark (1.9 jobs/s); after
10 s, for 9 of 61: two callbacks close together, the second within 50 ms of the first's
answer, before its spare was taken again. On PostgreSQL that second read's own take cost it
3-14 ms (most of the slowest callbacks of a 150-job trace), so status reads keep two spares.
Taking the spare again as soon as it is used was tried too: its transaction then ran beside
the callback's own status read and completion, and cost every callback more than it saved.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator

from mcp_server_kie.kie.limits import KieLimits, Paces
from mcp_server_kie.storage import Store

log = logging.getLogger(__name__)

# A slot held longer than this belongs to a process that died mid-request.
_STALE_SLOT_SECONDS = 120.0
# How long a status read's spare is kept unused before it goes back.
SPARE_SECONDS = 10.0
# How many spares status reads keep: two callbacks close together both start at once.
STATUS_SPARES = 2
# Answered slots are marked finished this long after the first answer, together in one write:
# out of the way of what an answer sets off (a callback's job completing), and fewer writes
# under load. Until then a slot counts as in flight, which only ever holds the pace back.
_FINISH_AFTER_SECONDS = 0.05


class SharedPace:
    def __init__(
        self,
        store: Store,
        name: str,
        limit: int,
        window: float,
        *,
        spare_for: float = 0.0,
        spares: int = 1,
    ) -> None:
        """``spare_for``: keep ``spares`` spares, each handed back after that many seconds
        unused (0: none)."""
        self._store = store
        self._name = name
        self._limit = limit
        self.window = window
        self._spare_for = spare_for
        self._wanted = spares if spare_for > 0 else 0
        self._spares: list[int] = []  # slots taken ahead, oldest first (handed back unused)
        self._answered: list[int] = []  # slots whose answers arrived, not yet marked finished
        self._finishing: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()  # spares handed back
        # One take at a time per process: a take waits for the pace's lock inside a
        # transaction, and callers that all waited there would hold every pooled connection
        # (the acknowledgements' commits would queue behind them). The rest wait here.
        self._taking = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        slot_id = self._take_spare()
        while slot_id is None:
            slot_id, wait = await self._take()
            if slot_id is None:
                await asyncio.sleep(max(wait, 0.01))
        try:
            yield
        finally:
            # The answer is in: the caller goes on; the slot is marked finished shortly.
            self._answer(slot_id)

    async def _take(self) -> tuple[int | None, float]:
        async with self._taking:
            return await self._store.take_pace_slot(
                self._name, self._limit, self.window, _STALE_SLOT_SECONDS
            )

    def _take_spare(self) -> int | None:
        return self._spares.pop(0) if self._spares else None

    def _answer(self, slot_id: int) -> None:
        self._answered.append(slot_id)
        if self._finishing is None:
            self._finishing = asyncio.create_task(self._finish_answered())
            self._finishing.add_done_callback(self._finished)

    async def _finish_answered(self) -> None:
        await asyncio.sleep(_FINISH_AFTER_SECONDS)
        slots, self._answered = self._answered, []
        self._finishing = None  # answers from now on are the next write's
        await self._store.finish_pace_slots(slots)
        while len(self._spares) < self._wanted:
            slot_id, _ = await self._take()  # (none when the pace is full: no spare then)
            if slot_id is None:
                return
            if len(self._spares) >= self._wanted:  # (taken meanwhile: this one is done with)
                self._answer(slot_id)
                return
            self._spares.append(slot_id)
            asyncio.get_running_loop().call_later(self._spare_for, self._hand_back, slot_id)

    def _hand_back(self, slot_id: int) -> None:
        """The spare went unused for its time: delete it, so that it stops counting."""
        if slot_id not in self._spares:
            return  # used (or already handed back)
        self._spares.remove(slot_id)
        task = asyncio.create_task(self._store.drop_pace_slots([slot_id]))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:  # the slots count until stale
            log.warning(
                "could not mark %s slots finished: %s", self._name, type(task.exception()).__name__
            )

    async def close(self) -> None:
        """Mark the answered slots finished now (other processes go on counting them)."""
        if self._finishing is not None:
            self._finishing.cancel()
            self._finishing = None
        slots, self._answered = self._answered, []
        spares, self._spares = self._spares, []
        writes = [self._store.finish_pace_slots(slots)] if slots else []
        if spares:
            writes.append(self._store.drop_pace_slots(spares))
        for write in writes:
            done = asyncio.ensure_future(write)
            done.add_done_callback(self._finished)  # a failure is logged, as above
            await asyncio.wait({done})
        if self._background:
            await asyncio.wait(self._background)

    async def hold_back(self, seconds: float) -> None:
        """Pause the pace for everyone; the spares go back (a spare another process holds
        may still start one request: it was taken before the pause)."""
        spares, self._spares = self._spares, []
        await self._store.pause_pace(self._name, seconds)
        if spares:
            await self._store.drop_pace_slots(spares)


def shared_paces(store: Store, api_key: str, limits: KieLimits) -> Paces:
    account = hashlib.sha256(api_key.encode()).hexdigest()[:16]
    return Paces(
        creates=SharedPace(store, f"creates:{account}", limits.creates, limits.create_window),
        status_queries=SharedPace(  # spares: a callback's status read starts at once
            store,
            f"status:{account}",
            limits.status_queries,
            limits.status_window,
            spare_for=SPARE_SECONDS,
            spares=STATUS_SPARES,
        ),
    )


async def close_paces(paces: Paces) -> None:
    """Mark every answered slot of the shared paces finished (at shut-down)."""
    for pace in (paces.creates, paces.status_queries):
        if isinstance(pace, SharedPace):
            await pace.close()
