"""A stdio server ends within 2 s of SIGTERM, SIGINT or a closed stdin, even while the host
keeps its end of stdin open, and the job it was running finishes after a restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from support import SANDBOX_KEY, call, free_port

EXIT_WITHIN_SECONDS = 2.0


def _env(base_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
    env.update(
        KIE_API_KEY=SANDBOX_KEY,
        KIE_BASE_URL=base_url,
        KIE_DATA_DIR=str(data_dir),
        KIE_WEBHOOK_PORT=str(free_port()),
    )
    return env


async def _rpc(proc: asyncio.subprocess.Process, message: dict[str, Any]) -> dict[str, Any]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps({"jsonrpc": "2.0", **message}).encode() + b"\n")
    await proc.stdin.drain()
    if "id" not in message:
        return {}
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        answer: dict[str, Any] = json.loads(line)
        if answer.get("id") == message["id"]:
            return answer


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "stdin closed"])
async def test_stdio_server_exits_promptly_and_the_job_resumes(tmp_path: Path, how: str) -> None:
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.3, video_seconds=3.0)
    async with serve_sandbox(config) as sandbox:
        env = _env(sandbox.base_url, tmp_path)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "mcp_server_kie",
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            init = {"protocolVersion": "2025-06-18", "capabilities": {}}
            init["clientInfo"] = {"name": "test", "version": "1"}
            await _rpc(proc, {"id": 1, "method": "initialize", "params": init})
            await _rpc(proc, {"method": "notifications/initialized"})
            started = await _rpc(
                proc,
                {
                    "id": 2,
                    "method": "tools/call",
                    "params": {
                        "name": "generate_video",
                        "arguments": {"prompt": "a slow river", "wait_seconds": 0},
                    },
                },
            )
            job = started["result"]["structuredContent"]
            assert job["status"] == "processing"

            began = time.monotonic()
            if how == "stdin closed":
                assert proc.stdin is not None
                proc.stdin.close()
            else:
                proc.send_signal(getattr(signal, how))
            code = await asyncio.wait_for(proc.wait(), EXIT_WITHIN_SECONDS)
            took = time.monotonic() - began
            assert code == 0, f"exit status {code} after {how}"
            print(f"{how}: exited in {took:.2f} s")
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()

        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "mcp_server_kie"],
            env=_env(sandbox.base_url, tmp_path),
        )
        async with Client(params) as client:
            finished = await call(
                client, "get_status", {"job_id": job["job_id"], "wait_seconds": 30}
            )
        assert finished["status"] == "completed", finished
        assert Path(finished["outputs"][0]["path"]).is_file()
