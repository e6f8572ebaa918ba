"""Resource limits at the HTTP edge, below uvicorn: connections per client address and in
total, how large a request head may be, and how long a request's head and body may take to
arrive.

uvicorn (0.55) bounds idle keep-alive (`timeout_keep_alive`) and overall load
(`limit_concurrency`, which answers 503 to everyone once too many connections are open), but
it never times out a request head or body that trickles in, and has no per-address cap:
1,000 half-open connections from one address fill `limit_concurrency` and every caller,
kie's webhooks and `/healthz` included, gets 503 for the whole attack. Hypercorn and granian
add read timeouts but not per-address caps, and granian runs its own workers outside this
event loop, which the stdio sidecar needs.

HTTP is parsed by httptools (uvicorn's fast parser; its pure-Python h11 one cost a third of
the CPU of each callback in a storm), which bounds neither a request head nor a header in it.

So each connection is wrapped in a small protocol that (1) refuses (resets) a connection
beyond `per_client` from one address or `total` overall before uvicorn sees it, and (2) is
swept twice a second: a connection waiting for a request head longer than `head_seconds`
(counted from its opening or from its last response, so idle keep-alive is bounded too),
or whose request body is still arriving `body_seconds` after its head, is aborted. While
the application answers (a slow download, an event stream) nothing is timed out. And (3) a
request head larger than `head_bytes` is refused with a 400, as h11 refused one past its limit.

Each connection also writes through a CorkedTransport (server/corked.py): a response's head
and body leave in one send.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mcp_server_kie.server.corked import CorkedTransport

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    per_client: int = 64
    total: int = 512
    head_seconds: float = 10.0
    body_seconds: float = 30.0
    sweep_seconds: float = 0.5
    head_bytes: int = 16 * 1024


class ConnectionGuard:
    """The connections of one listener and the limits they are held to."""

    def __init__(self, limits: EdgeLimits = EdgeLimits()) -> None:
        self.limits = limits
        self.refused = 0
        self.timed_out = 0
        self._per_client: Counter[str] = Counter()
        self._live: set[_GuardedConnection] = set()
        self._sweeper: asyncio.TimerHandle | None = None

    def protocol(self) -> type[asyncio.Protocol]:
        """A protocol class for `uvicorn.Config(http=...)`: uvicorn's httptools protocol, its
        request heads bounded, guarded."""
        guard = self

        class Guarded(_GuardedConnection):
            def __init__(self, **kwargs: Any) -> None:
                super().__init__(guard, _BoundedHead(guard.limits.head_bytes, **kwargs))

        return Guarded

    @property
    def open_connections(self) -> int:
        return len(self._live)

    def admit(self, connection: _GuardedConnection) -> bool:
        client = connection.client
        if self._per_client[client] >= self.limits.per_client or len(self._live) >= (
            self.limits.total
        ):
            self.refused += 1
            return False
        self._per_client[client] += 1
        self._live.add(connection)
        if self._sweeper is None:
            self._schedule()
        return True

    def release(self, connection: _GuardedConnection) -> None:
        if connection in self._live:
            self._live.discard(connection)
            self._per_client[connection.client] -= 1
            if self._per_client[connection.client] <= 0:
                del self._per_client[connection.client]

    def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        self._sweeper = loop.call_later(self.limits.sweep_seconds, self._sweep)

    def _sweep(self) -> None:
        self._sweeper = None
        now = asyncio.get_running_loop().time()
        for connection in [c for c in self._live if c.overdue(now, self.limits)]:
            self.timed_out += 1
            connection.abort()
        if self._live:
            self._schedule()


class _GuardedConnection(asyncio.Protocol):
    """Forwards everything to uvicorn's protocol; knows when the connection started waiting."""

    def __init__(self, guard: ConnectionGuard, inner: HttpToolsProtocol) -> None:
        self._guard = guard
        self._inner = inner
        self._transport: asyncio.BaseTransport | None = None
        self._admitted = False
        self._cycle: object = None
        self._answered = False
        self._since = 0.0
        self.client = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        self.client = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        self._transport = transport
        if not self._guard.admit(self):
            transport.abort()  # type: ignore[attr-defined]
            return
        self._admitted = True
        self._since = asyncio.get_running_loop().time()
        self._inner.connection_made(CorkedTransport(transport))  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        if self._admitted:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        if self._admitted:
            self._inner.eof_received()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._guard.release(self)
        if self._admitted:
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()  # type: ignore[attr-defined]

    def overdue(self, now: float, limits: EdgeLimits) -> bool:
        """Waiting too long for a request head, or for the rest of a request body."""
        cycle = self._inner.cycle
        if cycle is not self._cycle:  # a new request's head has arrived
            self._cycle, self._answered, self._since = cycle, False, now
        if cycle is None:
            return now - self._since > limits.head_seconds
        if cycle.response_complete:  # idle, or the next head is arriving
            if not self._answered:
                self._answered, self._since = True, now
            return now - self._since > limits.head_seconds
        if cycle.more_body:
            return now - self._since > limits.body_seconds
        return False  # the application is answering: never cut off here


class _BoundedHead(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing (400, connection closed) a request head larger
    than ``max_bytes``. httptools gathers a header's name and value, however long, before it
    hands them over, so two lower bounds on the open head's size are kept: the URL and
    headers handed over so far, and the bytes of reads that fell wholly inside the head. Past
    the limit by either, the head is refused: nothing is buffered for it beyond the limit and
    the read that crossed it."""

    def __init__(self, max_bytes: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._max_bytes = max_bytes
        self._heads = 0  # heads begun on this connection
        self._in_head = False
        self._parsed = 0  # bytes of the open head's URL and headers handed over
        self._received = 0  # bytes of the reads wholly inside the open head

    def data_received(self, data: bytes) -> None:
        heads, in_head = self._heads, self._in_head
        super().data_received(data)
        if in_head and self._in_head and heads == self._heads and not self.transport.is_closing():
            self._received += len(data)
            if self._received > self._max_bytes:
                self.logger.warning("A request head larger than %d bytes.", self._max_bytes)
                self.send_400_response("Request head too large.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._heads += 1
        self._in_head = True
        self._parsed = self._received = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def _count(self, size: int) -> None:
        self._parsed += size
        if self._parsed > self._max_bytes:
            # Raised in a parser callback: httptools turns it into an HttpParserError, which
            # uvicorn answers with a 400 and closes the connection.
            raise ValueError("request head too large")
