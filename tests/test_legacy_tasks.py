"""The 2025-11-25 experimental tasks (the older tasks VS Code speaks), backed by the job store.

The real client is the released Python ``mcp`` 1.30.0 (protocol 2025-11-25; its
``session.experimental`` task API), from the venv scripts/install-old-client makes, over stdio
and HTTP. The slow-video, restart and cancel checks send the 2025-11-25 wire messages with the
project's SDK in handshake mode (which negotiates 2025-11-25) against a sandbox on a test clock,
so a video spends more than 60 s of simulated time without the test waiting for it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client._memory import InMemoryTransport
from mcp.shared.exceptions import MCPError
from mcp.shared.jsonrpc_dispatcher import JSONRPCDispatcher

from mcp_server_kie.sandbox import Sandbox, SandboxConfig, serve_sandbox
from mcp_server_kie.server.app import build_server
from mcp_server_kie.server.runtime import Runtime, open_runtime
from support import SANDBOX_KEY, settings_for
from test_client_eras import drive, http_server, old_clients, stdio_server
from test_interleavings import Clock

__all__ = ["http_server", "old_clients"]  # fixtures shared with the client-era tests

SLOW_VIDEO = "a glacier calving [sandbox:slow]"  # 10 x 8 s = 80 s of simulated time
RELATED = "io.modelcontextprotocol/related-task"


def assert_ran_as_a_task(report: dict[str, Any], data_dir: Path) -> None:
    assert report["protocol"] == "2025-11-25"
    assert report["capabilities_tasks"] == {
        "list": {},
        "cancel": {},
        "requests": {"tools": {"call": {}}},
    }
    assert report["execution"]["generate_image"] == "optional"
    assert "list_media" not in report["execution"]
    created = report["created"]
    task_id = created["taskId"]
    assert task_id.startswith("job_") and created["status"] == "working"
    assert created["ttl"] is None and created["pollInterval"] == 2000
    assert report["statuses"][-1] == "completed"
    assert set(report["statuses"][:-1]) <= {"working"}
    assert report["related_task"] == {"taskId": task_id}
    assert task_id in report["listed"]
    assert report["is_error"] is False and report["block_types"][-1] == "resource_link"
    job = report["job"]
    assert job["job_id"] == task_id and job["status"] == "completed"
    [output] = job["outputs"]
    path = Path(output["path"])
    assert path.is_relative_to(data_dir)
    assert report["resource_bytes"] == path.stat().st_size == output["bytes"]


def test_mcp_1_30_client_runs_an_image_as_a_task_over_stdio(
    old_clients: dict[str, Path], tmp_path: Path
) -> None:
    report = drive(old_clients["2025-11-25"], "tasks", "stdio", *stdio_server(tmp_path))
    assert_ran_as_a_task(report, tmp_path)


def test_mcp_1_30_client_runs_an_image_as_a_task_over_http(
    old_clients: dict[str, Path], http_server: str, tmp_path: Path
) -> None:
    report = drive(old_clients["2025-11-25"], "tasks", "http", http_server)
    assert_ran_as_a_task(report, tmp_path)


# ---------------------------------------------------------------- the wire, in process


class Raw:
    """Raw 2025-11-25 JSON-RPC to the in-process server: the SDK's in-memory transport and
    JSON-RPC dispatcher, without the project SDK client's result validation (which reads a
    ``tools/call`` answer as a plain tool result)."""

    def __init__(self, dispatcher: JSONRPCDispatcher[Any]) -> None:
        self.dispatcher = dispatcher
        self.capabilities: dict[str, Any] = {}

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.dispatcher.send_raw_request(method, params)

    async def start(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        answer = await self.send("tools/call", {"name": tool, "arguments": args, "task": {}})
        assert set(answer) == {"task"}, answer
        task: dict[str, Any] = answer["task"]
        return task

    async def get(self, task_id: str) -> dict[str, Any]:
        return await self.send("tasks/get", {"taskId": task_id})

    async def result(self, task_id: str) -> dict[str, Any]:
        return await self.send("tasks/result", {"taskId": task_id})

    async def cancel(self, task_id: str) -> dict[str, Any]:
        return await self.send("tasks/cancel", {"taskId": task_id})


async def _ignore_requests(*_args: Any) -> dict[str, Any]:
    return {}


async def _ignore_notifications(*_args: Any) -> None:
    return None


@asynccontextmanager
async def raw_client(runtime: Runtime, version: str = "2025-11-25") -> AsyncIterator[Raw]:
    async with InMemoryTransport(build_server(runtime.tools)) as (read, write):
        dispatcher: JSONRPCDispatcher[Any] = JSONRPCDispatcher(read, write)
        async with anyio.create_task_group() as group:
            await group.start(
                functools.partial(dispatcher.run, _ignore_requests, _ignore_notifications)
            )
            raw = Raw(dispatcher)
            init = await raw.send(
                "initialize",
                {
                    "protocolVersion": version,
                    "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "0"},
                },
            )
            assert init["protocolVersion"] == version
            raw.capabilities = init["capabilities"]
            await dispatcher.notify("notifications/initialized", None)
            yield raw
            group.cancel_scope.cancel()


@asynccontextmanager
async def legacy_client(sandbox: Sandbox, data: Path) -> AsyncIterator[tuple[Runtime, Raw]]:
    async with open_runtime(settings_for(sandbox, data, webhooks=False)) as runtime:
        async with raw_client(runtime) as raw:
            yield runtime, raw


async def call_tool(raw: Raw, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    answer = await raw.send("tools/call", {"name": tool, "arguments": args})
    assert not answer.get("isError"), answer
    structured: dict[str, Any] = answer["structuredContent"]
    return structured


def slow_sandbox(clock: Clock) -> SandboxConfig:
    return SandboxConfig(api_key=SANDBOX_KEY, video_seconds=8.0, clock=clock)


async def test_a_video_task_outlives_a_minute_and_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    async with serve_sandbox(slow_sandbox(clock)) as sandbox:
        async with legacy_client(sandbox, tmp_path) as (runtime, client):
            assert client.capabilities["tasks"]["requests"] == {"tools": {"call": {}}}
            task = await client.start("generate_video", {"prompt": SLOW_VIDEO})
            task_id = task["taskId"]
            assert task["status"] == "working" and task["pollInterval"] == 5000
            assert task["ttl"] is None
            messages = []
            for _ in range(3):  # 45 s of simulated time: still running
                clock.now += 15
                await runtime.engine.refresh(task_id)
                state = await client.get(task_id)
                assert state["status"] == "working", state
                assert RELATED not in state.get("_meta", {})
                messages.append(state["statusMessage"])
            assert len(set(messages)) > 1, f"kie's state should move: {messages}"

        clock.now += 20  # 65 s, and the server restarted: the task is the job
        async with legacy_client(sandbox, tmp_path) as (runtime, client):
            await runtime.engine.refresh(task_id)
            assert (await client.get(task_id))["status"] == "working"
            clock.now += 30  # 95 s: kie finished
            await runtime.engine.refresh(task_id)
            assert (await client.get(task_id))["status"] == "completed"
            finished = await client.result(task_id)
            assert finished["_meta"][RELATED] == {"taskId": task_id}
            direct = await call_tool(client, "get_status", {"job_id": task_id})
            assert finished["structuredContent"]["outputs"] == direct["outputs"]
            assert finished["content"][-1]["type"] == "resource_link"
            assert Path(direct["outputs"][0]["path"]).is_file()
            with pytest.raises(MCPError) as done:
                await client.cancel(task_id)
            assert done.value.error.code == -32602


async def test_tasks_result_blocks_until_the_job_is_finished(tmp_path: Path) -> None:
    clock = Clock()
    async with serve_sandbox(slow_sandbox(clock)) as sandbox:
        async with legacy_client(sandbox, tmp_path) as (runtime, client):
            task_id = (await client.start("generate_video", {"prompt": "a tide"}))["taskId"]
            waiting = asyncio.create_task(client.result(task_id))
            # While kie's clock stands still the job cannot finish, so neither can the result:
            # a tasks/get sent after the result request is answered first.
            assert (await client.get(task_id))["status"] == "working"
            assert not waiting.done()
            clock.now += 20
            await runtime.engine.refresh(task_id)
            finished = await asyncio.wait_for(waiting, timeout=30)
            assert finished["structuredContent"]["status"] == "completed"
            assert finished["_meta"][RELATED] == {"taskId": task_id}


async def test_cancel_ends_the_task_but_the_job_completes_in_the_library(tmp_path: Path) -> None:
    clock = Clock()
    async with serve_sandbox(slow_sandbox(clock)) as sandbox:
        async with legacy_client(sandbox, tmp_path) as (runtime, client):
            task_id = (await client.start("generate_video", {"prompt": "a tide"}))["taskId"]
            cancelled = await client.cancel(task_id)
            assert cancelled["status"] == "cancelled" and cancelled["taskId"] == task_id
            assert "still finishes" in cancelled["statusMessage"]
            clock.now += 20
            await runtime.engine.refresh(task_id)
            job = await runtime.engine.get(task_id)
            assert job is not None and job.status.value == "completed"
            assert job.assets and Path(job.assets[0].path).is_file()
            assert (await client.get(task_id))["status"] == "cancelled"
            answer = await client.result(task_id)
            assert answer["isError"] is True and "get_status" in answer["content"][0]["text"]
            with pytest.raises(MCPError) as again:
                await client.cancel(task_id)
            assert again.value.error.code == -32602
            listing = await call_tool(client, "list_media", {})
            assert [item["job_id"] for item in listing["items"]] == [task_id]
        async with legacy_client(sandbox, tmp_path) as (_runtime, client):
            assert (await client.get(task_id))["status"] == "cancelled"


async def test_a_failed_generation_is_a_failed_task(tmp_path: Path) -> None:
    async with serve_sandbox(SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.1)) as sandbox:
        async with legacy_client(sandbox, tmp_path) as (_runtime, client):
            task = await client.start("generate_image", {"prompt": "a fox [sandbox:fail]"})
            answer = await client.result(task["taskId"])
            assert answer["structuredContent"]["status"] == "failed"
            assert (await client.get(task["taskId"]))["status"] == "failed"


async def test_tasks_list_pages_and_errors_are_the_specs(tmp_path: Path) -> None:
    async with serve_sandbox(SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.1)) as sandbox:
        async with legacy_client(sandbox, tmp_path) as (_runtime, client):
            ids = [
                (await client.start("generate_image", {"prompt": f"fox {n}"}))["taskId"]
                for n in range(3)
            ]
            listed = await client.send("tasks/list")
            assert [task["taskId"] for task in listed["tasks"]] == ids[::-1]
            assert "nextCursor" not in listed
            for method, params in (
                ("tasks/get", {"taskId": "job_000000000000000000000000"}),
                ("tasks/result", {"taskId": "nope"}),
                ("tasks/cancel", {}),
                ("tasks/list", {"cursor": "x"}),
                ("tools/call", {"name": "generate_image", "arguments": {}, "task": {}}),
            ):
                with pytest.raises(MCPError) as invalid:
                    await client.send(method, params)
                assert invalid.value.error.code == -32602, method
            assert "prompt" in str(invalid.value.error.message)
            with pytest.raises(MCPError) as not_a_task_tool:
                await client.start("list_media", {})
            assert not_a_task_tool.value.error.code == -32601
            # Without ``task`` the same tool is today's bounded call.
            plain = await call_tool(
                client, "generate_image", {"prompt": "a fox", "wait_seconds": 20}
            )
            assert plain["status"] == "completed"


async def test_only_2025_11_25_clients_are_offered_tasks(tmp_path: Path) -> None:
    async with (
        serve_sandbox(SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.1)) as sandbox,
        open_runtime(settings_for(sandbox, tmp_path, webhooks=False)) as runtime,
    ):
        async with raw_client(runtime) as current:
            tools = (await current.send("tools/list"))["tools"]
            offered = {tool["name"] for tool in tools if "execution" in tool}
            assert offered == {
                "generate_image",
                "generate_video",
                "generate_audio",
                "transform_media",
            }
        async with raw_client(runtime, "2025-06-18") as older:
            assert "tasks" not in older.capabilities
            tools = (await older.send("tools/list"))["tools"]
            assert not any("execution" in tool for tool in tools)
            # A ``task`` field from a client that was not offered tasks is ignored (the spec):
            # the call runs as an ordinary one.
            plain = await older.send(
                "tools/call",
                {"name": "generate_image", "arguments": {"prompt": "a fox"}, "task": {}},
            )
            assert plain["structuredContent"]["status"] == "completed"
            with pytest.raises(MCPError) as unknown:
                await older.send("tasks/get", {"taskId": plain["structuredContent"]["job_id"]})
            assert unknown.value.error.code == -32601
        async with Client(build_server(runtime.tools), mode="2026-07-28") as modern:
            assert all(tool.execution is None for tool in (await modern.list_tools()).tools)
