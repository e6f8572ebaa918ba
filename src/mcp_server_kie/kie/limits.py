"""Client-side pacing of kie.ai requests, so that excess work waits instead of failing.

kie.ai accepts 20 new tasks per 10 s per account and answers the excess with 429 rather than
queueing it (Getting Started §8). Status queries are limited to 10 per second (per key in
the Chinese get-task-detail page, per task in kie's own agent skill; we assume the stricter
reading). One `KieClient` holds one `SlidingWindow` for creates and one for status queries,
and there is one client per process; several processes or replicas sharing a database share
one pace per key instead (any `Pace`, handed to the client).

A request holds its slot while in flight, and its window starts when the answer arrives.
kie counts a request when it reaches kie, which is never later than when we get the answer,
so kie never sees more than `limit` requests in any window, however slow the replies are.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class KieLimits:
    """How many requests of each kind may start per window (seconds)."""

    creates: int = 20
    create_window: float = 10.0
    status_queries: int = 10
    status_window: float = 1.0


class Pace(Protocol):
    """A limit on requests per window: SlidingWindow in one process, or one shared by every
    process and replica using the same key (decided in the store; composed by the server)."""

    window: float

    def slot(self) -> AbstractAsyncContextManager[None]:
        """Wait for a free slot and hold it for the duration of the block."""
        ...

    async def hold_back(self, seconds: float) -> None:
        """Start no request for the next ``seconds`` (after kie.ai answered 429)."""
        ...


@dataclass(frozen=True, slots=True)
class Paces:
    creates: Pace
    status_queries: Pace


class SlidingWindow:
    """At most `limit` requests in flight or finished within the last `window` seconds.

    Callers wait their turn in arrival order. `pause` holds every new request back, e.g.
    after kie.ai answered 429 with a Retry-After.
    """

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or not window > 0:
            raise ValueError("a rate limit needs limit >= 1 and a positive window")
        self.limit = limit
        self.window = window
        self._finished: deque[float] = deque()  # when recent requests got their answers
        self._in_flight = 0
        self._paused_until = 0.0
        self._turn = asyncio.Lock()  # FIFO: one waiter at a time looks for a slot
        self._released = asyncio.Event()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for a free slot and hold it for the duration of the block."""
        await self._acquire()
        try:
            yield
        finally:
            self._in_flight -= 1
            self._finished.append(time.monotonic())
            self._released.set()

    def pause(self, seconds: float) -> None:
        """Start no request for the next `seconds` (an earlier, longer pause still holds)."""
        self._paused_until = max(self._paused_until, time.monotonic() + max(0.0, seconds))

    async def hold_back(self, seconds: float) -> None:
        self.pause(seconds)

    async def _acquire(self) -> None:
        async with self._turn:
            while True:
                now = time.monotonic()
                while self._finished and self._finished[0] <= now - self.window:
                    self._finished.popleft()
                wait: float | None
                if now < self._paused_until:
                    wait = self._paused_until - now
                elif self._in_flight + len(self._finished) < self.limit:
                    self._in_flight += 1
                    return
                elif self._finished:  # the oldest finished request leaves the window first
                    wait = self._finished[0] + self.window - now
                else:  # every slot is in flight: the next answer frees one
                    wait = None
                self._released.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._released.wait(), timeout=wait)


class Spaced:
    """A pace whose requests, past the first ``limit // 2`` in a window and while others
    wait behind them (a backlog), start at least ``window / limit`` apart.

    A sliding window alone lets a backlog through in clusters: ``limit`` requests start
    together, and once the window slides past them, the next ``limit`` start together again.
    Each status answer starts a download and a commit on the event loop, so every cluster
    lands as one lump of work that holds up whatever else the loop serves (the sidecar's
    acknowledgements). Spaced, a backlog is worked through as an even stream at the same
    rate; a few requests at once (up to half the limit), and requests that come one by one
    with nobody waiting behind them, still start as soon as the window allows.
    """

    def __init__(self, pace: Pace, limit: int) -> None:
        self._pace = pace
        self.window = pace.window
        self._gap = pace.window / max(1, limit)
        self._free = max(1, limit // 2)  # starts per window that need no spacing
        self._starts: deque[float] = deque()  # when recent requests started (monotonic)
        self._turn = asyncio.Lock()  # FIFO, as the pace underneath
        self._wanting = 0  # requests waiting for a start

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as held:
            self._wanting += 1
            try:
                async with self._turn:
                    await self._spacing()
                    await held.enter_async_context(self._pace.slot())
                    self._starts.append(time.monotonic())
            finally:
                self._wanting -= 1
            yield

    async def hold_back(self, seconds: float) -> None:
        await self._pace.hold_back(seconds)

    async def _spacing(self) -> None:
        now = time.monotonic()
        while self._starts and self._starts[0] <= now - self.window:
            self._starts.popleft()
        if len(self._starts) >= self._free and self._wanting > 1:
            wait = self._starts[-1] + self._gap - now
            if wait > 0:
                await asyncio.sleep(wait)
