"""Test support: bounded waits, loopback ports, an in-process runtime against a sandbox."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from mcp import Client

from mcp_server_kie.config import Settings
from mcp_server_kie.domain import Job
from mcp_server_kie.sandbox import Sandbox, SandboxConfig, serve_sandbox
from mcp_server_kie.server.runtime import Runtime, open_runtime

T = TypeVar("T")

SANDBOX_KEY = "sandbox-test-key"


async def eventually(
    probe: Callable[[], Awaitable[T | None]] | Callable[[], T | None],
    timeout: float = 10.0,
    what: str = "condition",
) -> T:
    """Poll ``probe`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def real_server(code: str, data_dir: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (which starts the server over stdio) in a Python process of its own: a real
    server (an API key, no sandbox) that stops at once, its input being closed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
    env.update(
        KIE_API_KEY=SANDBOX_KEY,
        KIE_BASE_URL="http://127.0.0.1:9",  # never called: the server stops at once
        KIE_DATA_DIR=str(data_dir),
        KIE_WEBHOOK_PORT=str(free_port()),
    )
    env.update(settings)
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        stdin=subprocess.DEVNULL,  # end of input: the stdio server stops
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def settings_for(
    sandbox: Sandbox,
    data_dir: Path,
    *,
    webhooks: bool,
    port: int | None = None,
    hmac_key: str | None = None,
) -> Settings:
    """Real (non-sandbox) mode pointed at a sandbox: exactly how production talks to kie."""
    port = port if port is not None else free_port()
    return Settings(
        api_key=SANDBOX_KEY,  # type: ignore[arg-type]
        base_url=sandbox.base_url,
        data_dir=data_dir,
        webhook_port=port,
        public_url=f"http://127.0.0.1:{port}" if webhooks else None,
        webhook_hmac_key=hmac_key,  # type: ignore[arg-type]
    )


@asynccontextmanager
async def sandbox_and_runtime(
    data_dir: Path,
    *,
    webhooks: bool = True,
    image_seconds: float = 0.3,
    video_seconds: float = 0.6,
    hmac_key: str | None = None,
    **overrides: object,
) -> AsyncIterator[tuple[Sandbox, Runtime]]:
    """A sandbox and a runtime in real mode pointed at it; with ``hmac_key`` the sandbox signs
    its callbacks and the runtime requires the signature; ``overrides`` are Settings fields."""
    config = SandboxConfig(
        api_key=SANDBOX_KEY,
        image_seconds=image_seconds,
        video_seconds=video_seconds,
        hmac_key=hmac_key,
    )
    async with serve_sandbox(config) as sandbox:
        settings = settings_for(sandbox, data_dir, webhooks=webhooks, hmac_key=hmac_key)
        settings = settings.model_copy(update=overrides)
        async with open_runtime(settings) as runtime:
            yield sandbox, runtime


async def call(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    """Call a tool that must succeed; its structured result."""
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


async def previews_made(runtime: Runtime, job_id: str) -> Job | None:
    """The job once it is terminal and its previews are made (they follow its completion)."""
    job = await runtime.engine.get(job_id)
    if job is None or not job.status.terminal or any(a.preview_pending for a in job.assets):
        return None
    return job
