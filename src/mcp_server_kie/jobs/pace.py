"""kie.ai's account limits kept by every process and replica together.

kie counts creates (20 per 10 s) and status queries per account, not per process: replicas
that each kept the limit alone would together exceed it and meet 429s. These paces take their
slots from the store instead (storage/pace.py), under a name derived from the API key (a hash:
the key itself is never stored), so every process using one key shares one pace.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from mcp_server_kie.kie.limits import KieLimits, Paces
from mcp_server_kie.storage import Store

log = logging.getLogger(__name__)

# A slot held longer than this belongs to a process that died mid-request.
_STALE_SLOT_SECONDS = 120.0


class SharedPace:
    """A pace whose slots are rows in the store. With ``ahead`` it keeps one slot in hand: a
    request that finds one starts without a round trip to the database (a callback's status
    read is on the way from kie to the agent), and the next slot is taken meanwhile. A slot
    in hand counts from when it was taken, so the pace never admits more than its limit; it
    is let go after a window unused (it then counts one more window, as an answered one)."""

    def __init__(
        self, store: Store, name: str, limit: int, window: float, *, ahead: bool = False
    ) -> None:
        self._store = store
        self._name = name
        self._limit = limit
        self.window = window
        self._ahead = ahead
        self._in_hand: int | None = None
        self._taking_ahead: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        # One take at a time per process: a take waits for the pace's lock inside a
        # transaction, and callers that all waited there would hold every pooled connection
        # (the acknowledgements' commits would queue behind them). The rest wait here.
        self._taking = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        slot_id = await self._from_hand()
        while slot_id is None:
            async with self._taking:
                slot_id, wait = await self._store.take_pace_slot(
                    self._name, self._limit, self.window, _STALE_SLOT_SECONDS
                )
            if slot_id is None:
                await asyncio.sleep(max(wait, 0.01))
        if self._ahead and self._in_hand is None and self._taking_ahead is None:
            self._taking_ahead = self._spawn(self._take_ahead())
        try:
            yield
        finally:
            # The answer is in: the caller goes on while its slot is marked finished (until
            # then the slot counts as in flight, which only ever holds the pace back).
            self._spawn(self._store.finish_pace_slot(slot_id))

    async def hold_back(self, seconds: float) -> None:
        self._let_go(self._in_hand)  # not for a request after a 429
        await self._store.pause_pace(self._name, seconds)

    async def _from_hand(self) -> int | None:
        """The slot in hand (waiting for one being taken), if there is one."""
        if self._in_hand is None and self._taking_ahead is not None:
            await asyncio.wait({self._taking_ahead})
        slot_id, self._in_hand = self._in_hand, None
        return slot_id

    async def _take_ahead(self) -> None:
        """Take a slot for the next request if the pace has one free now (never wait for one:
        requests that are waiting take theirs in turn); let it go after a window unused."""
        try:
            async with self._taking:
                slot_id, _ = await self._store.take_pace_slot(
                    self._name, self._limit, self.window, _STALE_SLOT_SECONDS
                )
        finally:
            self._taking_ahead = None
        if slot_id is not None:
            self._in_hand = slot_id
            asyncio.get_running_loop().call_later(self.window, self._let_go, slot_id)

    def _let_go(self, slot_id: int | None) -> None:
        """Finish ``slot_id`` if it is still in hand."""
        if slot_id is not None and self._in_hand == slot_id:
            self._in_hand = None
            self._spawn(self._store.finish_pace_slot(slot_id))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:  # a slot counts until stale
            log.warning(
                "a %s slot could not be taken or finished: %s",
                self._name,
                type(task.exception()).__name__,
            )


def shared_paces(store: Store, api_key: str, limits: KieLimits) -> Paces:
    account = hashlib.sha256(api_key.encode()).hexdigest()[:16]
    return Paces(
        creates=SharedPace(store, f"creates:{account}", limits.creates, limits.create_window),
        status_queries=SharedPace(  # a callback's verifying read should not wait for a slot
            store, f"status:{account}", limits.status_queries, limits.status_window, ahead=True
        ),
    )
