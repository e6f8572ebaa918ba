"""In --sandbox mode over stdio, a job still running when the host quits finishes after the
next start: the embedded simulator keeps its tasks in its own data folder (issue 17, item 7).
Two real server processes, one after the other, through the MCP SDK's stdio client."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mcp import Client, StdioServerParameters

from support import call, free_port


def server(data_dir: Path, port: int) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
    env.update(
        KIE_DATA_DIR=str(data_dir),
        KIE_WEBHOOK_PORT=str(port),
        KIE_SANDBOX_VIDEO_SECONDS="3",
        KIE_LOG_LEVEL="WARNING",
    )
    return StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_server_kie", "--sandbox"], env=env
    )


async def test_a_running_sandbox_job_completes_after_the_host_restarts(tmp_path: Path) -> None:
    port = free_port()
    async with Client(server(tmp_path, port)) as client:
        started = await call(
            client, "generate_video", {"prompt": "a paper boat drifting", "wait_seconds": 0}
        )
    assert started["status"] in ("pending", "processing")  # the host quit mid-job
    assert (tmp_path / "sandbox-tasks.json").is_file()

    async with Client(server(tmp_path, port)) as client:
        job = await call(client, "get_status", {"job_id": started["job_id"], "wait_seconds": 40})
    assert job["status"] == "completed", job.get("error")
    assert job["outputs"] and Path(job["outputs"][0]["path"]).is_file()
