"""Background tasks (SEP-2663, protocol 2026-07-28) with the SDK's own client.

The client declares ``io.modelcontextprotocol/tasks`` and claims the ``task`` result type
(the SDK's client-extension API); ``tasks/get`` and ``tasks/cancel`` are sent as raw requests
per the extension's wire shapes. The sandbox runs on a test clock, so a slow video spends
more than 60 s of simulated time without the test waiting for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import pytest
from mcp import Client, types
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp.shared.exceptions import MCPError
from pydantic import ConfigDict, Field

from mcp_server_kie.sandbox import Sandbox, SandboxConfig, serve_sandbox
from mcp_server_kie.server.app import build_server
from mcp_server_kie.server.runtime import Runtime, open_runtime
from support import SANDBOX_KEY, call, settings_for
from test_interleavings import Clock

SLOW_VIDEO = "a glacier calving [sandbox:slow]"  # 10 x 8 s = 80 s of simulated time


class TaskIdParams(types.RequestParams):
    task_id: str = Field(alias="taskId")


class GetTask(types.Request[TaskIdParams, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"


class CancelTask(types.Request[TaskIdParams, Literal["tasks/cancel"]]):
    method: Literal["tasks/cancel"] = "tasks/cancel"


class TaskState(types.Result):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    task_id: str = Field(alias="taskId")
    status: str
    status_message: str | None = Field(default=None, alias="statusMessage")
    result: dict[str, Any] | None = None
    result_type: str | None = Field(default=None, alias="resultType")


class CreatedTask(types.Result):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    task_id: str = Field(alias="taskId")
    status: str
    result_type: Literal["task"] = Field(alias="resultType")


class TasksClient(ClientExtension):
    """Declares the extension and claims the ``task`` result type (the SDK advertises a
    claim-bearing extension at the versions its claims cover). The tests start tasks with raw
    requests; a ``call_tool`` through the claim would resolve to a stub naming the task."""

    identifier = "io.modelcontextprotocol/tasks"

    def __init__(self) -> None:
        self.created: list[CreatedTask] = []

    def claims(self) -> list[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=CreatedTask, resolve=self._resolve)]

    async def _resolve(self, task: CreatedTask, _ctx: ClaimContext) -> types.CallToolResult:
        self.created.append(task)
        return types.CallToolResult(content=[types.TextContent(type="text", text=task.task_id)])


async def start_task(client: Client, tool: str, args: dict[str, Any]) -> CreatedTask:
    """A raw tools/call: the answer is the task, not a tool result."""
    request = types.CallToolRequest(params=types.CallToolRequestParams(name=tool, arguments=args))
    return await client.session.send_request(request, CreatedTask)


async def get_task(client: Client, task_id: str) -> TaskState:
    return await client.session.send_request(
        GetTask(params=TaskIdParams(taskId=task_id)), TaskState
    )


@asynccontextmanager
async def runtime_on(sandbox: Sandbox, data: Path) -> AsyncIterator[Runtime]:
    async with open_runtime(settings_for(sandbox, data, webhooks=False)) as runtime:
        yield runtime


@asynccontextmanager
async def tasks_client(runtime: Runtime) -> AsyncIterator[tuple[Client, TasksClient]]:
    extension = TasksClient()
    async with Client(build_server(runtime.tools), mode="2026-07-28", extensions=[extension]) as c:
        yield c, extension


async def test_a_video_task_outlives_a_minute_and_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    config = SandboxConfig(api_key=SANDBOX_KEY, video_seconds=8.0, clock=clock)
    async with serve_sandbox(config) as sandbox:
        async with (
            runtime_on(sandbox, tmp_path) as runtime,
            tasks_client(runtime) as (client, _ext),
        ):
            created = await start_task(client, "generate_video", {"prompt": SLOW_VIDEO})
            assert created.result_type == "task" and created.status == "working"
            task_id = created.task_id
            messages = []
            for _ in range(3):  # 45 s of simulated time: still running
                clock.now += 15
                await runtime.engine.refresh(task_id)
                state = await get_task(client, task_id)
                assert state.status == "working", state
                messages.append(state.status_message)
            assert len(set(messages)) > 1, f"kie's state should move: {messages}"

        # The server restarts mid-task; the task is the job, so it is still there.
        clock.now += 20  # 65 s: past a minute
        async with runtime_on(sandbox, tmp_path) as runtime, tasks_client(runtime) as (client, _):
            await runtime.engine.refresh(task_id)
            assert (await get_task(client, task_id)).status == "working"
            clock.now += 30  # 95 s: kie finished
            await runtime.engine.refresh(task_id)
            done = await get_task(client, task_id)
            assert done.status == "completed", done
            assert done.result is not None and done.result["structuredContent"]["status"] == (
                "completed"
            )
            direct = await call(client, "get_status", {"job_id": task_id})
            assert done.result["structuredContent"]["outputs"] == direct["outputs"]
            assert Path(direct["outputs"][0]["path"]).is_file()
            with pytest.raises(MCPError) as finished:
                await client.session.send_request(
                    CancelTask(params=TaskIdParams(taskId=task_id)), types.EmptyResult
                )
            assert finished.value.error.code == -32602


async def test_cancel_stops_the_task_but_the_job_completes_in_the_library(tmp_path: Path) -> None:
    clock = Clock()
    config = SandboxConfig(api_key=SANDBOX_KEY, video_seconds=8.0, clock=clock)
    async with serve_sandbox(config) as sandbox:
        async with (
            runtime_on(sandbox, tmp_path) as runtime,
            tasks_client(runtime) as (client, _ext),
        ):
            task_id = (await start_task(client, "generate_video", {"prompt": "a tide"})).task_id
            await client.session.send_request(
                CancelTask(params=TaskIdParams(taskId=task_id)), types.EmptyResult
            )
            assert (await get_task(client, task_id)).status == "cancelled"
            clock.now += 20
            await runtime.engine.refresh(task_id)
            job = await runtime.engine.get(task_id)
            assert job is not None and job.status.value == "completed"
            assert job.assets and Path(job.assets[0].path).is_file()
            assert (await get_task(client, task_id)).status == "cancelled"
            listing = await call(client, "list_media", {})
            assert [item["job_id"] for item in listing["items"]] == [task_id]
        async with runtime_on(sandbox, tmp_path) as runtime, tasks_client(runtime) as (client, _):
            assert (await get_task(client, task_id)).status == "cancelled"


async def test_clients_without_tasks_get_todays_bounded_wait(tmp_path: Path) -> None:
    clock = Clock()
    config = SandboxConfig(api_key=SANDBOX_KEY, video_seconds=8.0, clock=clock)
    async with serve_sandbox(config) as sandbox, runtime_on(sandbox, tmp_path) as runtime:
        for mode in ("legacy", "2026-07-28"):
            async with Client(build_server(runtime.tools), mode=mode) as client:
                job = await call(client, "generate_video", {"prompt": "x", "wait_seconds": 0})
                assert job["status"] == "processing" and "get_status" in job["next_step"]
                with pytest.raises(MCPError) as unknown:
                    await get_task(client, "job_000000000000000000000000")
                assert unknown.value.error.code in (-32601, -32602)


async def test_an_operation_on_an_earlier_result_runs_as_a_task(tmp_path: Path) -> None:
    clock = Clock()
    config = SandboxConfig(api_key=SANDBOX_KEY, video_seconds=8.0, clock=clock)
    async with serve_sandbox(config) as sandbox:
        async with (
            runtime_on(sandbox, tmp_path) as runtime,
            tasks_client(runtime) as (client, _ext),
        ):
            video = {"prompt": "a tide", "model": "veo3_fast"}
            source = (await start_task(client, "generate_video", video)).task_id
            clock.now += 20
            await runtime.engine.refresh(source)
            assert (await get_task(client, source)).status == "completed"
            args = {"source": source, "operation": "extend", "prompt": "the tide turns"}
            created = await start_task(client, "transform_media", args)
            assert created.result_type == "task" and created.status == "working"
            assert created.task_id != source
            clock.now += 20
            await runtime.engine.refresh(created.task_id)
            done = await get_task(client, created.task_id)
            assert done.status == "completed", done
            assert done.result is not None
            assert done.result["structuredContent"]["kind"] == "video"
            assert done.result["structuredContent"]["model"] == "veo3-extend"
