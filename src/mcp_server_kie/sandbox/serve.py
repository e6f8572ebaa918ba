"""Run a sandbox on a loopback port inside the current event loop.

uvicorn is embedded quietly: no logging config of its own, no access log, no lifespan, and no
signal handlers (the host process, e.g. a stdio MCP server, keeps its own). Nothing is printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
import struct
from collections.abc import AsyncIterator, Generator

import uvicorn

from mcp_server_kie.sandbox.config import SandboxConfig
from mcp_server_kie.sandbox.simulator import Sandbox

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_SECONDS = 10.0


class SandboxServerError(RuntimeError):
    """The sandbox could not start listening (for example, the port is taken)."""


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def _serve(server: uvicorn.Server) -> None:
    try:
        await server.serve()
    except SystemExit as exc:  # uvicorn exits the process when it cannot bind
        raise SandboxServerError(f"The sandbox server stopped during startup ({exc})") from None


def _bound_port(server: uvicorn.Server) -> int:
    for listener in server.servers:
        for sock in listener.sockets:
            port = sock.getsockname()[1]
            if isinstance(port, int):
                return port
    raise SandboxServerError("The sandbox server has no listening socket")


def _reset(server: uvicorn.Server, client: object) -> bool:
    """Abort the connection from `client` with a TCP reset (SO_LINGER 0), answering nothing."""
    for connection in list(server.server_state.connections):
        transport = getattr(connection, "transport", None)
        if client is None or transport is None or getattr(connection, "client", None) != client:
            continue
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        return True
    return False


@contextlib.asynccontextmanager
async def serve_sandbox(
    config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[Sandbox]:
    """Serve a new sandbox on `host:port` (0 = any free port) for the duration of the block.

    The yielded sandbox has its `base_url` set to where it listens and callbacks running.
    """
    sandbox = Sandbox(config)
    uv_config = uvicorn.Config(
        sandbox.app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    server = _EmbeddedServer(uv_config)
    serving = asyncio.create_task(_serve(server), name="sandbox-server")
    try:
        async with asyncio.timeout(STARTUP_TIMEOUT_SECONDS):
            while not server.started:
                if serving.done():
                    await serving
                    raise SandboxServerError("The sandbox server stopped during startup")
                await asyncio.sleep(0.005)
        url_host = f"[{host}]" if ":" in host else host
        sandbox.set_base_url(f"http://{url_host}:{_bound_port(server)}")
        sandbox.set_connection_resetter(functools.partial(_reset, server))
        await sandbox.start()
        logger.info("sandbox listening on %s", sandbox.base_url)
        yield sandbox
    finally:
        await sandbox.close()
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving
