"""Limits that must hold across processes on one data folder (issue 13's four failures, three of
them here): the daily credit limit, one idempotency key from many callers, and servers starting
together on an empty folder. Each process is a real server runtime (or a real store) in a child
process; the store is the only thing they share."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from mcp_server_kie.sandbox import Sandbox, SandboxConfig, serve_sandbox
from mcp_server_kie.storage import Store
from postgres_server import BACKENDS, new_database
from server_process import ServerProcess, child_env
from support import SANDBOX_KEY, free_port

CREATE = "/api/v1/jobs/createTask"


async def two_servers(
    sandbox: Sandbox, database_url: str, data: Path, logs: Path, **settings: str
) -> list[ServerProcess]:
    """Two server processes on one database (and one data folder for the media)."""
    servers = []
    for number in range(2):
        env = child_env(
            KIE_API_KEY=SANDBOX_KEY,
            KIE_BASE_URL=sandbox.base_url,
            KIE_DATA_DIR=str(data),
            KIE_DATABASE_URL=database_url,
            KIE_WEBHOOK_PORT=str(free_port()),
            KIE_MEDIA_ALLOW_HOSTS="127.0.0.1",
            **settings,
        )
        servers.append(await ServerProcess.start(env, logs / f"server{number}.log"))
    for server in servers:
        await server.event("ready")
    return servers


async def call_from_both(
    servers: list[ServerProcess], count: int, tool: str, arguments: dict[str, Any]
) -> list[dict[str, Any]]:
    """``count`` concurrent calls in each server, both sent at the same moment."""
    line = f"call {count} {tool} {json.dumps(arguments)}"
    answers = await asyncio.gather(*(s.ask(line, "called") for s in servers))
    return [result for answer in answers for result in answer["results"]]


async def close_all(servers: list[ServerProcess]) -> None:
    for server in servers:
        server.kill()
        await server.process.wait()


async def test_daily_limit_holds_across_two_processes(tmp_path: Path, database_url: str) -> None:
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.3, create_rate_limit=10_000)
    async with serve_sandbox(config) as sandbox:
        servers = await two_servers(
            sandbox, database_url, tmp_path / "data", tmp_path, KIE_MAX_CREDITS_PER_DAY="10"
        )
        try:  # nano-banana costs 4 credits: two jobs fit in 10, a third would not
            args = {"prompt": "a lantern", "wait_seconds": 0}
            results = await call_from_both(servers, 8, "generate_image", args)
        finally:
            await close_all(servers)
    started = [r for r in results if "job_id" in r]
    refused = [r["error"] for r in results if "error" in r]
    assert len(started) == 2, results
    assert len(refused) == 14
    assert all("KIE_MAX_CREDITS_PER_DAY" in text and "Nothing was sent" in text for text in refused)
    assert sandbox.count(CREATE) == 2
    store = await Store.connect(database_url)
    try:
        assert await store.count("jobs") == 2
        assert await store.credits_committed_since(0) <= 10
    finally:
        await store.close()


async def test_one_new_idempotency_key_from_ten_callers_in_two_processes(
    tmp_path: Path, database_url: str
) -> None:
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.3, create_rate_limit=10_000)
    async with serve_sandbox(config) as sandbox:
        servers = await two_servers(sandbox, database_url, tmp_path / "data", tmp_path)
        try:
            args = {"prompt": "a kite", "wait_seconds": 0, "idempotency_key": "canvas-node-7"}
            results = await call_from_both(servers, 5, "generate_image", args)
            other = {**args, "prompt": "a different kite"}
            [reused] = await call_from_both(servers[:1], 1, "generate_image", other)
            [video] = await call_from_both(servers[1:], 1, "generate_video", args)
        finally:
            await close_all(servers)
    assert [r for r in results if "error" in r] == []  # main: 6 of 10 "UNIQUE constraint"
    assert len({r["job_id"] for r in results}) == 1
    assert sandbox.count(CREATE) == 1
    job_id = results[0]["job_id"]
    for refused in (reused, video):
        text = refused["error"]
        assert "canvas-node-7" in text and "different request" in text and job_id in text
        assert "Nothing was sent" in text and "UNIQUE" not in text
    assert sandbox.count(CREATE) == 1


_OPEN_STORES = """
import asyncio, sys
from mcp_server_kie.storage import Store

async def open_close(url):
    store = await Store.connect(url)
    await store.close()

for line in sys.stdin:
    try:
        asyncio.run(open_close(line.strip()))
        print("ok", flush=True)
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}".replace(chr(10), " "), flush=True)
"""


@pytest.mark.parametrize("backend", BACKENDS)
async def test_servers_starting_together_on_an_empty_folder_never_fail(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    """Four processes open a brand-new database at the same moment, 15 times over."""

    def new_url(number: int) -> str:
        if backend == "sqlite":
            return str(tmp_path / f"round{number}" / "kie.sqlite3")
        return new_database(request.getfixturevalue("postgres_server"))

    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _OPEN_STORES,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=child_env(),
        )
        for _ in range(4)
    ]
    answers: list[str] = []
    try:
        for round_number in range(15):
            path = f"{new_url(round_number)}\n".encode()
            for child in children:
                assert child.stdin is not None
                child.stdin.write(path)
            await asyncio.gather(*(c.stdin.drain() for c in children if c.stdin))
            async with asyncio.timeout(60):
                lines = await asyncio.gather(*(c.stdout.readline() for c in children if c.stdout))
            answers += [line.decode().strip() for line in lines]
    finally:
        for child in children:
            if child.stdin:
                child.stdin.close()
            await child.wait()
    assert [a for a in answers if a != "ok"] == []
    assert len(answers) == 60
