"""The job engine: one object that the tools and the sidecar call, composed of the parts
that own each step: ``submission`` (start a job at kie), ``deliveries`` (accept and process
callbacks), ``completion`` (refresh from kie, finish or fail), ``waiting`` (wait for a job).

Knows nothing of MCP or HTTP. One path finishes every job: ``refresh`` re-reads the task from
kie's status endpoint (fetch-to-verify), downloads every output, and moves the job to a
terminal state exactly once. Callbacks, the poller and restarts all funnel into it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mcp_server_kie.catalog import ValidatedRequest
from mcp_server_kie.domain import Job, JobError, MediaKind, NotConfiguredError
from mcp_server_kie.jobs.ack_gate import AckGate
from mcp_server_kie.jobs.budget import Budget
from mcp_server_kie.jobs.completion import Completer
from mcp_server_kie.jobs.deliveries import Deliveries
from mcp_server_kie.jobs.leases import DEFAULT_LEASE_SECONDS, Leases
from mcp_server_kie.jobs.outputs import OutputStore, Render
from mcp_server_kie.jobs.previews import Previews
from mcp_server_kie.jobs.references import ReferenceResolver
from mcp_server_kie.jobs.submission import SubmitError, Submitter, token_hash
from mcp_server_kie.jobs.waiters import JobSignals
from mcp_server_kie.jobs.waiting import WAIT_RECHECK_SECONDS, ProgressFn, Waiting
from mcp_server_kie.kie.client import KieClient
from mcp_server_kie.kie.errors import KieError
from mcp_server_kie.media.describe import Decoders
from mcp_server_kie.media.thumbnail import preview_jpeg
from mcp_server_kie.storage import Store

__all__ = ["Engine", "ProgressFn", "ProviderError", "SubmitError", "token_hash"]


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
        wait_recheck_seconds: float = WAIT_RECHECK_SECONDS,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        render_preview: Render = preview_jpeg,
        ack_gate: AckGate | None = None,
    ) -> None:
        """``webhook_hmac_key``: when set, every callback must be signed with it.
        ``clock``: wall-clock seconds, for the signature's freshness window.
        ``wait_recheck_seconds``: how often a waiter re-reads the store on its own (for
        changes made by another process); changes made here wake it at once.
        ``lease_seconds``: how long a job's lease outlives a holder that stopped renewing
        it (a killed process): the delay before another process takes its work over.
        ``render_preview``: makes a JPEG preview from a file (blocking; run in a thread).
        ``ack_gate``: the callbacks being acknowledged, which background processing and
        previews yield to, briefly (jobs/ack_gate.py; a default one)."""
        self.store = store
        self.signals = JobSignals()
        self._kie = kie
        self._not_configured = not_configured_message
        leases = Leases(store, lease_seconds)
        self._completer = Completer(
            store,
            self.require_kie,
            outputs,
            leases,
            self.signals,
            lambda job_id: self._previews.schedule(job_id),
        )
        gate = ack_gate or AckGate()
        self._deliveries = Deliveries(
            store, self._completer, hmac_key=webhook_hmac_key, clock=clock, gate=gate
        )
        self._previews = Previews(
            store,
            outputs,
            leases,
            self.signals,
            self._completer.in_flight,
            render_preview,
            gate=gate,
        )
        self._submitter = Submitter(
            store,
            self.require_kie,
            references or ReferenceResolver([]),
            leases,
            self.signals,
            self._completer,
            self._deliveries.process,
        )
        self._waiting = Waiting(store, self.signals, wait_recheck_seconds)
        self._decoders = Decoders()  # loaded once a job that needs them has started
        self.set_public_url(public_url)
        # The parts' entry points, as the engine's own.
        self.accept_callback = self._deliveries.accept
        self.process_inbox = self._deliveries.process
        self.find_idempotent = self._submitter.find_idempotent
        self.submitting = self._submitter.submitting
        self.refresh = self._completer.refresh
        self.check = self._completer.check
        self.wait = self._waiting.wait
        self.follow_changes = self._waiting.follow_changes
        self.catch_up_previews = self._previews.catch_up

    @property
    def public_url(self) -> str | None:
        return self._submitter.public_url

    def set_public_url(self, url: str | None) -> None:
        """Where kie.ai should send callbacks; None means jobs finish by polling."""
        self._submitter.public_url = url.rstrip("/") if url else None

    def require_kie(self) -> KieClient:
        if self._kie is None:
            raise NotConfiguredError(self._not_configured)
        return self._kie

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
        """Start a job at kie.ai (see ``Submitter.submit``); the decoders its result will
        need load meanwhile."""
        job = await self._submitter.submit(
            kind,
            request,
            prompt,
            idempotency_key,
            client_ref=client_ref,
            budget=budget,
            request_hash=request_hash,
        )
        self._decoders.load(kind)
        return job

    async def give_up(self, job_id: str, error: JobError) -> Job | None:
        """Fail a job that is not terminal yet for a reason of our own (an interrupted submit,
        a deadline, a task kie.ai does not know). A job that finished meanwhile is kept."""
        return await self._completer.give_up(job_id, error)

    async def get(self, job_id: str) -> Job | None:
        return await self.store.get_job(job_id)

    async def credits(self) -> float:
        """The kie.ai account's credit balance."""
        try:
            return await self.require_kie().get_credits()
        except KieError as exc:
            raise ProviderError(exc.message) from None

    async def close(self) -> None:
        await self._deliveries.close()
        await self._previews.close()
        await self._decoders.wait()
