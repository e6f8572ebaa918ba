"""/healthz reads the media store with a bounded, read-only probe: a bucket whose endpoint
accepts connections and never answers makes the answer "degraded" within seconds, instead of
holding the health check (and the load balancer behind it) for the store's own timeouts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx2
import pytest

from mcp_server_kie.media import open_media_store
from mcp_server_kie.server.sidecar import create_sidecar
from support import sandbox_and_runtime


async def test_healthz_gives_up_on_a_media_store_that_never_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    accepted = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        await reader.read()  # hold the connection open, answer nothing
        writer.close()

    endpoint = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = endpoint.sockets[0].getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    stalled = open_media_store("s3://stalled/media", tmp_path / "media", tmp_path / "staging")
    async with endpoint, sandbox_and_runtime(tmp_path / "data") as (_sandbox, runtime):
        app = create_sidecar(runtime.engine, media=stalled)
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            async with asyncio.timeout(20):  # the probe's own bound is 3 s; the store's, 120 s
                response = await http.get("/healthz")
        assert accepted.is_set()  # the probe did reach the endpoint
        assert response.status_code == 200  # the database answers
        assert response.json()["status"] == "degraded"
        assert response.json()["media"] == {"backend": "s3", "ok": False}
        endpoint.close()
