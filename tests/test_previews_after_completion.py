"""A job completes, and its waiters wake, before its preview is made (issue 16).

The preview (a JPEG thumbnail or poster frame) costs tens of milliseconds; it is made after
the job is recorded complete. These tests hold the preview maker on an event they control:
the job completes and a waiting ``get_status`` (the engine's wait) returns while the preview
is blocked; the preview then lands once, on each database and media backend; and a preview
left unmade when its process stopped is made by the next process's reconciler.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx2

from mcp_server_kie.catalog import get_model, validate_request
from mcp_server_kie.domain import Job, JobStatus, MediaKind
from mcp_server_kie.jobs import Engine, OutputStore, Poller
from mcp_server_kie.jobs.ack_gate import AckGate
from mcp_server_kie.kie.client import KieClient
from mcp_server_kie.media import Fetcher, MediaStore, open_media_store, preview_jpeg
from mcp_server_kie.media.ssrf import SsrfPolicy, origin_of
from mcp_server_kie.sandbox import Sandbox, SandboxConfig, serve_sandbox
from mcp_server_kie.storage import Store
from mcp_server_kie.tools.results import MediaLinks, tool_result
from media_backends import contents, stored
from support import SANDBOX_KEY, eventually

BLOCK_LIMIT = 30.0  # seconds a held preview maker waits before giving up on the test
HELD_PREVIEW_SECONDS = 1.0  # a preview starts within milliseconds of its job's completion


class HeldRender:
    """A preview maker that waits for ``release`` (set by the test) and counts its calls."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.calls = 0

    def __call__(self, source: Path, mime_type: str) -> bytes | None:
        self.calls += 1
        self.started.set()
        if not self.release.wait(BLOCK_LIMIT):
            raise TimeoutError("the test never released the preview")
        return preview_jpeg(source, mime_type)


@asynccontextmanager
async def engine_on(
    sandbox: Sandbox,
    database_url: str,
    media_url: str | None,
    tmp_path: Path,
    render: HeldRender,
    gate: AckGate | None = None,
) -> AsyncIterator[tuple[Engine, MediaStore]]:
    """An engine (polling mode: no public URL) on the given backends, wired as the runtime
    wires it, with ``render`` as its preview maker (and ``gate`` as its acknowledgements')."""
    async with AsyncExitStack() as stack:
        store = await Store.connect(database_url, tmp_path / "kie.sqlite3")
        stack.push_async_callback(store.close)
        http = await stack.enter_async_context(httpx2.AsyncClient(timeout=10.0))
        kie = KieClient(http, api_key=SANDBOX_KEY, base_url=sandbox.base_url)
        policy = SsrfPolicy(allow_hosts=frozenset({origin_of(sandbox.base_url)}))
        fetcher = await stack.enter_async_context(Fetcher(policy))
        media = open_media_store(media_url, tmp_path / "media", tmp_path / "staging")
        stack.push_async_callback(media.aclose)
        engine = Engine(
            store, kie, OutputStore(fetcher, media), render_preview=render, ack_gate=gate
        )
        stack.push_async_callback(engine.close)
        yield engine, media


async def submit(engine: Engine, prompt: str) -> Job:
    spec = get_model("google/nano-banana", MediaKind.IMAGE)
    return await engine.submit(MediaKind.IMAGE, validate_request(spec, prompt, {}), prompt)


async def completed(engine: Engine, job_id: str) -> Job | None:
    job = await engine.refresh(job_id)  # what a callback or the poller does
    return job if job is not None and job.status is JobStatus.COMPLETED else None


async def test_the_job_completes_and_its_waiter_returns_while_the_preview_is_blocked(
    tmp_path: Path, database_url: str, media_url: str | None
) -> None:
    render = HeldRender()
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.2)
    async with (
        serve_sandbox(config) as sandbox,
        engine_on(sandbox, database_url, media_url, tmp_path, render) as (engine, media),
    ):
        job = await submit(engine, "a heron")
        waiter = asyncio.create_task(engine.wait(job.id, seconds=BLOCK_LIMIT))
        with engine.signals.watch() as changes:
            async with asyncio.timeout(15):  # a completion that awaited the preview hangs here
                await eventually(lambda: completed(engine, job.id), what="the job to complete")
                woken = await waiter
            # The waiter has the finished job, files and all, with the preview not made yet.
            assert woken is not None and woken.status is JobStatus.COMPLETED
            [asset] = woken.assets
            assert asset.preview_pending and asset.thumbnail_path is None
            assert await stored(media, asset.path)
            assert not render.release.is_set()
            shown = tool_result(woken, MediaLinks())
            assert [block.type for block in shown.content] == ["text", "resource_link"]
            assert "still being made" in shown.content[0].text  # type: ignore[union-attr]
            # A catch-up sweep meanwhile (the reconciler's) does not start a second maker.
            await eventually(render.started.is_set, what="the preview maker to start")
            await engine.catch_up_previews()

            render.release.set()

            async def previewed() -> Job | None:
                job_now = await engine.get(job.id)
                done = job_now is not None and not job_now.assets[0].preview_pending
                return job_now if done else None

            done = await eventually(previewed, what="the preview to be recorded")

            # Watchers (MCP subscriptions, /events) hear of the preview as its own change.
            def preview_announced() -> bool:
                while not changes.empty():
                    news = changes.get_nowait()
                    if news is not None and news.assets and news.assets[0].thumbnail_path:
                        return True
                return False

            await eventually(preview_announced, what="the preview to be announced")
        [asset] = done.assets
        assert asset.thumbnail_path is not None
        thumbnail = await stored(media, asset.thumbnail_path)
        assert thumbnail is not None and thumbnail.startswith(b"\xff\xd8")  # a JPEG
        assert render.calls == 1  # made once
        folder = asset.path.removeprefix(media.root + "/").rsplit("/", 1)[0]
        assert await contents(media, folder) == sorted([asset.path, asset.thumbnail_path])


async def test_a_preview_left_unmade_by_a_stopped_process_is_made_by_the_next(
    tmp_path: Path, database_url: str, media_url: str | None
) -> None:
    stopped, next_one = HeldRender(), HeldRender()
    next_one.release.set()
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.2)
    async with serve_sandbox(config) as sandbox:
        async with engine_on(sandbox, database_url, media_url, tmp_path, stopped) as (engine, _):
            job = await submit(engine, "a kestrel")
            await eventually(lambda: completed(engine, job.id), what="the job to complete")
            await eventually(stopped.started.is_set, what="the preview maker to start")
        # The first engine stopped with its preview maker held: the preview is still pending.
        stopped.release.set()
        async with engine_on(sandbox, database_url, media_url, tmp_path, next_one) as (
            engine,
            media,
        ):
            before = await engine.get(job.id)
            assert before is not None and before.assets[0].preview_pending
            poller = asyncio.create_task(Poller(engine).run())
            try:

                async def previewed() -> Job | None:
                    job_now = await engine.get(job.id)
                    done = job_now is not None and not job_now.assets[0].preview_pending
                    return job_now if done else None

                done = await eventually(previewed, what="the reconciler to make the preview")
            finally:
                poller.cancel()
                await asyncio.gather(poller, return_exceptions=True)
            [asset] = done.assets
            assert asset.thumbnail_path is not None
            assert await stored(media, asset.thumbnail_path)
            assert next_one.calls == 1
            folder = asset.path.removeprefix(media.root + "/").rsplit("/", 1)[0]
            assert await contents(media, folder) == sorted([asset.path, asset.thumbnail_path])


async def test_previews_are_made_one_at_a_time(tmp_path: Path) -> None:
    """A burst of completions queues its previews: one is made at a time, in the background,
    so that previews never pile up against the completions still coming in."""
    render = HeldRender()
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.2)
    database = str(tmp_path / "kie.sqlite3")
    async with (
        serve_sandbox(config) as sandbox,
        engine_on(sandbox, database, None, tmp_path, render) as (engine, _),
    ):
        jobs = [await submit(engine, f"a wren, take {n}") for n in range(3)]
        for job in jobs:
            await eventually(lambda job=job: completed(engine, job.id), what="a completion")
        await eventually(render.started.is_set, what="the first preview to start")
        # Bounded: a second maker running beside the held one would start within this.
        with contextlib.suppress(AssertionError):
            await eventually(lambda: render.calls > 1, timeout=1.0, what="a second maker")
        assert render.calls == 1
        render.release.set()

        async def all_previewed() -> bool:
            now = [await engine.get(job.id) for job in jobs]
            return all(j is not None and not j.assets[0].preview_pending for j in now)

        await eventually(all_previewed, what="every preview to be recorded")
        assert render.calls == 3


async def test_a_preview_waits_while_a_callback_is_being_accepted(tmp_path: Path) -> None:
    """Previews are background work: while a callback is in the acceptance path (its checks
    and its commit), a completed job's preview is not started; once no callback is, it is."""
    render = HeldRender()
    render.release.set()  # never held here: only when it starts matters
    gate = AckGate(quiet=0.0, max_hold=3600.0)
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.2)
    async with (
        serve_sandbox(config) as sandbox,
        engine_on(sandbox, str(tmp_path / "db.sqlite3"), None, tmp_path, render, gate) as (
            engine,
            _media,
        ),
    ):
        job = await submit(engine, "a heron")
        with gate.accepting_one():
            done = await eventually(lambda: completed(engine, job.id), what="the job to complete")
            assert done.assets[0].preview_pending
            # Long enough for the preview to be made many times over if nothing held it.
            started = await asyncio.to_thread(render.started.wait, HELD_PREVIEW_SECONDS)
            assert not started, "the preview was made while a callback was being accepted"
        await eventually(render.started.is_set, what="the preview, once no callback is in flight")
