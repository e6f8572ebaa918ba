"""The job engine: submit, accept callbacks, refresh from kie, finish or fail, wake waiters.

Knows nothing of MCP or HTTP. One path finishes every job: ``refresh`` re-reads the task from
kie's status endpoint (fetch-to-verify), downloads every output, and moves the job to a
terminal state exactly once. Callbacks, the poller and restarts all funnel into it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import secrets
import time
import weakref
from collections.abc import Awaitable, Callable

from mcp_server_kie.catalog import ValidatedRequest
from mcp_server_kie.domain import (
    Job,
    JobError,
    MediaKind,
    NotConfiguredError,
    TaskSnapshot,
    TaskState,
    UserInputError,
    clean_provider_text,
)
from mcp_server_kie.jobs.budget import Budget, reused_key_message
from mcp_server_kie.jobs.callbacks import (
    MAX_DELIVERIES_PER_JOB,
    CallbackRejected,
    decode_callback,
)
from mcp_server_kie.jobs.leases import DEFAULT_LEASE_SECONDS, Leases
from mcp_server_kie.jobs.outputs import OutputStore
from mcp_server_kie.jobs.references import ReferenceResolver
from mcp_server_kie.jobs.waiters import JobSignals
from mcp_server_kie.kie.callbacks import parse_callback
from mcp_server_kie.kie.client import KieClient
from mcp_server_kie.kie.errors import (
    KieError,
    KieProtocolError,
    KieRateLimitError,
    KieUncertainError,
)
from mcp_server_kie.kie.signing import verify_signature
from mcp_server_kie.media import DownloadError
from mcp_server_kie.redaction import redact_body
from mcp_server_kie.storage import DailyLimitReached, IdempotencyConflict, NewJob, Store

log = logging.getLogger(__name__)

ProgressFn = Callable[[Job], Awaitable[None]]

# How often a waiter re-reads the store even without a signal (another process may finish it).
_WAIT_RECHECK_SECONDS = 1.0
# Retry budget for transient download failures before the job fails for good.
_MAX_DOWNLOAD_ATTEMPTS = 3


class SubmitError(Exception):
    """kie.ai refused or could not take the job. The message is for the model. ``job`` is the
    failed job, or None when nothing was created (a reference upload failed)."""

    def __init__(self, job: Job | None, message: str) -> None:
        super().__init__(message)
        self.job = job


class ProviderError(Exception):
    """kie.ai answered a non-job request (such as the balance) with an error; the message is
    for the model."""


class Engine:
    def __init__(
        self,
        store: Store,
        kie: KieClient | None,
        outputs: OutputStore,
        *,
        references: ReferenceResolver | None = None,
        public_url: str | None = None,
        not_configured_message: str = "kie.ai is not configured",
        webhook_hmac_key: str | None = None,
        clock: Callable[[], float] = time.time,
        wait_recheck_seconds: float = _WAIT_RECHECK_SECONDS,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        """``webhook_hmac_key``: when set, every callback must be signed with it.
        ``clock``: wall-clock seconds, for the signature's freshness window.
        ``wait_recheck_seconds``: how often a waiter re-reads the store on its own (for
        changes made by another process); changes made here wake it at once.
        ``lease_seconds``: how long a job's lease outlives a holder that stopped renewing
        it (a killed process): the delay before another process takes its work over."""
        self.store = store
        self._leases = Leases(store, lease_seconds)
        self.signals = JobSignals()
        self._kie = kie
        self._outputs = outputs
        self._references = references or ReferenceResolver([])
        self._public_url = public_url
        self._not_configured = not_configured_message
        self._hmac_key = webhook_hmac_key or None
        self._clock = clock
        self._wait_recheck = wait_recheck_seconds
        self._job_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._download_failures: dict[str, int] = {}
        self._submitting: set[str] = set()  # jobs whose create request is queued or in flight
        self._background: set[asyncio.Task[None]] = set()
        self._inbox_runs: set[str] = set()  # jobs whose inbox a background run is processing
        self._inbox_again: set[str] = set()  # ... and that got another delivery meanwhile

    # ------------------------------------------------------------------ configuration

    @property
    def public_url(self) -> str | None:
        return self._public_url

    def set_public_url(self, url: str | None) -> None:
        """Where kie.ai should send callbacks; None means jobs finish by polling."""
        self._public_url = url.rstrip("/") if url else None

    def require_kie(self) -> KieClient:
        if self._kie is None:
            raise NotConfiguredError(self._not_configured)
        return self._kie

    # ------------------------------------------------------------------ submit

    async def submit(
        self,
        kind: MediaKind,
        request: ValidatedRequest,
        prompt: str,
        idempotency_key: str | None = None,
        *,
        client_ref: str | None = None,
        budget: Budget | None = None,
        request_hash: str | None = None,
    ) -> Job:
        """Start a job at kie.ai. With ``idempotency_key``, every call with the key gets the
        job the first one made (``request_hash`` tells a retry from another request reusing the
        key: UserInputError). ``budget``'s limits are checked before anything is sent; the
        daily one in the store's transaction that writes the job."""
        kie = self.require_kie()
        if idempotency_key:
            existing = await self.find_idempotent(idempotency_key, request_hash)
            if existing is not None:
                return existing
        if budget is not None:
            budget.check(request.spec.id, request.expected_credits)
        try:  # checks every local file before uploading any; bad paths never leave the process
            request = await self._references.resolve(request, kie.upload_file)
        except KieError as exc:
            raise SubmitError(None, f"Uploading a reference image failed: {exc.message}") from None
        job_id = "job_" + secrets.token_hex(12)
        token = secrets.token_urlsafe(32)
        callback_url = None
        if self._public_url:
            callback_url = f"{self._public_url}/webhooks/kie/{job_id}?token={token}"
        new = NewJob(
            id=job_id,
            kind=kind,
            family=request.spec.family,
            model=request.spec.id,
            prompt=prompt,
            params={k: v for k, v in request.input.items() if k != "prompt"},
            callback_token_hash=token_hash(token),
            callback_expected=callback_url is not None,
            idempotency_key=idempotency_key,
            expected_credits=request.expected_credits,
            client_ref=client_ref,
            request_hash=request_hash,
        )
        try:
            job = await self.store.create_job(new, daily_limit=budget.per_day if budget else None)
        except DailyLimitReached as exc:
            assert budget is not None
            message = budget.over_daily_limit(
                request.spec.id, request.expected_credits, exc.committed
            )
            raise UserInputError(message) from None
        except IdempotencyConflict as exc:
            raise UserInputError(reused_key_message(idempotency_key or "", exc.job_id)) from None
        if job.id != job_id:  # a concurrent call with the same key made the job first
            return job
        self.signals.changed(job)
        self._submitting.add(job_id)
        try:  # holding the job's lease (a new job's is free): no other process acts on the
            # job (say, abandons it as interrupted) until kie has answered the create
            async with self._leases.hold(_lease(job_id), wait=self._leases.seconds):
                task_id = await self._send_create(kie, request, callback_url, job_id)
        finally:
            self._submitting.discard(job_id)
        log.info("job %s submitted as kie task %s", job_id, task_id)
        # A callback can beat the create response: act on any delivery already stored.
        await self.process_inbox(job_id)
        return await self._changed(job_id)

    async def find_idempotent(self, key: str, request_hash: str | None) -> Job | None:
        """The job an earlier call with ``key`` made, if any; UserInputError when that call
        asked for something else."""
        try:
            return await self.store.find_by_idempotency_key(key, request_hash)
        except IdempotencyConflict as exc:
            raise UserInputError(reused_key_message(key, exc.job_id)) from None

    async def _send_create(
        self, kie: KieClient, request: ValidatedRequest, callback_url: str | None, job_id: str
    ) -> str:
        """Create the task at kie and record its id; a failure fails the job (SubmitError)."""
        try:
            task_id = await self._create_task(kie, request, callback_url)
        except KieUncertainError as exc:
            error = JobError(
                "uncertain",
                "No usable answer came back after the request was sent to kie.ai (it timed out or "
                "the connection dropped), so kie.ai may or may not have started (and charged "
                "for) this job. It was not resubmitted. Check https://kie.ai/logs before "
                "trying again.",
                provider_code=str(exc.code) if exc.code else None,
            )
            raise SubmitError(await self._fail(job_id, error, None), error.message) from None
        except KieError as exc:
            error = JobError(
                "rejected", exc.message, retryable=exc.retryable, provider_code=str(exc.code)
            )
            raise SubmitError(await self._fail(job_id, error, None), exc.message) from None
        await self.store.mark_submitted(job_id, task_id)
        return task_id

    def submitting(self, job_id: str) -> bool:
        """Whether this process is still sending the job's create request (which may wait a
        while for a slot under kie's create limit)."""
        return job_id in self._submitting

    async def _create_task(
        self, kie: KieClient, request: ValidatedRequest, callback_url: str | None
    ) -> str:
        """Create the task at kie. The client already queues creates under kie's limit; a 429
        all the same (another process on the same key) created nothing, so it is tried once
        more, after the client has held creates back for kie's window."""
        spec = request.spec
        create = functools.partial(kie.create_task, spec.family, spec.id, request.input)
        try:
            return await create(callback_url)
        except KieRateLimitError as exc:
            log.info("kie.ai rate-limited a create (%s); trying once more", exc.message)
        return await create(callback_url)

    # ------------------------------------------------------------------ callbacks

    async def accept_callback(
        self,
        job_id: str,
        token: str | None,
        body: bytes,
        *,
        timestamp: str | None = None,
        signature: str | None = None,
    ) -> bool:
        """Authenticate and persist one callback delivery; processing happens afterwards.
        True when the delivery was stored and wants processing; False when it is authentic
        but has nothing to add (acknowledge it all the same): the job has already ended, the
        same body is already stored, or the job's inbox is full.

        ``timestamp`` and ``signature`` are the X-Webhook-Timestamp and X-Webhook-Signature
        headers. Checks run cheapest first and nothing is written until all pass: the job's
        token (404 unknown job, 403 bad token); in HMAC mode, both headers present (401); a
        strict parse of the body (400); in HMAC mode, the signature over the body's task id,
        fresh within 300 s (401); that task id is the job's own (401 in HMAC mode, else 400).
        Raises CallbackRejected, with no state change, for anything unauthentic or malformed.
        """
        expected = await self.store.callback_token_hash(job_id)
        if expected is None:
            raise CallbackRejected(404, "unknown job")
        if not token or not secrets.compare_digest(token_hash(token), expected):
            raise CallbackRejected(403, "bad token")
        if self._hmac_key is not None and (timestamp is None or signature is None):
            raise CallbackRejected(401, "missing webhook signature")
        payload = decode_callback(body)
        try:
            notice = parse_callback(payload)
        except (KieProtocolError, ValueError):
            raise CallbackRejected(400, "not a kie.ai callback") from None
        # One task id, from one parse: the id the signature covers is the id matched to the job.
        if self._hmac_key is not None and not verify_signature(
            self._hmac_key, notice.task_id, timestamp, signature, now=self._clock()
        ):
            raise CallbackRejected(401, "bad or stale webhook signature")
        job = await self.store.get_job(job_id)
        if job is not None and job.task_id is not None and notice.task_id != job.task_id:
            # Signed for another task (a replay against this job's URL) is not authentic here.
            raise CallbackRejected(401 if self._hmac_key else 400, "callback is for another task")
        if job is None or job.status.terminal:
            return False  # nothing a callback can change; a replay storm costs one read each
        if await self.store.count_deliveries(job_id) >= MAX_DELIVERIES_PER_JOB:
            log.warning("job %s: inbox full; delivery acknowledged, not stored", job_id)
            return False
        # kie echoes the request (callback URL and token included): never stored in clear.
        return await self.store.add_delivery(job_id, redact_body(body, token)) is not None

    def process_in_background(self, job_id: str) -> None:
        """Process a job's inbox soon. A burst of duplicate deliveries shares one run: a run
        already going for the job just goes round once more when it is done."""
        if job_id in self._inbox_runs:
            self._inbox_again.add(job_id)
            return
        self._inbox_runs.add(job_id)
        self._spawn(self._drain_inbox(job_id))

    async def _drain_inbox(self, job_id: str) -> None:
        try:
            while True:
                self._inbox_again.discard(job_id)
                await self.process_inbox(job_id)
                if job_id not in self._inbox_again:
                    return
        finally:
            self._inbox_runs.discard(job_id)

    async def process_inbox(self, job_id: str | None = None) -> None:
        """Act on stored deliveries: each triggers a verified refresh of its job."""
        for delivery in await self.store.pending_deliveries(job_id):
            job = await self.store.get_job(delivery.job_id)
            if job is not None and not job.status.terminal and job.task_id is None:
                # kie created the task, but its create response is still on the way or was
                # lost (the server stopped mid-submit): the authentic callback names the task.
                await self._adopt_task(job.id, delivery.body)
                job = await self.store.get_job(job.id)
            if job is not None and not job.status.terminal:
                job = await self.refresh(job.id)
            await self.store.mark_delivery_processed(delivery.id)
            if job is None or job.status.terminal:
                await self.store.prune_deliveries(delivery.job_id)

    async def _adopt_task(self, job_id: str, body: bytes) -> None:
        try:
            task_id = parse_callback(decode_callback(body)).task_id
        except (CallbackRejected, KieProtocolError, ValueError):
            return  # checked when accepted; a body this version cannot read names nothing
        if await self.store.adopt_task(job_id, task_id):
            log.info("job %s: kie task %s learnt from its callback", job_id, task_id)

    # ------------------------------------------------------------------ refresh

    async def refresh(self, job_id: str) -> Job | None:
        """Ask kie for the task's state and act on it. Safe to call any number of times.
        A failed status query is logged and leaves the job as it was."""
        try:
            return await self.check(job_id)
        except KieError as exc:
            log.warning("status of job %s unavailable: %s", job_id, exc.message)
            return await self.store.get_job(job_id)

    async def check(self, job_id: str) -> Job | None:
        """`refresh`, except that a failed status query raises its KieError, so that the
        poller can pace itself (Retry-After) and notice a task kie.ai does not know."""
        async with self._lock(job_id), self._hold(job_id) as held:
            job = await self.store.get_job(job_id)
            if not held or job is None or job.status.terminal or job.task_id is None:
                return job  # (not held: another process is on it, and will finish it)
            snapshot = await self.require_kie().get_task(job.family, job.task_id)
            await self._apply(job, snapshot)
        return await self._changed(job_id)

    def _hold(self, job_id: str) -> contextlib.AbstractAsyncContextManager[bool]:
        """The job's lease, waiting for another holder for up to a lease's length (long
        enough for a dead holder's lease to run out), or until the job is finished."""

        async def finished() -> bool:
            job = await self.store.get_job(job_id)
            return job is None or job.status.terminal

        return self._leases.hold(_lease(job_id), wait=self._leases.seconds, give_up=finished)

    def _lock(self, job_id: str) -> asyncio.Lock:
        lock = self._job_locks.get(job_id)
        if lock is None:
            lock = self._job_locks[job_id] = asyncio.Lock()
        return lock

    async def _apply(self, job: Job, snapshot: TaskSnapshot) -> None:
        if snapshot.state is TaskState.FAIL:
            detail = clean_provider_text(snapshot.fail_message or "no reason given")
            await self._fail(
                job.id,
                JobError(
                    "generation_failed",
                    f"kie.ai could not generate this {job.kind.value}. Provider says: {detail}",
                    provider_code=snapshot.fail_code,
                ),
                TaskState.FAIL,
            )
        elif snapshot.state is TaskState.SUCCESS:
            await self._finish(job, snapshot)
        elif snapshot.state is not job.task_state:
            await self.store.set_task_state(job.id, snapshot.state)

    async def _finish(self, job: Job, snapshot: TaskSnapshot) -> None:
        if not snapshot.result_urls:
            error = JobError("no_output", "kie.ai reported success but returned no files.")
            await self._fail(job.id, error, TaskState.SUCCESS)
            return
        kie = self.require_kie()

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
            assets = await self._outputs.store_all(job, snapshot.result_urls, fresh_link)
        except DownloadError as exc:
            attempts = self._download_failures.get(job.id, 0) + 1
            if exc.retryable and attempts < _MAX_DOWNLOAD_ATTEMPTS:
                self._download_failures[job.id] = attempts
                log.warning("download for job %s failed (%s); will retry", job.id, exc.message)
                return
            self._download_failures.pop(job.id, None)
            error = JobError(
                "download_failed",
                f"The {job.kind.value} was generated but could not be saved: {exc.message}.",
                retryable=exc.retryable,
            )
            await self._fail(job.id, error, TaskState.SUCCESS)
            return
        self._download_failures.pop(job.id, None)
        if await self.store.complete_job(job.id, assets, snapshot.credits):
            log.info("job %s completed with %d file(s)", job.id, len(assets))
        else:  # another process finished it first; keep the files its row points at
            winner = await self.store.get_job(job.id)
            kept = {a.path for a in winner.assets} if winner else set()
            await self._outputs.discard([a for a in assets if a.path not in kept])

    async def give_up(self, job_id: str, error: JobError) -> Job | None:
        """Fail a job that is not terminal yet for a reason of our own (an interrupted submit,
        a deadline, a task kie.ai does not know). A job that finished meanwhile is kept."""
        async with self._lock(job_id), self._hold(job_id) as held:
            job = await self.store.get_job(job_id)
            if not held or job is None or job.status.terminal:
                return job
            return await self._fail(job_id, error, None)

    async def _fail(self, job_id: str, error: JobError, state: TaskState | None) -> Job:
        await self.store.fail_job(job_id, error, state)
        log.info("job %s failed: %s", job_id, error.category)
        return await self._changed(job_id)

    async def _changed(self, job_id: str) -> Job:
        job = await self.store.get_job(job_id)
        assert job is not None
        self.signals.changed(job)
        return job

    async def credits(self) -> float:
        """The kie.ai account's credit balance."""
        try:
            return await self.require_kie().get_credits()
        except KieError as exc:
            raise ProviderError(exc.message) from None

    # ------------------------------------------------------------------ reading and waiting

    async def get(self, job_id: str) -> Job | None:
        return await self.store.get_job(job_id)

    async def wait(
        self, job_id: str, seconds: float, on_update: ProgressFn | None = None
    ) -> Job | None:
        """Return the job once terminal, or as it stands after ``seconds``."""
        deadline = time.monotonic() + max(0.0, seconds)
        event = self.signals.subscribe(job_id)
        try:
            last_seen: tuple[object, object] | None = None
            while True:
                event.clear()
                job = await self.store.get_job(job_id)
                if job is None or job.status.terminal:
                    return job
                seen = (job.status, job.task_state)
                if on_update is not None and seen != last_seen:
                    await on_update(job)
                last_seen = seen
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return job
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), timeout=min(remaining, self._wait_recheck))
        finally:
            self.signals.unsubscribe(job_id, event)

    # ------------------------------------------------------------------ lifecycle

    async def follow_changes(self, ready: asyncio.Event) -> None:
        """Pass job changes made by other processes or replicas (PostgreSQL notifies them) to
        this process's waiters, resource subscribers and /events streams. Runs until
        cancelled; ``ready`` is set once following."""

        async def changed(job_id: str) -> None:
            job = await self.store.get_job(job_id)
            if job is not None:
                self.signals.changed(job)

        await self.store.follow_changes(changed, ready)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_log_failure)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)


def _lease(job_id: str) -> str:
    return f"job:{job_id}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background job work failed", exc_info=task.exception())
