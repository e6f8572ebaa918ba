"""The sidecar's connections send a response in one go: its head and body leave in one send
on the socket (server/corked.py), while a streamed body still flows as it is produced and a
closing connection sends everything before it closes.

Real HTTP on 127.0.0.1 through the guard's uvicorn protocol; between the guard and the real
socket transport sits a spy that records each write reaching the socket (each one a send).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from mcp_server_kie.server.corked import FLUSH_BYTES
from mcp_server_kie.server.edge import ConnectionGuard
from support import eventually


class SendSpy:
    """A real transport, with every write recorded."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class Streaming:
    """A response whose second chunk waits for the test to say so."""

    def __init__(self) -> None:
        self.go_on = asyncio.Event()

    async def endpoint(self, request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first\n"
            await self.go_on.wait()
            yield b"second\n"

        return StreamingResponse(chunks())


async def small(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def large(request: Request) -> Response:
    async def pieces() -> AsyncIterator[bytes]:
        for _ in range(3 * FLUSH_BYTES // 4096):  # written in one turn of the loop
            yield b"x" * 4096
        yield b"x" * 17

    return StreamingResponse(pieces())


@contextlib.asynccontextmanager
async def spied_server(stream: Streaming) -> AsyncIterator[tuple[int, list[SendSpy]]]:
    spies: list[SendSpy] = []
    guarded: Any = ConnectionGuard().protocol()

    class Spied(guarded):  # type: ignore[misc]
        def connection_made(self, transport: asyncio.Transport) -> None:
            spy = SendSpy(transport)
            spies.append(spy)
            super().connection_made(spy)

    routes = [Route("/small", small), Route("/large", large), Route("/stream", stream.endpoint)]
    config = uvicorn.Config(Starlette(routes=routes), http=Spied, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await eventually(lambda: server.started, what="server started")
    try:
        yield sock.getsockname()[1], spies
    finally:
        stream.go_on.set()
        server.should_exit = True
        await task
        sock.close()


async def test_a_response_head_and_body_leave_in_one_send() -> None:
    async with spied_server(Streaming()) as (port, spies):
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            first = await http.get("/small")
            second = await http.get("/small")  # the same keep-alive connection
        assert first.json() == second.json() == {"ok": True}
        [spy] = spies
        assert len(spy.writes) == 2, spy.writes  # one send per response
        for sent in spy.writes:
            assert sent.startswith(b"HTTP/1.1 200 OK\r\n")
            assert sent.endswith(b'{"ok":true}')


async def test_a_streamed_body_flows_before_the_response_is_complete() -> None:
    stream = Streaming()
    async with spied_server(stream) as (port, spies):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        async with asyncio.timeout(10):  # the first chunk arrives while the app still waits
            while b"first\n" not in received:
                received += await reader.read(4096)
        assert not stream.go_on.is_set()
        stream.go_on.set()
        async with asyncio.timeout(10):
            while b"0\r\n\r\n" not in received:  # the chunked body's end
                received += await reader.read(4096)
        assert b"second\n" in received
        assert len(spies[0].writes) == 2  # head and first chunk together; the rest together
        writer.close()


async def test_a_closing_connection_sends_its_response_before_it_closes() -> None:
    async with spied_server(Streaming()) as (port, spies):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        async with asyncio.timeout(10):
            received = await reader.read()  # until the server closes
        assert received.startswith(b"HTTP/1.1 200 OK\r\n")
        assert received.endswith(b'{"ok":true}')
        assert len(spies[0].writes) == 1
        writer.close()


async def test_a_large_body_leaves_in_bounded_pieces_and_whole() -> None:
    async with spied_server(Streaming()) as (port, spies):
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            streamed = b""
            async with http.stream("GET", "/large") as response:
                async for chunk in response.aiter_bytes():
                    streamed += chunk
        assert streamed == b"x" * (3 * FLUSH_BYTES + 17)
        assert len(spies[0].writes) >= 3
        assert all(len(sent) < 2 * FLUSH_BYTES for sent in spies[0].writes)
