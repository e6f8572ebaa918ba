"""The MCP surface: typed tools that call the engine or the store and shape the answer."""

from __future__ import annotations

from mcp.server import MCPServer
from mcp.types import ToolAnnotations

from mcp_server_kie.tools.context import ToolContext
from mcp_server_kie.tools.generate import generate_image, generate_video
from mcp_server_kie.tools.library import get_status, list_media

__all__ = ["ToolContext", "register_tools"]

_STARTS_PAID_JOB = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)
_READS_LIBRARY = ToolAnnotations(read_only_hint=True, open_world_hint=False)


def register_tools(server: MCPServer) -> None:
    server.tool(title="Generate an image", annotations=_STARTS_PAID_JOB)(generate_image)
    server.tool(title="Generate a video", annotations=_STARTS_PAID_JOB)(generate_video)
    server.tool(title="Get a job's status", annotations=_READS_LIBRARY)(get_status)
    server.tool(title="List generated media", annotations=_READS_LIBRARY)(list_media)
