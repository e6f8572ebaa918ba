"""Tell whoever cares that a job changed: waiters on one job, and watchers of every job.

In-process only: a shortcut. The store stays the source of truth, so a waiter also re-reads
it on a short period (another process may have finished the job).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from mcp_server_kie.domain import Job

log = logging.getLogger(__name__)

# A watcher that falls this far behind is cut off rather than allowed to grow without bound.
WATCH_BACKLOG = 1000
# How many jobs' last state is remembered to suppress repeats of the same news.
_REMEMBERED_JOBS = 10_000


class JobEvent(asyncio.Event):
    """Set when a job changes; ``job`` is the job as the change left it (read from the store
    after the change committed), so a waiter woken by a finish need not read it again."""

    def __init__(self) -> None:
        super().__init__()
        self.job: Job | None = None


class JobSignals:
    def __init__(self) -> None:
        self._events: dict[str, set[JobEvent]] = {}
        self._watchers: set[asyncio.Queue[Job | None]] = set()
        self._last_seen: dict[str, tuple[object, ...]] = {}

    def subscribe(self, job_id: str) -> JobEvent:
        event = JobEvent()
        self._events.setdefault(job_id, set()).add(event)
        return event

    def unsubscribe(self, job_id: str, event: JobEvent) -> None:
        events = self._events.get(job_id)
        if events is not None:
            events.discard(event)
            if not events:
                del self._events[job_id]

    @contextmanager
    def watch(self) -> Iterator[asyncio.Queue[Job | None]]:
        """A queue of every job state change from now on. ``None`` means the watcher fell
        too far behind and was dropped: re-read the store and watch again."""
        queue: asyncio.Queue[Job | None] = asyncio.Queue(WATCH_BACKLOG + 1)
        self._watchers.add(queue)
        try:
            yield queue
        finally:
            self._watchers.discard(queue)

    def changed(self, job: Job) -> None:
        for event in self._events.get(job.id, ()):
            event.job = job
            event.set()
        previews_pending = sum(asset.preview_pending for asset in job.assets)
        state = (job.status, job.task_state, len(job.assets), previews_pending)
        if self._last_seen.get(job.id) == state:
            return  # a refresh that changed nothing is not news
        self._last_seen.pop(job.id, None)
        self._last_seen[job.id] = state  # newest last, so trimming drops the oldest
        if len(self._last_seen) > _REMEMBERED_JOBS:
            del self._last_seen[next(iter(self._last_seen))]
        for queue in list(self._watchers):
            if queue.qsize() >= WATCH_BACKLOG:
                self._watchers.discard(queue)
                queue.put_nowait(None)
                log.warning("a job watcher fell behind and was dropped")
            else:
                queue.put_nowait(job)

    def wake_all(self) -> None:
        """Wake every waiter to re-read its job from the store (news may have been missed)."""
        for events in self._events.values():
            for event in events:
                event.job = None
                event.set()

    def drop_watchers(self) -> None:
        """Cut every watcher off (as if it fell behind), so long-lived streams such as
        ``/events`` end by themselves when the server shuts down."""
        for queue in list(self._watchers):
            self._watchers.discard(queue)
            queue.put_nowait(None)
