"""Deleting from the media library: rows first (one transaction), then the files they named.

If the process dies between the two, what remains is an unreferenced file, never a row that
points at a missing one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mcp_server_kie.domain import Asset, UserInputError
from mcp_server_kie.media.confine import confined
from mcp_server_kie.storage import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Deleted:
    jobs: int
    files: int
    bytes: int


class Library:
    def __init__(self, store: Store, media_dir: Path) -> None:
        self._store = store
        self.media_dir = media_dir

    async def delete_asset(self, asset_id: str) -> Deleted:
        asset = await self._store.delete_asset(asset_id)
        if asset is None:
            raise UserInputError(f"No file {asset_id!r} in the library; list_media shows them.")
        return Deleted(0, *self._remove_files([asset]))

    async def delete_job(self, job_id: str) -> Deleted:
        ids, assets = await self._store.delete_jobs([job_id])
        if not ids:
            job = await self._store.get_job(job_id)
            if job is None:
                raise UserInputError(f"No job {job_id!r}; list_media shows the library's jobs.")
            raise UserInputError(
                f"Job {job_id} is still {job.status.value}: kie.ai is working on it. "
                "Wait until it finishes, then delete it."
            )
        return Deleted(len(ids), *self._remove_files(assets))

    async def clear(self) -> Deleted:
        """Every finished job and its files; running jobs stay."""
        ids, assets = await self._store.delete_jobs(None)
        return Deleted(len(ids), *self._remove_files(assets))

    def _remove_files(self, assets: Sequence[Asset]) -> tuple[int, int]:
        files = freed = 0
        for asset in assets:
            for name in (asset.path, asset.thumbnail_path):
                if name is None:
                    continue
                path = confined(name, self.media_dir)
                if path is None:
                    if os.path.lexists(name):
                        log.warning("not deleting %s: outside the media directory", name)
                    continue
                try:
                    size = path.stat().st_size
                    path.unlink()
                except FileNotFoundError:
                    continue
                files += 1
                freed += size
                self._prune(path.parent)
        return files, freed

    def _prune(self, directory: Path) -> None:
        """Remove now-empty job and date directories up to the media directory."""
        root = self.media_dir.resolve()
        while directory != root and directory.is_relative_to(root):
            try:
                directory.rmdir()
            except OSError:  # not empty (or already gone): stop climbing
                return
            directory = directory.parent
