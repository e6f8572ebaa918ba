"""The media library in an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO, ...), via obstore.

obstore is the Python face of the Rust ``object_store`` crate (maintained by the Apache Arrow
project): async, streaming, multipart uploads, conditional puts, signed requests, and it reads
the standard ``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and
``AWS_REGION`` variables itself. Downloads are staged in a local folder (the fetcher checks them
there), then uploaded: small files in one conditional put (``If-None-Match: *``, refused if the
key exists), large ones in parts. Keys carry their writer's random token, so no other writer
can take one either way.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path

import obstore
from obstore.exceptions import AlreadyExistsError, BaseError, NotFoundError, PreconditionError
from obstore.store import S3Store

from mcp_server_kie.media.store import LIST_BATCH, MediaStoreError, MissingMedia, StoredObject
from mcp_server_kie.media.tempfiles import remove_abandoned

log = logging.getLogger(__name__)

# Files up to this size go up in one conditional put; larger ones in parts of PART_BYTES.
SINGLE_PUT_BYTES = 16 * 1024 * 1024
PART_BYTES = 8 * 1024 * 1024
_CHUNK = 256 * 1024
# What obstore raises when a request fails: its own errors, and OSError subclasses (a missing
# object or bucket comes as FileNotFoundError, a refused connection as ConnectionError).
_FAILURES = (BaseError, OSError)
_S3_MESSAGE = re.compile(r"<Message>([^<]{1,300})</Message>")


class S3MediaStore:
    backend = "s3"

    def __init__(self, url: str, staging_dir: Path) -> None:
        self._url = url.rstrip("/")
        self._staging = staging_dir
        endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
        try:
            self._store = S3Store.from_url(
                self._url,
                client_options={
                    "allow_http": endpoint.startswith("http://"),
                    "connect_timeout": timedelta(seconds=10),
                    "timeout": timedelta(seconds=120),
                },
                retry_config={"max_retries": 4, "retry_timeout": timedelta(seconds=60)},
            )
        except (BaseError, ValueError) as exc:
            raise MediaStoreError(
                f"KIE_MEDIA_URL {self._url} cannot be used: {_first_line(exc)}"
            ) from None

    @property
    def root(self) -> str:
        return self._url

    def staging(self, directory: str) -> Path:
        self._staging.mkdir(parents=True, exist_ok=True)
        return self._staging

    def _key(self, location: str) -> str:
        prefix = self._url + "/"
        if not location.startswith(prefix):
            raise MissingMedia(f"{location} is not in {self._url}")
        return location.removeprefix(prefix)

    async def publish(self, source: Path | bytes, key: str, mime_type: str) -> str:
        attributes = {"Content-Type": mime_type}
        data = source if isinstance(source, bytes) else await asyncio.to_thread(_small, source)
        try:
            if data is not None:
                await obstore.put_async(
                    self._store, key, data, attributes=attributes, mode="create"
                )
            else:
                await obstore.put_async(
                    self._store,
                    key,
                    source,
                    attributes=attributes,
                    use_multipart=True,
                    chunk_size=PART_BYTES,
                    max_concurrency=4,
                )
        except (AlreadyExistsError, PreconditionError):
            raise MediaStoreError(f"{key} already exists; published files never change") from None
        except _FAILURES as exc:
            raise MediaStoreError(
                f"the upload of {key} to {self._url} failed: {_first_line(exc)}"
            ) from None
        return f"{self._url}/{key}"

    def file_publisher(self) -> None:
        return None  # an upload is asynchronous (obstore)

    def local_path(self, location: str) -> Path | None:
        return None

    async def size(self, location: str) -> int:
        key = self._key(location)
        try:
            meta = await obstore.head_async(self._store, key)
        except (NotFoundError, FileNotFoundError):
            raise MissingMedia(f"no object {key} in {self._url}") from None
        except _FAILURES as exc:
            raise MediaStoreError(
                f"{self._url} did not answer for {key}: {_first_line(exc)}"
            ) from None
        return meta["size"]

    async def stream(self, location: str, start: int, end: int) -> AsyncIterator[bytes]:
        """The range's bytes; if the store fails mid-way the stream ends short (logged), which
        the client sees as a body shorter than its Content-Length."""
        if end <= start:
            return
        key = self._key(location)
        try:
            result = await obstore.get_async(self._store, key, options={"range": (start, end)})
            async for chunk in result.stream(min_chunk_size=_CHUNK):
                yield bytes(chunk)
        except _FAILURES as exc:
            log.warning("reading %s from %s failed: %s", key, self._url, _first_line(exc))

    async def read(self, location: str, limit: int) -> bytes | None:
        if await self.size(location) > limit:
            return None
        try:
            result = await obstore.get_async(self._store, self._key(location))
            return bytes(await result.bytes_async())
        except (NotFoundError, FileNotFoundError):
            raise MissingMedia(f"no object at {location}") from None

    async def remove(self, locations: Sequence[str]) -> tuple[int, int]:
        files = freed = 0
        for location in locations:
            try:
                size = await self.size(location)
                await obstore.delete_async(self._store, self._key(location))
            except MissingMedia:
                continue
            files += 1
            freed += size
        return files, freed

    async def objects(self) -> AsyncIterator[list[StoredObject]]:
        """Every object under the prefix (keys come back relative to it), but the doctor's
        ``.probe/`` objects. Incomplete multipart uploads are not objects and are not listed:
        obstore cannot list or abort them, so the bucket's lifecycle rule removes them."""
        try:
            async for chunk in obstore.list(self._store, chunk_size=LIST_BATCH):
                yield [
                    StoredObject(
                        f"{self._url}/{meta['path']}",
                        meta["path"],
                        meta["last_modified"].timestamp(),
                    )
                    for meta in chunk
                    if not meta["path"].startswith(".probe/")
                ]
        except _FAILURES as exc:
            raise MediaStoreError(f"listing {self._url} failed: {_first_line(exc)}") from None

    def sweep(self) -> int:
        return remove_abandoned(self._staging)

    async def probe(self, *, write: bool = False) -> None:
        """Without ``write``: list (at most one key of) the bucket. With it: put, read back
        and delete a small object under ``.probe/``."""
        key = f".probe/{secrets.token_hex(8)}"
        try:
            if not write:
                async for _batch in obstore.list(self._store, ".probe/", chunk_size=1):
                    break
                return
            await obstore.put_async(self._store, key, b"probe", mode="create")
            got = await obstore.get_async(self._store, key)
            if bytes(await got.bytes_async()) != b"probe":
                raise MediaStoreError(f"{self._url} returned other bytes than were written")
            await obstore.delete_async(self._store, key)
        except _FAILURES as exc:
            raise MediaStoreError(f"{self._url} is not usable: {_first_line(exc)}") from None

    async def aclose(self) -> None:
        return None


def _small(path: Path) -> bytes | None:
    """The file's bytes if it is small enough for one put, else None (upload it in parts)."""
    return path.read_bytes() if path.stat().st_size <= SINGLE_PUT_BYTES else None


def _first_line(exc: BaseException) -> str:
    """obstore's message, short: its first line without the raw XML, plus S3's own sentence
    (``<Message>``) when the answer carried one."""
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    line = text.splitlines()[0].split("<?xml")[0].strip().rstrip(":")
    said = _S3_MESSAGE.search(text)
    return f"{line} ({said[1]})" if said else line
