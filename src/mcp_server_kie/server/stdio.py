"""MCP over stdio that a host can always stop: on SIGTERM, SIGINT or a closed stdin.

The SDK reads stdin in a worker thread that cancellation waits for, so a host that signals
the server but keeps its end of the pipe open (TypeScript SDK 1.11 and 1.13 close that way)
would wait until the next line that never comes. Here a daemon thread reads the lines and
hands them to the event loop; cancelling the server abandons that thread, and the process
exits at once. Jobs need nothing at exit: their state is in the store, and the next start
resumes every job that is not finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from typing import Any, cast

import anyio
from mcp.server import MCPServer
from mcp.server.stdio import stdio_server

_CHUNK = 64 * 1024


class StdinLines:
    """The lines read from a file descriptor as an async iterator, read by a daemon thread.

    The thread uses ``os.read`` on its own duplicate of the descriptor: no buffered reader's
    lock is held while it blocks, so the interpreter can exit under it."""

    def __init__(self, fd: int, loop: asyncio.AbstractEventLoop) -> None:
        self._fd = os.dup(fd)
        self._loop = loop
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._thread = threading.Thread(target=self._pump, name="mcp-stdin", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        pending = b""
        try:
            while chunk := os.read(self._fd, _CHUNK):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    self._deliver(line.decode("utf-8", errors="replace") + "\n")
        except OSError:  # the descriptor went away: the same as the end of input
            pass
        if pending.strip():
            self._deliver(pending.decode("utf-8", errors="replace"))
        self._deliver(None)

    def _deliver(self, line: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening
            self._loop.call_soon_threadsafe(self._queue.put_nowait, line)

    def __aiter__(self) -> StdinLines:
        return self

    async def __anext__(self) -> str:
        line = await self._queue.get()
        if line is None:
            raise StopAsyncIteration
        return line


async def serve_stdio(server: MCPServer) -> None:
    """Serve ``server`` on this process's stdin and stdout until stdin closes or the calling
    task is cancelled (the CLI cancels it on SIGTERM and SIGINT)."""
    lines = StdinLines(sys.stdin.fileno(), asyncio.get_running_loop())
    stdin = cast("anyio.AsyncFile[str]", cast(Any, lines))  # the SDK only iterates it
    lowlevel = server._lowlevel_server  # run_stdio_async offers no way to pass stdin
    async with stdio_server(stdin=stdin) as (read_stream, write_stream):
        await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
