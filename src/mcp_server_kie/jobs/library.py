"""Deleting from the media library: rows first (one transaction), then the files they named.

If the process dies between the two, what remains is an unreferenced file, never a row that
points at a missing one. The media store deletes only locations inside its own root.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mcp_server_kie.domain import Asset, UserInputError
from mcp_server_kie.media import MediaStore
from mcp_server_kie.storage import Store


@dataclass(frozen=True, slots=True)
class Deleted:
    jobs: int
    files: int
    bytes: int


class Library:
    def __init__(self, store: Store, media: MediaStore) -> None:
        self._store = store
        self._media = media

    @property
    def media(self) -> MediaStore:
        """Where the library's files live (to read or serve them)."""
        return self._media

    async def delete_asset(self, asset_id: str) -> Deleted:
        asset = await self._store.delete_asset(asset_id)
        if asset is None:
            raise UserInputError(f"No file {asset_id!r} in the library; list_media shows them.")
        return Deleted(0, *await self._remove_files([asset]))

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
        return Deleted(len(ids), *await self._remove_files(assets))

    async def clear(self) -> Deleted:
        """Every finished job and its files; running jobs stay."""
        ids, assets = await self._store.delete_jobs(None)
        return Deleted(len(ids), *await self._remove_files(assets))

    async def _remove_files(self, assets: Sequence[Asset]) -> tuple[int, int]:
        locations = [name for a in assets for name in (a.path, a.thumbnail_path) if name]
        return await self._media.remove(locations)
