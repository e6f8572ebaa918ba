"""Access checks that a mutant must not survive: every forwarding header keeps a proxied
request out of the local-only routes, every token check refuses near misses and truncations,
and /mcp takes its token only as a bearer header (never a cookie or ?token=).

Requests go through the real uvicorn sidecar, whose proxy-header handling rewrites the client
from X-Forwarded-For: so that header is sent with a loopback value, and only our own check
can tell the request was proxied.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import pytest
from pydantic import SecretStr

from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from mcp_server_kie.server.access import TOKEN_COOKIE
from mcp_server_kie.server.runtime import Runtime, open_runtime
from support import SANDBOX_KEY, settings_for
from test_http_transport import INIT, MCP_HEADERS
from test_webhook_security import task_of
from test_webhook_sidecar import callback_body, start_job

TOKEN = "Tk_0123456789abcdefghijklmnopqrstuvwxyz"

FORWARDING = {
    "Forwarded": "for=127.0.0.1;proto=https",
    "X-Forwarded-For": "127.0.0.1",
    "X-Forwarded-Host": "localhost",
    "X-Forwarded-Proto": "http",
    "X-Real-IP": "127.0.0.1",
    "CF-Connecting-IP": "127.0.0.1",
    "True-Client-IP": "127.0.0.1",
    "X-Original-Forwarded-For": "127.0.0.1",
}


def near_misses(token: str) -> list[str]:
    flip = lambda c: chr(ord(c) ^ 1)  # noqa: E731
    middle = len(token) // 2
    return [
        token[:4],  # a comparison of the first bytes only
        token[:-1],  # truncated by one
        token[: len(token) // 2],
        token + "x",  # one too many
        flip(token[0]) + token[1:],
        token[:middle] + flip(token[middle]) + token[middle + 1 :],
        token[:-1] + flip(token[-1]),
        token.swapcase(),
    ]


@asynccontextmanager
async def http_runtime(tmp_path: Path, token: str | None) -> AsyncIterator[Runtime]:
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=60)
    async with serve_sandbox(config) as sandbox:
        settings = settings_for(sandbox, tmp_path, webhooks=True).model_copy(
            update={"http_token": SecretStr(token) if token else None}
        )
        async with open_runtime(settings, mcp_http=True) as runtime:
            runtime.sandbox = sandbox  # type: ignore[attr-defined]
            yield runtime


async def test_every_forwarding_header_keeps_proxied_requests_out_of_local_routes(
    tmp_path: Path,
) -> None:
    async with (
        http_runtime(tmp_path, None) as open_rt,
        httpx2.AsyncClient(base_url=open_rt.sidecar_url or "") as http,
    ):
        assert (await http.get("/api/media")).status_code == 200
        assert (await http.post("/mcp", json=INIT, headers=MCP_HEADERS)).status_code == 200
        for name, value in FORWARDING.items():
            media = await http.get("/api/media", headers={name: value})
            assert media.status_code == 404, name
            gallery = await http.get("/", headers={name: value})
            assert gallery.status_code == 404, name
            mcp = await http.post("/mcp", json=INIT, headers={**MCP_HEADERS, name: value})
            assert mcp.status_code == 404, name


async def test_mcp_refuses_near_miss_tokens_cookies_and_query_tokens(tmp_path: Path) -> None:
    async with (
        http_runtime(tmp_path, TOKEN) as token_rt,
        httpx2.AsyncClient(base_url=token_rt.sidecar_url or "") as http,
    ):
        good = {**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}"}
        assert (await http.post("/mcp", json=INIT, headers=good)).status_code == 200
        for wrong in near_misses(TOKEN):
            bad = {**MCP_HEADERS, "Authorization": f"Bearer {wrong}"}
            assert (await http.post("/mcp", json=INIT, headers=bad)).status_code == 401, wrong
        by_cookie = await http.post(
            "/mcp", json=INIT, headers={**MCP_HEADERS, "Cookie": f"{TOKEN_COOKIE}={TOKEN}"}
        )
        assert by_cookie.status_code == 401
        by_query = await http.post(f"/mcp?token={TOKEN}", json=INIT, headers=MCP_HEADERS)
        assert by_query.status_code == 401


@pytest.mark.parametrize("carrier", ["bearer", "cookie", "query"])
async def test_local_routes_refuse_near_miss_tokens_in_every_carrier(
    tmp_path: Path, carrier: str
) -> None:
    def request(value: str) -> tuple[str, dict[str, str]]:
        if carrier == "bearer":
            return "/", {"Authorization": f"Bearer {value}"}
        if carrier == "cookie":
            return "/", {"Cookie": f"{TOKEN_COOKIE}={value}"}
        return f"/?token={value}", {}

    async with (
        http_runtime(tmp_path, TOKEN) as token_rt,
        httpx2.AsyncClient(base_url=token_rt.sidecar_url or "") as http,
    ):
        path, headers = request(TOKEN)
        # The page trades a token in the address for a cookie (303); the others answer 200.
        assert (await http.get(path, headers=headers)).status_code in (200, 303)
        for wrong in near_misses(TOKEN):
            http.cookies.clear()  # the page may have traded the good token for a cookie
            path, headers = request(wrong)
            assert (await http.get(path, headers=headers)).status_code == 401, wrong


async def test_webhooks_refuse_near_miss_callback_tokens(tmp_path: Path) -> None:
    async with http_runtime(tmp_path, None) as open_rt:
        await _near_miss_webhooks(open_rt)


async def _near_miss_webhooks(open_rt: Runtime) -> None:
    sandbox = open_rt.sandbox  # type: ignore[attr-defined]
    sandbox.faults.drop_callbacks = True
    job_id = await start_job(open_rt)
    task = task_of(sandbox, job_id)
    assert task.callback_url is not None
    url, token = task.callback_url.split("?token=")
    body = json.dumps(callback_body(task.task_id, "generating")).encode()
    headers = {"content-type": "application/json"}
    async with httpx2.AsyncClient() as http:
        for wrong in near_misses(token):
            refused = await http.post(f"{url}?token={wrong}", content=body, headers=headers)
            assert refused.status_code == 403, wrong
        assert await open_rt.engine.store.count_deliveries(job_id) == 0
        accepted = await http.post(f"{url}?token={token}", content=body, headers=headers)
        assert accepted.status_code == 200
