"""SlidingWindow: slots are held while in flight, the window runs from the answer, FIFO, pause.
Spaced: past half the limit in a window, starts come evenly, never in a cluster."""

from __future__ import annotations

import asyncio
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
    """Eight requests at once under 4 per 0.8 s: four start at once and fill the window. The
    bare window would start the other four together when it slides (at 0.8 s); spaced, once
    half the limit (two) have started in the window, the next with others still waiting
    behind it starts window / limit (0.2 s) after the one before it."""
    entered = await starts_at_once(Spaced(SlidingWindow(4, 0.8), 4), 8)
    assert entered[3] < 0.5 <= 0.8 - 0.005 <= entered[4]
    assert entered[6] - entered[5] >= 0.2 - 0.005, entered  # (the timer's granularity)


async def test_a_few_requests_at_once_are_not_spaced() -> None:
    entered = await starts_at_once(Spaced(SlidingWindow(10, 10.0), 10), 5)
    assert max(entered) < 1.0  # spaced, the fifth would start 4 s in


async def test_requests_one_at_a_time_are_not_spaced() -> None:
    """Past half the limit, a request with nobody waiting behind it is not a backlog: it
    starts as soon as the window allows (a callback's status read never waits for spacing)."""
    pace = Spaced(SlidingWindow(8, 10.0), 8)
    started = time.monotonic()
    for _ in range(7):
        async with pace.slot():
            pass
    assert time.monotonic() - started < 3.0  # spaced, the seventh would start 3.75 s in


async def starts_at_once(pace: Spaced, requests: int) -> list[float]:
    """Seconds from the start to each of ``requests`` requests made at once getting a slot."""
    started = time.monotonic()
    entered: list[float] = []

    async def request() -> None:
        async with pace.slot():
            entered.append(time.monotonic() - started)

    await asyncio.gather(*(request() for _ in range(requests)))
    return entered
