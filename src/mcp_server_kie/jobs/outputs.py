"""Copy a finished task's result files into the media library and describe them."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Sequence
from pathlib import Path

from mcp_server_kie.domain import Asset, Job
from mcp_server_kie.media import Fetcher, describe


class OutputStore:
    def __init__(self, fetcher: Fetcher, media_dir: Path) -> None:
        self._fetcher = fetcher
        self._media_dir = media_dir

    def job_directory(self, job: Job) -> Path:
        day = time.strftime("%Y/%m/%d", time.gmtime(job.created_at))
        return self._media_dir / day / job.id

    async def store_all(self, job: Job, urls: Sequence[str]) -> list[Asset]:
        """Download every output (all or nothing) and return their descriptions."""
        directory = self.job_directory(job)
        assets: list[Asset] = []
        try:
            for index, url in enumerate(urls):
                stored = await self._fetcher.fetch(url, directory / str(index), job.kind)
                info = await asyncio.to_thread(describe, stored.path, stored.mime_type)
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
                    )
                )
        except BaseException:
            self.discard(assets)
            raise
        return assets

    def discard(self, assets: Sequence[Asset]) -> None:
        for asset in assets:
            Path(asset.path).unlink(missing_ok=True)
