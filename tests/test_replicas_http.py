"""MCP over HTTP on three replicas behind haproxy, configured as the README's "Running for a
team" shows: 2025-protocol clients keep their Mcp-Session-Id session on the replica that made
it (haproxy's stick table), 2026-07-28 clients are served by any replica, and kie's callbacks
reach any replica through the same front."""

from __future__ import annotations

import asyncio
import sys
from contextlib import AsyncExitStack
from pathlib import Path

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from postgres_server import new_database
from server_process import child_env
from support import SANDBOX_KEY, call, eventually, free_port
from test_replicas import haproxy_config, start_haproxy

TOKEN = "replica-test-token-0123456789"
STICKY = """    stick-table type string len 64 size 100k expire 1h
    stick store-response res.hdr(Mcp-Session-Id)
    stick match req.hdr(Mcp-Session-Id)
"""


async def test_sessions_stick_and_any_replica_serves_sessionless_clients(
    tmp_path: Path, postgres_server: str
) -> None:
    database = new_database(postgres_server)
    ports = [free_port() for _ in range(3)]
    front = free_port()
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.5)
    async with serve_sandbox(config) as sandbox, AsyncExitStack() as stack:
        replicas = []
        for n, port in enumerate(ports):
            env = child_env(
                KIE_API_KEY=SANDBOX_KEY,
                KIE_BASE_URL=sandbox.base_url,
                KIE_DATABASE_URL=database,
                KIE_PUBLIC_URL=f"http://127.0.0.1:{front}",
                KIE_MEDIA_ALLOW_HOSTS="127.0.0.1",
                KIE_HTTP_TOKEN=TOKEN,
            )
            command = [sys.executable, "-m", "mcp_server_kie", "serve", "--http"]
            args = ["--port", str(port), "--data-dir", str(tmp_path / "data")]
            with (tmp_path / f"replica{n}.log").open("wb") as log:
                replicas.append(
                    await asyncio.create_subprocess_exec(
                        *command,
                        *args,
                        env=env,
                        stdin=asyncio.subprocess.DEVNULL,
                        stdout=log,
                        stderr=log,
                    )
                )
        try:
            async with httpx2.AsyncClient() as probe:
                for port in ports:

                    async def healthy(port: int = port) -> bool:
                        try:
                            answer = await probe.get(f"http://127.0.0.1:{port}/healthz")
                        except httpx2.TransportError:
                            return False
                        return answer.json().get("database", {}).get("answers") is True

                    await eventually(healthy, timeout=30, what=f"replica on {port}")
            config_text = haproxy_config(front, ports).replace(
                "    balance random\n", "    balance roundrobin\n" + STICKY
            )
            proxy = await start_haproxy(tmp_path, front, ports, config_text)
            stack.push_async_callback(proxy.wait)
            stack.callback(proxy.kill)

            async def one_client(number: int, mode: str) -> dict[str, object]:
                http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"})
                url = f"http://127.0.0.1:{front}/mcp"
                async with (
                    http,
                    Client(streamable_http_client(url, http_client=http), mode=mode) as client,
                ):  # type: ignore[arg-type]
                    await client.list_tools()
                    args = {"prompt": f"a harbour {number}", "wait_seconds": 20}
                    job = await call(client, "generate_image", args)
                    return await call(client, "get_status", {"job_id": job["job_id"]})

            modes = ["legacy"] * 6 + ["auto"] * 3
            results = await asyncio.gather(*(one_client(n, m) for n, m in enumerate(modes)))
        finally:
            for replica in replicas:
                replica.kill()
                await replica.wait()
    assert [r["status"] for r in results] == ["completed"] * len(modes)
    assert len({r["job_id"] for r in results}) == len(modes)
    assert sum(1 for attempt in sandbox.callbacks if attempt.ok) >= len(modes)
