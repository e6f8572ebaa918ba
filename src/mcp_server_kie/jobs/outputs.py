"""Copy a finished task's result files into the media store, describe and preview them.

Each call names its files with a fresh random writer token (``0-3f9a1c2e.png``), so another
process or an earlier attempt storing the same job never writes, replaces or deletes the same
name; a failed or interrupted call removes only what it published itself.

Previews are not made here: the job completes first, and ``preview`` makes each one after,
from the stored file (jobs/previews.py schedules it).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Protocol

from mcp_server_kie.domain import Asset, Job, MediaKind
from mcp_server_kie.media import (
    DownloadError,
    Fetcher,
    FilePublisher,
    MediaStore,
    MediaStoreError,
    MissingMedia,
    Refresh,
)
from mcp_server_kie.media.sniff import EXTENSIONS
from mcp_server_kie.media.tempfiles import held, temp_path, to_the_end

# Makes a preview (JPEG bytes, or None when there can be none) from a file and its type.
Render = Callable[[Path, str], bytes | None]


class Owner(Protocol):
    """What placing a job's files needs: a Job, or what a callback tells of one before it is
    read (jobs/early_download.py's Lead)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> MediaKind: ...
    @property
    def created_at(self) -> float: ...


class OutputStore:
    def __init__(self, fetcher: Fetcher, media: MediaStore) -> None:
        self._fetcher = fetcher
        self._media = media

    def job_directory(self, job: Owner) -> str:
        """The job's folder (key prefix) in the store: ``YYYY/MM/DD/job_id``."""
        day = time.strftime("%Y/%m/%d", time.gmtime(job.created_at))
        return f"{day}/{job.id}"

    async def store_all(
        self, job: Owner, urls: Sequence[str], refresh: Refresh | None = None
    ) -> list[Asset]:
        """Download every output (all or nothing) and return their descriptions.

        ``refresh`` turns an expired result URL into a fresh link (asked once per file).
        """
        directory = self.job_directory(job)
        staging = self._media.staging(directory)
        writer = secrets.token_hex(4)
        assets: list[Asset] = []
        published: list[str] = []
        publish_file = self._media.file_publisher()
        try:
            for index, url in enumerate(urls):
                name = f"{index}-{writer}"
                place = None
                if publish_file is not None:  # a local folder: published in the download's thread
                    place = partial(_placed, publish_file, f"{directory}/{name}", published)
                async with self._fetcher.download(
                    url, staging / name, job.kind, refresh, described=True, place=place
                ) as got:
                    location = got.placed
                    if location is None:  # an object store: uploaded from here
                        key = f"{directory}/{name}{EXTENSIONS[got.mime_type]}"
                        location = await to_the_end(
                            self._publish(got.path, key, got.mime_type, published)
                        )
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
                        width=got.info.width,
                        height=got.info.height,
                        duration=got.info.duration,
                        preview_pending=job.kind is not MediaKind.AUDIO,  # a sound has none
                    )
                )
        except BaseException:
            await asyncio.shield(self._media.remove(published))
            raise
        return assets

    async def _publish(
        self, source: Path | bytes, key: str, mime_type: str, published: list[str] | None = None
    ) -> str:
        """Publish under ``key``; its location, noted in ``published`` too when given."""
        try:
            location = await self._media.publish(source, key, mime_type)
        except MediaStoreError as exc:
            raise _storage_error(exc) from None
        if published is not None:
            published.append(location)
        return location

    async def discard(self, assets: Sequence[Asset]) -> None:
        """Remove the files (and previews) of assets that will not be recorded."""
        await self.discard_files([n for a in assets for n in (a.path, a.thumbnail_path) if n])

    async def discard_files(self, locations: Sequence[str]) -> None:
        """Remove files that will not be recorded."""
        await self._media.remove(locations)

    async def preview(self, job: Job, asset: Asset, render: Render) -> str | None:
        """Make the asset's preview from its stored file and publish it under a fresh name;
        its location, or None when the file has no preview (undecodable, or gone from the
        store). DownloadError when the store cannot be read or written (try again later)."""
        try:
            async with self._local_copy(job, asset) as source:
                data = await asyncio.to_thread(render, source, asset.mime_type)
        except MissingMedia:
            return None  # deleted meanwhile: there is nothing to preview
        if data is None:
            return None
        stem = Path(asset.path).name.split(".", 1)[0]  # "0-3f9a1c2e"
        key = f"{self.job_directory(job)}/{stem}.{secrets.token_hex(4)}.thumb.jpg"
        return await self._publish(data, key, "image/jpeg")

    @contextlib.asynccontextmanager
    async def _local_copy(self, job: Job, asset: Asset) -> AsyncIterator[Path]:
        """The stored file as a local file: itself in a local store, else a held temporary
        copy (removed afterwards, and swept after a crash)."""
        local = self._media.local_path(asset.path)
        if local is not None:
            yield local
            return
        temp = temp_path(self._media.staging(self.job_directory(job)) / f"preview-{asset.id}")
        try:
            with held(temp):
                written = await self._copy_out(asset.path, temp)
                if written != asset.bytes:
                    raise DownloadError(
                        "storage", "the media store returned the file short", retryable=True
                    )
                yield temp
        except MissingMedia:
            raise
        except MediaStoreError as exc:
            raise DownloadError(
                "storage", f"the media store failed ({exc})", retryable=True
            ) from None
        finally:
            temp.unlink(missing_ok=True)

    async def _copy_out(self, location: str, dest: Path) -> int:
        size = await self._media.size(location)
        written = 0
        with dest.open("r+b") as out:
            async for chunk in self._media.stream(location, 0, size):
                await asyncio.to_thread(out.write, chunk)
                written += len(chunk)
        return written


def _placed(
    publish_file: FilePublisher,
    stem: str,
    published: list[str],
    path: Path,
    mime_type: str,
    sync: Callable[[], None],
) -> str:
    """Publish a checked download under ``stem`` plus the extension its type calls for, in
    the download's thread (no second trip to one), ``sync`` making its bytes durable; noted
    in ``published`` at once, so that a failed or cancelled store_all removes it."""
    try:
        location = publish_file(path, stem + EXTENSIONS[mime_type], sync)
    except MediaStoreError as exc:
        raise _storage_error(exc) from None
    published.append(location)
    return location


def _storage_error(exc: MediaStoreError) -> DownloadError:
    return DownloadError("storage", f"the media store could not keep it ({exc})", retryable=True)
