"""Open everything the server needs, in order, and close it in reverse.

store -> HTTP client -> (sandbox) -> kie client -> engine -> sidecar -> poller. Built once per
process by the CLI (and by tests), before the MCP transport starts, so a webhook arriving in
the first moment already finds a working engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import ssl
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx2

from mcp_server_kie.catalog import Catalogue
from mcp_server_kie.config import MISSING_KEY_MESSAGE, Settings
from mcp_server_kie.domain import MediaKind
from mcp_server_kie.jobs import Engine, Library, OutputStore, Poller
from mcp_server_kie.jobs.budget import Budget
from mcp_server_kie.jobs.catalogue import CatalogueRefresher
from mcp_server_kie.jobs.pace import close_paces, shared_paces
from mcp_server_kie.jobs.references import ReferenceResolver
from mcp_server_kie.jobs.sweep import OrphanSweep
from mcp_server_kie.kie.client import DEFAULT_BASE_URL, KieClient
from mcp_server_kie.kie.limits import KieLimits
from mcp_server_kie.media import (
    Fetcher,
    FetchLimits,
    MediaStore,
    MediaStoreError,
    SsrfPolicy,
    open_media_store,
    origin_of,
    parse_allow_hosts,
)
from mcp_server_kie.server.access import LocalAccess
from mcp_server_kie.server.app import build_server
from mcp_server_kie.server.gallery import gallery_routes
from mcp_server_kie.server.http import mcp_http_route
from mcp_server_kie.server.media_routes import media_routes
from mcp_server_kie.server.ports import claim_sidecar_port
from mcp_server_kie.server.sidecar_server import serve_sidecar
from mcp_server_kie.storage import Store
from mcp_server_kie.tools import ToolContext
from mcp_server_kie.tools.results import MediaLinks

log = logging.getLogger(__name__)

T = TypeVar("T")


def event_loop_factory(choice: str = "auto") -> Callable[[], asyncio.AbstractEventLoop]:
    """The event loop the server runs on: uvloop where it is installed (a dependency on Linux
    and macOS), whose sockets and callbacks cost less than asyncio's own (the sidecar takes in
    webhooks ~13% faster); the standard loop elsewhere, or when ``choice`` is "asyncio"."""
    if choice != "asyncio":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop
    return asyncio.new_event_loop


def run(main: Coroutine[Any, Any, T], choice: str = "auto") -> T:
    """``asyncio.run(main)`` on the server's event loop (`event_loop_factory`)."""
    with asyncio.Runner(loop_factory=event_loop_factory(choice)) as runner:
        return runner.run(main)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    tools: ToolContext
    sidecar_url: str | None  # where the sidecar listens locally (None: port taken elsewhere)
    catalogue: CatalogueRefresher | None = None  # kie's live model list, when refreshed


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, mcp_http: bool = False, tls: ssl.SSLContext | None = None
) -> AsyncIterator[Runtime]:
    """Everything running. With ``mcp_http`` the sidecar also serves MCP at /mcp (and must
    get its port: there is no point carrying on without it). ``tls``: the trust store, when the
    caller has loaded it already (the CLI does, while it imports the rest)."""
    claimed = await claim_sidecar_port(settings, required=mcp_http)  # first: its log line too
    async with AsyncExitStack() as stack:
        if claimed.sock is not None:
            stack.callback(claimed.sock.close)
        store = await Store.connect(settings.database_url, settings.database_path)
        stack.push_async_callback(store.close)
        # kie's API and the downloads trust the same certificates (SSL_CERT_FILE / SSL_CERT_DIR
        # when set, as behind a TLS-inspecting gateway): one context, loaded once (~30-50 ms).
        if tls is None:
            tls = httpx2.create_ssl_context()
        http = httpx2.AsyncClient(
            timeout=httpx2.Timeout(settings.request_timeout, connect=10.0),
            follow_redirects=False,
            verify=tls,
        )
        stack.push_async_callback(http.aclose)

        base_url, upload_url = settings.base_url, settings.upload_base_url
        if settings.sandbox:  # imported here: a real server never loads the simulator
            from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox

            sandbox = await stack.enter_async_context(
                serve_sandbox(
                    SandboxConfig(
                        api_key=settings.api_key_value() or "",
                        image_seconds=settings.sandbox_image_seconds,
                        video_seconds=settings.sandbox_video_seconds,
                        hmac_key=settings.webhook_hmac_key_value(),
                        state_path=settings.resolved_data_dir / "sandbox-tasks.json",
                    )
                )
            )
            base_url = upload_url = sandbox.base_url
            log.info("sandbox mode: simulated kie.ai at %s", base_url)

        key = settings.api_key_value()
        limits = KieLimits(creates=settings.create_limit, status_queries=settings.status_limit)
        # Replicas on PostgreSQL keep kie's account limits together.
        paces = (
            shared_paces(store, key, limits) if key and store.backend_kind == "postgresql" else None
        )
        if paces is not None:
            stack.push_async_callback(close_paces, paces)
        kie = (
            KieClient(
                http,
                api_key=key,
                base_url=base_url,
                upload_base_url=upload_url,
                limits=limits,
                paces=paces,
            )
            if key
            else None
        )
        fetcher = _fetcher(settings, base_url, tls)
        stack.push_async_callback(fetcher.aclose)
        media = _media_store(settings)
        stack.push_async_callback(media.aclose)
        engine = Engine(
            store,
            kie,
            OutputStore(fetcher, media),
            references=ReferenceResolver(settings.allowed_input_dirs, media=media),
            not_configured_message=MISSING_KEY_MESSAGE,
            webhook_hmac_key=settings.webhook_hmac_key_value(),
            lease_seconds=settings.lease_seconds,
        )
        stack.push_async_callback(engine.close)
        await _follow_changes(engine, stack)

        links = MediaLinks()
        tools = ToolContext(
            engine=engine,
            library=Library(store, media),
            budget=Budget(settings.max_credits_per_job, settings.max_credits_per_day),
            links=links,
            max_wait_seconds=settings.max_wait_seconds,
            setup_error=None if kie else MISSING_KEY_MESSAGE,
            database_path=settings.database_path,
        )
        token = settings.http_token.get_secret_value() if settings.http_token else None
        access = LocalAccess(token)
        routes = media_routes(store, engine.signals, media, access, links=links)
        routes += gallery_routes(store, tools.library, links, access, lambda: tools.catalogue)
        if mcp_http:
            mcp_route, manager = mcp_http_route(
                build_server(tools, settings),
                token=token,
                extra_hosts=settings.extra_http_hosts(),
                cors_origins=settings.cors_origins(),
            )
            routes.append(mcp_route)  # a catch-all mount: last
            await stack.enter_async_context(manager.run())
        sidecar_url = await stack.enter_async_context(
            serve_sidecar(engine, settings, routes, claimed, media)
        )
        links.http_base = claimed.url
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

        removed = await asyncio.to_thread(media.sweep)
        if removed:
            log.info("removed %d temporary file(s) left by an interrupted download", removed)
        await engine.process_inbox()  # deliveries a previous run accepted but did not finish
        await store.prune_deliveries()  # processed deliveries of jobs that have ended
        deadlines = {
            MediaKind.IMAGE: settings.image_deadline_seconds,
            MediaKind.VIDEO: settings.video_deadline_seconds,
        }
        poller = Poller(engine, deadlines=deadlines)
        poller_task = asyncio.create_task(poller.run(), name="kie-poller")
        stack.push_async_callback(_cancel, poller_task)
        sweeper = OrphanSweep(store, media, min_age=settings.orphan_age_seconds)
        sweep_task = asyncio.create_task(sweeper.run(settings.orphan_age_seconds), name="kie-sweep")
        stack.push_async_callback(_cancel, sweep_task)
        refresher = None
        live = settings.live_catalogue
        if kie is not None and (live or (live is None and base_url == DEFAULT_BASE_URL)):

            def publish(catalogue: Catalogue) -> None:
                tools.catalogue = catalogue

            refresher = CatalogueRefresher(kie, store, publish, ttl=settings.live_catalogue_ttl)
            refresh_task = asyncio.create_task(refresher.run(), name="kie-catalogue")
            stack.push_async_callback(_cancel, refresh_task)

        # What start-up built lives as long as the server: kept out of the collector's full
        # passes, which otherwise walk all of it (~100 ms) on whichever request runs then.
        gc.freeze()
        stack.callback(gc.unfreeze)
        yield Runtime(
            settings=settings,
            engine=engine,
            tools=tools,
            sidecar_url=sidecar_url,
            catalogue=refresher,
        )


_heap_frozen = False


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


def _fetcher(settings: Settings, kie_base_url: str, tls: ssl.SSLContext) -> Fetcher:
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
    return Fetcher(policy, limits, verify=tls)


def _media_store(settings: Settings) -> MediaStore:
    """The media backend KIE_MEDIA_URL names (see media.store); a bad URL stops the start."""
    staging = settings.resolved_data_dir / "staging"
    try:
        media = open_media_store(settings.media_url, settings.media_dir, staging)
    except MediaStoreError as exc:
        raise SystemExit(str(exc)) from None
    log.info("media: %s (%s)", media.root, media.backend)
    return media


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
