"""Acknowledgements first: background processing yields, briefly, to callbacks being accepted.

Processing a delivery (the verifying status read, the download, completing the job, previews)
runs on the same event loop as the sidecar that acknowledges callbacks. During a burst of
callbacks, each job started in the background takes CPU from the acknowledgements still in
flight, which then wait (and kie waits on them). So before an inbox worker starts on a job it
waits until no callback is in the acceptance path and, in a burst (two acceptances ending
within the quiet spell of each other), until none has been for that spell; never longer than
a bound: processing is held back behind a burst, never starved by it (each worker
still starts a job at least every ``max_hold`` seconds). A burst's acknowledgements then have
the loop to themselves, and processing catches up, at kie's pace, once the burst is over.
A callback that arrives when the sidecar is calm (no burst, at most a few callbacks in flight
together) has its processing wait for nobody: it starts as soon as the callback is found
authentic, alongside its commit (``calm``). Two callbacks that happen to arrive together are
not a burst: held back, each would read its job, then kie, then download, one after another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from mcp_server_kie.jobs.completion import InFlight

QUIET_SECONDS = 0.002
# Each worker starts a job at least this often however busy the sidecar is: with 8 workers,
# 16 jobs a second, above kie's pace of 10 status reads a second.
MAX_HOLD_SECONDS = 0.5
# Callbacks in flight together (each one included) that still start their processing at once.
FEW = 3


class AckGate:
    def __init__(
        self, *, quiet: float = QUIET_SECONDS, max_hold: float = MAX_HOLD_SECONDS, few: int = FEW
    ) -> None:
        self._quiet = quiet
        self._max_hold = max_hold
        self._few = few
        self._in_flight = InFlight()
        self._last_done = float("-inf")  # loop time the last acceptance finished
        self._bursting = False  # the last two acceptances ended within the quiet spell

    @property
    def accepting(self) -> int:
        """Callbacks in the acceptance path now."""
        return self._in_flight.count

    def calm(self) -> bool:
        """Inside an acceptance: whether no burst is going on and at most a few are in flight
        (this one included), so that its job's processing may start at once (alongside its
        commit)."""
        if self._in_flight.count > self._few:
            return False
        since = asyncio.get_running_loop().time() - self._last_done
        return not self._bursting or since >= self._quiet

    @contextmanager
    def accepting_one(self) -> Iterator[None]:
        """Around one callback's acceptance (checks and commit)."""
        with self._in_flight.one():
            try:
                yield
            finally:
                now = asyncio.get_running_loop().time()
                self._bursting = now - self._last_done < self._quiet
                self._last_done = now

    async def quiet(self) -> None:
        """Return once no callback is being accepted (in a burst: none has been for the
        quiet spell), or after the bound."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._max_hold
        try:
            async with asyncio.timeout_at(deadline):
                while True:
                    await self._in_flight.none()
                    wait = self._quiet - (loop.time() - self._last_done)
                    if (wait <= 0 or not self._bursting) and not self._in_flight.count:
                        return
                    await asyncio.sleep(max(wait, 0.0))
        except TimeoutError:
            return
