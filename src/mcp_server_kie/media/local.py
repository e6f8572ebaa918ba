"""The media library as a folder on this machine (the default): today's layout on disk.

``{root}/{YYYY}/{MM}/{DD}/{job_id}/{index}-{writer}{ext}``, its preview beside it. A file is
published with a hard link from its held temporary file, which fails if the name exists, so
nothing ever replaces a published file. Every path a location names is resolved and must lie
inside the root (``local_path``, through ``media.confine``, the one confinement rule).
"""

from __future__ import annotations

import asyncio
import errno
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from functools import partial
from pathlib import Path

from mcp_server_kie.media.confine import confined
from mcp_server_kie.media.store import (
    LIST_BATCH,
    FilePublisher,
    MediaStoreError,
    MissingMedia,
    StoredObject,
)
from mcp_server_kie.media.tempfiles import held, remove_abandoned, temp_path

_CHUNK = 256 * 1024
# What os.link raises where hard links are impossible: not supported, across filesystems.
_NO_LINKS = frozenset(
    {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}
)


def publish_file(source: Path, final: Path, sync: Callable[[], None] | None = None) -> None:
    """Give ``source``'s bytes the name ``final`` without ever replacing a file there.

    A hard link where the filesystem has them; else (FAT/exFAT, some network shares, another
    filesystem) a copy into a file created exclusively, so the name is still never shared.
    ``sync``: makes ``source``'s bytes durable; called once linked, before the folder is
    synced (a journaling filesystem commits the new name with the bytes, and the folder's sync
    then finds little left to do: one commit where syncing before the link took two). A copy
    is synced itself.
    """
    try:
        try:
            os.link(source, final)
        except OSError as exc:
            if isinstance(exc, FileExistsError) or exc.errno not in _NO_LINKS:
                raise
            _copy_exclusive(source, final)
        else:
            if sync is not None:
                try:
                    sync()
                except BaseException:
                    final.unlink(missing_ok=True)  # ours: linked just above
                    raise
    except FileExistsError:
        raise MediaStoreError(f"{final.name} exists; published files never change") from None
    except OSError as exc:
        raise MediaStoreError(f"{final} could not be written: {exc.strerror}") from None
    _fsync_dir(final.parent)


def _copy_exclusive(source: Path, final: Path) -> None:
    fd = os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with source.open("rb") as reader, os.fdopen(fd, "wb") as writer:
            shutil.copyfileobj(reader, writer, _CHUNK)
            writer.flush()
            os.fsync(writer.fileno())
    except BaseException:
        final.unlink(missing_ok=True)  # ours: created exclusively above
        raise


class LocalMediaStore:
    backend = "local"

    def __init__(self, root: Path) -> None:
        self._root = root
        self._resolved = root.resolve()

    @property
    def root(self) -> str:
        return str(self._root)

    def staging(self, directory: str) -> Path:
        # Beside the final name (a link needs one filesystem); the download makes the folder,
        # in its thread (media/partial.py): not here, on the event loop.
        return self._root / directory

    async def publish(self, source: Path | bytes, key: str, mime_type: str) -> str:
        return await asyncio.to_thread(self._publish, source, key)

    def file_publisher(self) -> FilePublisher:
        return self._publish

    def _publish(
        self, source: Path | bytes, key: str, sync: Callable[[], None] | None = None
    ) -> str:
        """Publish under ``key`` (blocking); its location. ``sync`` makes a file's bytes
        durable once linked (publish_file); bytes are written and synced here."""
        final = self._root / key
        final.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, Path):
            publish_file(source, final, sync)
            return str(final)
        temp = temp_path(final)
        try:
            with held(temp):
                with temp.open("wb") as file:
                    file.write(source)
                    file.flush()
                    publish_file(temp, final, partial(os.fsync, file.fileno()))
        finally:
            temp.unlink(missing_ok=True)
        return str(final)

    def local_path(self, location: str) -> Path | None:
        path = confined(location, self._resolved)  # the one rule: media/confine.py
        return path if path is not None and path.is_file() else None

    def _existing(self, location: str) -> Path:
        path = self.local_path(location)
        if path is None:
            raise MissingMedia(f"no file at {location}")
        return path

    async def size(self, location: str) -> int:
        return self._existing(location).stat().st_size

    async def stream(self, location: str, start: int, end: int) -> AsyncIterator[bytes]:
        with self._existing(location).open("rb") as file:
            file.seek(start)
            left = end - start
            while left > 0:
                chunk = await asyncio.to_thread(file.read, min(_CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk

    async def read(self, location: str, limit: int) -> bytes | None:
        path = self._existing(location)
        if path.stat().st_size > limit:
            return None
        return await asyncio.to_thread(path.read_bytes)

    async def remove(self, locations: Sequence[str]) -> tuple[int, int]:
        return await asyncio.to_thread(self._remove, locations)

    def _remove(self, locations: Sequence[str]) -> tuple[int, int]:
        files = freed = 0
        folders: set[Path] = set()
        for location in locations:
            path = self.local_path(location)
            if path is None:
                continue
            try:
                size = path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                continue
            files += 1
            freed += size
            folders.add(path.parent)
        for folder in folders:
            self._prune(folder)
        return files, freed

    def _prune(self, directory: Path) -> None:
        """Remove now-empty job and date folders up to the root."""
        while directory != self._resolved and directory.is_relative_to(self._resolved):
            try:
                directory.rmdir()
            except OSError:  # not empty (or already gone): stop climbing
                return
            directory = directory.parent

    async def objects(self) -> AsyncIterator[list[StoredObject]]:
        walk = os.walk(self._root)  # advanced in a thread, one batch at a time
        while batch := await asyncio.to_thread(self._next_batch, walk):
            yield batch

    def _next_batch(self, walk: Iterator[tuple[str, list[str], list[str]]]) -> list[StoredObject]:
        batch: list[StoredObject] = []
        for folder, _dirs, names in walk:
            for name in names:
                if name.startswith("."):  # a download's temporary file (or a probe)
                    continue
                path = Path(folder) / name
                try:
                    modified = path.stat().st_mtime
                except FileNotFoundError:  # removed meanwhile
                    continue
                key = path.relative_to(self._root).as_posix()
                batch.append(StoredObject(str(path), key, modified))
            if len(batch) >= LIST_BATCH:
                break
        return batch

    def sweep(self) -> int:
        return remove_abandoned(self._root)

    async def probe(self, *, write: bool = False) -> None:
        await asyncio.to_thread(self._probe, write)

    def _probe(self, write: bool) -> None:
        try:
            self._root.mkdir(parents=True, exist_ok=True)
            if write:
                probe = self._root / f".probe-{secrets.token_hex(4)}"
                probe.write_bytes(b"probe")
                probe.unlink()
        except OSError as exc:
            raise MediaStoreError(f"the media folder {self._root} is not usable: {exc}") from None

    async def aclose(self) -> None:
        return None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
