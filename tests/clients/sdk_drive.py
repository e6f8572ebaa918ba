"""Run by a released Python MCP SDK (1.9.4, 1.22.0 or 1.30.0) from its own venv, not by pytest.

Usage: sdk_drive.py <plain|tasks> stdio <python> <server args...>
       sdk_drive.py <plain|tasks> http <url>
"plain" generates an image, reads the finished result and its file resource. "tasks" (1.30.0,
protocol 2025-11-25) runs the same generation as an experimental task: call_tool_as_task,
poll_task to a terminal status, get_task_result, list_tasks. Prints one JSON object on stdout
with what the client saw (a validation error would stop it with a traceback on stderr).
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from typing import Any

from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client


async def plain(session: ClientSession, init: types.InitializeResult) -> dict[str, Any]:
    tools = await session.list_tools()
    result = await session.call_tool("generate_image", {"prompt": "a fox", "wait_seconds": 30})
    result = await with_thumbnail(session, result)
    return {
        "tools": sorted(tool.name for tool in tools.tools),
        "tool_fields": sorted(
            {
                key
                for tool in tools.tools
                for key in tool.model_dump(by_alias=True, exclude_none=True)
            }
        ),
        **await what_the_result_says(session, result),
    }


async def tasks(session: ClientSession, init: types.InitializeResult) -> dict[str, Any]:
    experimental = session.experimental  # type: ignore[attr-defined]  # 1.30.0 only
    tools = await session.list_tools()
    created = await experimental.call_tool_as_task("generate_image", {"prompt": "a fox"})
    task_id = created.task.taskId
    statuses = [status.status async for status in experimental.poll_task(task_id)]
    result = await experimental.get_task_result(task_id, types.CallToolResult)
    listed = await experimental.list_tasks()
    execution = {
        tool.name: tool.execution.taskSupport for tool in tools.tools if tool.execution is not None
    }
    return {
        "capabilities_tasks": init.capabilities.model_dump(by_alias=True).get("tasks"),
        "execution": execution,
        "created": created.task.model_dump(by_alias=True, mode="json"),
        "statuses": statuses,
        "related_task": (result.meta or {}).get("io.modelcontextprotocol/related-task"),
        "listed": [task.taskId for task in listed.tasks],
        **await what_the_result_says(session, result),
    }


async def with_thumbnail(session: ClientSession, result: Any) -> Any:
    """The job completes before its preview is made: read get_status again (bounded) until
    the result carries the thumbnail image block."""
    for _ in range(200):
        if any(block.type == "image" for block in result.content):
            return result
        text = [b.text for b in result.content if b.type == "text"]
        job = getattr(result, "structuredContent", None) or json.loads(text[-1])
        await asyncio.sleep(0.05)
        result = await session.call_tool("get_status", {"job_id": job["job_id"]})
    return result


async def what_the_result_says(session: ClientSession, result: Any) -> dict[str, Any]:
    """The finished job as the client reads it, and the bytes of its file resource."""
    structured = getattr(result, "structuredContent", None)
    if structured is None:  # 2025-03-26: the job comes as JSON text after the summary
        structured = json.loads([b.text for b in result.content if b.type == "text"][-1])
    [output] = structured["outputs"]
    media = await session.read_resource(output["uri"])
    blob = media.contents[0]
    links = [str(block.uri) for block in result.content if block.type == "resource_link"]
    return {
        "block_types": [block.type for block in result.content],
        "links": links,
        "has_structured_content": getattr(result, "structuredContent", None) is not None
        or "structuredContent" in (result.model_extra or {}),
        "is_error": result.isError,
        "job": structured,
        "resource_bytes": len(base64.b64decode(blob.blob)) if hasattr(blob, "blob") else 0,
    }


async def main() -> None:
    scenario, mode, *rest = sys.argv[1:]
    exercise = {"plain": plain, "tasks": tasks}[scenario]
    if mode == "stdio":
        params = StdioServerParameters(command=rest[0], args=rest[1:])
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            init = await session.initialize()
            report = await exercise(session, init)
    else:
        async with (
            streamablehttp_client(rest[0]) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            init = await session.initialize()
            report = await exercise(session, init)
    print(json.dumps({"protocol": init.protocolVersion, **report}))


asyncio.run(main())
