"""SlidingWindow: slots are held while in flight, the window runs from the answer, FIFO, pause."""

from __future__ import annotations

import asyncio
import time

import pytest

from mcp_server_kie.kie.limits import SlidingWindow


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
