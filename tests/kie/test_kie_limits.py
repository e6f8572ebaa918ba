"""SlidingWindow: slots are held while in flight, the window runs from the answer, FIFO, pause.
Spaced: past half the limit in a window, starts come evenly, never in a cluster."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from mcp_server_kie.kie.limits import SlidingWindow, Spaced


async def test_the_window_starts_when_the_answer_arrives() -> None:
    """Two slow requests fill a limit of 2; a third starts only once the first answer is a
    full window old, so the server can never see three within one window."""
    window = SlidingWindow(2, 0.2)
    started = time.monotonic()
    entered: list[float] = []

    async def request(seconds: float) -> None:
        async with window.slot():
            entered.append(time.monotonic() - started)
            await asyncio.sleep(seconds)

    await asyncio.gather(request(0.3), request(0.3), request(0.0))
    assert entered[0] < 0.1 and entered[1] < 0.1
    assert entered[2] >= 0.3 + 0.2


async def test_waiters_are_served_in_arrival_order() -> None:
    window = SlidingWindow(1, 0.05)
    order: list[int] = []

    async def request(n: int) -> None:
        async with window.slot():
            order.append(n)

    tasks = []
    for n in range(5):
        tasks.append(asyncio.create_task(request(n)))
        await asyncio.sleep(0)  # let each one queue before the next arrives
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]


async def test_pause_holds_every_new_request_back() -> None:
    window = SlidingWindow(10, 1.0)
    window.pause(0.3)
    window.pause(0.1)  # a shorter pause does not cut the longer one
    started = time.monotonic()
    async with window.slot():
        assert time.monotonic() - started >= 0.3


def test_nonsense_limits_are_refused() -> None:
    for limit, seconds in ((0, 1.0), (1, 0.0), (1, -1.0)):
        with pytest.raises(ValueError, match="rate limit"):
            SlidingWindow(limit, seconds)


async def test_a_backlog_starts_evenly_past_half_the_limit() -> None:
    """Eight requests at once under 8 per 2 s: the first four (half the limit) start at
    once; each later one at least window / limit (0.25 s) after the one before it, never
    several together as the bare window would let them."""
    pace = Spaced(SlidingWindow(8, 2.0), 8)
    started = time.monotonic()
    entered: list[float] = []

    async def request() -> None:
        async with pace.slot():
            entered.append(time.monotonic() - started)

    await asyncio.gather(*(request() for _ in range(8)))
    assert entered[3] < 0.5  # spaced from the start, the fourth would start at 0.75 s
    gaps = [later - earlier for earlier, later in itertools.pairwise(entered[3:])]
    assert all(gap >= 0.25 - 0.005 for gap in gaps), gaps  # (the timer's granularity)


async def test_a_few_requests_at_once_are_not_spaced() -> None:
    pace = Spaced(SlidingWindow(10, 10.0), 10)
    started = time.monotonic()
    entered: list[float] = []

    async def request() -> None:
        async with pace.slot():
            entered.append(time.monotonic() - started)

    await asyncio.gather(*(request() for _ in range(5)))
    assert max(entered) < 1.0  # spaced, the fifth would start 4 s in
