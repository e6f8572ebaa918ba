"""Download one result URL into the library: streamed, capped, typed, atomically renamed.

The bytes go to a hidden temporary file beside the destination, are hashed as they arrive,
fsynced, typed by their magic bytes, and only then renamed into place. A failure at any point
leaves no partial file behind.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx2

from mcp_server_kie.domain import MediaKind
from mcp_server_kie.media.sniff import EXTENSIONS, SNIFF_BYTES, sniff
from mcp_server_kie.media.tempfiles import held, temp_path

DEFAULT_MAX_BYTES: Mapping[MediaKind, int] = {
    MediaKind.IMAGE: 50 * 1024 * 1024,
    MediaKind.VIDEO: 1024 * 1024 * 1024,
}


class DownloadError(Exception):
    """A result could not be stored. ``category`` is stable; the message is for a reader."""

    def __init__(self, category: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.category = category
        self.message = message
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class StoredFile:
    path: Path
    bytes: int
    sha256: str
    mime_type: str


class Fetcher:
    def __init__(
        self, http: httpx2.AsyncClient, max_bytes: Mapping[MediaKind, int] = DEFAULT_MAX_BYTES
    ) -> None:
        self._http = http
        self._max_bytes = max_bytes

    async def fetch(self, url: str, dest_stem: Path, kind: MediaKind) -> StoredFile:
        """Download ``url`` to ``dest_stem`` plus the extension its bytes call for."""
        limit = self._max_bytes[kind]
        dest_stem.parent.mkdir(parents=True, exist_ok=True)
        temp = temp_path(dest_stem)
        try:
            with held(temp):  # a crash leaves it unheld, for the start-up sweep to remove
                stored = await self._download(url, temp, limit)
                if not stored.mime_type.startswith(f"{kind.value}/"):
                    raise DownloadError(
                        "bad_type", f"expected {kind.value} but the file is {stored.mime_type}"
                    )
                final = dest_stem.with_name(dest_stem.name + EXTENSIONS[stored.mime_type])
                os.replace(temp, final)
                _fsync_dir(final.parent)
            return StoredFile(final, stored.bytes, stored.sha256, stored.mime_type)
        finally:
            temp.unlink(missing_ok=True)

    async def _download(self, url: str, temp: Path, limit: int) -> StoredFile:
        digest = hashlib.sha256()
        size = 0
        head = b""
        try:
            async with self._http.stream(
                "GET", url, headers={"Accept-Encoding": "identity"}
            ) as response:
                if response.status_code != 200:
                    raise DownloadError(
                        "http_status",
                        f"the result URL answered HTTP {response.status_code}",
                        retryable=response.status_code >= 500,
                    )
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > limit:
                    raise DownloadError("too_large", f"the file is larger than {limit} bytes")
                with temp.open("wb") as out:
                    async for chunk in response.aiter_raw():
                        size += len(chunk)
                        if size > limit:
                            raise DownloadError(
                                "too_large", f"the file is larger than {limit} bytes"
                            )
                        if len(head) < SNIFF_BYTES:
                            head += chunk[: SNIFF_BYTES - len(head)]
                        digest.update(chunk)
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                if declared is not None and declared.isdigit() and int(declared) != size:
                    raise DownloadError(
                        "length_mismatch",
                        f"expected {declared} bytes, received {size}",
                        retryable=True,
                    )
        except httpx2.TransportError as exc:
            raise DownloadError(
                "network", f"download failed: {type(exc).__name__}", retryable=True
            ) from exc
        mime = sniff(head)
        if mime is None:
            raise DownloadError("bad_type", "the file is not a recognised image or video")
        return StoredFile(temp, size, digest.hexdigest(), mime)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
