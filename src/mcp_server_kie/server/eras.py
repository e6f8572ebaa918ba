"""Answer each client in the protocol revision it negotiated.

The SDK shapes every 2025-era answer with the 2025-11-25 schema, so a client that negotiated
an older revision would receive content blocks and fields it does not know. Python ``mcp``
1.9 (2025-03-26) rejects a whole tool result over one ``resource_link`` block. This
middleware rewrites outgoing results for older revisions: a ``resource_link`` becomes a text
line with the same URI, ``structuredContent`` becomes the JSON text the 2025-06-18
specification asks servers to send beside it anyway, and tool, prompt and resource
descriptions lose the fields their revision did not define. A client that did not negotiate
MCP Apps gets tool descriptions without the viewer's ``_meta.ui``, exactly as before it existed.
"""

from __future__ import annotations

import json
from typing import Any

from mcp.server import ServerRequestContext
from mcp.server.apps import client_supports_apps
from mcp.server.context import CallNext, HandlerResult

# When each field or content block first appeared (protocol revisions sort as dates).
RESOURCE_LINK_SINCE = "2025-06-18"
STRUCTURED_CONTENT_SINCE = "2025-06-18"
_DESCRIPTOR_FIELDS_SINCE = {
    "title": "2025-06-18",
    "outputSchema": "2025-06-18",
    "_meta": "2025-06-18",
    "icons": "2025-11-25",
    "execution": "2025-11-25",
}
_LISTS = {
    "tools/list": "tools",
    "prompts/list": "prompts",
    "resources/list": "resources",
    "resources/templates/list": "resourceTemplates",
}
LATEST_LEGACY = "2025-11-25"


def knows(version: str | None, since: str) -> bool:
    """Whether a client on ``version`` knows something added in revision ``since``. Unknown
    (None) means an in-process or 2026-era caller: it knows everything."""
    return version is None or version >= since


async def era_middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    result = await call_next(ctx)
    version = ctx.protocol_version
    if not isinstance(result, dict) or version is None:
        return result
    if ctx.method == "tools/list" and not client_supports_apps(ctx):
        result = {**result, "tools": [_without_ui(tool) for tool in result.get("tools") or []]}
    if version > LATEST_LEGACY:
        return result
    if ctx.method == "tools/call":
        return tool_result_for(version, result)
    if (key := _LISTS.get(ctx.method)) is not None and isinstance(result.get(key), list):
        return {**result, key: [_descriptor_for(version, item) for item in result[key]]}
    return result


def tool_result_for(version: str, result: dict[str, Any]) -> dict[str, Any]:
    """A wire ``tools/call`` result with only what ``version`` defines."""
    shaped = dict(result)
    content = [_block_for(version, block) for block in result.get("content") or []]
    structured = shaped.pop("structuredContent", None)
    if knows(version, STRUCTURED_CONTENT_SINCE):
        if structured is not None:
            shaped["structuredContent"] = structured
    elif structured is not None:
        content.append({"type": "text", "text": json.dumps(structured, ensure_ascii=False)})
    shaped["content"] = content
    return shaped


def _block_for(version: str, block: Any) -> Any:
    if not isinstance(block, dict):
        return block
    if block.get("type") == "resource_link" and not knows(version, RESOURCE_LINK_SINCE):
        label = block.get("title") or block.get("name") or "file"
        mime = f" ({block['mimeType']})" if block.get("mimeType") else ""
        return {"type": "text", "text": f"{label}{mime}: {block.get('uri')}"}
    if "_meta" in block and not knows(version, "2025-06-18"):
        return {k: v for k, v in block.items() if k != "_meta"}
    return block


def _without_ui(tool: Any) -> Any:
    """A tool description as a host without MCP Apps saw it before the viewer existed."""
    if not isinstance(tool, dict) or not isinstance(tool.get("_meta"), dict):
        return tool
    meta = {key: value for key, value in tool["_meta"].items() if key != "ui"}
    shaped = {key: value for key, value in tool.items() if key != "_meta"}
    return {**shaped, "_meta": meta} if meta else shaped


def _descriptor_for(version: str, item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    return {
        key: value
        for key, value in item.items()
        if knows(version, _DESCRIPTOR_FIELDS_SINCE.get(key, "2024-11-05"))
    }
