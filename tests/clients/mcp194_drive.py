"""Run by the Python MCP SDK 1.9.4 (protocol 2025-03-26) from its own venv, not by pytest.

Usage: mcp194_drive.py stdio <python> <server args...> | mcp194_drive.py http <url>
Generates an image, reads the finished result and its file resource, and prints one JSON
object on stdout with what it saw (or the validation error that stopped it).
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client


async def exercise(session: ClientSession) -> dict[str, Any]:
    init = await session.initialize()
    tools = await session.list_tools()
    result = await session.call_tool("generate_image", {"prompt": "a fox", "wait_seconds": 30})
    texts = [block.text for block in result.content if block.type == "text"]
    found = json.loads(texts[-1])
    [output] = found["outputs"]
    media = await session.read_resource(output["uri"])
    blob = media.contents[0]
    return {
        "protocol": init.protocolVersion,
        "tools": sorted(tool.name for tool in tools.tools),
        "tool_fields": sorted({key for tool in tools.tools for key in tool.model_extra or {}}),
        "block_types": [block.type for block in result.content],
        "extra_result_fields": sorted((result.model_extra or {}).keys()),
        "is_error": result.isError,
        "job": found,
        "resource_bytes": len(base64.b64decode(blob.blob)) if hasattr(blob, "blob") else 0,
    }


async def main() -> None:
    mode, *rest = sys.argv[1:]
    if mode == "stdio":
        params = StdioServerParameters(command=rest[0], args=rest[1:])
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            report = await exercise(session)
    else:
        async with (
            streamablehttp_client(rest[0]) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            report = await exercise(session)
    print(json.dumps(report))


asyncio.run(main())
