"""Shared pieces for the sandbox tests: a fake clock, bounded waiting, an ASGI client factory
and a real callback receiver listening on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mcp_server_kie.sandbox import Sandbox

API_KEY = "sandbox-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


class FakeClock:
    """A clock that only moves when told to. Starts at the real time so that timestamps
    (e.g. X-Webhook-Timestamp) stay plausible."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def wait_until(predicate: Callable[[], bool], within: float = 5.0, what: str = "") -> None:
    """Poll `predicate` until it is true; fail the test after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what or predicate}")
        await asyncio.sleep(0.01)


def asgi_client(sandbox: Sandbox, *, auth: bool = True) -> httpx2.AsyncClient:
    """A client talking to the sandbox app in-process (its base_url is the sandbox's)."""
    return httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=sandbox.app),
        base_url=sandbox.base_url,
        headers=AUTH if auth else {},
    )


@dataclass
class Receiver:
    """A callback endpoint: records every POST and answers with scripted statuses."""

    base_url: str = ""
    statuses: list[int] = field(default_factory=list)  # answers, in order; then 200
    delay: float = 0.0  # seconds to wait before answering
    received: list[dict[str, Any]] = field(default_factory=list)

    def url(self, name: str = "hook") -> str:
        return f"{self.base_url}/{name}"

    async def handle(self, request: Request) -> Response:
        self.received.append(
            {
                "path": request.url.path,
                "headers": dict(request.headers),
                "json": await request.json(),
            }
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.statuses.pop(0) if self.statuses else 200
        return JSONResponse({"ok": status == 200}, status_code=status)


@contextlib.asynccontextmanager
async def serve_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/{name}", receiver.handle, methods=["POST"])])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(server.serve())
    await wait_until(lambda: server.started, what="receiver startup")
    port = server.servers[0].sockets[0].getsockname()[1]
    receiver.base_url = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def wait() -> Callable[..., Any]:
    """`await wait(predicate, within=5.0, what="...")`: bounded polling."""
    return wait_until


@pytest.fixture
def client() -> Callable[..., httpx2.AsyncClient]:
    """`async with client(sandbox, auth=True) as http:` — an in-process ASGI client."""
    return asgi_client


@pytest.fixture
def receiver() -> Callable[[], contextlib.AbstractAsyncContextManager[Receiver]]:
    """`async with receiver() as hook:` — a callback receiver on 127.0.0.1."""
    return serve_receiver
