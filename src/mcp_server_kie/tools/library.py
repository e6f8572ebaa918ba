"""get_status, list_media and delete_media: the library as the model sees it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from mcp_server_kie.domain import JobStatus, MediaKind, UserInputError
from mcp_server_kie.storage import BadCursor, MediaQuery, decode_cursor
from mcp_server_kie.tools.context import bounded_wait, tool_context, wait_with_progress
from mcp_server_kie.tools.results import JobResult, MediaPage, page_json, tool_result

CLEAR_ALL_CONFIRMATION = "delete everything"


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
    return tool_result(job, state.links)


async def list_media(
    ctx: Context,
    kind: Annotated[
        Literal["image", "video", "audio"] | None,
        Field(description="Only images, only videos or only audio."),
    ] = None,
    model: Annotated[str | None, Field(description="Only jobs of this model id.")] = None,
    status: Annotated[
        Literal["pending", "processing", "completed", "failed"] | None,
        Field(description="Only jobs in this state."),
    ] = None,
    query: Annotated[
        str | None,
        Field(max_length=500, description="Words that must all appear in the prompt."),
    ] = None,
    client_ref: Annotated[
        str | None, Field(max_length=200, description="Only jobs started with this client_ref.")
    ] = None,
    since: Annotated[
        str | None,
        Field(description="Only jobs created at or after this ISO 8601 date or time (UTC)."),
    ] = None,
    until: Annotated[
        str | None, Field(description="Only jobs created before this ISO 8601 date or time.")
    ] = None,
    sort: Annotated[Literal["newest", "oldest"], Field(description="Order by creation.")] = (
        "newest"
    ),
    limit: Annotated[int, Field(ge=1, le=100, description="Page size.")] = 20,
    cursor: Annotated[
        str | None, Field(description="next_cursor from the previous page, to continue.")
    ] = None,
) -> Annotated[CallToolResult, MediaPage]:
    """Find generation jobs and their saved files in the local library.

    Filters combine; query searches prompt words. Results come a page at a time: pass the
    returned next_cursor (with the same filters) to get the next page.
    """
    state = tool_context(ctx)
    newest_first = sort == "newest"
    try:
        request = MediaQuery(
            kind=MediaKind(kind) if kind else None,
            model=model,
            status=JobStatus(status) if status else None,
            text=query,
            client_ref=client_ref,
            since=_timestamp(since, "since"),
            until=_timestamp(until, "until"),
            newest_first=newest_first,
            limit=limit,
            after=decode_cursor(cursor, newest_first) if cursor else None,
        )
    except (UserInputError, BadCursor) as exc:
        raise ToolError(str(exc)) from None
    page = await state.engine.store.list_jobs(request)
    done = sum(1 for job in page.jobs if job.assets)
    text = f"{len(page.jobs)} job(s), {done} with saved files"
    if page.jobs:
        text += f"; first: {page.jobs[0].id} ({page.jobs[0].status.value})"
    if page.next_cursor:
        text += "; more: pass next_cursor"
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=page_json(page.jobs, page.next_cursor, state.links),
    )


class DeleteResult(BaseModel):
    jobs_deleted: int
    files_deleted: int
    bytes_freed: int


async def delete_media(
    ctx: Context,
    asset_id: Annotated[
        str | None, Field(description="Delete one saved file (outputs[].asset_id).")
    ] = None,
    job_id: Annotated[str | None, Field(description="Delete a finished job and its files.")] = None,
    everything: Annotated[
        bool, Field(description="Delete every finished job and file. Needs confirm.")
    ] = False,
    confirm: Annotated[
        str | None,
        Field(description=f'With everything=true, must be exactly "{CLEAR_ALL_CONFIRMATION}".'),
    ] = None,
) -> Annotated[CallToolResult, DeleteResult]:
    """Delete media from the local library: one file, one job, or (confirmed) everything.

    Files are removed from disk and cannot be recovered. Running jobs are never deleted.
    Only do this when the user asked for it.
    """
    state = tool_context(ctx)
    chosen = sum(1 for given in (asset_id, job_id) if given) + int(everything)
    try:
        if chosen != 1:
            raise UserInputError("Give exactly one of asset_id, job_id or everything=true.")
        if asset_id:
            deleted = await state.library.delete_asset(asset_id.strip())
        elif job_id:
            deleted = await state.library.delete_job(job_id.strip())
        elif confirm != CLEAR_ALL_CONFIRMATION:
            raise UserInputError(
                "Deleting everything needs confirm set to exactly "
                f'"{CLEAR_ALL_CONFIRMATION}". Ask the user first.'
            )
        else:
            deleted = await state.library.clear()
    except UserInputError as exc:
        raise ToolError(str(exc)) from None
    result = DeleteResult(
        jobs_deleted=deleted.jobs, files_deleted=deleted.files, bytes_freed=deleted.bytes
    )
    text = (
        f"Deleted {deleted.jobs} job(s) and {deleted.files} file(s), "
        f"freeing {deleted.bytes / 1024 / 1024:.1f} MB."
    )
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=result.model_dump(mode="json"),
    )


def _timestamp(value: str | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UserInputError(
            f"{name} must be an ISO 8601 date or time such as 2026-11-21 or "
            f"2026-11-21T14:30:00Z, not {value!r}."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
