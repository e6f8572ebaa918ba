"""Build the MCPServer around a running engine, and tell subscribers when jobs change."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from mcp.server import MCPServer, ServerRequestContext
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.server.request_state import RequestStateSecurity
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourceUpdated
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    EmptyResult,
    GetPromptResult,
    InputRequiredResult,
    SubscribeRequestParams,
    UnsubscribeRequestParams,
)
from pydantic import AnyUrl, ValidationError

from mcp_server_kie import __version__
from mcp_server_kie.config import APP_NAME, Settings
from mcp_server_kie.jobs.waiters import JobSignals
from mcp_server_kie.media.sniff import sniff
from mcp_server_kie.server.eras import era_middleware
from mcp_server_kie.server.legacy_tasks import LegacyTasks
from mcp_server_kie.server.tasks import Tasks
from mcp_server_kie.server.viewer import viewer_extension
from mcp_server_kie.tools import ToolContext, register_tools
from mcp_server_kie.tools.prompts import register_prompts
from mcp_server_kie.tools.resources import not_found, register_resources

log = logging.getLogger(__name__)

INSTRUCTIONS = """\
Generates images, videos and audio with kie.ai models and keeps every result in a local media
library.
1. Start: generate_image, generate_video or generate_audio. Images and speech take 10-30 s and
   usually come back finished in the same call. Videos take 1-10 minutes and Suno songs 1-3:
   the call returns a job_id, status "processing".
2. Wait: call get_status(job_id, wait_seconds=30) until the status is completed or failed. A
   job that is still running is not an error. Never start the same generation again to
   "retry" a wait: that pays twice (pass idempotency_key if you must repeat a call).
3. Show: give the user outputs[].path (or url); the result carries a thumbnail to look at.
Each result states expected_credits (1 credit = $0.005); tell the user before costly jobs.
list_media finds earlier results by prompt words, model, kind or client_ref.
transform_media(source, operation) upscales, extends, edits (...) an earlier result by its job_id
or asset_id, as a new job."""


class _KieServer(MCPServer):
    async def read_resource(
        self, uri: AnyUrl | str, context: Context[Any, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        """Stored files are served with the type their bytes have (the resource template can
        only declare one type for every file). A URI no resource matches is "not found" in
        the caller's protocol revision."""
        try:
            result = await super().read_resource(uri, context)
        except ResourceNotFoundError as exc:
            version = context.protocol_version if context else None
            raise not_found(version, str(uri), str(exc)) from None
        if isinstance(result, InputRequiredResult) or not str(uri).startswith("media://"):
            return result
        return [
            dataclasses.replace(item, mime_type=sniff(item.content) or item.mime_type)
            if isinstance(item.content, bytes)
            else item
            for item in result
        ]

    async def get_prompt(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        context: Context[Any, Any] | None = None,
    ) -> GetPromptResult | InputRequiredResult:
        """Unknown prompts and bad arguments are the caller's mistake: JSON-RPC -32602 with
        what to fix, not the SDK's generic error."""
        try:
            return await super().get_prompt(name, arguments, context)
        except ValueError as exc:
            cause: BaseException = exc
            while cause.__cause__ is not None:  # the SDK wraps the reason twice
                cause = cause.__cause__
            if isinstance(cause, ValidationError):
                problems = "; ".join(
                    f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
                    for error in cause.errors(include_url=False)
                )
                raise MCPError(
                    INVALID_PARAMS, f"Invalid arguments for {name}: {problems}"
                ) from None
            if type(cause) is ValueError:  # unknown prompt, missing required arguments
                raise MCPError(INVALID_PARAMS, f"{cause} (prompt {name!r})") from None
            raise


class JobNotifier:
    """Sends ``job://{id}`` resource-updated notifications to both protocol eras: 2026-era
    clients listen on the subscription bus; 2025-era clients call resources/subscribe."""

    def __init__(self) -> None:
        self.bus = InMemorySubscriptionBus()
        self._legacy: dict[str, list[ServerSession]] = {}

    async def subscribe(
        self, ctx: ServerRequestContext[Any], params: SubscribeRequestParams
    ) -> EmptyResult:
        sessions = self._legacy.setdefault(str(params.uri), [])
        if ctx.session not in sessions:
            sessions.append(ctx.session)
        return EmptyResult()

    async def unsubscribe(
        self, ctx: ServerRequestContext[Any], params: UnsubscribeRequestParams
    ) -> EmptyResult:
        sessions = self._legacy.get(str(params.uri), [])
        if ctx.session in sessions:
            sessions.remove(ctx.session)
        return EmptyResult()

    async def publish(self, uri: str) -> None:
        await self.bus.publish(ResourceUpdated(uri=uri))
        for session in list(self._legacy.get(uri, ())):
            try:
                await session.send_resource_updated(AnyUrl(uri))
            except Exception:  # that client is gone
                log.debug("dropping a closed subscriber of %s", uri, exc_info=True)
                self._legacy[uri].remove(session)

    async def forward(self, signals: JobSignals) -> None:
        """Publish every job change until cancelled."""
        while True:
            with signals.watch() as queue:
                while (job := await queue.get()) is not None:
                    try:
                        await self.publish(f"job://{job.id}")
                    except Exception:
                        log.exception("could not publish the update of %s", job.id)


def build_server(context: ToolContext, settings: Settings | None = None) -> MCPServer:
    """The MCP server; its lifespan hands every tool the already-running engine. From
    ``settings``, what must match on every replica behind one load balancer: the server's
    name (the audience of the request state it seals) and the request-state keys (without
    them, a key only this process knows: state one replica sealed fails on another)."""
    keys = settings.request_state_key_list() if settings else []
    notifier = JobNotifier()

    @asynccontextmanager
    async def lifespan(_server: MCPServer) -> AsyncIterator[ToolContext]:
        task = asyncio.create_task(notifier.forward(context.engine.signals))
        try:
            yield context
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    server = _KieServer(
        settings.mcp_server_name if settings else APP_NAME,
        title="kie.ai images and videos",
        instructions=INSTRUCTIONS,
        version=__version__,
        lifespan=lifespan,
        subscriptions=notifier.bus,
        # 2025-11-25 tasks shape whole answers: outermost, before the era shaping.
        middleware=[LegacyTasks(context), era_middleware],
        extensions=[viewer_extension(), Tasks(context)],
        request_state_security=RequestStateSecurity(keys=keys) if keys else None,
    )
    register_tools(server)
    register_resources(server)
    register_prompts(server)
    # 2025-era resources/subscribe has no public registration in the SDK (mcp-sdk-2.md §1.8).
    lowlevel = server._lowlevel_server
    lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, notifier.subscribe)
    lowlevel.add_request_handler(
        "resources/unsubscribe", UnsubscribeRequestParams, notifier.unsubscribe
    )
    return server
