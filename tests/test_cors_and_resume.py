"""Browser canvases on listed origins (KIE_HTTP_CORS_ORIGINS), and streams that resume.

A page on a listed origin calls /mcp and listens to /events in real Chromium; a page on
another origin cannot. /events carries the store's job_events ids and resumes from
Last-Event-ID with no missed or repeated event; /mcp streams carry event ids too.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from playwright.async_api import Browser

from mcp_server_kie.server.app import build_server
from support import call, eventually, sandbox_and_runtime
from test_gallery import browser  # noqa: F401 - the Chromium fixture
from test_http_transport import INIT, MCP_HEADERS, http_server

SECONDS = 1000


@contextmanager
def page_origin() -> Iterator[str]:
    """A web server on its own port serving an empty page: a distinct browser origin."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>canvas</title><p>canvas</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


CALL_MCP = """async ([base, init]) => {
    try {
        const response = await fetch(base + "/mcp", {
            method: "POST",
            headers: {"Content-Type": "application/json",
                      "Accept": "application/json, text/event-stream",
                      "Mcp-Protocol-Version": "2025-11-25"},
            body: JSON.stringify(init),
        });
        return {status: response.status, session: response.headers.get("Mcp-Session-Id"),
                body: await response.text()};
    } catch (error) {
        return {error: String(error)};
    }
}"""

LISTEN = """base => new Promise(resolve => {
    const source = new EventSource(base + "/events");
    window.jobEvents = [];
    source.addEventListener("job", event => window.jobEvents.push(JSON.parse(event.data)));
    source.onopen = () => resolve("open");
    source.onerror = () => { source.close(); resolve("error"); };
})"""


async def test_a_listed_origin_can_call_mcp_and_listen_and_another_cannot(
    tmp_path: Path,
    browser: Browser,  # noqa: F811
) -> None:
    with page_origin() as listed, page_origin() as unlisted:
        with http_server(tmp_path, KIE_HTTP_CORS_ORIGINS=listed) as base:
            context = await browser.new_context()
            try:
                page = await context.new_page()
                await page.goto(f"{listed}/")
                answer = await page.evaluate(CALL_MCP, [base, INIT])
                assert answer.get("status") == 200, answer
                assert answer["session"], "Mcp-Session-Id must be exposed to the page"
                assert "serverInfo" in answer["body"]
                assert await page.evaluate(LISTEN, base) == "open"
                async with Client(streamable_http_client(f"{base}/mcp")) as client:
                    done = await call(client, "generate_image", {"prompt": "x", "wait_seconds": 20})
                await page.wait_for_function(
                    "id => window.jobEvents.some(e => e.job_id === id && e.status === 'completed')",
                    arg=done["job_id"],
                    timeout=10 * SECONDS,
                )

                other = await context.new_page()
                await other.goto(f"{unlisted}/")
                refused = await other.evaluate(CALL_MCP, [base, INIT])
                assert "error" in refused, refused
                assert await other.evaluate(LISTEN, base) == "error"
            finally:
                await context.close()


def test_preflight_and_token_rules_for_a_listed_origin(tmp_path: Path) -> None:
    origin = "https://canvas.example"
    with http_server(tmp_path, KIE_HTTP_CORS_ORIGINS=origin, KIE_HTTP_TOKEN="t0ken") as base:
        wanted = "content-type, authorization, mcp-session-id, mcp-protocol-version, last-event-id"
        for path in ("/mcp", "/events", "/media/asset_000000000000000000000000"):
            preflight = httpx2.options(
                f"{base}{path}",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "POST" if path == "/mcp" else "GET",
                    "Access-Control-Request-Headers": wanted,
                },
            )
            assert preflight.status_code == 200, (path, preflight.text)
            assert preflight.headers["access-control-allow-origin"] == origin
            allowed = preflight.headers["access-control-allow-headers"].lower()
            assert all(name.strip() in allowed for name in wanted.split(",")), allowed
        foreign = httpx2.options(
            f"{base}/mcp",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in foreign.headers
        webhook = httpx2.options(
            f"{base}/healthz", headers={"Origin": origin, "Access-Control-Request-Method": "GET"}
        )
        assert "access-control-allow-origin" not in webhook.headers

        headers = {**MCP_HEADERS, "Origin": origin}
        without = httpx2.post(f"{base}/mcp", json=INIT, headers=headers)
        assert without.status_code == 401
        with_token = httpx2.post(
            f"{base}/mcp", json=INIT, headers={**headers, "Authorization": "Bearer t0ken"}
        )
        assert with_token.status_code == 200
        assert with_token.headers["access-control-allow-origin"] == origin
        assert "mcp-session-id" in with_token.headers["access-control-expose-headers"].lower()


def _sse_events(lines: list[str]) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in lines:
        if not line:
            if current:
                events.append(current)
            current = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            current[name] = value.removeprefix(" ")
    return events


async def _read_job_events(
    http: httpx2.AsyncClient,
    url: str,
    headers: dict[str, str],
    count: int,
    listening: asyncio.Event | None = None,
) -> list[dict[str, str]]:
    """Open /events and read until ``count`` events with ids arrived; then drop the stream.
    ``listening`` is set once the server says it is watching (its first comment)."""
    lines: list[str] = []
    async with asyncio.timeout(30), http.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        stream: AsyncIterator[str] = response.aiter_lines()
        async for line in stream:
            if line.startswith(": watching") and listening is not None:
                listening.set()
            lines.append(line)
            with_ids = [e for e in _sse_events([*lines, ""]) if "id" in e]
            if line == "" and len(with_ids) >= count:
                return with_ids
    raise AssertionError("the stream ended early")


async def test_events_resume_from_last_event_id_without_gaps_or_repeats(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path, image_seconds=0.2) as (_sandbox, runtime):
        store = runtime.engine.store
        url = f"{runtime.sidecar_url}/events"
        async with (
            httpx2.AsyncClient(timeout=20) as http,
            Client(build_server(runtime.tools)) as client,
        ):
            start = await store.last_job_event()
            listening = asyncio.Event()
            reader = asyncio.create_task(_read_job_events(http, url, {}, 3, listening))
            await eventually(listening.is_set, what="the stream to start watching")
            first = await call(client, "generate_image", {"prompt": "one", "wait_seconds": 20})
            seen = await reader  # created, processing, completed of the first job
            last = seen[-1]["id"]
            # While disconnected: two more jobs finish.
            for prompt in ("two", "three"):
                await call(client, "generate_image", {"prompt": prompt, "wait_seconds": 20})
            rows = await store.job_events_after(int(last))
            assert len(rows) == 6
            resumed = await _read_job_events(http, url, {"Last-Event-ID": last}, len(rows))
        assert [int(e["id"]) for e in resumed] == [row_id for row_id, _job, _status in rows]
        all_ids = [int(e["id"]) for e in seen + resumed]
        assert all_ids == sorted(set(all_ids)), "no event twice, in order"
        assert [row for row, _, _ in await store.job_events_after(start)] == all_ids
        assert json.loads(seen[-1]["data"])["job_id"] == first["job_id"]
        assert json.loads(resumed[-1]["data"])["status"] == "completed"
        # Each event shows the status its row recorded, though both jobs had finished by then.
        statuses = [json.loads(e["data"])["status"] for e in resumed]
        assert statuses == ["pending", "processing", "completed"] * 2


def test_mcp_streams_carry_event_ids_and_replay(tmp_path: Path) -> None:
    with http_server(tmp_path) as base:
        first = httpx2.post(f"{base}/mcp", json=INIT, headers=MCP_HEADERS)
        session = first.headers["mcp-session-id"]
        events = _sse_events([*first.text.splitlines(), ""])
        assert events and all("id" in e for e in events), first.text
        headers = {
            **MCP_HEADERS,
            "Mcp-Session-Id": session,
            "Mcp-Protocol-Version": "2025-11-25",
        }
        httpx2.post(
            f"{base}/mcp",
            json={"jsonrpc": "2.0", "method": "notifications/initialized"},
            headers=headers,
        )
        listing = httpx2.post(
            f"{base}/mcp",
            json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            headers=headers,
        )
        listed = _sse_events([*listing.text.splitlines(), ""])
        priming = listed[0]["id"]
        replay_headers = {**headers, "Accept": "text/event-stream", "Last-Event-ID": priming}
        with httpx2.stream("GET", f"{base}/mcp", headers=replay_headers, timeout=10) as replay:
            assert replay.status_code == 200
            for line in replay.iter_lines():
                if line.startswith("data:") and '"id":2' in line.replace(" ", ""):
                    break
            else:
                raise AssertionError("the tools/list answer was not replayed")
