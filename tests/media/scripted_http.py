"""Real sockets on 127.0.0.1 for the download tests.

- ``ScriptedServer``: a tiny HTTP/1.1 server (raw asyncio streams, optional TLS) whose every
  request is answered by a test's coroutine, byte by byte if need be: drips, stalls, drops,
  lying headers. One request per connection; it counts connections and body bytes sent.
- ``Canary``: a listener that must never be connected to.
- ``Network``: the socket layer under the fetcher's address pinning. It counts the bytes read
  and can route a "public" address to a loopback server, standing in for the internet.
- Media builders: small real files of each supported type.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpcore2
from PIL import Image

from mcp_server_kie.media import FetchLimits, SsrfPolicy, parse_allow_hosts

PUBLIC_IP = "93.184.215.14"  # a global address; Network routes it to a loopback server


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]


class Reply:
    """What a handler writes with. ``body`` counts bytes; ``drop`` resets the connection."""

    def __init__(self, writer: asyncio.StreamWriter, server: ScriptedServer) -> None:
        self._writer = writer
        self._server = server

    async def head(self, status: int, headers: dict[str, str] | None = None) -> None:
        lines = [f"HTTP/1.1 {status} X"]
        lines += [f"{k}: {v}" for k, v in {**(headers or {}), "Connection": "close"}.items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await self._writer.drain()

    async def body(self, data: bytes) -> None:
        self._writer.write(data)
        self._server.body_bytes += len(data)
        await self._writer.drain()

    async def send(
        self, status: int, data: bytes, content_type: str = "image/png", **headers: str
    ) -> None:
        """A whole response with an honest Content-Length (unless overridden)."""
        fields = {"Content-Type": content_type, "Content-Length": str(len(data))}
        fields.update({k.replace("_", "-"): v for k, v in headers.items()})
        await self.head(status, fields)
        await self.body(data)

    def drop(self) -> None:
        self._writer.transport.abort()


Handler = Callable[[Request, Reply], Awaitable[None]]


@dataclass
class ScriptedServer:
    handler: Handler
    tls: ssl.SSLContext | None = None
    port: int = 0
    connections: int = 0
    body_bytes: int = 0
    requests: list[Request] = field(default_factory=list)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[ScriptedServer]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = server.sockets[0].getsockname()[1]
        async with server:
            yield self
            server.close()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            headers = {}
            for line in header_lines:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            request = Request(method, target, headers)
            self.requests.append(request)
            await self.handler(request, Reply(writer, self))
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # the client went away (or gave up mid-handshake): nothing to answer
        finally:
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                writer.close()
                await writer.wait_closed()


class Canary:
    """A loopback listener that counts connections; the SSRF tests require zero."""

    def __init__(self) -> None:
        self.hits = 0
        self.port = 0

    @asynccontextmanager
    async def listening(self) -> AsyncIterator[Canary]:
        async def count(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.hits += 1
            writer.close()

        server = await asyncio.start_server(count, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        async with server:
            yield self


class _CountingStream(httpcore2.AsyncNetworkStream):
    def __init__(self, inner: httpcore2.AsyncNetworkStream, network: Network) -> None:
        self._inner = inner
        self._network = network

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = await self._inner.read(max_bytes, timeout)
        self._network.bytes_read += len(data)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        self._network.tls_names.append(server_hostname)
        inner = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        return _CountingStream(inner, self._network)

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class Network(httpcore2.AsyncNetworkBackend):
    """Real TCP, with ``routes`` mapping (address, port) to a loopback port and a record of
    every address connected to (with the connect timeout it was given), the bytes read and the
    TLS server names used."""

    def __init__(
        self,
        routes: dict[tuple[str, int], int] | None = None,
        stalled: frozenset[tuple[str, int]] = frozenset(),
    ) -> None:
        self.routes = routes or {}
        self.stalled = stalled  # connecting there times out (a host that drops the SYN)
        self.connected: list[tuple[str, int]] = []
        self.timeouts: list[float | None] = []
        self.tls_names: list[str | None] = []
        self.bytes_read = 0
        self._real = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        self.connected.append((host, port))
        self.timeouts.append(timeout)
        if (host, port) in self.stalled:
            raise httpcore2.ConnectTimeout(f"connecting to {host}:{port} timed out")
        if (host, port) in self.routes:
            host, port = "127.0.0.1", self.routes[(host, port)]
        stream = await self._real.connect_tcp(host, port, timeout=timeout)
        return _CountingStream(stream, self)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class StubResolver:
    """Answers from a table, one answer per call when a host has a list of answers (the
    last repeats): a DNS server that switches its answer between calls."""

    def __init__(self, table: dict[str, list[list[str]]]) -> None:
        self.table = table
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        answers = self.table.get(host)
        if answers is None:
            raise OSError(f"no such host {host}")
        answer = answers[min(self.calls.count(host), len(answers) - 1)]
        self.calls.append(host)
        return answer


def fast_limits(**overrides: float) -> FetchLimits:
    """Tight timeouts and near-zero backoff, so failure paths finish in well under a second."""
    values: dict[str, float] = {
        "image_seconds": 10.0,
        "video_seconds": 10.0,
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "backoff_jitter": 0.01,
    }
    values.update(overrides)
    return FetchLimits(**values)  # type: ignore[arg-type]


def loopback_policy(server: ScriptedServer) -> SsrfPolicy:
    """The policy with the test server's host:port on the allow list (as KIE_MEDIA_ALLOW_HOSTS
    would put it)."""
    return SsrfPolicy(allow_hosts=parse_allow_hosts([f"127.0.0.1:{server.port}"]))


def leftovers(directory: Path) -> list[str]:
    """Every file under ``directory``: after a failed download there must be none."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


# ----------------------------------------------------------------------------- media bytes


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48), noise: bool = False) -> bytes:
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.linear_gradient("L").resize(size).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def iso_media(payload_bytes: int, brand: bytes = b"isom") -> bytes:
    """An MP4 (or MOV, brand ``qt  ``) shaped file: ftyp then an mdat of random bytes. Its
    boxes tile the file exactly, as a complete file's do."""
    ftyp = (16).to_bytes(4, "big") + b"ftyp" + brand + b"\x00\x00\x02\x00"
    mdat = (payload_bytes + 8).to_bytes(4, "big") + b"mdat" + os.urandom(payload_bytes)
    return ftyp + mdat


def webm_bytes() -> bytes:
    """The EBML magic WebM starts with, then filler (WebM ends are not framed)."""
    return b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01" + b"webm" + os.urandom(200)
