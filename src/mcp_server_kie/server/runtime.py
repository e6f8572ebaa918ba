"""Open everything the server needs, in order, and close it in reverse.

store -> HTTP client -> (sandbox) -> kie client -> engine -> sidecar -> poller. Built once per
process by the CLI (and by tests), before the MCP transport starts, so a webhook arriving in
the first moment already finds a working engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx2
import uvicorn

from mcp_server_kie.config import MISSING_KEY_MESSAGE, Settings
from mcp_server_kie.jobs import Engine, OutputStore, Poller
from mcp_server_kie.jobs.references import ReferenceResolver
from mcp_server_kie.kie.client import KieClient
from mcp_server_kie.media import Fetcher
from mcp_server_kie.media.tempfiles import remove_abandoned
from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from mcp_server_kie.server.sidecar import create_sidecar
from mcp_server_kie.storage import Store
from mcp_server_kie.tools import ToolContext

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    tools: ToolContext
    sidecar_url: str | None  # where the sidecar listens locally (None: port taken elsewhere)


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    async with AsyncExitStack() as stack:
        store = await Store.open(settings.database_path)
        stack.push_async_callback(store.close)
        http = httpx2.AsyncClient(
            timeout=httpx2.Timeout(settings.request_timeout, connect=10.0),
            follow_redirects=False,
        )
        stack.push_async_callback(http.aclose)

        base_url, upload_url = settings.base_url, settings.upload_base_url
        if settings.sandbox:
            sandbox = await stack.enter_async_context(
                serve_sandbox(
                    SandboxConfig(
                        api_key=settings.api_key_value() or "",
                        image_seconds=settings.sandbox_image_seconds,
                        video_seconds=settings.sandbox_video_seconds,
                    )
                )
            )
            base_url = upload_url = sandbox.base_url
            log.info("sandbox mode: simulated kie.ai at %s", base_url)

        key = settings.api_key_value()
        kie = (
            KieClient(http, api_key=key, base_url=base_url, upload_base_url=upload_url)
            if key
            else None
        )
        engine = Engine(
            store,
            kie,
            OutputStore(Fetcher(http), settings.media_dir),
            references=ReferenceResolver(settings.allowed_input_dirs),
            not_configured_message=MISSING_KEY_MESSAGE,
        )
        stack.push_async_callback(engine.close)

        sidecar_url = await stack.enter_async_context(_serve_sidecar(engine, settings))
        public_url = settings.public_url
        if public_url is None and settings.sandbox and settings.sandbox_callbacks:
            public_url = sidecar_url  # the simulator runs here, so it can reach loopback
        engine.set_public_url(public_url)
        log.info(
            "callbacks: %s", f"via {public_url}" if public_url else "off; jobs finish by polling"
        )

        removed = await asyncio.to_thread(remove_abandoned, settings.media_dir)
        if removed:
            log.info("removed %d temporary file(s) left by an interrupted download", removed)
        await engine.process_inbox()  # deliveries a previous run accepted but did not finish
        poller_task = asyncio.create_task(Poller(engine).run(), name="kie-poller")
        stack.push_async_callback(_cancel, poller_task)

        yield Runtime(
            settings=settings,
            engine=engine,
            tools=ToolContext(
                engine=engine,
                max_wait_seconds=settings.max_wait_seconds,
                setup_error=None if kie else MISSING_KEY_MESSAGE,
            ),
            sidecar_url=sidecar_url,
        )


@asynccontextmanager
async def _serve_sidecar(engine: Engine, settings: Settings) -> AsyncIterator[str | None]:
    """Run the sidecar under uvicorn in this event loop. If the port is taken (say, by a second
    instance on the same data directory), carry on without it: jobs still finish by polling
    and through the shared store."""
    sock = socket.socket(socket.AF_INET6 if ":" in settings.webhook_host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((settings.webhook_host, settings.webhook_port))
    except OSError as exc:
        sock.close()
        log.warning(
            "webhook sidecar not started: cannot listen on %s:%s (%s)",
            settings.webhook_host,
            settings.webhook_port,
            exc.strerror,
        )
        yield None
        return
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_sidecar(engine),
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_keep_alive=5,
        limit_concurrency=1000,
    )
    server = _SidecarServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="kie-sidecar")
    async with asyncio.timeout(10):
        while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn offers a flag only
            await asyncio.sleep(0.01)
    if task.done():
        task.result()
    host = settings.webhook_host
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    log.info("webhook sidecar listening on %s", url)
    try:
        yield url
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)
        sock.close()


class _SidecarServer(uvicorn.Server):
    """uvicorn without its signal handling: the CLI owns SIGINT/SIGTERM for the process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
