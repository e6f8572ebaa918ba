"""/mcp over streamable HTTP, served in-process: its SSE answers carry event ids (the event
store is mounted), so a client can resume with Last-Event-ID."""

from __future__ import annotations

from pathlib import Path

import httpx2

from test_access_mutants import http_runtime
from test_http_transport import INIT, MCP_HEADERS


async def test_mcp_answers_carry_event_ids(tmp_path: Path) -> None:
    async with (
        http_runtime(tmp_path, None) as runtime,
        httpx2.AsyncClient(base_url=runtime.sidecar_url or "") as http,
    ):
        answer = await http.post("/mcp", json=INIT, headers=MCP_HEADERS)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    lines = answer.text.splitlines()
    ids = [line for line in lines if line.startswith("id:")]
    data = [line for line in lines if line.startswith("data:")]
    assert data and len(ids) >= len(data), answer.text
