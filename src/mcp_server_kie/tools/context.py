"""What every tool gets from the running server, and how a tool waits for a job."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from mcp_server_kie.catalog import COMMITTED, Catalogue
from mcp_server_kie.domain import Job
from mcp_server_kie.jobs import Engine, Library
from mcp_server_kie.jobs.budget import Budget
from mcp_server_kie.tools.results import MediaLinks

log = logging.getLogger(__name__)

# A wait sends a progress notification at least this often, so hosts see the call is alive.
_PROGRESS_EVERY_SECONDS = 2.0


@dataclass
class ToolContext:
    engine: Engine
    library: Library
    budget: Budget
    max_wait_seconds: float
    links: MediaLinks = field(default_factory=MediaLinks)
    catalogue: Catalogue = COMMITTED  # the models offered now (kie's live list when refreshed)
    setup_error: str | None = None  # set when kie.ai is not configured: every tool says so
    database_path: Path | None = None  # named in messages about a failing data folder


def tool_context(ctx: Context) -> ToolContext:
    state = ctx.request_context.lifespan_context
    if not isinstance(state, ToolContext):
        raise ToolError("The server is still starting; try again in a moment.")
    if state.setup_error:
        raise ToolError(state.setup_error)
    return state


def bounded_wait(state: ToolContext, requested: float | None, default: float) -> float:
    wait = default if requested is None else requested
    return max(0.0, min(wait, state.max_wait_seconds))


async def wait_with_progress(state: ToolContext, ctx: Context, job: Job, seconds: float) -> Job:
    """Wait up to ``seconds`` for a job, sending progress at each state change and at least
    every couple of seconds (the value is the seconds waited, so it always increases).

    A cancelled call stops waiting only: the job belongs to kie.ai and keeps running.
    """
    if job.status.terminal or seconds <= 0:
        return job
    started = time.monotonic()
    last = 0.0

    async def report(current: Job) -> None:
        nonlocal last
        last = max(round(time.monotonic() - started, 2), last + 0.01)
        provider = current.task_state.value if current.task_state else current.status.value
        await ctx.report_progress(
            last, total=seconds, message=f"{current.kind.value} job {current.id}: {provider}"
        )

    waited = await state.engine.wait(
        job.id, seconds, on_update=report, heartbeat=_PROGRESS_EVERY_SECONDS
    )
    return waited or job
