"""Where finished media live: one small protocol, a local folder or an S3-compatible bucket.

``KIE_MEDIA_URL`` chooses the backend (``open_media_store``): unset or a path is a folder on
this machine (``media.local``); ``s3://bucket/prefix`` is any S3-compatible object store
(``media.s3``, imported only then). The engine, the library and the routes speak this protocol
only.

Names are write-once: a download is staged in a local temporary file (where the fetcher caps,
hashes and checks it), then published under a key that carries its writer's random token, and
the store refuses to replace an existing object. So two processes (or two attempts) storing
the same job never share a name, and each removes only what it wrote itself. An asset records
its *location*: the absolute file path (local) or ``s3://bucket/prefix/key`` (S3).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

LIST_BATCH = 1000  # objects per batch when listing a store

# Publishes a local file (blocking): the file, the key, and a function that makes the file's
# bytes durable, which it calls once the name is given; returns the location to record.
FilePublisher = Callable[[Path, str, Callable[[], None]], str]


class MediaStoreError(Exception):
    """The media store could not do what was asked; the message says what and why."""


class MissingMedia(MediaStoreError):
    """No object at that location (deleted, never written, or not in this store)."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One published object: its location (as an asset records it), its key under the
    store's root (``YYYY/MM/DD/job_id/name``) and when it was last written (Unix time)."""

    location: str
    key: str
    modified: float


class MediaStore(Protocol):
    @property
    def backend(self) -> str:
        """``local`` or ``s3``."""
        ...

    @property
    def root(self) -> str:
        """The folder or ``s3://bucket/prefix`` this store writes under (for people)."""
        ...

    def staging(self, directory: str) -> Path:
        """The local folder a download bound for ``directory`` is written to first (perhaps
        not made yet: the download makes it)."""
        ...

    async def publish(self, source: Path | bytes, key: str, mime_type: str) -> str:
        """Store ``source`` under ``key`` unless that key exists (then MediaStoreError);
        return the location to record."""
        ...

    def file_publisher(self) -> FilePublisher | None:
        """`publish` for a local file as a blocking function (a MediaStoreError when the key
        exists), for a download's thread to call as soon as the file is checked, before its
        bytes are synced (it syncs them); None when this store publishes asynchronously only."""
        ...

    def local_path(self, location: str) -> Path | None:
        """The regular file on this machine holding ``location``, or None (not a file of
        this store's folder, or an object store)."""
        ...

    async def size(self, location: str) -> int:
        """The object's size in bytes (MissingMedia if there is none)."""
        ...

    def stream(self, location: str, start: int, end: int) -> AsyncIterator[bytes]:
        """The bytes ``[start, end)`` of the object, in chunks."""
        ...

    async def read(self, location: str, limit: int) -> bytes | None:
        """The whole object, or None if it is larger than ``limit`` bytes."""
        ...

    async def remove(self, locations: Sequence[str]) -> tuple[int, int]:
        """Delete these objects (missing ones are skipped); return (files, bytes) freed."""
        ...

    def objects(self) -> AsyncIterator[list[StoredObject]]:
        """Every published object under the root, in batches (temporary files excluded)."""
        ...

    def sweep(self) -> int:
        """Delete temporary files no live download holds (a crash's leftovers); blocking."""
        ...

    async def probe(self, *, write: bool = False) -> None:
        """Check the store answers (and with ``write``, that a put/get/delete round trip
        works); MediaStoreError says what failed."""
        ...

    async def aclose(self) -> None: ...


def open_media_store(url: str | None, media_dir: Path, staging_dir: Path) -> MediaStore:
    """The store ``url`` names: None or a path -> that folder (default ``media_dir``);
    ``s3://bucket[/prefix]`` -> the bucket, configured by the standard AWS_* variables."""
    if url and url.startswith("s3://"):
        from mcp_server_kie.media.s3 import S3MediaStore

        return S3MediaStore(url, staging_dir)
    if url and "://" in url:
        raise MediaStoreError(
            f"KIE_MEDIA_URL {url.split('://')[0]}://... is not supported: use a folder path "
            "or s3://bucket/prefix."
        )
    from mcp_server_kie.media.local import LocalMediaStore

    return LocalMediaStore(Path(url).expanduser() if url else media_dir)
