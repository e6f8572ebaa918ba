"""The MCP surface: typed tools that call the engine or the store and shape the answer."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from mcp.server import MCPServer
from mcp.types import ToolAnnotations

from mcp_server_kie.tools.context import ToolContext
from mcp_server_kie.tools.failures import in_sentences
from mcp_server_kie.tools.generate import generate_audio, generate_image, generate_video
from mcp_server_kie.tools.library import delete_media, get_status, list_media
from mcp_server_kie.tools.models import describe_model, get_credits, list_models
from mcp_server_kie.tools.operations import transform_media
from mcp_server_kie.tools.preferences import get_settings, update_settings
from mcp_server_kie.tools.schemas import compact_schema

__all__ = ["SHOWN_IN_VIEWER", "VIEWER_URI", "ToolContext", "register_tools"]

# The MCP Apps media viewer (served by server.viewer) and the tools whose results it shows.
VIEWER_URI = "ui://mcp-server-kie/viewer.html"
SHOWN_IN_VIEWER = frozenset(
    {
        "generate_image",
        "generate_video",
        "generate_audio",
        "transform_media",
        "get_status",
        "list_media",
    }
)

_STARTS_PAID_JOB = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)
_READS_LIBRARY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
_READS_ACCOUNT = ToolAnnotations(read_only_hint=True, open_world_hint=True)
_CHANGES_SETTINGS = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
_DELETES_FILES = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)


def register_tools(server: MCPServer) -> None:
    tools: list[tuple[Callable[..., Awaitable[object]], str, ToolAnnotations]] = [
        (generate_image, "Generate an image", _STARTS_PAID_JOB),
        (generate_video, "Generate a video", _STARTS_PAID_JOB),
        (generate_audio, "Generate speech or music", _STARTS_PAID_JOB),
        (transform_media, "Upscale, extend or edit a result", _STARTS_PAID_JOB),
        (get_status, "Get a job's status", _READS_LIBRARY),
        (list_media, "List generated media", _READS_LIBRARY),
        (delete_media, "Delete generated media", _DELETES_FILES),
        (list_models, "List models", _READS_LIBRARY),
        (describe_model, "Describe a model", _READS_LIBRARY),
        (get_credits, "Get kie.ai credit balance", _READS_ACCOUNT),
        (get_settings, "Show default settings", _READS_LIBRARY),
        (update_settings, "Change default settings", _CHANGES_SETTINGS),
    ]
    for fn, title, hints in tools:
        description = inspect.cleandoc(fn.__doc__ or "")
        meta = {"ui": {"resourceUri": VIEWER_URI}} if fn.__name__ in SHOWN_IN_VIEWER else None
        server.tool(title=title, description=description, annotations=hints, meta=meta)(
            in_sentences(fn)
        )
        # Published in the shape clients check fastest (tools/schemas.py). The SDK reads the
        # field on every listing; the tool itself is reached through its private manager.
        tool = server._tool_manager.get_tool(fn.__name__)
        if tool is not None and tool.fn_metadata.output_schema is not None:
            tool.fn_metadata.output_schema = compact_schema(tool.fn_metadata.output_schema)
