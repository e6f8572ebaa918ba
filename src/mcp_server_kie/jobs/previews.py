"""Previews (thumbnails and poster frames) made after a job completes, never before.

Completing a job and waking its waiters does not wait for the JPEG preview (tens of ms for
an image, more for a video's first frame): the completed job is recorded with its assets'
previews pending (``Asset.preview_pending``), and the process that completed it makes them
at once, in the background. A result read before the preview is ready has no thumbnail yet;
the next read has it, and the job's change is announced (waiters, MCP resource subscribers,
``/events``) when it lands.

Made exactly once: the maker holds the lease ``preview:<job_id>`` and records each preview
only while it is still pending (a loser removes its file). Survives restarts: a job whose
previews were still pending when its process died is found in the store by ``catch_up``
(the reconciler calls it), on any backend, once the dead process's lease is free.
"""

from __future__ import annotations

import asyncio
import logging

from mcp_server_kie.jobs.ack_gate import AckGate
from mcp_server_kie.jobs.completion import InFlight
from mcp_server_kie.jobs.leases import Leases
from mcp_server_kie.jobs.outputs import OutputStore, Render
from mcp_server_kie.jobs.waiters import JobSignals
from mcp_server_kie.media import DownloadError
from mcp_server_kie.media.thumbnail import preview_jpeg
from mcp_server_kie.storage import Store

log = logging.getLogger(__name__)

# The longest a preview waits for this process's completions in progress to end.
_GIVE_WAY_SECONDS = 0.5


class Previews:
    def __init__(
        self,
        store: Store,
        outputs: OutputStore,
        leases: Leases,
        signals: JobSignals,
        completing: InFlight,
        render: Render = preview_jpeg,
        gate: AckGate | None = None,
    ) -> None:
        """``completing``: the jobs being completed, which previews give way to.
        ``render`` makes a preview from a file (blocking; run in a thread). ``gate``: the
        callbacks being acknowledged, which previews give way to as well (briefly)."""
        self._store = store
        self._outputs = outputs
        self._leases = leases
        self._signals = signals
        self._render = render
        self._completing = completing
        self._gate = gate
        self._turn = asyncio.Semaphore(1)  # one preview at a time: a burst queues, in order
        self._running: dict[str, asyncio.Task[None]] = {}  # job id -> its preview run

    def schedule(self, job_id: str) -> None:
        """Make the job's pending previews soon, in the background (once per job at a time)."""
        if job_id in self._running:
            return
        task = asyncio.create_task(self._make(job_id), name=f"previews {job_id}")
        self._running[job_id] = task
        task.add_done_callback(lambda _: self._running.pop(job_id, None))

    async def catch_up(self) -> None:
        """Schedule every job whose previews are still pending (left so by a crash, or by a
        store failure); jobs another live process is making previews for are skipped."""
        for job_id in await self._store.jobs_awaiting_preview():
            self.schedule(job_id)

    async def _make(self, job_id: str) -> None:
        try:
            async with self._turn:
                # Completions first: a preview that can wait never competes with one. Nor,
                # for longer than the gate's bound, with a burst of callbacks being accepted.
                await self._completing.none_for_up_to(_GIVE_WAY_SECONDS)
                if self._gate is not None:
                    await self._gate.quiet()
                async with self._leases.hold(f"preview:{job_id}", wait=0.0) as held:
                    if held:
                        await self._make_held(job_id)
        except Exception:  # a preview is never worth failing anything else for
            log.exception("making the previews of job %s failed", job_id)

    async def _make_held(self, job_id: str) -> None:
        job = await self._store.get_job(job_id)
        if job is None:
            return
        made = False
        for asset in job.assets:
            if not asset.preview_pending:
                continue
            try:
                location = await self._outputs.preview(job, asset, self._render)
            except DownloadError as exc:  # the store failed: pending still, tried again later
                log.warning("preview of %s not made yet: %s", asset.id, exc.message)
                continue
            if await self._store.record_preview(asset.id, location):
                made = True
            elif location is not None:  # recorded meanwhile, or the asset was deleted
                await self._outputs.discard_files([location])
        if made:
            current = await self._store.get_job(job_id)
            if current is not None:
                self._signals.changed(current)

    async def close(self) -> None:
        """Stop making previews (pending ones are made by the next start's ``catch_up``)."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
