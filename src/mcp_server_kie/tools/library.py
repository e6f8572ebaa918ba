"""get_status and list_media: read the store, waiting on a job when asked."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import Field

from mcp_server_kie.domain import MediaKind
from mcp_server_kie.tools.context import bounded_wait, tool_context, wait_with_progress
from mcp_server_kie.tools.results import JobResult, MediaPage, job_result, tool_result


async def get_status(
    job_id: Annotated[str, Field(min_length=1, description="The job_id a generate_* call gave.")],
    ctx: Context,
    wait_seconds: Annotated[
        float | None,
        Field(ge=0, description="Wait up to this long for the job to finish (max 45 s)."),
    ] = 0,
) -> Annotated[CallToolResult, JobResult]:
    """Get a generation job's status and, once completed, its saved files.

    With wait_seconds it waits for the job to finish, up to the limit, then returns how it
    stands. A job that is still running is not an error: call again a little later.
    """
    state = tool_context(ctx)
    job = await state.engine.get(job_id.strip())
    if job is None:
        raise ToolError(
            f"No job {job_id!r}. Job ids look like job_0123abcd...; list_media shows recent jobs."
        )
    job = await wait_with_progress(state, ctx, job, bounded_wait(state, wait_seconds, 0))
    return tool_result(job)


async def list_media(
    ctx: Context,
    kind: Annotated[
        Literal["image", "video"] | None, Field(description="Only images or only videos.")
    ] = None,
    limit: Annotated[int, Field(ge=1, le=100, description="How many, newest first.")] = 20,
) -> Annotated[CallToolResult, MediaPage]:
    """List generation jobs and their saved files, newest first, from the local library."""
    state = tool_context(ctx)
    jobs = await state.engine.store.list_jobs(MediaKind(kind) if kind else None, limit)
    page = MediaPage(items=[job_result(job) for job in jobs], count=len(jobs))
    done = sum(1 for job in jobs if job.assets)
    text = f"{len(jobs)} job(s), {done} with saved files" + (
        f"; newest: {jobs[0].id} ({jobs[0].status.value})" if jobs else ""
    )
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=page.model_dump(mode="json"),
    )
