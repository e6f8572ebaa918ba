"""Copy a finished task's result files into the media store, describe and preview them.

Each call names its files with a fresh random writer token (``0-3f9a1c2e.png``), so another
process or an earlier attempt storing the same job never writes, replaces or deletes the same
name; a failed or interrupted call removes only what it published itself.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Sequence
from pathlib import Path

from mcp_server_kie.domain import Asset, Job
from mcp_server_kie.media import (
    DownloadError,
    Fetcher,
    MediaStore,
    MediaStoreError,
    Refresh,
    describe,
    preview_jpeg,
)
from mcp_server_kie.media.sniff import EXTENSIONS


class OutputStore:
    def __init__(self, fetcher: Fetcher, media: MediaStore) -> None:
        self._fetcher = fetcher
        self._media = media

    def job_directory(self, job: Job) -> str:
        """The job's folder (key prefix) in the store: ``YYYY/MM/DD/job_id``."""
        day = time.strftime("%Y/%m/%d", time.gmtime(job.created_at))
        return f"{day}/{job.id}"

    async def store_all(
        self, job: Job, urls: Sequence[str], refresh: Refresh | None = None
    ) -> list[Asset]:
        """Download every output (all or nothing) and return their descriptions.

        ``refresh`` turns an expired result URL into a fresh link (asked once per file).
        """
        directory = self.job_directory(job)
        staging = self._media.staging(directory)
        writer = secrets.token_hex(4)
        assets: list[Asset] = []
        published: list[str] = []
        try:
            for index, url in enumerate(urls):
                name = f"{index}-{writer}"
                async with self._fetcher.download(url, staging / name, job.kind, refresh) as got:
                    info = await asyncio.to_thread(describe, got.path, got.mime_type)
                    preview = await asyncio.to_thread(preview_jpeg, got.path, got.mime_type)
                    key = f"{directory}/{name}{EXTENSIONS[got.mime_type]}"
                    location = await self._publish(got.path, key, got.mime_type)
                    published.append(location)
                thumbnail = None
                if preview is not None:
                    key = f"{directory}/{name}.thumb.jpg"
                    thumbnail = await self._publish(preview, key, "image/jpeg")
                    published.append(thumbnail)
                assets.append(
                    Asset(
                        id="asset_" + secrets.token_hex(12),
                        job_id=job.id,
                        index=index,
                        kind=job.kind,
                        path=location,
                        mime_type=got.mime_type,
                        bytes=got.bytes,
                        sha256=got.sha256,
                        source_url=url,
                        created_at=time.time(),
                        width=info.width,
                        height=info.height,
                        duration=info.duration,
                        thumbnail_path=thumbnail,
                    )
                )
        except BaseException:
            await asyncio.shield(self._media.remove(published))
            raise
        return assets

    async def _publish(self, source: Path | bytes, key: str, mime_type: str) -> str:
        try:
            return await self._media.publish(source, key, mime_type)
        except MediaStoreError as exc:
            raise DownloadError(
                "storage", f"the media store could not keep it ({exc})", retryable=True
            ) from None

    async def discard(self, assets: Sequence[Asset]) -> None:
        """Remove the files (and previews) of assets that will not be recorded."""
        locations = [name for a in assets for name in (a.path, a.thumbnail_path) if name]
        await self._media.remove(locations)
