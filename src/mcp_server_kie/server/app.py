"""Build the MCPServer around a running engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server import MCPServer

from mcp_server_kie import __version__
from mcp_server_kie.tools import ToolContext, register_tools

INSTRUCTIONS = """\
Generates images and videos with kie.ai models and keeps every result in a local media library.
The loop: call generate_image or generate_video. Images usually come back finished in the same
call (10-30 s). Videos take minutes: the call returns a job_id with status "processing"; call
get_status(job_id, wait_seconds=30) until it is "completed", then show the user the saved files
(outputs[].path). Never start the same generation twice to "retry" a wait: that pays twice.
list_media shows earlier results."""


def build_server(context: ToolContext) -> MCPServer:
    """The MCP server; its lifespan hands every tool the already-running engine."""

    @asynccontextmanager
    async def lifespan(_server: MCPServer) -> AsyncIterator[ToolContext]:
        yield context

    server = MCPServer(
        "mcp-server-kie",
        title="kie.ai images and videos",
        instructions=INSTRUCTIONS,
        version=__version__,
        lifespan=lifespan,
    )
    register_tools(server)
    return server
