"""MCP over stdio that a host can always stop (on SIGTERM, SIGINT or a closed stdin), and
whose answers leave without a thread hop.

The SDK reads stdin in a worker thread that cancellation waits for, so a host that signals
the server but keeps its end of the pipe open (TypeScript SDK 1.11 and 1.13 close that way)
would wait until the next line that never comes. Here a daemon thread reads the lines and
hands them to the event loop; cancelling the server abandons that thread, and the process
exits at once. Jobs need nothing at exit: their state is in the store, and the next start
resumes every job that is not finished.

The SDK also writes each answer from a worker thread, in two hops (the write, the flush),
each a cross-thread wake-up (~0.4 ms here) on the way of every tool call. When stdout is a
pipe or a socket, as a host starts the server, the event loop writes it instead (an asyncio
pipe transport; it waits only while the pipe is full). Either way stdout is claimed as the
SDK claims it: the protocol goes out on a private copy of the descriptor and fd 1 points at
stderr, so stray output from libraries never reaches the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
import threading
from collections.abc import AsyncIterator
from typing import Any, cast

import anyio
from mcp.server import MCPServer
from mcp.server.stdio import (  # the SDK's own claim of fd 1 (private: no public way to reuse it)
    _claim_fd,
    _open_stdout_diversion,
    stdio_server,
)

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


class _Backpressure(asyncio.Protocol):
    """The pipe transport's flow control: ``drain`` waits while anything is still buffered
    (the write buffer's high-water mark is 0), and fails once the pipe is gone."""

    def __init__(self) -> None:
        self._writable = asyncio.Event()
        self._writable.set()
        self._lost: BaseException | None = None

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = exc or BrokenPipeError("the host closed stdout")
        self._writable.set()

    async def drain(self) -> None:
        await self._writable.wait()  # returns at once while nothing is buffered
        if self._lost is not None:
            raise self._lost


class PipeOut:
    """The SDK's view of stdout (``write`` and ``flush``, awaited), written by the event loop:
    each write goes straight into the pipe, and ``flush`` returns once nothing is left
    buffered (at once, unless the host is slow to read)."""

    def __init__(self, transport: asyncio.WriteTransport, flow: _Backpressure) -> None:
        self._transport = transport
        self._flow = flow

    async def write(self, text: str) -> int:
        self._transport.write(text.encode())
        return len(text)

    async def flush(self) -> None:
        await self._flow.drain()


@contextlib.asynccontextmanager
async def claimed_stdout() -> AsyncIterator[PipeOut | None]:
    """Claim fd 1 for the protocol; a PipeOut on it when it is a pipe or a socket, else None
    (a file or a terminal: the SDK claims and writes it itself)."""
    try:
        mode = os.fstat(sys.stdout.fileno()).st_mode
    except (AttributeError, OSError, ValueError):  # no usable stdout: the SDK decides
        yield None
        return
    if sys.platform == "win32" or not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        yield None
        return
    wire, release = _claim_fd(1, sys.stdout, "wb", _open_stdout_diversion)
    if wire.fileno() <= 2:  # the claim could not take a private copy: the SDK writes fd 1
        if release is not None:
            release()
        yield None
        return
    private_fd = wire.fileno()  # never closed by us (the SDK's claim keeps it)
    try:
        loop = asyncio.get_running_loop()
        transport, flow = await loop.connect_write_pipe(_Backpressure, wire)
        transport.set_write_buffer_limits(high=0)
        try:
            yield PipeOut(transport, flow)
        finally:
            transport.close()
            with contextlib.suppress(OSError):  # shared with fd 1 once that is given back
                os.set_blocking(private_fd, True)
    finally:
        if release is not None:
            release()


async def serve_stdio(server: MCPServer) -> None:
    """Serve ``server`` on this process's stdin and stdout until stdin closes or the calling
    task is cancelled (the CLI cancels it on SIGTERM and SIGINT)."""
    lines = StdinLines(sys.stdin.fileno(), asyncio.get_running_loop())
    stdin = cast("anyio.AsyncFile[str]", cast(Any, lines))  # the SDK only iterates it
    lowlevel = server._lowlevel_server  # run_stdio_async offers no way to pass the streams
    async with claimed_stdout() as pipe:
        stdout = cast("anyio.AsyncFile[str] | None", cast(Any, pipe))  # write and flush only
        async with stdio_server(stdin=stdin, stdout=stdout) as (read_stream, write_stream):
            options = lowlevel.create_initialization_options()
            await lowlevel.run(read_stream, write_stream, options)
