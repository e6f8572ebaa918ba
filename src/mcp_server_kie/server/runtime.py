"""Open everything the server needs, in order, and close it in reverse.

store -> HTTP client -> (sandbox) -> kie client -> engine -> sidecar -> poller. Built once per
process by the CLI (and by tests), before the MCP transport starts, so a webhook arriving in
the first moment already finds a working engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx2
import uvicorn
from starlette.routing import BaseRoute

from mcp_server_kie.config import MISSING_KEY_MESSAGE, Settings
from mcp_server_kie.domain import MediaKind
from mcp_server_kie.jobs import Engine, Library, OutputStore, Poller
from mcp_server_kie.jobs.budget import Budget
from mcp_server_kie.jobs.pace import shared_paces
from mcp_server_kie.jobs.references import ReferenceResolver
from mcp_server_kie.kie.client import KieClient
from mcp_server_kie.kie.limits import KieLimits
from mcp_server_kie.media import Fetcher, FetchLimits, SsrfPolicy, origin_of, parse_allow_hosts
from mcp_server_kie.media.tempfiles import remove_abandoned
from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from mcp_server_kie.server.access import LocalAccess
from mcp_server_kie.server.app import build_server
from mcp_server_kie.server.gallery import gallery_routes
from mcp_server_kie.server.http import mcp_http_route
from mcp_server_kie.server.media_routes import media_routes
from mcp_server_kie.server.sidecar import create_sidecar, instance_id
from mcp_server_kie.storage import Store
from mcp_server_kie.tools import ToolContext
from mcp_server_kie.tools.results import MediaLinks

log = logging.getLogger(__name__)

_SHUTDOWN_GRACE_SECONDS = 1


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    tools: ToolContext
    sidecar_url: str | None  # where the sidecar listens locally (None: port taken elsewhere)


@asynccontextmanager
async def open_runtime(settings: Settings, *, mcp_http: bool = False) -> AsyncIterator[Runtime]:
    """Everything running. With ``mcp_http`` the sidecar also serves MCP at /mcp (and must
    get its port: there is no point carrying on without it)."""
    async with AsyncExitStack() as stack:
        store = await Store.connect(settings.database_url, settings.database_path)
        stack.push_async_callback(store.close)
        http = httpx2.AsyncClient(
            timeout=httpx2.Timeout(settings.request_timeout, connect=10.0),
            follow_redirects=False,
        )
        stack.push_async_callback(http.aclose)

        base_url, upload_url = settings.base_url, settings.upload_base_url
        if settings.sandbox:
            sandbox = await stack.enter_async_context(
                serve_sandbox(
                    SandboxConfig(
                        api_key=settings.api_key_value() or "",
                        image_seconds=settings.sandbox_image_seconds,
                        video_seconds=settings.sandbox_video_seconds,
                        hmac_key=settings.webhook_hmac_key_value(),
                    )
                )
            )
            base_url = upload_url = sandbox.base_url
            log.info("sandbox mode: simulated kie.ai at %s", base_url)

        key = settings.api_key_value()
        limits = KieLimits(creates=settings.create_limit, status_queries=settings.status_limit)
        shared = store.backend_kind == "postgresql"  # replicas keep kie's account limits together
        kie = (
            KieClient(
                http,
                api_key=key,
                base_url=base_url,
                upload_base_url=upload_url,
                limits=limits,
                paces=shared_paces(store, key, limits) if shared else None,
            )
            if key
            else None
        )
        fetcher = _fetcher(settings, base_url)
        stack.push_async_callback(fetcher.aclose)
        engine = Engine(
            store,
            kie,
            OutputStore(fetcher, settings.media_dir),
            references=ReferenceResolver(settings.allowed_input_dirs),
            not_configured_message=MISSING_KEY_MESSAGE,
            webhook_hmac_key=settings.webhook_hmac_key_value(),
            lease_seconds=settings.lease_seconds,
        )
        stack.push_async_callback(engine.close)
        await _follow_changes(engine, stack)

        links = MediaLinks()
        tools = ToolContext(
            engine=engine,
            library=Library(store, settings.media_dir),
            budget=Budget(settings.max_credits_per_job, settings.max_credits_per_day),
            links=links,
            max_wait_seconds=settings.max_wait_seconds,
            setup_error=None if kie else MISSING_KEY_MESSAGE,
        )
        token = settings.http_token.get_secret_value() if settings.http_token else None
        access = LocalAccess(token)
        routes = media_routes(store, engine.signals, settings.media_dir, access, links=links)
        routes += gallery_routes(store, tools.library, links, access)
        if mcp_http:
            mcp_route, manager = mcp_http_route(
                build_server(tools), token=token, extra_hosts=settings.extra_http_hosts()
            )
            routes.append(mcp_route)  # a catch-all mount: last
            await stack.enter_async_context(manager.run())
        sidecar_url = await stack.enter_async_context(
            _serve_sidecar(engine, settings, routes, required=mcp_http)
        )
        links.http_base = sidecar_url
        if sidecar_url:
            log.info("gallery: open %s/ in a browser", sidecar_url)
        public_url = settings.public_url
        if public_url is None and settings.sandbox and settings.sandbox_callbacks:
            public_url = sidecar_url  # the simulator runs here, so it can reach loopback
        engine.set_public_url(public_url)
        if settings.public_url and settings.webhook_hmac_key_value() is None:
            log.warning(
                "callbacks are not signature-checked: set KIE_WEBHOOK_HMAC_KEY to kie.ai's "
                "webhook HMAC key (https://kie.ai/settings) to refuse forged deliveries"
            )
        log.info(
            "callbacks: %s", f"via {public_url}" if public_url else "off; jobs finish by polling"
        )

        removed = await asyncio.to_thread(remove_abandoned, settings.media_dir)
        if removed:
            log.info("removed %d temporary file(s) left by an interrupted download", removed)
        await engine.process_inbox()  # deliveries a previous run accepted but did not finish
        deadlines = {
            MediaKind.IMAGE: settings.image_deadline_seconds,
            MediaKind.VIDEO: settings.video_deadline_seconds,
        }
        poller = Poller(engine, deadlines=deadlines)
        poller_task = asyncio.create_task(poller.run(), name="kie-poller")
        stack.push_async_callback(_cancel, poller_task)

        yield Runtime(
            settings=settings,
            engine=engine,
            tools=tools,
            sidecar_url=sidecar_url,
        )


async def _follow_changes(engine: Engine, stack: AsyncExitStack) -> None:
    """Hear of jobs other replicas change (PostgreSQL LISTEN/NOTIFY), from before the first
    request: a waiter here is woken by a completion there."""
    ready = asyncio.Event()
    follower = asyncio.create_task(engine.follow_changes(ready), name="kie-job-changes")
    stack.push_async_callback(_cancel, follower)
    try:
        async with asyncio.timeout(30):
            await ready.wait()
    except TimeoutError:
        log.warning("not yet hearing of other replicas' job changes; waiters re-read the store")


def _fetcher(settings: Settings, kie_base_url: str) -> Fetcher:
    """Result downloads under the SSRF policy. The kie API origin in use (the sandbox, in
    sandbox mode) is allowed like the configured hosts: the server already trusts it with the
    API key, and it is where a local simulator or mirror serves its files."""
    allowed = parse_allow_hosts((settings.media_allow_hosts or "").split(","))
    policy = SsrfPolicy(allow_hosts=allowed | {origin_of(kie_base_url)})
    limits = FetchLimits(
        max_image_bytes=settings.max_image_bytes,
        max_video_bytes=settings.max_video_bytes,
        image_seconds=settings.image_download_seconds,
        video_seconds=settings.video_download_seconds,
        read_timeout=settings.download_read_timeout,
    )
    return Fetcher(policy, limits)


@asynccontextmanager
async def _serve_sidecar(
    engine: Engine, settings: Settings, local_routes: Sequence[BaseRoute], *, required: bool
) -> AsyncIterator[str | None]:
    """Run the sidecar under uvicorn in this event loop. If the port is taken (say, by a second
    instance on the same data directory), carry on without it: jobs still finish by polling
    and through the shared store."""
    family = socket.AF_INET6 if ":" in settings.webhook_host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio disables Nagle only on sockets that say TCP, and uvicorn
    # writes a response's head and body apart, so each answer would wait ~40 ms for an ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((settings.webhook_host, settings.webhook_port))
    except OSError as exc:
        sock.close()
        if required:
            raise SystemExit(
                f"cannot listen on {settings.webhook_host}:{settings.webhook_port}: "
                f"{exc.strerror}. Choose another port with --port or KIE_WEBHOOK_PORT."
            ) from None
        log.warning(
            "webhook sidecar not started: cannot listen on %s:%s (%s)",
            settings.webhook_host,
            settings.webhook_port,
            exc.strerror,
        )
        yield None
        return
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_sidecar(engine, local_routes, instance=instance_id(settings.database_path)),
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_keep_alive=5,
        limit_concurrency=1000,
        # Whatever is still sending after this (a slow download) is cut off.
        timeout_graceful_shutdown=_SHUTDOWN_GRACE_SECONDS,
    )
    server = _SidecarServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="kie-sidecar")
    async with asyncio.timeout(10):
        while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn offers a flag only
            await asyncio.sleep(0.01)
    if task.done():
        task.result()
    host = settings.webhook_host
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    log.info("webhook sidecar listening on %s", url)
    try:
        yield url
    finally:
        engine.signals.drop_watchers()  # ends open /events streams (gallery tabs)
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)
        sock.close()


class _SidecarServer(uvicorn.Server):
    """uvicorn without its signal handling: the CLI owns SIGINT/SIGTERM for the process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
