"""KIE_CREATE_LIMIT and KIE_STATUS_LIMIT set the pace the server keeps with kie.ai, for an
account whose limits kie's support has raised (the default is kie's 20 creates per 10 s)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from mcp_server_kie.catalog import get_model, validate_request
from mcp_server_kie.domain import MediaKind
from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from mcp_server_kie.server.runtime import open_runtime
from support import SANDBOX_KEY, settings_for


async def test_a_raised_create_limit_lets_a_burst_through_without_waiting(tmp_path: Path) -> None:
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=30, create_rate_limit=40)
    async with serve_sandbox(config) as sandbox:
        settings = settings_for(sandbox, tmp_path, webhooks=False).model_copy(
            update={"create_limit": 40, "status_limit": 50}
        )
        async with open_runtime(settings) as runtime:
            spec = get_model("google/nano-banana", MediaKind.IMAGE)
            started = time.monotonic()
            jobs = await asyncio.gather(
                *(
                    runtime.engine.submit(
                        MediaKind.IMAGE, validate_request(spec, f"fox {n}", {}), f"fox {n}"
                    )
                    for n in range(30)
                )
            )
            elapsed = time.monotonic() - started
    assert all(job.task_id for job in jobs)
    assert sandbox.count("/api/v1/jobs/createTask") == 30
    # At the default 20 per 10 s the last ten would wait about ten seconds for a slot.
    assert elapsed < 8, f"30 creates took {elapsed:.1f} s"
