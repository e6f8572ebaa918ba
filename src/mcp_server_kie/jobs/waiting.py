"""Waiting for a job: return it once terminal, or as it stands when the wait is over.

A waiter is woken at once by changes this process makes (``JobSignals``) and by changes
other processes or replicas make that the store announces (PostgreSQL's notifications). It
also re-reads the store on its own, since the store is the source of truth: every second
where other processes' changes go unannounced (SQLite, or while PostgreSQL's listener is
reconnecting), and only as a safety net while they are heard. A break in hearing wakes every
waiter to re-read, both when it begins (from then on they re-read every second) and when it
ends (what was announced meanwhile was missed).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable

from mcp_server_kie.domain import Job
from mcp_server_kie.jobs.waiters import JobSignals
from mcp_server_kie.storage import Store

ProgressFn = Callable[[Job], Awaitable[None]]

# How often a waiter re-reads the store even without a signal (another process may finish it).
WAIT_RECHECK_SECONDS = 1.0
# The same while every other process's change is announced and heard: a safety net only.
# (With a few dozen waiters, re-reading every second was most of a replica's reads.)
HEARD_RECHECK_SECONDS = 10.0


class Waiting:
    def __init__(
        self,
        store: Store,
        signals: JobSignals,
        recheck_seconds: float = WAIT_RECHECK_SECONDS,
        heard_recheck_seconds: float = HEARD_RECHECK_SECONDS,
    ) -> None:
        self._store = store
        self._signals = signals
        self._recheck = recheck_seconds
        self._heard_recheck = heard_recheck_seconds
        self._hearing = False  # other processes' changes are announced and heard now

    @property
    def hearing(self) -> bool:
        """Whether other processes' job changes are heard as they commit (follow_changes)."""
        return self._hearing

    async def wait(
        self,
        job_id: str,
        seconds: float,
        on_update: ProgressFn | None = None,
        heartbeat: float = math.inf,
    ) -> Job | None:
        """Return the job once terminal, or as it stands after ``seconds``. ``on_update`` is
        called with the job as read at each change of its state, and whenever ``heartbeat``
        seconds pass without one (with the job as last read: a heartbeat costs no read)."""
        told = time.monotonic()  # when on_update was last called (it is, after the first read)
        deadline = told + max(0.0, seconds)
        beat = heartbeat if on_update is not None else math.inf
        event = self._signals.subscribe(job_id)
        try:
            last_seen: tuple[object, object] | None = None
            while True:
                event.clear()
                job = await self._store.get_job(job_id)
                if job is None or job.status.terminal:
                    return job
                event.job = None
                seen, now = (job.status, job.task_state), time.monotonic()
                if on_update is not None and (seen != last_seen or now >= told + beat):
                    await on_update(job)
                    told = time.monotonic()
                last_seen = seen
                if now >= deadline:
                    return job
                recheck = self._heard_recheck if self._hearing else self._recheck
                read_at = min(deadline, now + recheck)
                while not await _news_or(event, read_at, told + beat):
                    assert on_update is not None  # (the beat is finite only with one)
                    await on_update(job)
                    told = time.monotonic()
                if event.job is not None and event.job.status.terminal:
                    return event.job  # read after the change committed: no second read
        finally:
            self._signals.unsubscribe(job_id, event)

    async def follow_changes(self, ready: asyncio.Event) -> None:
        """Pass job changes made by other processes or replicas (PostgreSQL notifies them) to
        this process's waiters, resource subscribers and /events streams. Runs until
        cancelled; ``ready`` is set once hearing them (at once where they go unannounced)."""
        if not self._store.announces_changes:
            ready.set()
            return

        async def changed(job_id: str) -> None:
            job = await self._store.get_job(job_id)
            if job is not None:
                self._signals.changed(job)

        def hearing(now: bool) -> None:
            self._hearing = now
            if now:
                ready.set()
            self._signals.wake_all()  # re-read: news may have been missed; a new period

        await self._store.follow_changes(changed, hearing)  # (it says when hearing ends)


async def _news_or(event: asyncio.Event, read_at: float, beat_at: float) -> bool:
    """Wait for news of the job (``event``), the time to re-read it or a heartbeat, whichever
    comes first (monotonic times); False when it is the heartbeat's turn."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(0.0, min(read_at, beat_at) - time.monotonic())):
            await event.wait()
    return event.is_set() or read_at <= beat_at  # (not the clock: a timer may fire early)
