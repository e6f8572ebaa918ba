"""Background tasks (SEP-2663, ``io.modelcontextprotocol/tasks``, protocol 2026-07-28).

A client that declares the extension gets ``generate_image`` and ``generate_video`` back as
tasks: the call submits the job and answers at once with ``resultType: "task"``; the task id
IS the job id, so a task lives in the store with its job, survives restarts and is served by
any process on the same store. ``tasks/get`` answers from the store: ``working`` while the
job runs (kie's state in ``statusMessage``), then ``completed`` with the same result
``get_status`` gives (a failed generation is a completed task whose result says so, exactly
as the tool answers today). ``tasks/cancel`` ends the task for its requester only: the job
keeps running at kie.ai (the credits are already committed), its files are still downloaded
into the library, and ``get_status``/``list_media`` show it; only ``tasks/get`` answers
``cancelled`` from then on. The cancel is recorded in the job's history, so it holds across
restarts too. Clients that do not declare the extension get today's bounded waits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mcp.server import ServerRequestContext
from mcp.server.context import CallNext, HandlerResult
from mcp.server.extension import Extension, MethodBinding
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolRequestParams, CallToolResult, RequestParams
from pydantic import ConfigDict, Field

from mcp_server_kie.domain import Job, MediaKind
from mcp_server_kie.storage.store import Store
from mcp_server_kie.tools import ToolContext
from mcp_server_kie.tools.results import summary, tool_result

EXTENSION_ID = "io.modelcontextprotocol/tasks"
TASK_PROTOCOLS = frozenset({"2026-07-28"})
TASK_TOOLS = frozenset({"generate_image", "generate_video", "generate_audio", "transform_media"})
CANCELLED_CAUSE = "task cancelled by its requester"
_POLL_MS = {MediaKind.IMAGE: 2000, MediaKind.AUDIO: 3000, MediaKind.VIDEO: 5000}


class TaskIdParams(RequestParams):
    model_config = ConfigDict(populate_by_name=True, extra="allow")
    task_id: str = Field(alias="taskId")


class Tasks(Extension):
    """The tasks extension over the job store (``context`` is the running server's)."""

    identifier = EXTENSION_ID

    def __init__(self, context: ToolContext) -> None:
        self._context = context

    def methods(self) -> list[MethodBinding]:
        return [
            MethodBinding("tasks/get", TaskIdParams, self._get, TASK_PROTOCOLS),
            MethodBinding("tasks/cancel", TaskIdParams, self._cancel, TASK_PROTOCOLS),
            MethodBinding("tasks/update", TaskIdParams, self._update, TASK_PROTOCOLS),
        ]

    async def intercept_tool_call(
        self,
        params: CallToolRequestParams,
        ctx: ServerRequestContext[Any, Any],
        call_next: CallNext,
    ) -> HandlerResult:
        if params.name not in TASK_TOOLS or not _wants_tasks(ctx):
            return await call_next(ctx)
        # Submit without waiting: the task is the wait. (The handler is invoked with this
        # same params object, so the argument reaches the tool.)
        params.arguments = {**(params.arguments or {}), "wait_seconds": 0}
        result = await call_next(ctx)
        if not isinstance(result, CallToolResult) or result.is_error:
            return result  # refused before anything started: an ordinary tool error
        job_id = (result.structured_content or {}).get("job_id")
        job = await self._context.engine.get(job_id) if isinstance(job_id, str) else None
        if job is None:
            return result
        return {**_task(job, cancelled=False), "resultType": "task"}

    async def _get(
        self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams
    ) -> HandlerResult:
        job = await self._job(params.task_id)
        task = _task(job, cancelled=await self._cancelled(job))
        if task["status"] == "completed":
            task["result"] = tool_result(job, self._context.links).model_dump(
                by_alias=True, mode="json", exclude_none=True
            )
        return {**task, "resultType": "complete"}

    async def _cancel(
        self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams
    ) -> HandlerResult:
        job = await self._job(params.task_id)
        if job.status.terminal and not await self._cancelled(job):
            raise MCPError(INVALID_PARAMS, f"Task {job.id} has already completed.")
        if not await self._cancelled(job):
            await self._context.engine.store.record_job_note(job.id, CANCELLED_CAUSE)
        return {"resultType": "complete"}

    async def _update(
        self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams
    ) -> HandlerResult:
        await self._job(params.task_id)
        raise MCPError(INVALID_PARAMS, "This server's tasks never ask for input.")

    async def _job(self, task_id: str) -> Job:
        job = await self._context.engine.get(task_id) if task_id.startswith("job_") else None
        if job is None:
            raise MCPError(INVALID_PARAMS, f"No task {task_id!r}.", {"taskId": task_id})
        return job

    async def _cancelled(self, job: Job) -> bool:
        return await is_cancelled(self._context.engine.store, job)


async def is_cancelled(store: Store, job: Job) -> bool:
    """Whether the job's task was cancelled (in either protocol era): a note in its history."""
    events = await store.job_events(job.id)
    return any(cause == CANCELLED_CAUSE for _at, _from, _to, cause in events)


def poll_interval_ms(job: Job) -> int:
    """How often a client should ask about this job's task."""
    return _POLL_MS.get(job.kind, 5000)


def _wants_tasks(ctx: ServerRequestContext[Any, Any]) -> bool:
    if ctx.protocol_version not in TASK_PROTOCOLS:
        return False
    capabilities = ctx.session.client_capabilities
    extensions = capabilities.extensions if capabilities else None
    return extensions is not None and EXTENSION_ID in extensions


def _task(job: Job, *, cancelled: bool) -> dict[str, Any]:
    status = "cancelled" if cancelled else "completed" if job.status.terminal else "working"
    return {
        "taskId": job.id,
        "status": status,
        "statusMessage": summary(job),
        "createdAt": iso(job.created_at),
        "lastUpdatedAt": iso(job.updated_at),
        "ttlMs": None,  # kept as long as the job is in the library
        "pollIntervalMs": poll_interval_ms(job),
    }


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")
