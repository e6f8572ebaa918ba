"""Processing behind the acknowledgements: a bounded pool of workers works through the jobs
whose deliveries wait in the inbox.

The sidecar acknowledges a delivery once it is committed; its job is handed here then (or,
for a callback accepted when the sidecar is calm, as soon as it is found authentic:
jobs/deliveries.py).
Processing (the verifying status read, the download, completing the job) runs on at most
``workers`` tasks, so a burst of callbacks never turns into a burst of concurrent processing
whose writes the next acknowledgements would queue behind. At most ``max_queued`` job ids wait
in memory; past that a job is not queued here, but its deliveries wait in the inbox (durable),
and the workers read the inbox for more once the queue runs dry: nothing is dropped, and
memory stays bounded however long the backlog.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from mcp_server_kie.jobs.ack_gate import AckGate
from mcp_server_kie.storage import Store

log = logging.getLogger(__name__)

ProcessFn = Callable[[str], Awaitable[None]]

WORKERS = 8
MAX_QUEUED = 1000


class InboxWorkers:
    def __init__(
        self,
        store: Store,
        process: ProcessFn,
        *,
        workers: int = WORKERS,
        max_queued: int = MAX_QUEUED,
        gate: AckGate | None = None,
    ) -> None:
        """``process(job_id)`` acts on the job's stored deliveries (and marks them
        processed); it is never run twice at once for one job. ``gate``: when given, a
        worker lets the callbacks being acknowledged go first (briefly) before each job."""
        self._store = store
        self._process = process
        self._workers = workers
        self._max_queued = max_queued
        self._queued: dict[str, None] = {}  # job ids in arrival order (a dict: an ordered set)
        self._running: set[str] = set()
        self._again: set[str] = set()  # running jobs that got another delivery meanwhile
        self._in_inbox_only = False  # a job was left in the inbox: read it from there later
        self._tasks: set[asyncio.Task[None]] = set()
        self._ungated: set[str] = set()  # queued jobs whose turn skips the gate
        self._gate = gate

    @property
    def backlog(self) -> int:
        """Jobs queued in memory or being processed now (not those left in the inbox)."""
        return len(self._queued) + len(self._running)

    def submit(self, job_id: str, *, gated: bool = True) -> None:
        """Process the job's inbox soon. A job already queued is not queued twice; a job being
        processed goes round once more when it is done. Not ``gated``: the caller has seen
        the sidecar calm (no burst going on), so a turn that comes at once (a worker is
        free) does not wait for the gate."""
        if job_id in self._running:
            self._again.add(job_id)
        elif job_id not in self._queued:
            if len(self._queued) >= self._max_queued:
                self._in_inbox_only = True
            else:
                if not gated and not self._queued and len(self._tasks) < self._workers:
                    self._ungated.add(job_id)  # its turn is now (a worker is free), not later
                self._queued[job_id] = None
        if len(self._tasks) < self._workers:
            task = asyncio.create_task(self._work(), name="kie-inbox-worker")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Stop processing; what is left waits in the inbox for the next start."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _work(self) -> None:
        while True:
            job_id = self._next()
            if job_id is None and self._in_inbox_only:
                self._in_inbox_only = False
                await self._read_inbox()
                job_id = self._next()
            if job_id is None:
                return
            self._running.add(job_id)
            try:
                if self._gate is not None and job_id not in self._ungated:
                    await self._gate.quiet()
                await self._run(job_id)
            finally:
                self._ungated.discard(job_id)
                self._running.discard(job_id)
                self._again.discard(job_id)

    def _next(self) -> str | None:
        if not self._queued:
            return None
        job_id = next(iter(self._queued))
        del self._queued[job_id]
        return job_id

    async def _run(self, job_id: str) -> None:
        while True:
            self._again.discard(job_id)
            try:
                await self._process(job_id)
            except Exception:  # the deliveries stay in the inbox for the next start
                log.exception("processing the deliveries of job %s failed", job_id)
                return
            if job_id not in self._again:
                return

    async def _read_inbox(self) -> None:
        """Queue jobs whose deliveries wait in the inbox, up to the queue's bound."""
        limit = self._max_queued - len(self._queued) + len(self._running)
        waiting = await self._store.jobs_with_pending_deliveries(limit)
        if len(waiting) == limit:
            self._in_inbox_only = True  # there may be more than were read
        for job_id in waiting:
            if job_id in self._running:
                self._again.add(job_id)
            elif job_id not in self._queued:
                if len(self._queued) >= self._max_queued:
                    self._in_inbox_only = True
                    return
                self._queued[job_id] = None
