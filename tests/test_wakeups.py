"""Wake-ups across processes: a job finished by one server wakes another server's waiters
and its watchers (MCP resource subscribers, /events). On PostgreSQL through LISTEN/NOTIFY, at
once; on SQLite the waiter finds it by re-reading the store (watchers hear only their own
process there)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

from mcp_server_kie.catalog import DEFAULT_MODEL, get_model, validate_request
from mcp_server_kie.domain import Job, JobStatus, MediaKind
from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from mcp_server_kie.server.runtime import open_runtime
from support import SANDBOX_KEY, settings_for


async def test_a_completion_on_one_server_wakes_the_other(
    tmp_path: Path, database_url: str
) -> None:
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.3)
    async with serve_sandbox(config) as sandbox, AsyncExitStack() as stack:
        runtimes = []
        for webhooks in (False, True):  # only the second gets kie's callbacks
            settings = settings_for(sandbox, tmp_path / "data", webhooks=webhooks)
            settings = settings.model_copy(update={"database_url": database_url})
            runtimes.append(await stack.enter_async_context(open_runtime(settings)))
        waiting, finishing = (runtime.engine for runtime in runtimes)
        spec = get_model(DEFAULT_MODEL[MediaKind.IMAGE], MediaKind.IMAGE)
        with waiting.signals.watch() as news:
            job = await finishing.submit(
                MediaKind.IMAGE, validate_request(spec, "an owl", {}), "an owl"
            )
            waited = await waiting.wait(job.id, 20)
            assert waited is not None and waited.status is JobStatus.COMPLETED
            if database_url.startswith("postgresql"):
                heard: list[Job | None] = []
                async with asyncio.timeout(10):
                    while not heard or heard[-1] is None or not heard[-1].status.terminal:
                        heard.append(await news.get())
                assert heard[-1] is not None and heard[-1].id == job.id
                assert heard[-1].status is JobStatus.COMPLETED and heard[-1].assets
        assert len(sandbox.callbacks) >= 1
