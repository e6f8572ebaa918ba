"""Remove stored files no asset refers to: what a writer killed mid-job left behind.

A job's outputs are published under write-once names (``{index}-{writer token}{ext}``, and
its preview ``{index}-{writer token}.{preview token}.thumb.jpg``, in ``YYYY/MM/DD/{job_id}/``,
see jobs.outputs) before the job's completion (or the preview's record) names them. A writer
killed in between (``kill -9``, a lost machine) leaves files that no row names and that no one
would ever remove; another writer has stored the job again under its own names. The sweep
removes such a file only when all of these hold:

- its name is one a writer gives (nothing else in the folder or bucket is touched);
- it is older than ``min_age`` (a live writer publishes and records within minutes);
- its job no longer runs (completed, failed, or deleted): a running job's writer may still be
  about to record it, and a finished job records no more files;
- no asset of its job refers to it.

One replica sweeps at a time (the ``media-sweep`` lease); the others skip their turn. Both
media backends list their objects the same way (``MediaStore.objects``), so the rule is one.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from mcp_server_kie.domain import TERMINAL
from mcp_server_kie.jobs.leases import Leases
from mcp_server_kie.media import MediaStore, MediaStoreError, StoredObject
from mcp_server_kie.storage import Store

log = logging.getLogger(__name__)

LEASE = "media-sweep"
DEFAULT_MIN_AGE = 3600.0
# YYYY/MM/DD/{job_id}/{index}-{8 hex digits}{.ext | [.{8 hex digits}].thumb.jpg}
WRITTEN_NAME = re.compile(
    r"\d{4}/\d{2}/\d{2}/(?P<job>[A-Za-z0-9_-]{1,64})/\d{1,4}-[0-9a-f]{8}"
    r"(?:(?:\.[0-9a-f]{8})?\.thumb\.jpg|\.[a-z0-9]{1,5})"
)


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What one sweep did: objects looked at, removed, bytes freed; ``skipped`` when another
    replica held the sweep lease."""

    seen: int = 0
    removed: int = 0
    freed: int = 0
    skipped: bool = False


class OrphanSweep:
    def __init__(
        self,
        store: Store,
        media: MediaStore,
        *,
        min_age: float = DEFAULT_MIN_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._media = media
        self._min_age = min_age
        self._clock = clock
        self._leases = Leases(store)

    async def run(self, every: float) -> None:
        """Sweep now, then every ``every`` seconds, until cancelled. A media store or database
        that fails is logged and tried again next time."""
        while True:
            try:
                await self.sweep()
            except MediaStoreError as exc:
                log.warning("the sweep of unreferenced media failed: %s", exc)
            except Exception:  # the database failed: keep sweeping next time, as the poller does
                log.exception("the sweep of unreferenced media failed")
            await asyncio.sleep(every)

    async def sweep(self) -> SweepResult:
        """One pass over the whole store, holding the sweep lease (skipped if another replica
        holds it)."""
        async with self._leases.hold(LEASE, wait=0) as held:
            if not held:
                return SweepResult(skipped=True)
            seen = removed = freed = 0
            async for batch in self._media.objects():
                seen += len(batch)
                orphans = await self._orphans(batch)
                if orphans:
                    files, size = await self._media.remove(orphans)
                    removed += files
                    freed += size
        if removed:
            log.info("removed %d unreferenced media file(s), %d bytes", removed, freed)
        return SweepResult(seen, removed, freed)

    async def _orphans(self, batch: list[StoredObject]) -> list[str]:
        cutoff = self._clock() - self._min_age
        candidates: list[tuple[str, StoredObject]] = []
        for item in batch:
            named = WRITTEN_NAME.fullmatch(item.key)
            if named is not None and item.modified <= cutoff:
                candidates.append((named["job"], item))
        if not candidates:
            return []
        jobs = await self._store.job_files([job_id for job_id, _ in candidates])
        orphans = []
        for job_id, item in candidates:
            job = jobs.get(job_id)
            if job is None or (job.status in TERMINAL and item.location not in job.locations):
                orphans.append(item.location)
        return orphans
