"""Download one result URL into the library: safe to point at, capped, typed, atomic.

Every hop goes through the SSRF policy and a pinned transport (``media.pinning``). Bytes are
read raw (never decompressed, so a gzip bomb cannot inflate), counted against the cap for their
kind, typed by their first bytes, hashed, fsynced, checked for truncation, and only then
published (``download`` hands the checked temporary file to a media store). Transient failures
are retried with backoff and jitter (stamina), resuming with ``Range`` when the server allows;
an expired link gets one refresh; the whole download has one deadline. A failure at any point
leaves no partial file behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import httpcore2
import httpx2
import stamina

from mcp_server_kie.domain import MediaKind
from mcp_server_kie.media.describe import MediaInfo, describe
from mcp_server_kie.media.errors import DownloadError, retry_after_seconds, worth_retrying
from mcp_server_kie.media.integrity import is_complete
from mcp_server_kie.media.local import publish_file
from mcp_server_kie.media.partial import PartialFile, StagedFile
from mcp_server_kie.media.pinning import pinned_pool
from mcp_server_kie.media.sniff import EXTENSIONS
from mcp_server_kie.media.ssrf import BlockedError, SsrfPolicy
from mcp_server_kie.media.tempfiles import in_thread_to_the_end

log = logging.getLogger(__name__)

Refresh = Callable[[str], Awaitable[str]]
"""Given an expired result URL, return a fresh link to the same file."""

_EXPIRED = frozenset({403, 404, 410})
_TRANSIENT = frozenset({408, 425, 429, 500, 502, 503, 504})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Caps, deadlines and the retry schedule. Deadlines cover every attempt of a download."""

    max_image_bytes: int = 50 * 1024 * 1024
    max_video_bytes: int = 1024 * 1024 * 1024
    image_seconds: float = 60.0
    video_seconds: float = 300.0
    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # the longest silence between two reads
    attempts: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 10.0
    backoff_jitter: float = 1.0
    max_retry_after: float = 60.0
    max_redirects: int = 5

    def max_bytes(self, kind: MediaKind) -> int:
        return self.max_image_bytes if kind is MediaKind.IMAGE else self.max_video_bytes

    def deadline(self, kind: MediaKind) -> float:
        return self.image_seconds if kind is MediaKind.IMAGE else self.video_seconds


# Publishes a checked download (its file, its type) in the download's thread, calling the
# function given to make the bytes durable once the name is given; where it went.
Place = Callable[[Path, str, Callable[[], None]], str]


@dataclass(frozen=True, slots=True)
class StoredFile:
    path: Path
    bytes: int
    sha256: str
    mime_type: str
    info: MediaInfo  # what the file's headers say (dimensions, duration), when asked for
    placed: str | None = None  # where ``place`` published it, when given one


class Fetcher:
    """Owns its connection pool: pinned to the policy, no proxies from the environment. It
    speaks to httpcore2's pool directly: a download needs none of httpx2's client layers
    (auth, cookies, redirects, decoding), which cost ~0.3 ms of CPU a request.

    ``network`` and ``verify`` are the socket and TLS layers under the pinning (tests route
    "public" addresses to loopback servers and trust a test certificate authority).
    """

    def __init__(
        self,
        policy: SsrfPolicy | None = None,
        limits: FetchLimits | None = None,
        *,
        network: httpcore2.AsyncNetworkBackend | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.policy = policy or SsrfPolicy()
        self.limits = limits or FetchLimits()
        self._pool = pinned_pool(self.policy, network=network, verify=verify)
        read, connect = self.limits.read_timeout, self.limits.connect_timeout
        self._timeouts = {"connect": connect, "read": read, "write": read, "pool": read}

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def fetch(
        self, url: str, dest_stem: Path, kind: MediaKind, refresh: Refresh | None = None
    ) -> StoredFile:
        """Download ``url`` to ``dest_stem`` plus the extension its bytes call for (never
        replacing a file already there), durable once this returns."""

        def place(path: Path, mime_type: str, sync: Callable[[], None]) -> str:
            final = dest_stem.with_name(dest_stem.name + EXTENSIONS[mime_type])
            publish_file(path, final, sync)
            return str(final)

        async with self.download(url, dest_stem, kind, refresh, place=place) as staged:
            assert staged.placed is not None
            final = Path(staged.placed)
        return StoredFile(final, staged.bytes, staged.sha256, staged.mime_type, staged.info)

    @contextlib.asynccontextmanager
    async def download(
        self,
        url: str,
        stem: Path,
        kind: MediaKind,
        refresh: Refresh | None = None,
        *,
        described: bool = False,
        place: Place | None = None,
    ) -> AsyncIterator[StoredFile]:
        """Download ``url`` into a held temporary file beside ``stem``, checked complete, for
        the block to publish; the file is removed when the block ends, however it ends.
        ``described``: read its dimensions and duration too, in the same trip to a thread as
        the completeness check (for video that loads PyAV). ``place``: publish it in that
        trip too (a local folder's link), once checked; it syncs the bytes. Without one the
        bytes are not synced: the block copies them elsewhere (an object store, which keeps
        them), and a temporary file a crash leaves behind is swept at the next start."""
        deadline = self.limits.deadline(kind)
        staged = StagedFile(stem, kind, self.limits.max_bytes(kind))  # made while we ask
        try:
            try:
                async with asyncio.timeout(deadline):
                    mime_type = await self._fetch_refreshing(url, staged, refresh)
            except TimeoutError:
                raise DownloadError(
                    "timeout", f"the download did not finish within {deadline:g} s", retryable=True
                ) from None
            # One trip to a thread, off the event loop (the sidecar's acknowledgements run on
            # it meanwhile): the completeness check, the description, and the publish
            # (``place``) with its fsync.
            part = await staged.file()
            info, placed = await in_thread_to_the_end(_checked, part, mime_type, described, place)
            if info is None:
                raise DownloadError(
                    "length_mismatch",
                    "the file is truncated: it ends before its own format says it does",
                    retryable=True,
                )
            yield StoredFile(staged.path, part.size, part.sha256, mime_type, info, placed)
        finally:
            await staged.close()

    async def _fetch_refreshing(self, url: str, staged: StagedFile, refresh: Refresh | None) -> str:
        try:
            return await self._fetch_retrying(url, staged)
        except DownloadError as exc:
            if exc.category != "expired" or refresh is None:
                raise
        log.info("result link on %s expired; asking for a fresh one", httpx2.URL(url).host)
        fresh = await refresh(url)
        (await staged.file()).reset()
        return await self._fetch_retrying(fresh, staged)

    async def _fetch_retrying(self, url: str, staged: StagedFile) -> str:
        limits = self.limits
        async for attempt in stamina.retry_context(
            on=worth_retrying,
            attempts=limits.attempts,
            timeout=None,  # the download's deadline bounds the retries
            wait_initial=limits.backoff_initial,
            wait_max=limits.backoff_max,
            wait_jitter=limits.backoff_jitter,
        ):
            with attempt:
                return await self._attempt(url, staged)
        raise AssertionError("unreachable: stamina re-raises the last failure")

    async def _attempt(self, url: str, staged: StagedFile) -> str:
        """One GET (following redirects): resume or restart the file, stream it to the end.
        The bytes are taken raw: nothing here decompresses. (The first GET goes out while the
        file is still being made: there is nothing to resume yet.)"""
        headers = [(b"Accept-Encoding", b"identity"), (b"User-Agent", b"mcp-server-kie")]
        made = staged.ready()
        resume = made.request_headers() if made is not None else {}
        headers += [(k.encode(), v.encode()) for k, v in resume.items()]
        try:
            response, fields = await self._open(url, headers)
            try:
                part = await staged.file()
                self._accept(response.status, fields, part)
                async for chunk in response.aiter_stream():
                    part.write(chunk)
            finally:
                await response.aclose()
        except BlockedError as exc:
            raise DownloadError("blocked", f"download refused: {exc}") from None
        except httpcore2.TimeoutException as exc:
            raise DownloadError(
                "timeout", f"the file host stopped answering ({type(exc).__name__})", retryable=True
            ) from None
        except (httpcore2.NetworkError, httpcore2.ProtocolError) as exc:
            raise DownloadError(
                "network", f"the download broke off ({type(exc).__name__})", retryable=True
            ) from None
        return part.finish()

    async def _open(
        self, url: str, headers: list[tuple[bytes, bytes]]
    ) -> tuple[httpcore2.Response, httpx2.Headers]:
        """Send the GET, following at most ``max_redirects`` redirects, each one re-checked;
        the response (its body unread) and its headers."""
        try:
            current = httpx2.URL(url)
            for _ in range(self.limits.max_redirects + 1):
                self.policy.check_url(current)
                target = httpcore2.URL(
                    scheme=current.raw_scheme,
                    host=current.raw_host,
                    port=current.port,
                    target=current.raw_path,
                )
                request = httpcore2.Request(
                    "GET",
                    target,
                    headers=[(b"Host", current.netloc), *headers],
                    extensions={"timeout": self._timeouts},
                )
                response = await self._pool.handle_async_request(request)
                fields = httpx2.Headers(response.headers)
                if response.status not in _REDIRECTS or "location" not in fields:
                    return response, fields
                await response.aclose()
                current = current.join(fields["location"])
        except httpx2.InvalidURL as exc:
            raise BlockedError(f"not a valid URL ({exc})") from None
        raise BlockedError(f"more than {self.limits.max_redirects} redirects")

    def _accept(self, status: int, headers: httpx2.Headers, part: PartialFile) -> None:
        """Decide from the status and headers whether (and how) to take this body."""
        if status in _EXPIRED:
            raise DownloadError("expired", f"the link answered HTTP {status}; it has expired")
        if status in _TRANSIENT or status >= 500:
            wait = retry_after_seconds(headers.get("retry-after"), self.limits.max_retry_after)
            raise DownloadError(
                "http_status",
                f"the file host answered HTTP {status}",
                retryable=True,
                retry_after=wait,
            )
        if status == 200:
            part.start(headers)
        elif status == 206:
            part.resume(headers)
        else:
            raise DownloadError("http_status", f"the file host answered HTTP {status}")
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise DownloadError(
                "bad_type", f"the file came {encoding}-encoded; only plain bytes are accepted"
            )


def _checked(
    part: PartialFile, mime_type: str, described: bool, place: Place | None
) -> tuple[MediaInfo | None, str | None]:
    """(None, None) when the file is cut short, else its description (empty unless
    ``described``) and where ``place`` published it, syncing its bytes once the name is given
    (media/local.py); None without one."""
    part.flush()  # the checks read the file by its path
    if not is_complete(part.path, mime_type):
        return None, None
    info = describe(part.path, mime_type) if described else MediaInfo()
    return info, (None if place is None else place(part.path, mime_type, part.sync))
