"""scripts/update-catalog --online: kie's llms.txt and the OpenAPI pages it lists.

kie.ai is never reachable from tests, so a local HTTP server on 127.0.0.1 plays docs.kie.ai:
its llms.txt and pages are built from the committed snapshot (one Markdown page per doc page,
its OpenAPI document in a fenced YAML block, as kie publishes them), and the online run must
give the same endpoints, and so the same catalogue, as the offline run over the snapshot.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from mcp_server_kie.catalog import online, update
from mcp_server_kie.catalog.generate import DATA_FILE, build_catalogue, load_snapshot, render


def openapi_page(endpoints: list[dict[str, Any]]) -> str:
    """A kie doc page: a title, prose, and the OpenAPI document of its operations."""
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        request = {
            kind: {key: value for key, value in media.items() if value is not None}
            for kind, media in endpoint["request"].items()
        }
        responses = {
            status: {
                **({"description": r["description"]} if r["description"] is not None else {}),
                "content": {kind: {} for kind in r["content_types"]},
            }
            for status, r in endpoint["responses"].items()
        }
        operation = {
            "summary": endpoint["summary"],
            "operationId": endpoint["operationId"],
            "tags": endpoint["tags"],
            "parameters": endpoint["parameters"],
            "requestBody": {"content": request} if request else None,
            "responses": responses,
            "security": endpoint["security"],
            "servers": [{"url": url} for url in endpoint["servers"]],
        }
        paths.setdefault(endpoint["path"], {})[endpoint["method"].lower()] = {
            key: value for key, value in operation.items() if value is not None
        }
    document = {"openapi": "3.0.1", "info": {"title": "kie.ai", "version": "1.0.0"}}
    block = yaml.safe_dump({**document, "paths": paths}, allow_unicode=True, sort_keys=False)
    title = endpoints[0]["source_title"]
    return f"# {title}\n\n## OpenAPI Specification\n\n```yaml\n{block}```\n\nMore prose.\n"


def docs_site(snapshot: dict[str, Any]) -> dict[str, str]:
    """Path -> body of a docs.kie.ai built from a snapshot, with llms.txt's usual noise."""
    pages: dict[str, list[dict[str, Any]]] = {}
    for endpoint in snapshot["endpoints"]:
        pages.setdefault(endpoint["source_url"], []).append(endpoint)
    lines = ["# Kie AI", "", "> Kie AI API documentation.", "", "## Docs", ""]
    lines.append("- [Welcome](https://docs.kie.ai/index.md): start here")
    lines.append("- [中文](https://docs.kie.ai/cn/market/quickstart.md)")  # the Chinese mirror
    lines.append("- [Status](https://status.kie.ai/)")  # not a doc page
    site = {"/index.md": "# Welcome\n\nNo OpenAPI here.\n"}
    for url, endpoints in pages.items():
        lines.append(f"- [{endpoints[0]['source_title']}]({url}): the API")
        site[urlsplit(url).path] = openapi_page(endpoints)
    lines.append(f"- [Again]({next(iter(pages))})")  # a page listed twice is read once
    site["/llms.txt"] = "\n".join(lines) + "\n"
    return site


@contextmanager
def serve(site: dict[str, str]) -> Iterator[str]:
    requested: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requested.append(self.path)
            body = site.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/markdown; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "not found").encode())

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/llms.txt"
    finally:
        server.shutdown()
        server.server_close()
        assert "/cn/market/quickstart.md" not in requested


@pytest.fixture(scope="module")
def snapshot() -> dict[str, Any]:
    return load_snapshot()


def test_online_reading_gives_the_snapshots_endpoints(snapshot: dict[str, Any]) -> None:
    with serve(docs_site(snapshot)) as index:
        read = online.read_docs(index)
    assert read["source_index"] == index and read["failures"] == 0
    assert read["generated_at"].endswith("Z")
    assert len(read["endpoints"]) == len(snapshot["endpoints"]) == 230
    assert read["endpoints"] == snapshot["endpoints"]


def test_the_online_run_writes_the_offline_runs_catalogue(
    snapshot: dict[str, Any], tmp_path: Path
) -> None:
    output = tmp_path / "models.json"
    with serve(docs_site(snapshot)) as index:
        assert update.main(["--online", index, "--output", str(output)]) == 0
    made = json.loads(output.read_text(encoding="utf-8"))
    offline = json.loads(render(build_catalogue(snapshot)))
    committed = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    assert made.pop("source") == index
    for other in (offline, committed):
        assert other.pop("source") == online.DOCS_INDEX
        other.pop("snapshot")
    made.pop("snapshot")
    assert made == offline == committed
    assert len(made["models"]) >= 130


def test_a_page_that_cannot_be_read_stops_the_run_and_writes_nothing(
    snapshot: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = docs_site(snapshot)
    missing = "/market/google/nano-banana.md"
    del site[missing]
    output = tmp_path / "models.json"
    with serve(site) as index:
        assert update.main(["--online", index, "--output", str(output)]) == 2
    assert not output.exists()
    said = capsys.readouterr().err
    assert missing in said and "HTTP 404" in said and "Nothing was written" in said


def test_offline_is_the_default_and_kies_index_is_the_online_default() -> None:
    assert update.main(["--check"]) == 0  # the shipped snapshot, no network
    assert online.DOCS_INDEX == "https://docs.kie.ai/llms.txt"
    page = "```yaml\nopenapi: 3.0.1\npaths: {}\ninfo: {released: 2026-08-19}\n```\n"
    assert online.openapi_document(page) == {
        "openapi": "3.0.1",
        "paths": {},
        "info": {"released": "2026-08-19"},  # a date stays the string kie wrote
    }
