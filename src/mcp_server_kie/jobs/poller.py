"""The reconciler: polls kie for every unfinished job on a backoff schedule.

Without a public URL this is how jobs finish. With webhooks it is the safety net: it first
polls a job only once the callback is overdue. It also resumes every unfinished job after a
restart, since it works from the store, not from memory.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time

from mcp_server_kie.catalog import typical_seconds
from mcp_server_kie.domain import Job, JobError, JobStatus
from mcp_server_kie.jobs.engine import Engine

log = logging.getLogger(__name__)

# A job still pending this long after creation was interrupted mid-submit (crash, kill).
_STALE_PENDING_SECONDS = 120.0


def poll_interval(age: float) -> float:
    """kie's guidance: every 2-3 s for the first 30 s, 5-10 s up to 2 min, then 15-30 s."""
    if age < 30:
        return random.uniform(2.0, 3.0)  # noqa: S311 - jitter, not security
    if age < 120:
        return random.uniform(5.0, 10.0)  # noqa: S311
    return random.uniform(15.0, 30.0)  # noqa: S311


def first_poll_delay(job: Job) -> float:
    """When to look at a job first: soon when polling, after the callback is overdue otherwise."""
    if not job.callback_expected:
        return poll_interval(0.0)
    return max(30.0, 1.5 * typical_seconds(job.model))


class Poller:
    def __init__(self, engine: Engine, tick: float = 0.25, max_concurrent: int = 8) -> None:
        self._engine = engine
        self._tick = tick
        self._due: dict[str, float] = {}
        self._limit = asyncio.Semaphore(max_concurrent)
        self._in_flight: dict[str, asyncio.Task[None]] = {}

    def poll_soon(self, job_id: str, delay: float = 0.0) -> None:
        self._due[job_id] = time.time() + delay

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self._sweep()
                except Exception:  # keep reconciling whatever one sweep hit
                    log.exception("reconciler sweep failed")
                await asyncio.sleep(self._tick)
        finally:
            for task in list(self._in_flight.values()):
                task.cancel()
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def _sweep(self) -> None:
        now = time.time()
        open_jobs = await self._engine.store.open_jobs()
        open_ids = {job.id for job in open_jobs}
        for job_id in list(self._due):
            if job_id not in open_ids:
                del self._due[job_id]
        for job in open_jobs:
            if job.id in self._in_flight:
                continue
            if job.status is JobStatus.PENDING:
                if now - job.created_at > _STALE_PENDING_SECONDS:
                    await self._abandon(job)
                continue
            due = self._due.setdefault(job.id, job.created_at + first_poll_delay(job))
            if due <= now:
                self._in_flight[job.id] = asyncio.create_task(self._poll(job))

    async def _poll(self, job: Job) -> None:
        try:
            async with self._limit:
                await self._engine.refresh(job.id)
        except Exception:
            log.exception("polling job %s failed", job.id)
        finally:
            self._in_flight.pop(job.id, None)
            self._due[job.id] = time.time() + poll_interval(time.time() - job.created_at)

    async def _abandon(self, job: Job) -> None:
        error = JobError(
            "uncertain",
            "The server stopped while submitting this job, so kie.ai may or may not have "
            "received it. It was not resubmitted. Check https://kie.ai/logs before retrying.",
        )
        await self._engine.fail_pending(job.id, error)
