"""Copy a finished task's result files into the media library, describe and preview them."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Sequence
from pathlib import Path

from mcp_server_kie.domain import Asset, Job
from mcp_server_kie.media import Fetcher, Refresh, describe, write_preview


class OutputStore:
    def __init__(self, fetcher: Fetcher, media_dir: Path) -> None:
        self._fetcher = fetcher
        self._media_dir = media_dir

    def job_directory(self, job: Job) -> Path:
        day = time.strftime("%Y/%m/%d", time.gmtime(job.created_at))
        return self._media_dir / day / job.id

    async def store_all(
        self, job: Job, urls: Sequence[str], refresh: Refresh | None = None
    ) -> list[Asset]:
        """Download every output (all or nothing) and return their descriptions.

        ``refresh`` turns an expired result URL into a fresh link (asked once per file).
        """
        directory = self.job_directory(job)
        assets: list[Asset] = []
        written: list[Path] = []
        try:
            for index, url in enumerate(urls):
                stored = await self._fetcher.fetch(url, directory / str(index), job.kind, refresh)
                written.append(stored.path)
                info = await asyncio.to_thread(describe, stored.path, stored.mime_type)
                preview = await asyncio.to_thread(
                    write_preview, stored.path, stored.mime_type, directory / f"{index}.thumb.jpg"
                )
                if preview is not None:
                    written.append(preview)
                assets.append(
                    Asset(
                        id="asset_" + secrets.token_hex(12),
                        job_id=job.id,
                        index=index,
                        kind=job.kind,
                        path=str(stored.path),
                        mime_type=stored.mime_type,
                        bytes=stored.bytes,
                        sha256=stored.sha256,
                        source_url=url,
                        created_at=time.time(),
                        width=info.width,
                        height=info.height,
                        duration=info.duration,
                        thumbnail_path=str(preview) if preview is not None else None,
                    )
                )
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
        return assets

    def discard(self, assets: Sequence[Asset]) -> None:
        """Remove the files (and previews) of assets that will not be recorded."""
        for asset in assets:
            Path(asset.path).unlink(missing_ok=True)
            if asset.thumbnail_path is not None:
                Path(asset.thumbnail_path).unlink(missing_ok=True)
