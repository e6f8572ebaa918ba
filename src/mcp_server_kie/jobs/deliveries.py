"""Callback deliveries: authenticate and persist each one (the sidecar acknowledges it once
stored), then act on the stored deliveries, each of which triggers a verified refresh of its
job. Processing runs in the background, in a bounded pool of workers (jobs/inbox_workers.py);
a burst of deliveries for one job shares one run.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

from mcp_server_kie.domain import Job
from mcp_server_kie.jobs.ack_gate import AckGate
from mcp_server_kie.jobs.callbacks import MAX_DELIVERIES_PER_JOB, CallbackRejected, decode_callback
from mcp_server_kie.jobs.completion import Completer
from mcp_server_kie.jobs.early_download import Lead
from mcp_server_kie.jobs.inbox_workers import InboxWorkers
from mcp_server_kie.jobs.submission import token_hash
from mcp_server_kie.kie.callbacks import parse_callback
from mcp_server_kie.kie.errors import KieProtocolError
from mcp_server_kie.kie.signing import verify_signature
from mcp_server_kie.redaction import redact_body
from mcp_server_kie.storage import Store
from mcp_server_kie.storage.inbox import Kept
from mcp_server_kie.storage.records import Delivery

log = logging.getLogger(__name__)

_MAX_SEEN = 10_000  # jobs remembered as having had a callback (a hundred bytes each)


class Deliveries:
    def __init__(
        self,
        store: Store,
        completer: Completer,
        *,
        hmac_key: str | None = None,
        clock: Callable[[], float] = time.time,
        gate: AckGate,
    ) -> None:
        """``hmac_key``: when set, every callback must be signed with it. ``clock``:
        wall-clock seconds, for the signature's freshness window. ``gate``: the
        acknowledgements in flight (kept here), which background work yields to."""
        self._store = store
        self._completer = completer
        self._hmac_key = hmac_key or None
        self._clock = clock
        self._gate = gate
        self._workers = InboxWorkers(store, self.process_delivered, gate=gate)
        # Deliveries still committing, of jobs whose processing has already started.
        self._keeping: dict[str, asyncio.Future[Kept]] = {}
        # What callbacks whose processing starts early tell, until it starts.
        self._leads: dict[str, Lead] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()  # jobs with a callback, newest last

    async def accept(
        self,
        job_id: str,
        token: str | None,
        body: bytes,
        *,
        timestamp: str | None = None,
        signature: str | None = None,
        process: bool = False,
    ) -> bool:
        """Authenticate and persist one callback delivery. True when the delivery was stored
        and wants processing; False when it is authentic but has nothing to add (acknowledge
        it all the same): the job has already ended, the same body is already stored, or the
        job's inbox is full.

        ``process``: also process the stored delivery in the background (the sidecar's way).
        A callback accepted when the sidecar is calm (no burst, at most a few in flight:
        jobs/ack_gate.py) starts its job's processing
        as soon as it is found authentic, while its commit is still going: the verifying
        status read needs nothing from that commit, and the deliveries are read only once it
        is done. Within a burst, processing waits until the delivery is stored, and for the
        gate. Either way the caller acknowledges only once this returns (after the commit).

        ``timestamp`` and ``signature`` are the X-Webhook-Timestamp and X-Webhook-Signature
        headers. Checks run cheapest first and nothing is written until all pass: the job's
        token (404 unknown job, 403 bad token); in HMAC mode, both headers present (401); a
        strict parse of the body (400); in HMAC mode, the signature over the body's task id,
        fresh within 300 s (401); that task id is the job's own (401 in HMAC mode, else 400).
        Raises CallbackRejected, with no state change, for anything unauthentic or malformed.
        Background processing holds back (briefly) while callbacks are being accepted.
        """
        with self._gate.accepting_one():
            return await self._accept(job_id, token, body, timestamp, signature, process)

    async def _accept(
        self,
        job_id: str,
        token: str | None,
        body: bytes,
        timestamp: str | None,
        signature: str | None,
        process: bool,
    ) -> bool:
        target = await self._store.callback_target(job_id)
        if target is None or target.token_hash is None:
            raise CallbackRejected(404, "unknown job")
        if not token or not secrets.compare_digest(token_hash(token), target.token_hash):
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
        if target.task_id is not None and notice.task_id != target.task_id:
            # Signed for another task (a replay against this job's URL) is not authentic here.
            raise CallbackRejected(401 if self._hmac_key else 400, "callback is for another task")
        # kie echoes the request (callback URL and token included): never stored in clear.
        # Stored only for a running job with room, decided in the (group) commit itself.
        # Every write starts the same way (a task, on the loop's next turn), so concurrent
        # deliveries are written in the order they were accepted, early start or not.
        keeping = asyncio.ensure_future(
            self._store.keep_delivery(job_id, redact_body(body, token), MAX_DELIVERIES_PER_JOB)
        )
        early = process and self._gate.calm() and self._first_seen(job_id)
        if early:
            self._keeping[job_id] = keeping
            if target.task_id is not None:  # (else the job learns its task from this body)
                self._leads[job_id] = Lead(
                    job_id,
                    target.kind,
                    target.created_at,
                    target.family,
                    target.task_id,
                    notice.result_urls,
                )
            keeping.add_done_callback(lambda done: self._keep_done(job_id, done))
            self._workers.submit(job_id, gated=False)
        # Shielded: a caller cancelled meanwhile (its client went away) leaves the write to
        # finish, so that the processing already started reads the inbox after it.
        kept = await asyncio.shield(keeping)
        if process and not early and kept is Kept.STORED:
            self._workers.submit(job_id)
        if kept is Kept.UNKNOWN_JOB:  # deleted since its check (another process's clean-up)
            raise CallbackRejected(404, "unknown job")
        if kept is Kept.INBOX_FULL:
            log.warning("job %s: inbox full; delivery acknowledged, not stored", job_id)
        return kept is Kept.STORED

    def _first_seen(self, job_id: str) -> bool:
        """Whether this is the first authentic callback for the job this process has seen
        (of the last few thousand jobs). Only a first one starts processing before it is
        stored: a replay is found a duplicate by its write and must cost no status read."""
        if job_id in self._seen:
            return False
        self._seen[job_id] = None
        if len(self._seen) > _MAX_SEEN:
            self._seen.popitem(last=False)
        return True

    def _keep_done(self, job_id: str, done: asyncio.Future[Kept]) -> None:
        if self._keeping.get(job_id) is done:
            del self._keeping[job_id]

    async def process(self, job_id: str | None = None) -> None:
        """Act on stored deliveries (one job's when ``job_id`` is given): each job that has
        any gets one verified refresh."""
        pending = await self._store.pending_deliveries(job_id)
        for one in dict.fromkeys(delivery.job_id for delivery in pending):
            job = await self._completer.refresh(one)
            await self._settle(one, [d for d in pending if d.job_id == one], job)

    async def process_delivered(self, job_id: str) -> None:
        """`process` for a job known to have a stored delivery (the inbox workers' jobs): the
        refresh starts at once, and the deliveries are read only after it, and only if the
        job is still running. One that has ended has nothing left to learn from them: they
        all go in one statement, and no read sits beside the completion on the way from
        callback to waiter. A delivery stored after the read goes round again (the workers
        see to it). A callback that started it early names the task (read at once) and
        perhaps its result URLs (downloaded while the read verifies them)."""
        lead = self._leads.pop(job_id, None)
        job = await self._completer.refresh(job_id, status_first=True, lead=lead)
        keeping = self._keeping.get(job_id)
        if keeping is not None:  # the delivery that started this early: committed (or refused)
            await asyncio.wait({keeping})
        if job is None or job.status.terminal:
            await self._store.settle_ended(job_id)
            return
        pending = await self._store.pending_deliveries(job_id)
        if pending:
            await self._settle(job_id, pending, job)

    async def _settle(self, job_id: str, pending: list[Delivery], job: Job | None) -> None:
        """After the job's refresh (``job``): mark ``pending`` processed. A job kie created
        whose create response never arrived learns its task from a delivery first."""
        if job is not None and not job.status.terminal and job.task_id is None:
            # kie created the task, but its create response is still on the way or was
            # lost (the server stopped mid-submit): the authentic callback names the task.
            for delivery in pending:
                if await self._adopt_task(job.id, delivery.body):
                    break
            job = await self._completer.refresh(job.id)
        if job is None or job.status.terminal:
            await self._store.settle_ended(job_id)
        else:
            await self._store.mark_deliveries_processed([d.id for d in pending])

    async def _adopt_task(self, job_id: str, body: bytes) -> bool:
        try:
            task_id = parse_callback(decode_callback(body)).task_id
        except (CallbackRejected, KieProtocolError, ValueError):
            return False  # checked when accepted; a body this version cannot read names nothing
        if not await self._store.adopt_task(job_id, task_id):
            return False
        log.info("job %s: kie task %s learnt from its callback", job_id, task_id)
        return True

    async def close(self) -> None:
        """Stop background processing (stored deliveries wait for the next start)."""
        await self._workers.close()
