"""Starting a job at kie.ai: idempotency, budget, reference uploads, the job row written
before kie is called, the create request (queued under kie's create limit), the task id.

A create that times out is never resubmitted blindly: the job fails as "uncertain".
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable

from mcp_server_kie.catalog import ValidatedRequest
from mcp_server_kie.domain import Job, JobError, MediaKind, UserInputError
from mcp_server_kie.jobs.budget import Budget, reused_key_message
from mcp_server_kie.jobs.completion import Completer, job_lease
from mcp_server_kie.jobs.leases import Leases
from mcp_server_kie.jobs.references import ReferenceResolver
from mcp_server_kie.jobs.waiters import JobSignals
from mcp_server_kie.kie.client import KieClient
from mcp_server_kie.kie.errors import KieError, KieRateLimitError, KieUncertainError
from mcp_server_kie.kie.families import calls_back
from mcp_server_kie.storage import DailyLimitReached, IdempotencyConflict, NewJob, Store

log = logging.getLogger(__name__)


class SubmitError(Exception):
    """kie.ai refused or could not take the job. The message is for the model. ``job`` is the
    failed job, or None when nothing was created (a reference upload failed)."""

    def __init__(self, job: Job | None, message: str) -> None:
        super().__init__(message)
        self.job = job


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Submitter:
    def __init__(
        self,
        store: Store,
        require_kie: Callable[[], KieClient],
        references: ReferenceResolver,
        leases: Leases,
        signals: JobSignals,
        completer: Completer,
        process_inbox: Callable[[str], Awaitable[None]],
    ) -> None:
        """``process_inbox(job_id)`` acts on deliveries that arrived before the create's
        answer did."""
        self._store = store
        self._require_kie = require_kie
        self._references = references
        self._leases = leases
        self._signals = signals
        self._completer = completer
        self._process_inbox = process_inbox
        self.public_url: str | None = None
        self._submitting: set[str] = set()  # jobs whose create request is queued or in flight

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
        kie = self._require_kie()
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
        if self.public_url and calls_back(request.spec.family):
            callback_url = f"{self.public_url}/webhooks/kie/{job_id}?token={token}"
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
            job = await self._store.create_job(new, daily_limit=budget.per_day if budget else None)
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
        self._signals.changed(job)
        self._submitting.add(job_id)
        try:  # holding the job's lease (a new job's is free): no other process acts on the
            # job (say, abandons it as interrupted) until kie has answered the create
            async with self._leases.hold(job_lease(job_id), wait=self._leases.seconds):
                task_id = await self._send_create(kie, request, callback_url, job_id)
        finally:
            self._submitting.discard(job_id)
        log.info("job %s submitted as kie task %s", job_id, task_id)
        # A callback can beat the create response: act on any delivery already stored.
        await self._process_inbox(job_id)
        return await self._completer.changed(job_id)

    async def find_idempotent(self, key: str, request_hash: str | None) -> Job | None:
        """The job an earlier call with ``key`` made, if any; UserInputError when that call
        asked for something else."""
        try:
            return await self._store.find_by_idempotency_key(key, request_hash)
        except IdempotencyConflict as exc:
            raise UserInputError(reused_key_message(key, exc.job_id)) from None

    def submitting(self, job_id: str) -> bool:
        """Whether this process is still sending the job's create request (which may wait a
        while for a slot under kie's create limit)."""
        return job_id in self._submitting

    async def _send_create(
        self, kie: KieClient, request: ValidatedRequest, callback_url: str | None, job_id: str
    ) -> str:
        """Create the task at kie and record its id; a failure fails the job (SubmitError)."""
        try:
            task_id = await _create_task(kie, request, callback_url)
        except KieUncertainError as exc:
            error = JobError(
                "uncertain",
                "No usable answer came back after the request was sent to kie.ai (it timed out or "
                "the connection dropped), so kie.ai may or may not have started (and charged "
                "for) this job. It was not resubmitted. Check https://kie.ai/logs before "
                "trying again.",
                provider_code=str(exc.code) if exc.code else None,
            )
            failed = await self._completer.fail(job_id, error, None)
            raise SubmitError(failed, error.message) from None
        except KieError as exc:
            error = JobError(
                "rejected", exc.message, retryable=exc.retryable, provider_code=str(exc.code)
            )
            failed = await self._completer.fail(job_id, error, None)
            raise SubmitError(failed, exc.message) from None
        await self._store.mark_submitted(job_id, task_id)
        return task_id


async def _create_task(kie: KieClient, request: ValidatedRequest, callback_url: str | None) -> str:
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
