"""The temporary file of one download: its bytes, running hash, type and how to resume it.

It outlives single HTTP attempts, so a connection dropped at 60 % continues from there with a
``Range`` request when the server supports ranges, and starts over (``reset``) when it does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import os
import re
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx2

from mcp_server_kie.domain import MediaKind
from mcp_server_kie.media.errors import DownloadError
from mcp_server_kie.media.sniff import SNIFF_BYTES, sniff
from mcp_server_kie.media.tempfiles import held, temp_path, to_the_end

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class PartialFile:
    def __init__(self, path: Path, kind: MediaKind, limit: int) -> None:
        self.path = path
        self._kind = kind
        self._limit = limit
        # Owner-only; the name is random and never derived from remote data (the fetcher has
        # usually created it already, exclusively, to hold it while the download runs).
        self._file = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
        self.size = 0
        self.mime_type: str | None = None
        self._digest = hashlib.sha256()
        self._head = b""
        self._total: int | None = None  # the full size, when the server said it
        self._resumable = False
        self._validator: str | None = None  # strong ETag or Last-Modified, for If-Range

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._file.close()

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def request_headers(self) -> dict[str, str]:
        """A ``Range`` (and ``If-Range``) header when there is something to resume."""
        if not (self.size and self._resumable):
            return {}
        headers = {"Range": f"bytes={self.size}-"}
        if self._validator:
            headers["If-Range"] = self._validator
        return headers

    def start(self, headers: httpx2.Headers) -> None:
        """A full (200) response: begin again from byte 0 and note how to resume it later."""
        self.reset()
        self._total = _declared_length(headers)
        if self._total is not None and self._total > self._limit:
            raise _too_large(self._limit)
        self._resumable = headers.get("accept-ranges", "").strip().lower() == "bytes"
        etag = headers.get("etag")
        strong = etag if etag and not etag.startswith("W/") else None
        self._validator = strong or headers.get("last-modified")

    def resume(self, headers: httpx2.Headers) -> None:
        """A 206 answer must continue exactly where the file ends, for the same total."""
        total = self._continuing_total(headers.get("content-range", ""))
        if total is None:
            self.reset()
            raise DownloadError(
                "network", "the server answered a resume request inconsistently", retryable=True
            )
        self._total = total
        if total > self._limit:
            raise _too_large(self._limit)

    def _continuing_total(self, content_range: str) -> int | None:
        """The full size named by a Content-Range that starts at our end and runs to the last
        byte, or None when it does not (or when no range was asked for)."""
        match = _CONTENT_RANGE.fullmatch(content_range.strip())
        if match is None or match[3] == "*" or not self.request_headers():
            return None
        start, end, total = int(match[1]), int(match[2]), int(match[3])
        if start != self.size or end != total - 1 or self._total not in (None, total):
            return None
        return total

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._limit:
            raise _too_large(self._limit)
        if self.mime_type is None:
            self._head += chunk[: SNIFF_BYTES - len(self._head)]
            if len(self._head) >= SNIFF_BYTES:
                self.mime_type = self._identify()
        self._digest.update(chunk)
        self._file.write(chunk)

    def finish(self) -> str:
        """After the last chunk: check the length, return the type (``sync`` makes the bytes
        durable)."""
        if self._total is not None and self.size != self._total:
            raise DownloadError(
                "length_mismatch",
                f"expected {self._total} bytes, received {self.size}",
                retryable=True,
            )
        return self.mime_type or self._identify()

    def flush(self) -> None:
        """Hand the bytes written so far to the operating system (readable by path)."""
        self._file.flush()

    def sync(self) -> None:
        """Make the bytes written so far durable (blocking: call it in a thread)."""
        self.flush()
        os.fsync(self._file.fileno())

    def reset(self) -> None:
        self._file.seek(0)
        self._file.truncate()
        self.size = 0
        self.mime_type = None
        self._digest = hashlib.sha256()
        self._head = b""
        self._total = None
        self._resumable = False
        self._validator = None

    def _identify(self) -> str:
        """The type the first bytes show; refused if unknown or not the kind the job makes."""
        mime_type = sniff(self._head)
        if mime_type is None:
            raise DownloadError("bad_type", "the file is not a recognised image, video or audio")
        if not mime_type.startswith(f"{self._kind.value}/"):
            raise DownloadError(
                "bad_type", f"expected {self._kind.value} but the file is {mime_type}"
            )
        return mime_type


class StagedFile:
    """A download's temporary file beside ``stem``, held (media/tempfiles.py) and open as a
    `PartialFile`, made in a thread from the moment this is created: its folder, the file and
    its lock are system calls that on a slow disk cost the event loop several hundred µs,
    which the download's first request, sent meanwhile, need not wait for."""

    def __init__(self, stem: Path, kind: MediaKind, limit: int) -> None:
        self.path = temp_path(stem)
        run = contextvars.copy_context().run
        loop = asyncio.get_running_loop()
        self._made = loop.run_in_executor(None, run, _make, stem, self.path, kind, limit)

    def ready(self) -> PartialFile | None:
        """The file if made; None while it is being made (then nothing has been written)."""
        made = self._made_ok()
        return made[1] if made is not None else None

    async def file(self) -> PartialFile:
        """The file, once made (the OSError that kept it from being made, if one did)."""
        _, part = await asyncio.shield(self._made)
        return part

    async def close(self) -> None:
        """Close and remove the file, once its thread is done with it (waited for to the end
        when the caller is cancelled meanwhile: the file is never left behind)."""
        try:
            await to_the_end(asyncio.wait({self._made}))
        finally:
            made = self._made_ok()
            if made is not None:
                made[0].close()
            self.path.unlink(missing_ok=True)

    def _made_ok(self) -> tuple[contextlib.ExitStack, PartialFile] | None:
        """What the thread made, once it has made it without an error; else None."""
        made = self._made
        if made.done() and not made.cancelled() and made.exception() is None:
            return made.result()
        return None


def _make(
    stem: Path, path: Path, kind: MediaKind, limit: int
) -> tuple[contextlib.ExitStack, PartialFile]:
    """(Blocking.) Create ``path`` (and its folder) and hold it; what closes it, and the file."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        stack.enter_context(held(path))
        part = stack.enter_context(PartialFile(path, kind, limit))
        return stack.pop_all(), part


def _declared_length(headers: httpx2.Headers) -> int | None:
    value = headers.get("content-length", "").strip()
    return int(value) if value.isdigit() else None


def _too_large(limit: int) -> DownloadError:
    return DownloadError("too_large", f"the file is larger than the {limit}-byte limit")
