"""`mcp-server-kie --http`: MCP over streamable HTTP next to the webhook and media routes, with
DNS-rebinding defence (Host 421, Origin 403) and an optional bearer token (401)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from support import call, free_port

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "probe", "version": "0"},
    },
}
VIDEO_ARGS = ("--tool-arg", "kind=video", "--format", "json", "-q")
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


@contextmanager
def http_server(data_dir: Path, **env: str) -> Iterator[str]:
    """The real CLI in --http sandbox mode, as a user starts it; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "mcp_server_kie", "serve", "--http", "--sandbox"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--data-dir", str(data_dir)],
        env={**os.environ, "KIE_SANDBOX_IMAGE_SECONDS": "0.3", **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, base)
        yield base
    finally:
        process.terminate()
        out, _err = process.communicate(timeout=20)
        assert out == b"", "nothing may be written to stdout"


def wait_until_healthy(process: subprocess.Popen[bytes], base: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    with httpx2.Client() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read().decode())  # type: ignore[union-attr]
            try:
                if http.get(f"{base}/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx2.TransportError:
                time.sleep(0.05)  # not listening yet; poll again
    raise AssertionError(f"the HTTP server did not answer /healthz within {timeout} s")


async def test_sdk_client_lists_and_calls_tools_over_http(tmp_path: Path) -> None:
    with http_server(tmp_path) as base:
        async with Client(f"{base}/mcp") as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert {"generate_image", "get_status", "list_media"} <= names
            image = await call(client, "generate_image", {"prompt": "a kite", "wait_seconds": 20})
            assert image["status"] == "completed"
            assert Path(image["outputs"][0]["path"]).is_file()
        async with httpx2.AsyncClient() as http:
            served = await http.get(image["outputs"][0]["url"])
            assert served.status_code == 200


@pytest.mark.skipif(shutil.which("npx") is None, reason="Node.js (npx) is not installed")
def test_inspector_cli_lists_and_calls_tools_over_http(tmp_path: Path) -> None:
    with http_server(tmp_path) as base:
        inspector = ["npx", "-y", "@modelcontextprotocol/inspector@2.12.0", "--cli", f"{base}/mcp"]
        listed = subprocess.run(
            [*inspector, "--method", "tools/list", "--format", "json", "-q"],
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert listed.returncode == 0, listed.stderr
        tools = {tool["name"] for tool in json.loads(listed.stdout)["result"]["tools"]}
        assert "generate_video" in tools
        called = subprocess.run(
            [*inspector, "--method", "tools/call", "--tool-name", "list_models", *VIDEO_ARGS],
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert called.returncode == 0, called.stderr
        result = json.loads(called.stdout)["result"]
        assert result["isError"] is False
        assert "kling" in json.dumps(result["structuredContent"])


async def test_foreign_host_origin_and_proxied_requests_are_refused(tmp_path: Path) -> None:
    with http_server(tmp_path) as base:
        async with httpx2.AsyncClient() as http:
            ok = await http.post(f"{base}/mcp", json=INIT, headers=MCP_HEADERS)
            assert ok.status_code == 200
            host = await http.post(
                f"{base}/mcp", json=INIT, headers={**MCP_HEADERS, "Host": "evil.example"}
            )
            assert host.status_code == 421
            origin = await http.post(
                f"{base}/mcp", json=INIT, headers={**MCP_HEADERS, "Origin": "http://evil.example"}
            )
            assert origin.status_code == 403
            proxied = await http.post(
                f"{base}/mcp", json=INIT, headers={**MCP_HEADERS, "X-Forwarded-For": "192.0.2.1"}
            )
            assert proxied.status_code == 404
            for path in ("/admin", "/openapi.json", "/files/..%2f..%2fetc/passwd", "/docs"):
                assert (await http.get(f"{base}{path}")).status_code == 404, path


async def test_token_is_required_on_mcp_and_media_when_set(tmp_path: Path) -> None:
    token = "test-http-token-0123456789"
    with http_server(tmp_path, KIE_HTTP_TOKEN=token) as base:
        async with httpx2.AsyncClient() as http:
            missing = await http.post(f"{base}/mcp", json=INIT, headers=MCP_HEADERS)
            assert missing.status_code == 401
            wrong = await http.post(
                f"{base}/mcp", json=INIT, headers={**MCP_HEADERS, "Authorization": "Bearer nope"}
            )
            assert wrong.status_code == 401
            events = await http.get(f"{base}/events")
            assert events.status_code == 401
            assert (await http.get(f"{base}/healthz")).status_code == 200
        authorised = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"})
        async with (
            authorised,
            Client(streamable_http_client(f"{base}/mcp", http_client=authorised)) as client,
        ):
            image = await call(client, "generate_image", {"prompt": "a kite", "wait_seconds": 20})
            url = image["outputs"][0]["url"]
            assert (await authorised.get(url)).status_code == 200
        async with httpx2.AsyncClient() as anonymous:
            assert (await anonymous.get(url)).status_code == 401
