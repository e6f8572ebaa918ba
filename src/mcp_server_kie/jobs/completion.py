"""Acting on a task's status: re-read it from kie (fetch-to-verify), download every output,
and move the job to a terminal state exactly once, then wake whoever waits on it.

Callbacks, the poller and restarts all funnel into ``refresh``/``check``. The job's lease
(``job:<id>``) makes one process at a time talk to kie.ai about a job and store its outputs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable, Iterator

from mcp_server_kie.domain import Job, JobError, TaskSnapshot, TaskState, clean_provider_text
from mcp_server_kie.jobs.early_download import EarlyDownload, Lead, forget
from mcp_server_kie.jobs.leases import Held, Leases
from mcp_server_kie.jobs.outputs import OutputStore
from mcp_server_kie.jobs.waiters import JobSignals
from mcp_server_kie.kie.client import KieClient
from mcp_server_kie.kie.errors import KieError
from mcp_server_kie.media import DownloadError
from mcp_server_kie.storage import Store

log = logging.getLogger(__name__)

# Retry budget for transient download failures before the job fails for good.
_MAX_DOWNLOAD_ATTEMPTS = 3


class InFlight:
    """How many jobs this process is completing right now; work that can wait (previews)
    waits for none, for a bounded time, so that it never slows a completion down."""

    def __init__(self) -> None:
        self._count = 0
        self._none = asyncio.Event()
        self._none.set()

    @contextlib.contextmanager
    def one(self) -> Iterator[None]:
        self._count += 1
        self._none.clear()
        try:
            yield
        finally:
            self._count -= 1
            if not self._count:
                self._none.set()

    @property
    def count(self) -> int:
        return self._count

    async def none(self) -> None:
        await self._none.wait()

    async def none_for_up_to(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.none()


def _drop(reading: asyncio.Future[TaskSnapshot] | None) -> None:
    """A status read that was not used: cancelled if still going, its failure retrieved."""
    if reading is None:
        return
    if not reading.done():
        reading.cancel()
    elif not reading.cancelled():
        reading.exception()


def job_lease(job_id: str) -> str:
    """The name of the lease that guards a job's work."""
    return f"job:{job_id}"


class Completer:
    def __init__(
        self,
        store: Store,
        require_kie: Callable[[], KieClient],
        outputs: OutputStore,
        leases: Leases,
        signals: JobSignals,
        on_completed: Callable[[str], None],
    ) -> None:
        """``on_completed(job_id)``: called once waiters have been told that this process
        completed the job (the previews are made then)."""
        self._store = store
        self._require_kie = require_kie
        self._outputs = outputs
        self._leases = leases
        self._signals = signals
        self._on_completed = on_completed
        self._job_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._download_failures: dict[str, int] = {}
        self.in_flight = InFlight()

    async def refresh(
        self, job_id: str, *, status_first: bool = False, lead: Lead | None = None
    ) -> Job | None:
        """Ask kie for the task's state and act on it. Safe to call any number of times.
        A failed status query is logged and leaves the job as it was. ``status_first`` and
        ``lead``: see `check`."""
        try:
            return await self.check(job_id, status_first=status_first, lead=lead)
        except KieError as exc:
            log.warning("status of job %s unavailable: %s", job_id, exc.message)
            return await self._store.get_job(job_id)

    async def check(
        self, job_id: str, *, status_first: bool = False, lead: Lead | None = None
    ) -> Job | None:
        """`refresh`, except that a failed status query raises its KieError, so that the
        poller can pace itself (Retry-After) and notice a task kie.ai does not know.

        ``status_first`` (a callback says the task has news): the status read, which needs
        no lease, is sent before the job's lease is claimed and runs while it is; what it
        says is acted on only under the lease (for the job as read just before, when the
        lease was free: see `_check_held`). (The poller claims first: a job another process
        is working on costs it no status read.)
        ``lead`` (with ``status_first``: a callback that arrived when the sidecar was calm):
        the status read goes out before the job is read, and the result URLs the callback
        claims download meanwhile, kept only if the status read names the same
        (jobs/early_download.py)."""
        with self.in_flight.one():
            async with self._lock(job_id):
                seen, reading, early = (
                    await self._read_status(job_id, lead) if status_first else (None, None, None)
                )
                try:
                    job, acted = await self._check_held(job_id, reading, early, seen)
                finally:
                    _drop(reading)
                    await forget(early)
        if acted and job is not None and any(asset.preview_pending for asset in job.assets):
            self._on_completed(job_id)
        return job

    async def _read_status(
        self, job_id: str, lead: Lead | None
    ) -> tuple[Job | None, asyncio.Future[TaskSnapshot] | None, EarlyDownload | None]:
        """The job as read first, its task's status read and the early download of the
        lead's claims, under way; no read when there is nothing to read (then a read sent and
        a download started on the lead's word, while the job was being read, are dropped)."""
        kie = self._require_kie()
        asked, early = None, None
        if lead is not None:  # the download first: it takes longer than the status read
            early = EarlyDownload.start(self._outputs, lead, lead.claimed)
            asked = asyncio.ensure_future(kie.get_task(lead.family, lead.task_id))
        followed = False  # the lead's read and download are the job's own, and go on
        try:
            # Read in a task started after theirs, so that their requests leave first: on
            # PostgreSQL a read costs this thread ~0.5 ms (more when idle) before it yields.
            reading_job = self._store.get_job(job_id)
            job = await (reading_job if lead is None else asyncio.ensure_future(reading_job))
            followed = (
                lead is not None
                and job is not None
                and not job.status.terminal
                and job.task_id == lead.task_id
            )
        finally:
            if not followed:
                _drop(asked)
                await forget(early)
        if followed:
            return job, asked, early
        if job is None or job.status.terminal or job.task_id is None:
            return None, None, None
        return job, asyncio.ensure_future(kie.get_task(job.family, job.task_id)), None

    async def _check_held(
        self,
        job_id: str,
        reading: asyncio.Future[TaskSnapshot] | None,
        early: EarlyDownload | None,
        seen: Job | None,
    ) -> tuple[Job | None, bool]:
        """The job, and whether this call acted on its status (under its lease). ``seen``:
        the job as read just before the lease was claimed, used as it is when the lease was
        free at once (else it is read again). Another process that held and released the
        lease in that moment may have finished it meanwhile: its completion's own rule (only
        from a running status) then stops this one, whose files are discarded."""
        async with self._hold(job_id) as held:
            if held is Held.AT_ONCE and seen is not None:
                job: Job | None = seen
            else:
                job = await self._store.get_job(job_id)
            if not held or job is None or job.status.terminal or job.task_id is None:
                return job, False  # (not held: another process is on it, and will finish it)
            if reading is not None:
                snapshot = await reading
            else:
                snapshot = await self._require_kie().get_task(job.family, job.task_id)
            # Waiters are told (before the lease is handed back); previews come after.
            return await self._apply(job, snapshot, early), True

    async def give_up(self, job_id: str, error: JobError) -> Job | None:
        """Fail a job that is not terminal yet for a reason of our own (an interrupted submit,
        a deadline, a task kie.ai does not know). A job that finished meanwhile is kept."""
        async with self._lock(job_id), self._hold(job_id) as held:
            job = await self._store.get_job(job_id)
            if not held or job is None or job.status.terminal:
                return job
            return await self.fail(job_id, error, None)

    async def fail(self, job_id: str, error: JobError, state: TaskState | None) -> Job:
        await self._store.fail_job(job_id, error, state)
        log.info("job %s failed: %s", job_id, error.category)
        return await self.changed(job_id)

    async def changed(self, job_id: str) -> Job:
        """Re-read the job and tell its waiters and watchers."""
        job = await self._store.get_job(job_id)
        assert job is not None
        self._signals.changed(job)
        return job

    def _hold(self, job_id: str) -> contextlib.AbstractAsyncContextManager[Held]:
        """The job's lease, waiting for another holder for up to a lease's length (long
        enough for a dead holder's lease to run out), or until the job is finished."""

        async def finished() -> bool:
            job = await self._store.get_job(job_id)
            return job is None or job.status.terminal

        return self._leases.hold(job_lease(job_id), wait=self._leases.seconds, give_up=finished)

    def _lock(self, job_id: str) -> asyncio.Lock:
        lock = self._job_locks.get(job_id)
        if lock is None:
            lock = self._job_locks[job_id] = asyncio.Lock()
        return lock

    async def _apply(self, job: Job, snapshot: TaskSnapshot, early: EarlyDownload | None) -> Job:
        """Act on the task's status; the job as it stands after, its waiters told."""
        if snapshot.state is TaskState.FAIL:
            detail = clean_provider_text(snapshot.fail_message or "no reason given")
            return await self.fail(
                job.id,
                JobError(
                    "generation_failed",
                    f"kie.ai could not generate this {job.kind.value}. Provider says: {detail}",
                    provider_code=snapshot.fail_code,
                ),
                TaskState.FAIL,
            )
        if snapshot.state is TaskState.SUCCESS:
            return await self._finish(job, snapshot, early)
        if snapshot.state is not job.task_state:
            await self._store.set_task_state(job.id, snapshot.state)
        return await self.changed(job.id)

    async def _finish(self, job: Job, snapshot: TaskSnapshot, early: EarlyDownload | None) -> Job:
        if not snapshot.result_urls:
            error = JobError("no_output", "kie.ai reported success but returned no files.")
            return await self.fail(job.id, error, TaskState.SUCCESS)
        kie = self._require_kie()

        async def fresh_link(url: str) -> str:
            try:
                return await kie.get_download_url(url)
            except KieError as exc:
                raise DownloadError(
                    "expired",
                    f"the link expired and kie.ai gave no fresh one ({exc.message})",
                    retryable=exc.retryable,
                ) from None

        try:
            assets = await early.take(snapshot.result_urls) if early is not None else None
            if assets is None:
                assets = await self._outputs.store_all(job, snapshot.result_urls, fresh_link)
        except DownloadError as exc:
            attempts = self._download_failures.get(job.id, 0) + 1
            if exc.retryable and attempts < _MAX_DOWNLOAD_ATTEMPTS:
                self._download_failures[job.id] = attempts
                log.warning("download for job %s failed (%s); will retry", job.id, exc.message)
                return await self.changed(job.id)
            self._download_failures.pop(job.id, None)
            error = JobError(
                "download_failed",
                f"The {job.kind.value} was generated but could not be saved: {exc.message}.",
                retryable=exc.retryable,
            )
            return await self.fail(job.id, error, TaskState.SUCCESS)
        self._download_failures.pop(job.id, None)
        completed = await self._store.complete_job(job.id, assets, snapshot.credits)
        if completed is not None:  # as stored: the waiters need no second read
            log.info("job %s completed with %d file(s)", job.id, len(assets))
            self._signals.changed(completed)
            return completed
        # another process finished it first; keep the files its row points at
        winner = await self.changed(job.id)
        kept = {a.path for a in winner.assets}
        await self._outputs.discard([a for a in assets if a.path not in kept])
        return winner
