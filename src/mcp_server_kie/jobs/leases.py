"""Holding a store lease while doing shared work: claim (waiting a bounded time for another
holder to finish), renew in the background while working, release when done.

Any process or replica may refresh a job, accept its callback or poll it; the lease on
``job:<id>`` makes sure one of them at a time talks to kie.ai about it and downloads its
outputs, so each output is fetched and stored once. A holder killed mid-work stops renewing
and is replaced once its lease expires; at once by a process on the same machine, which can
see that the holder's pid is gone (a restart after a crash need not wait).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from mcp_server_kie.storage import Store

log = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 60.0
_RETRY_FIRST, _RETRY_MAX = 0.05, 0.5  # seconds between claims while another holder works


def new_holder_id() -> str:
    """Who this process is, in lease rows and logs: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def died_on_this_host(holder: str) -> bool:
    """Whether ``holder`` was a process on this machine that no longer runs: its lease can be
    taken at once (a restart after a crash need not wait for the lease to run out)."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it runs, as another user
        return False
    return False


class Held(enum.IntEnum):
    """What `Leases.hold` got: false when not held."""

    NO = 0
    AT_ONCE = 1  # free when first asked for
    AFTER_WAITING = 2  # another holder had it first (what it guards may have changed)


class Leases:
    def __init__(
        self, store: Store, seconds: float = DEFAULT_LEASE_SECONDS, holder: str | None = None
    ) -> None:
        self._store = store
        self.seconds = seconds
        self.holder = holder or new_holder_id()

    @contextlib.asynccontextmanager
    async def hold(
        self, name: str, *, wait: float, give_up: Callable[[], Awaitable[bool]] | None = None
    ) -> AsyncIterator[Held]:
        """Yield how ``name`` is held (a true value) while holding it; Held.NO if it could not
        be had within ``wait`` seconds (or once ``give_up()`` says the work is no longer
        needed)."""
        held = await self._claim(name, wait, give_up)
        if not held:
            yield held
            return
        renewer = asyncio.create_task(self._keep(name), name=f"lease {name}")
        try:
            yield held
        finally:
            renewer.cancel()
            [outcome] = await asyncio.gather(renewer, return_exceptions=True)
            if isinstance(outcome, Exception):  # the database failed under the renewal
                log.warning("renewing lease %s failed: %s", name, type(outcome).__name__)
            # Shielded: a cancelled holder still hands the work back at once.
            await asyncio.shield(self._store.release_lease(name, self.holder))

    async def _claim(
        self, name: str, wait: float, give_up: Callable[[], Awaitable[bool]] | None
    ) -> Held:
        deadline = time.monotonic() + wait
        pause = _RETRY_FIRST
        if await self._store.claim_lease(name, self.holder, self.seconds):
            return Held.AT_ONCE
        while True:
            if await self._take_from_dead(name):
                return Held.AFTER_WAITING
            if time.monotonic() >= deadline or (give_up is not None and await give_up()):
                return Held.NO
            await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, _RETRY_MAX)
            if await self._store.claim_lease(name, self.holder, self.seconds):
                return Held.AFTER_WAITING

    async def _take_from_dead(self, name: str) -> bool:
        holder = await self._store.lease_holder(name)
        if holder is None or not died_on_this_host(holder):
            return False
        log.info("taking over %s from %s, which is no longer running", name, holder)
        return await self._store.take_over_lease(name, holder, self.holder, self.seconds)

    async def _keep(self, name: str) -> None:
        while True:
            await asyncio.sleep(self.seconds / 3)
            if not await self._store.renew_lease(name, self.holder, self.seconds):
                log.warning("lease %s expired while held; another process may take it", name)
                return
