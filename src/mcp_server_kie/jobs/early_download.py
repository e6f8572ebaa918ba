"""A download started on a callback's word, while the status read that verifies it is on its
way (fetch-to-verify still decides): kept only if that read names the very same result URLs.

A success callback of the image families names its result URLs (kie/callbacks.py). Waiting
for the status read before downloading puts a round trip to kie.ai on the way from callback
to waiter; starting the download at once takes it off. At once means before the job is read
too: the callback's check already knows the job's kind and creation time, which place its
files. The files are published under a fresh writer token, like any download
(jobs/outputs.py), so nothing another attempt writes is touched, and the job records them
only under its lease, after the status read said success with those URLs. Otherwise (other
URLs, a failed task, a job that had already ended or finished meanwhile) the files are
removed; a failed early download is simply not used (the verified one reports its own error).

Only images and sounds are fetched early: their files are small, so a callback that names
something else wastes little; a video's download takes far longer than the round trip saved.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from mcp_server_kie.domain import ApiFamily, Asset, MediaKind
from mcp_server_kie.jobs.outputs import OutputStore, Owner
from mcp_server_kie.media import DownloadError, MediaStoreError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Lead:
    """What an authentic callback that arrived when the sidecar was calm tells before anything
    is read: the task to ask kie.ai about (its family reads it), the result URLs it claims,
    and the job's id, kind and creation time (an `Owner`: where its files go)."""

    id: str
    kind: MediaKind
    created_at: float
    family: ApiFamily
    task_id: str
    claimed: tuple[str, ...] = ()


class EarlyDownload:
    """One job's result files, downloading (or downloaded) before their URLs were verified."""

    def __init__(self, outputs: OutputStore, job: Owner, urls: Sequence[str]) -> None:
        self._outputs = outputs
        self.urls = tuple(urls)
        self._task = asyncio.ensure_future(outputs.store_all(job, self.urls))
        self._taken = False

    @classmethod
    def start(cls, outputs: OutputStore, job: Owner, urls: Sequence[str]) -> EarlyDownload | None:
        """Start downloading ``urls`` for ``job``; None when they are not worth fetching
        early (none named, or a video)."""
        if not urls or job.kind is MediaKind.VIDEO:
            return None
        return cls(outputs, job, urls)

    async def take(self, verified: Sequence[str]) -> list[Asset] | None:
        """The downloaded assets when ``verified`` (the status read's URLs) are the ones
        fetched and the download succeeded; they are then the caller's to record or discard.
        None otherwise (the caller downloads ``verified`` itself)."""
        if tuple(verified) != self.urls:
            return None
        try:
            assets = await asyncio.shield(self._task)
        except (DownloadError, MediaStoreError, OSError) as exc:
            # not used: the verified download that follows reports its own failure
            log.debug("early download not used: %s", type(exc).__name__)
            return None
        self._taken = True
        return assets

    async def forget(self) -> None:
        """Remove what was downloaded and not taken (stopping a download still going)."""
        if self._taken:
            return
        if not self._task.done():
            self._task.cancel()  # store_all removes what it had published
        await asyncio.wait({self._task})
        if self._task.cancelled() or self._task.exception() is not None:
            return
        with contextlib.suppress(MediaStoreError, OSError):  # the orphan sweep has the rest
            await self._outputs.discard(self._task.result())


async def forget(early: EarlyDownload | None) -> None:
    """`EarlyDownload.forget`, for a download that may not have started."""
    if early is not None:
        await early.forget()
