"""The 2025-11-25 experimental tasks (the older tasks VS Code speaks), over the job store.

A client that negotiated 2025-11-25 sees ``capabilities.tasks`` (list, cancel, task-augmented
``tools/call``) and ``execution.taskSupport: "optional"`` on the generation tools. A
``tools/call`` carrying ``task`` submits the job without waiting and answers a
``CreateTaskResult`` whose task id IS the job id, exactly like the 2026 extension in
``tasks.py``: the task survives restarts and any process on the same store serves it.
``tasks/get`` reads the job (``working``, then ``completed`` or ``failed``), ``tasks/result``
blocks until the job is finished and answers what ``get_status`` answers (with the
related-task ``_meta``), ``tasks/list`` pages the library newest first, and ``tasks/cancel``
ends the task for its requester while the paid job still completes into the library.

The SDK ships these types (``mcp.types.CreateTaskResult``, ``Task``...) but dispatches none of
these methods, and it sieves a ``tools/call`` handler's result (an extension interceptor's
too) into a plain ``CallToolResult`` on 2025 connections. A ``Server.middleware`` runs above
that sieve and owns what it returns, so this module is a middleware; it must come before
``era_middleware`` (outermost), which shapes plain tool results only.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mcp.server import ServerRequestContext
from mcp.server.context import CallNext, HandlerResult
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, METHOD_NOT_FOUND

from mcp_server_kie.domain import Job, JobStatus
from mcp_server_kie.server.tasks import (
    CANCELLED_CAUSE,
    TASK_TOOLS,
    is_cancelled,
    iso,
    poll_interval_ms,
)
from mcp_server_kie.storage.library import BadCursor, MediaQuery, decode_cursor
from mcp_server_kie.tools import ToolContext
from mcp_server_kie.tools.results import summary, tool_result

VERSION = "2025-11-25"
RELATED_TASK = "io.modelcontextprotocol/related-task"
CAPABILITY: dict[str, Any] = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
PAGE = 50
_CANCELLED_MESSAGE = (
    "Cancelled by its requester. Job {0} still finishes at kie.ai (its credits are committed) "
    "and its files land in the library: get_status(job_id={0!r}) shows them."
)
_METHODS = frozenset({"tasks/get", "tasks/result", "tasks/list", "tasks/cancel"})
# tasks/result blocks until the job is finished, re-reading the store this often (a wait is
# woken early by the job's own change signal).
_RESULT_RECHECK_SECONDS = 30.0


class LegacyTasks:
    """``Server.middleware`` serving 2025-11-25 tasks from ``context``'s job store."""

    def __init__(self, context: ToolContext) -> None:
        self._context = context

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if ctx.method == "initialize":
            return _with_capability(await call_next(ctx))
        if ctx.protocol_version != VERSION or ctx.session.client_params is None:
            return await call_next(ctx)
        params = dict(ctx.params or {})
        if ctx.method == "tools/list":
            return _with_execution(await call_next(ctx))
        if ctx.method == "tools/call" and "task" in params:
            return await self._create(ctx, params, call_next)
        if ctx.method in _METHODS:
            return await self._serve(ctx.method, params)
        return await call_next(ctx)

    async def _create(
        self, ctx: ServerRequestContext[Any, Any], params: dict[str, Any], call_next: CallNext
    ) -> HandlerResult:
        name = params.get("name")
        if name not in TASK_TOOLS:
            raise MCPError(METHOD_NOT_FOUND, f"{name!r} does not run as a task; call it plainly.")
        params.pop("task")
        params["arguments"] = {**(params.get("arguments") or {}), "wait_seconds": 0}
        submitted = await call_next(dataclasses.replace(ctx, params=params))
        answer = submitted if isinstance(submitted, dict) else {}
        job_id = (answer.get("structuredContent") or {}).get("job_id")
        job = await self._context.engine.get(job_id) if isinstance(job_id, str) else None
        if answer.get("isError") or job is None:
            texts = [b.get("text", "") for b in answer.get("content") or [] if isinstance(b, dict)]
            raise MCPError(INVALID_PARAMS, " ".join(t for t in texts if t) or "Not started.")
        return {"task": _task(job, await is_cancelled(self._context.engine.store, job))}

    async def _serve(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "tasks/list":
            return await self._list(params.get("cursor"))
        job = await self._job(params.get("taskId"))
        cancelled = await is_cancelled(self._context.engine.store, job)
        if method == "tasks/get":
            return _task(job, cancelled)
        if method == "tasks/cancel":
            if cancelled or job.status.terminal:
                raise MCPError(INVALID_PARAMS, f"Task {job.id} has already finished.")
            await self._context.engine.store.record_job_note(job.id, CANCELLED_CAUSE)
            return _task(job, cancelled=True)
        return await self._result(job, cancelled)

    async def _result(self, job: Job, cancelled: bool) -> dict[str, Any]:
        engine = self._context.engine
        while not cancelled and not job.status.terminal:
            job = await engine.wait(job.id, _RESULT_RECHECK_SECONDS) or job
            cancelled = await is_cancelled(engine.store, job)
        if cancelled:
            text = _CANCELLED_MESSAGE.format(job.id)
            result: dict[str, Any] = {"content": [{"type": "text", "text": text}], "isError": True}
        else:
            result = tool_result(job, self._context.links).model_dump(
                by_alias=True, mode="json", exclude_none=True
            )
        return {**result, "_meta": {RELATED_TASK: {"taskId": job.id}}}

    async def _list(self, cursor: Any) -> dict[str, Any]:
        try:
            after = decode_cursor(cursor, True) if isinstance(cursor, str) else None
        except BadCursor:
            raise MCPError(INVALID_PARAMS, f"Unknown cursor {cursor!r}.") from None
        store = self._context.engine.store
        page = await store.list_jobs(MediaQuery(limit=PAGE, after=after))
        tasks = [_task(job, await is_cancelled(store, job)) for job in page.jobs]
        answer: dict[str, Any] = {"tasks": tasks}
        if page.next_cursor:
            answer["nextCursor"] = page.next_cursor
        return answer

    async def _job(self, task_id: Any) -> Job:
        if not isinstance(task_id, str):
            raise MCPError(INVALID_PARAMS, "tasks/* needs params.taskId (a job id).")
        job = await self._context.engine.get(task_id) if task_id.startswith("job_") else None
        if job is None:
            raise MCPError(INVALID_PARAMS, f"No task {task_id!r}.", {"taskId": task_id})
        return job


def _task(job: Job, cancelled: bool) -> dict[str, Any]:
    """A 2025-11-25 ``Task``: a failed generation is a ``failed`` task."""
    if cancelled:
        status = "cancelled"
    elif job.status is JobStatus.FAILED:
        status = "failed"
    else:
        status = "completed" if job.status.terminal else "working"
    return {
        "taskId": job.id,
        "status": status,
        "statusMessage": _CANCELLED_MESSAGE.format(job.id) if cancelled else summary(job),
        "createdAt": iso(job.created_at),
        "lastUpdatedAt": iso(job.updated_at),
        "ttl": None,  # kept as long as the job is in the library
        "pollInterval": poll_interval_ms(job),
    }


def _with_capability(result: HandlerResult) -> HandlerResult:
    if not isinstance(result, dict) or result.get("protocolVersion") != VERSION:
        return result
    capabilities = {**(result.get("capabilities") or {}), "tasks": CAPABILITY}
    return {**result, "capabilities": capabilities}


def _with_execution(result: HandlerResult) -> HandlerResult:
    if not isinstance(result, dict):
        return result
    tools = [
        {**tool, "execution": {"taskSupport": "optional"}}
        if isinstance(tool, dict) and tool.get("name") in TASK_TOOLS
        else tool
        for tool in result.get("tools") or []
    ]
    return {**result, "tools": tools}
