"""MCP resources: stored files and thumbnails by asset id, and a job's status as JSON.

``media://{asset_id}`` (the file), ``media://{asset_id}/thumbnail`` (a small JPEG) and
``job://{job_id}``. A client subscribed to a job URI hears when the job changes (see
server.app for the notifications).
"""

from __future__ import annotations

import json
import re

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from mcp_server_kie.media import MediaStoreError
from mcp_server_kie.tools.context import ToolContext
from mcp_server_kie.tools.results import job_json

# Larger files are better read from their path or local URL than base64 over the protocol.
MAX_RESOURCE_BYTES = 25 * 1024 * 1024
_ASSET_ID = re.compile(r"asset_[0-9a-f]{24}")
_JOB_ID = re.compile(r"job_[0-9a-f]{24}")
# "Resource not found" up to 2025-11-25; the 2026-07-28 revision retired the code for
# "invalid params".
RESOURCE_NOT_FOUND = -32002
_LAST_REVISION_WITH_NOT_FOUND = "2025-11-25"


def not_found(version: str | None, uri: str, message: str) -> MCPError:
    """The JSON-RPC error for a resource that does not exist, in the caller's revision."""
    legacy = version is not None and version <= _LAST_REVISION_WITH_NOT_FOUND
    return MCPError(RESOURCE_NOT_FOUND if legacy else INVALID_PARAMS, message, {"uri": uri})


def register_resources(server: MCPServer) -> None:
    @server.resource(
        "media://{asset_id}",
        name="media",
        title="A generated image, video or audio file",
        description="The stored file of one output (its type is in the result's mime type).",
        mime_type="application/octet-stream",
    )
    async def media(asset_id: str, ctx: Context) -> bytes:
        return await _asset_bytes(ctx, asset_id, thumbnail=False)

    @server.resource(
        "media://{asset_id}/thumbnail",
        name="thumbnail",
        title="Thumbnail of a generated image or video",
        description="A small JPEG: the image scaled down, or a video's first frame (audio "
        "has none).",
        mime_type="image/jpeg",
    )
    async def thumbnail(asset_id: str, ctx: Context) -> bytes:
        return await _asset_bytes(ctx, asset_id, thumbnail=True)

    @server.resource(
        "job://{job_id}",
        name="job",
        title="A generation job",
        description="Status, outputs and error of one job, as JSON. Subscribe to hear when "
        "it changes.",
        mime_type="application/json",
    )
    async def job(job_id: str, ctx: Context) -> str:
        state = _state(ctx)
        found = await state.engine.get(job_id) if _JOB_ID.fullmatch(job_id) else None
        if found is None:
            raise not_found(ctx.protocol_version, f"job://{job_id}", f"No job {job_id!r}.")
        return json.dumps(job_json(found, state.links))


def _state(ctx: Context) -> ToolContext:
    state = ctx.request_context.lifespan_context
    if not isinstance(state, ToolContext):
        raise ResourceError("The server is still starting; try again in a moment.")
    return state


async def _asset_bytes(ctx: Context, asset_id: str, *, thumbnail: bool) -> bytes:
    state = _state(ctx)
    asset = await state.engine.store.get_asset(asset_id) if _ASSET_ID.fullmatch(asset_id) else None
    name = asset and (asset.thumbnail_path if thumbnail else asset.path)
    if asset is None or not name:
        uri = f"media://{asset_id}{'/thumbnail' if thumbnail else ''}"
        what = "thumbnail" if thumbnail else "file"
        if asset is not None and asset.preview_pending:
            message = f"The thumbnail of {asset_id!r} is still being made; read it again soon."
            raise not_found(ctx.protocol_version, uri, message)
        raise not_found(ctx.protocol_version, uri, f"No {what} for {asset_id!r}.")
    try:
        data = await state.library.media.read(name, MAX_RESOURCE_BYTES)
    except (OSError, MediaStoreError):
        raise ResourceError(
            f"The file of {asset_id} is missing from the library or lies outside the media "
            "folder (only files inside it are served)."
        ) from None
    if data is None:
        raise ResourceError(
            f"{asset_id} is too large to send as a resource; open it at {asset.path} or "
            "through its url."
        )
    return data
