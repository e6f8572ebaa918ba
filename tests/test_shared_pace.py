"""kie.ai's account limits kept by several processes together: a pace shared through the
store never lets more than its limit start in any window, whoever asks; servers on one
PostgreSQL using one key never meet kie.ai's 429 between them."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from pathlib import Path

from mcp_server_kie.catalog import DEFAULT_MODEL, get_model, validate_request
from mcp_server_kie.domain import MediaKind
from mcp_server_kie.jobs.pace import SharedPace
from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from mcp_server_kie.server.runtime import open_runtime
from mcp_server_kie.storage import Store
from postgres_server import new_database
from support import SANDBOX_KEY, settings_for

CREATE = "/api/v1/jobs/createTask"


async def test_a_shared_pace_admits_its_limit_per_window_across_stores(database_url: str) -> None:
    stores = [await Store.connect(database_url) for _ in range(2)]
    try:
        paces = [SharedPace(store, "creates:test", limit=3, window=0.5) for store in stores]
        started: list[float] = []

        async def request(pace: SharedPace) -> None:
            async with pace.slot():
                started.append(time.monotonic())

        await asyncio.gather(*(request(paces[n % 2]) for n in range(9)))
        started.sort()
        # No more than 3 starts in any half second: the 4th after the 1st waited a window.
        assert len(started) == 9
        assert all(b - a >= 0.5 - 0.05 for a, b in zip(started, started[3:], strict=False))
    finally:
        for store in stores:
            await store.close()


async def test_servers_sharing_postgres_share_kies_create_limit(
    tmp_path: Path, postgres_server: str
) -> None:
    database = new_database(postgres_server)
    config = SandboxConfig(
        api_key=SANDBOX_KEY, image_seconds=0.2, create_rate_limit=4, create_rate_window=3.0
    )
    async with serve_sandbox(config) as sandbox, AsyncExitStack() as stack:
        engines = []
        for _ in range(2):
            settings = settings_for(sandbox, tmp_path / "data", webhooks=False)
            settings = settings.model_copy(update={"database_url": database, "create_limit": 4})
            runtime = await stack.enter_async_context(open_runtime(settings))
            engines.append(runtime.engine)
        spec = get_model(DEFAULT_MODEL[MediaKind.IMAGE], MediaKind.IMAGE)
        # kie's window is 10 s; the sandbox's is shorter, so our 10 s pace is the stricter.
        jobs = await asyncio.gather(
            *(
                engines[n % 2].submit(
                    MediaKind.IMAGE, validate_request(spec, f"fox {n}", {}), f"fox {n}"
                )
                for n in range(8)
            )
        )
    assert len({job.task_id for job in jobs}) == 8
    assert sandbox.count(CREATE) == 8  # not one create refused with 429
