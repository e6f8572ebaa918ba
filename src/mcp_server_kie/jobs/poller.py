"""The reconciler: polls kie for every unfinished job on a backoff schedule.

Without a public URL this is how jobs finish. With webhooks it is the safety net: it first
polls a job only once the callback is overdue. It also resumes every unfinished job after a
restart, since it works from the store, not from memory. Each sweep reads only the jobs that
are due (``jobs.check_at``, indexed), never every open job; a process takes a due job by moving
its due time forward, so replicas share one schedule and poll each job once per step.

A failing status endpoint never fails a job by itself: 5xx, resets and timeouts are retried on
the schedule, and a 429 pushes that job's next poll past kie's Retry-After (the client also
holds every status query back meanwhile). What ends a job here is a deadline per media kind,
or kie saying several times in a row that it has no such task.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType

from mcp_server_kie.catalog import typical_seconds
from mcp_server_kie.domain import Job, JobError, JobStatus, MediaKind
from mcp_server_kie.jobs.engine import Engine
from mcp_server_kie.kie.client import task_unknown
from mcp_server_kie.kie.errors import KieError, KieRateLimitError
from mcp_server_kie.storage import Move

log = logging.getLogger(__name__)

# A job still pending this long after creation was interrupted mid-submit (crash, kill).
_STALE_PENDING_SECONDS = 120.0
# kie suggests giving up on a task after 10-15 minutes; videos get longer (Veo 4K: 5-10 min
# on its own, and queues add to that); Suno songs take 2-5 minutes, up to 8 minutes long.
DEFAULT_DEADLINES: Mapping[MediaKind, float] = MappingProxyType(
    {MediaKind.IMAGE: 900.0, MediaKind.VIDEO: 3600.0, MediaKind.AUDIO: 1800.0}
)
# Consecutive "no such task" answers before a job is failed (a fresh task could briefly be
# unknown to a replica; three answers span several seconds of the schedule).
_UNKNOWN_TASK_ANSWERS = 3
# How soon a stale pending job whose create this process is still sending is looked at again.
_SUBMITTING_RECHECK_SECONDS = 1.0
# How often previews left pending (by a crash) are looked for, and per-job memory is pruned.
_CATCH_UP_SECONDS = 10.0


def poll_interval(age: float) -> float:
    """kie's guidance: every 2-3 s for the first 30 s, 5-10 s up to 2 min, then 15-30 s."""
    if age < 30:
        return random.uniform(2.0, 3.0)  # noqa: S311 - jitter, not security
    if age < 120:
        return random.uniform(5.0, 10.0)  # noqa: S311
    return random.uniform(15.0, 30.0)  # noqa: S311


class Poller:
    """Polls open jobs. `interval(age)` is the schedule (seconds to the next poll of a job that
    is `age` seconds old); `callback_wait` is how long a webhook-mode job waits for its
    callback before the first poll (default: max(30 s, 1.5 x the model's typical time));
    `deadlines` says how long each kind may take, counted from the job's creation."""

    def __init__(
        self,
        engine: Engine,
        *,
        deadlines: Mapping[MediaKind, float] = DEFAULT_DEADLINES,
        callback_wait: float | None = None,
        interval: Callable[[float], float] = poll_interval,
        tick: float = 0.25,
        max_concurrent: int = 8,
    ) -> None:
        self._engine = engine
        self._deadlines = deadlines
        self._callback_wait = callback_wait
        self._interval = interval
        self._tick = tick
        self._next_catch_up = 0.0
        self._limit = asyncio.Semaphore(max_concurrent)
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._last_error: dict[str, str] = {}  # the latest failed status query, per job
        self._unknown: dict[str, int] = {}  # consecutive "no such task" answers, per job

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

    def _first_delay(self, job: Job) -> float:
        """When to look at a job first: soon when polling, once the callback is overdue else."""
        if not job.callback_expected:
            return self._interval(0.0)
        if self._callback_wait is not None:
            return self._callback_wait
        return max(30.0, 1.5 * typical_seconds(job.model))

    def _deadline(self, job: Job) -> float:
        return self._deadlines.get(job.kind, DEFAULT_DEADLINES[job.kind])

    async def _sweep(self) -> None:
        now = time.time()
        if now >= self._next_catch_up:
            self._next_catch_up = now + _CATCH_UP_SECONDS
            await self._catch_up()
        store = self._engine.store
        moves: list[Move] = []  # every due job's next look, written together
        polls: dict[str, tuple[Job, float, bool]] = {}  # polled now, if the move is ours
        pending: list[Job] = []
        for job, seen in await store.due_jobs(now):
            if job.id in self._in_flight:
                continue
            if job.status is JobStatus.PENDING:
                moves.append(self._pending_move(job, seen, now))
                pending.append(job)
                continue
            deadline_at = job.created_at + self._deadline(job)
            if seen is None:  # first seen: schedule its first look
                first = min(job.created_at + self._first_delay(job), deadline_at)
                if first > now:
                    moves.append(Move(job.id, None, first))
                    continue
            overdue = now >= deadline_at
            then = now + self._interval(now - job.created_at)
            if not overdue:
                then = min(then, deadline_at)
            moves.append(Move(job.id, seen, then))
            polls[job.id] = (job, then, overdue)
        moved = await store.reschedule_all(moves)  # one transaction, however many jobs
        for job_id, poll in polls.items():  # the most overdue first
            if job_id in moved:  # ours to poll (not a replica's)
                self._in_flight[job_id] = asyncio.create_task(self._poll(*poll))
        for job in pending:
            stale = now >= job.created_at + _STALE_PENDING_SECONDS
            if job.id in moved and stale and not self._engine.submitting(job.id):
                await self._abandon(job)

    def _pending_move(self, job: Job, seen: float | None, now: float) -> Move:
        """A job still pending when due was interrupted mid-submit, unless this process is
        still sending its create (which may wait for a slot under kie's create limit): looked
        at again when stale, and abandoned once stale (by the process that moved it). Each
        move is made only while the job is still pending: a job whose create went through
        meanwhile keeps the fresh schedule it got then."""
        stale_at = job.created_at + _STALE_PENDING_SECONDS
        if now < stale_at:
            at = stale_at
        elif self._engine.submitting(job.id):
            at = now + _SUBMITTING_RECHECK_SECONDS
        else:
            at = now + self._interval(0.0)
        return Move(job.id, seen, at, JobStatus.PENDING)

    async def _catch_up(self) -> None:
        """Previews a crash left pending, and memory of jobs that have ended meanwhile."""
        await self._engine.catch_up_previews()
        remembered = list(self._last_error.keys() | self._unknown.keys())
        still_open = await self._engine.store.open_among(remembered)
        for job_id in remembered:
            if job_id not in still_open:
                self._last_error.pop(job_id, None)
                self._unknown.pop(job_id, None)

    async def _poll(self, job: Job, then: float, overdue: bool) -> None:
        delay: float | None = None
        try:
            async with self._limit:
                delay = await self._check(job)
                if overdue:
                    current = await self._engine.get(job.id) or job
                    await self._engine.give_up(job.id, self._timeout_error(current))
        except Exception:
            log.exception("polling job %s failed", job.id)
        finally:
            self._in_flight.pop(job.id, None)
            if delay is not None and time.time() + delay > then:  # kie asked for a pause
                await self._engine.store.reschedule(job.id, then, time.time() + delay)

    async def _check(self, job: Job) -> float | None:
        """Refresh the job from kie; the seconds until its next poll when kie asked for a
        pause (None: the schedule's own step)."""
        delay = self._interval(time.time() - job.created_at)
        try:
            await self._engine.check(job.id)
        except KieRateLimitError as exc:
            self._last_error[job.id] = exc.message
            wait = max(exc.retry_after or 0.0, delay)
            log.warning("kie.ai rate-limited the status of job %s; retry in %.1f s", job.id, wait)
            return wait * random.uniform(1.0, 1.25)  # noqa: S311 - spread the retries out
        except KieError as exc:
            log.warning("status of job %s unavailable: %s", job.id, exc.message)
            self._last_error[job.id] = exc.message
            if task_unknown(exc):
                self._unknown[job.id] = self._unknown.get(job.id, 0) + 1
                if self._unknown[job.id] >= _UNKNOWN_TASK_ANSWERS:
                    await self._engine.give_up(job.id, _unknown_task_error(job, exc))
            else:
                self._unknown.pop(job.id, None)
            return None
        self._last_error.pop(job.id, None)
        self._unknown.pop(job.id, None)
        return None

    def _timeout_error(self, job: Job) -> JobError:
        seconds = self._deadline(job)
        span = f"{seconds / 60:.0f} minutes" if seconds >= 120 else f"{seconds:.0f} seconds"
        state = f" (its last known state: {job.task_state.value})" if job.task_state else ""
        message = (
            f"kie.ai did not finish this {job.kind.value} within {span}{state}, so this server "
            "stopped waiting for it. kie.ai may still finish it, and may have charged credits "
            f"for it: check https://kie.ai/logs (task {job.task_id}) before trying again."
        )
        if job.id in self._last_error:
            message += f" The last status check failed: {self._last_error[job.id]}"
        return JobError("timeout", message)

    async def _abandon(self, job: Job) -> None:
        error = JobError(
            "uncertain",
            "The server stopped while submitting this job, so kie.ai may or may not have "
            "received it. It was not resubmitted. Check https://kie.ai/logs before retrying.",
        )
        await self._engine.give_up(job.id, error)


def _unknown_task_error(job: Job, exc: KieError) -> JobError:
    return JobError(
        "not_found",
        f"kie.ai says it has no task {job.task_id} for this job (it answered: "
        f"{exc.message}). The task may have been created with another API key, or is older "
        "than kie.ai keeps records. Nothing more will happen for this job; check "
        "https://kie.ai/logs before trying again.",
        provider_code=str(exc.code) if exc.code else None,
    )
