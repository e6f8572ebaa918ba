"""HTTP edge limits: a slowloris from one address cannot starve /healthz or kie's webhooks,
and half-open, trickling and idle connections are closed.

The attack is bounded and loopback only: 1,000 connections from 127.0.0.2 that send part of a
request head (some then trickle a byte at a time) and hold; the legitimate callers use
127.0.0.1. Latency under attack is measured by bench/slowloris.py; here the checks are that
every answer is a 200 (uvicorn alone answers 503 to everyone for the whole attack).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from mcp_server_kie.server.edge import ConnectionGuard, EdgeLimits
from support import eventually, sandbox_and_runtime
from test_webhook_security import task_of
from test_webhook_sidecar import callback_body, start_job

ATTACKER = "127.0.0.2"
PARTIAL_HEAD = b"POST /webhooks/kie/job_000000000000000000000000 HTTP/1.1\r\nHost: x\r\n"


async def open_attack(port: int, count: int) -> list[asyncio.StreamWriter]:
    writers = []
    for _ in range(count):
        with contextlib.suppress(OSError):
            _reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, local_addr=(ATTACKER, 0)
            )
            with contextlib.suppress(OSError):
                writer.write(PARTIAL_HEAD)
            writers.append(writer)
    return writers


async def trickle(writers: list[asyncio.StreamWriter], stop: asyncio.Event) -> None:
    while not stop.is_set():
        for writer in writers:
            with contextlib.suppress(OSError, RuntimeError):
                writer.write(b"X")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.5)


async def test_slowloris_from_one_address_leaves_healthz_and_webhooks_answering(
    tmp_path: Path,
) -> None:
    async with sandbox_and_runtime(tmp_path, image_seconds=60) as (sandbox, rt):
        sandbox.faults.drop_callbacks = True
        job_id = await start_job(rt)
        task = task_of(sandbox, job_id)
        assert task.callback_url is not None and rt.sidecar_url is not None
        port = httpx2.URL(rt.sidecar_url).port
        assert port is not None
        writers = await open_attack(port, 1000)
        stop = asyncio.Event()
        trickler = asyncio.create_task(trickle(writers[:100], stop))
        try:
            statuses = []
            async with httpx2.AsyncClient(base_url=rt.sidecar_url, timeout=5) as http:
                for _ in range(20):
                    statuses.append((await http.get("/healthz")).status_code)
                body = json.dumps(callback_body(task.task_id, "generating")).encode()
                webhook = await http.post(
                    task.callback_url, content=body, headers={"content-type": "application/json"}
                )
            assert statuses == [200] * 20
            assert webhook.status_code == 200, webhook.text
            assert await rt.engine.store.count_deliveries(job_id) == 1
        finally:
            stop.set()
            await trickler
            for writer in writers:
                writer.close()


# --------------------------------------------------------------------------- the guard alone


async def slow_stream(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(6):
            yield b"tick\n"
            await asyncio.sleep(0.25)  # the app answering slowly: never cut off

    return StreamingResponse(chunks())


async def echo(request: Request) -> Response:
    return PlainTextResponse(str(len(await request.body())))


@contextlib.asynccontextmanager
async def guarded_server(limits: EdgeLimits) -> AsyncIterator[tuple[int, ConnectionGuard]]:
    guard = ConnectionGuard(limits)
    app = Starlette(routes=[Route("/stream", slow_stream), Route("/echo", echo, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, http=guard.protocol(), log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await eventually(lambda: server.started, what="server started")
    try:
        yield sock.getsockname()[1], guard
    finally:
        server.should_exit = True
        await task
        sock.close()


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    with contextlib.suppress(ConnectionError):
        return await reader.read(1024) == b""
    return True


async def test_half_open_trickling_and_idle_connections_are_closed() -> None:
    limits = EdgeLimits(head_seconds=0.6, body_seconds=0.6, sweep_seconds=0.1)
    async with guarded_server(limits) as (port, guard):
        half_open = await asyncio.open_connection("127.0.0.1", port)
        half_open[1].write(b"GET /stream HTTP/1.1\r\nHost: x\r\n")
        trickling = await asyncio.open_connection("127.0.0.1", port)
        trickling[1].write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
        silent = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(5):  # a body byte every 0.2 s: alive, but never done in time
            trickling[1].write(b"x")
            await asyncio.sleep(0.2)
        for reader, _writer in (half_open, trickling, silent):
            assert await asyncio.wait_for(closed_by_server(reader), timeout=5)
        assert guard.timed_out == 3
        assert guard.open_connections == 0


async def test_a_slow_answer_and_a_prompt_request_are_never_cut_off() -> None:
    limits = EdgeLimits(head_seconds=0.5, body_seconds=0.5, sweep_seconds=0.1)
    async with guarded_server(limits) as (port, guard):
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            streamed = await http.get("/stream")  # 1.5 s of answering, three times the limit
            echoed = await http.post("/echo", content=b"y" * 5000)
        assert streamed.text == "tick\n" * 6
        assert echoed.text == "5000"
        assert guard.timed_out == 0


async def test_connections_beyond_the_per_address_cap_are_refused() -> None:
    limits = EdgeLimits(per_client=5, total=8)
    async with guarded_server(limits) as (port, guard):
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(5)]
        extra = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(closed_by_server(extra[0]), timeout=5)
        others = [
            await asyncio.open_connection("127.0.0.1", port, local_addr=(ATTACKER, 0))
            for _ in range(4)
        ]
        assert await asyncio.wait_for(closed_by_server(others[-1][0]), timeout=5)  # total 8
        assert guard.refused == 2
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _reader, writer in held:
                writer.close()
            await eventually(lambda: guard.open_connections <= 4, what="held ones closed")
            assert (await http.post("/echo", content=b"z")).text == "1"
        for _reader, writer in [*others, extra]:
            writer.close()


async def test_a_request_head_past_the_limit_gets_a_400_sent_whole_or_trickled() -> None:
    limits = EdgeLimits(head_bytes=4096)
    async with guarded_server(limits) as (port, _guard):
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            within = await http.post("/echo", content=b"y" * 100_000, headers={"x-a": "v" * 3000})
            past = await http.post("/echo", content=b"y", headers={"x-a": "v" * 5000})
        assert (within.status_code, within.text) == (200, "100000")  # a body is not a head
        assert past.status_code == 400
        # One header's value arriving a piece at a time and never ending: httptools hands a
        # header over only once it ends, so this is refused from the bytes read alone.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nX-A: ")
        answer = asyncio.ensure_future(reader.read(1024))
        sent = 0
        while not answer.done() and sent < 1_000_000:
            writer.write(b"v" * 1024)
            sent += 1024
            await writer.drain()
            for _ in range(3):  # the server shares this loop: let it read the piece
                await asyncio.sleep(0)
        assert (await asyncio.wait_for(answer, timeout=5)).startswith(b"HTTP/1.1 400")
        assert sent < 4096 + 64 * 1024
        writer.close()
