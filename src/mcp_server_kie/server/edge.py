"""Resource limits at the HTTP edge, below uvicorn: connections per client address and in
total, and how long a request's head and body may take to arrive.

uvicorn (0.54) bounds header size (h11's incomplete-event limit), idle keep-alive
(`timeout_keep_alive`) and overall load (`limit_concurrency`, which answers 503 to everyone
once too many connections are open), but it never times out a request head or body that
trickles in, and has no per-address cap: 1,000 half-open connections from one address fill
`limit_concurrency` and every caller, kie's webhooks and `/healthz` included, gets 503 for
the whole attack. Hypercorn and granian add read timeouts but not per-address caps, and
granian runs its own workers outside this event loop, which the stdio sidecar needs.

So each connection is wrapped in a small protocol that (1) refuses (resets) a connection
beyond `per_client` from one address or `total` overall before uvicorn sees it, and (2) is
swept twice a second: a connection waiting for a request head longer than `head_seconds`
(counted from its opening or from its last response, so idle keep-alive is bounded too),
or whose request body is still arriving `body_seconds` after its head, is aborted. While
the application answers (a slow download, an event stream) nothing is timed out.

Each connection also writes through a CorkedTransport (server/corked.py): a response's head
and body leave in one send.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from mcp_server_kie.server.corked import CorkedTransport

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    per_client: int = 64
    total: int = 512
    head_seconds: float = 10.0
    body_seconds: float = 30.0
    sweep_seconds: float = 0.5


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
        """A protocol class for `uvicorn.Config(http=...)`: uvicorn's h11 protocol, guarded."""
        guard = self

        class GuardedH11(_GuardedConnection):
            def __init__(self, **kwargs: Any) -> None:
                super().__init__(guard, H11Protocol(**kwargs))

        return GuardedH11

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

    def __init__(self, guard: ConnectionGuard, inner: H11Protocol) -> None:
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
