"""The sidecar's HTTP server: uvicorn in the server's own event loop, on the socket claimed
at start-up, behind the connection guard (server/edge.py), with nothing on stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager

import uvicorn
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from mcp_server_kie.config import Settings
from mcp_server_kie.jobs import Engine
from mcp_server_kie.media import MediaStore
from mcp_server_kie.server.cors import PathCors
from mcp_server_kie.server.edge import ConnectionGuard, EdgeLimits
from mcp_server_kie.server.ports import SidecarPort, url_for
from mcp_server_kie.server.sidecar import create_sidecar, instance_id

log = logging.getLogger(__name__)

_SHUTDOWN_GRACE_SECONDS = 1


@asynccontextmanager
async def serve_sidecar(
    engine: Engine,
    settings: Settings,
    local_routes: Sequence[BaseRoute],
    claimed: SidecarPort,
    media: MediaStore,
) -> AsyncIterator[str | None]:
    """Run the sidecar under uvicorn in this event loop, on the socket claimed at start-up
    (none: another instance on this data directory serves it, and jobs still finish by
    polling and through the shared store)."""
    sock = claimed.sock
    if sock is None:
        yield None
        return
    port = sock.getsockname()[1]
    app: ASGIApp = create_sidecar(
        engine,
        local_routes,
        instance=instance_id(settings.database_path),
        media=media,
        database=settings.database_path,
    )
    if settings.cors_origins():
        app = PathCors(app, settings.cors_origins())
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="off",
        http=ConnectionGuard(EdgeLimits()).protocol(),
        timeout_keep_alive=5,
        limit_concurrency=1000,
        # Whatever is still sending after this (a slow download) is cut off.
        timeout_graceful_shutdown=_SHUTDOWN_GRACE_SECONDS,
    )
    server = _SidecarServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="kie-sidecar")
    async with asyncio.timeout(10):
        while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn offers a flag only
            await asyncio.sleep(0.01)
    if task.done():
        task.result()
    url = url_for(settings.webhook_host, port)
    log.info("webhook sidecar listening on %s", url)
    try:
        yield url
    finally:
        engine.signals.drop_watchers()  # ends open /events streams (gallery tabs)
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)
        sock.close()


class _SidecarServer(uvicorn.Server):
    """uvicorn without its signal handling: the CLI owns SIGINT/SIGTERM for the process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
