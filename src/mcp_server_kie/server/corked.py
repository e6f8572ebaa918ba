"""One system call for what a response writes in one go.

uvicorn writes a response's head, then its body, then (for a chunked body) its end, each by
its own ``transport.write``; uvloop sends each at once. On the webhook path that is two sends
(each waking the client) where one would do, and under a burst of callbacks those sends are
a tenth of the event loop's time. The sidecar's connections therefore write through a
CorkedTransport: what one turn of the event loop writes is sent together at the start of the
next (or at once, when ``FLUSH_BYTES`` have gathered). A small response leaves in one send; a
streamed or slow body still flows, in bounded pieces, and nothing waits more than a turn.
"""

from __future__ import annotations

import asyncio
from typing import Any

FLUSH_BYTES = 64 * 1024


class CorkedTransport:
    """Wraps a transport: ``write`` gathers, ``flush`` sends what was gathered, ``close``
    sends it first and ``abort`` drops it; everything else passes through."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []
        self._size = 0
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size >= FLUSH_BYTES:
            self.flush()

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        self._size = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._size = 0
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._size + self._transport.get_write_buffer_size()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
