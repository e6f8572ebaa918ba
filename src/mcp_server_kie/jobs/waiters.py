"""Wake whoever is waiting on a job.

In-process only: a shortcut. The store stays the source of truth, so a waiter also re-reads
it on a short period (another process may have finished the job).
"""

from __future__ import annotations

import asyncio

from mcp_server_kie.domain import Job


class JobSignals:
    def __init__(self) -> None:
        self._events: dict[str, set[asyncio.Event]] = {}

    def subscribe(self, job_id: str) -> asyncio.Event:
        event = asyncio.Event()
        self._events.setdefault(job_id, set()).add(event)
        return event

    def unsubscribe(self, job_id: str, event: asyncio.Event) -> None:
        events = self._events.get(job_id)
        if events is not None:
            events.discard(event)
            if not events:
                del self._events[job_id]

    def changed(self, job: Job) -> None:
        for event in self._events.get(job.id, ()):
            event.set()
