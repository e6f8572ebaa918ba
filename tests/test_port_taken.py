"""A taken webhook port: `--http` says so in one sentence and exits non-zero; a second
server on another data folder says so in its first log line, listens elsewhere, and `doctor`
explains it (issue 17, friction items 1 and 2)."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2

from mcp_server_kie.server.sidecar import instance_id
from support import eventually, free_port


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
    return {**env, **extra}


def test_http_on_a_taken_port_is_one_sentence_and_a_failure(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "mcp_server_kie", "--sandbox", "--http", "--port", str(port)],
            env=clean_env(KIE_DATA_DIR=str(tmp_path)),
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in lines[0] and "--port" in lines[0]
    assert "Traceback" not in done.stderr and "ExceptionGroup" not in done.stderr


@asynccontextmanager
async def http_server(data_dir: Path, port: int) -> AsyncIterator[str]:
    """A sandbox server over HTTP on ``port``, until the block ends."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mcp_server_kie",
        "--sandbox",
        "--http",
        "--port",
        str(port),
        env=clean_env(KIE_DATA_DIR=str(data_dir)),
        stdin=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    async def healthy() -> bool:
        try:
            async with httpx2.AsyncClient(timeout=2) as http:
                return (await http.get(f"{url}/healthz")).status_code == 200
        except httpx2.HTTPError:
            return False

    try:
        await eventually(healthy, timeout=30, what="the first server's /healthz")
        yield url
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)


async def test_a_second_server_on_a_taken_port_says_so_first_and_listens_elsewhere(
    tmp_path: Path,
) -> None:
    port = free_port()
    async with http_server(tmp_path / "first", port):
        second = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "mcp_server_kie",
            "--sandbox",
            env=clean_env(
                KIE_DATA_DIR=str(tmp_path / "second"),
                KIE_WEBHOOK_PORT=str(port),
                KIE_LOG_LEVEL="INFO",
            ),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            assert second.stderr is not None and second.stdin is not None
            first_line = (await asyncio.wait_for(second.stderr.readline(), 30)).decode()
            assert f"127.0.0.1:{port} is taken by another mcp-server-kie on a different data" in (
                first_line
            )
            found = re.search(r"listen on (http://127\.0\.0\.1:\d+) instead", first_line)
            assert found, first_line
            own = found.group(1)
            assert own != f"http://127.0.0.1:{port}"

            async def own_healthz() -> dict[str, str] | None:
                try:
                    async with httpx2.AsyncClient(timeout=2) as http:
                        return dict((await http.get(f"{own}/healthz")).json())
                except httpx2.HTTPError:
                    return None

            health = await eventually(own_healthz, timeout=30, what="the second's sidecar")
            expected = instance_id(tmp_path / "second" / "kie.sqlite3")
            assert health["instance"] == expected
        finally:
            second.stdin.close()
            await asyncio.wait_for(second.wait(), 30)

        doctor = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "mcp_server_kie",
            "doctor",
            "--sandbox",
            "--port",
            str(port),
            env=clean_env(KIE_DATA_DIR=str(tmp_path / "second")),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(doctor.communicate(), 60)
    report = out.decode()
    assert doctor.returncode == 1, report + err.decode()
    line = next(line for line in report.splitlines() if "webhook port" in line)
    assert "[FAIL]" in line and "another mcp-server-kie on a different data folder" in line
    assert "KIE_WEBHOOK_PORT" in line
