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
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourceUpdated
from mcp.types import (
    EmptyResult,
    InputRequiredResult,
    SubscribeRequestParams,
    UnsubscribeRequestParams,
)
from pydantic import AnyUrl

from mcp_server_kie import __version__
from mcp_server_kie.jobs.waiters import JobSignals
from mcp_server_kie.media.sniff import sniff
from mcp_server_kie.tools import ToolContext, register_tools
from mcp_server_kie.tools.prompts import register_prompts
from mcp_server_kie.tools.resources import register_resources

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
list_media finds earlier results by prompt words, model, kind or client_ref."""


class _KieServer(MCPServer):
    async def read_resource(
        self, uri: AnyUrl | str, context: Context[Any, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        """Stored files are served with the type their bytes have (the resource template can
        only declare one type for every file)."""
        result = await super().read_resource(uri, context)
        if isinstance(result, InputRequiredResult) or not str(uri).startswith("media://"):
            return result
        return [
            dataclasses.replace(item, mime_type=sniff(item.content) or item.mime_type)
            if isinstance(item.content, bytes)
            else item
            for item in result
        ]


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


def build_server(context: ToolContext) -> MCPServer:
    """The MCP server; its lifespan hands every tool the already-running engine."""
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
        "mcp-server-kie",
        title="kie.ai images and videos",
        instructions=INSTRUCTIONS,
        version=__version__,
        lifespan=lifespan,
        subscriptions=notifier.bus,
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
