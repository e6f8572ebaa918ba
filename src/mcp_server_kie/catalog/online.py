"""Read kie.ai's documentation online: ``llms.txt`` and the OpenAPI pages it lists.

``read_docs(index_url)`` returns a snapshot of the shape ``build_catalogue`` reads (the shape
of the shipped snapshot, ``reference/``): one endpoint per OpenAPI operation of every English
page. ``llms.txt`` is kie's Markdown index of its documentation, one ``[Title](URL.md)`` link
per page; each page is Markdown whose fenced ``yaml`` block is an OpenAPI document (``openapi:``,
``paths``...). Pages are fetched from the place ``llms.txt`` came from (its origin, the link's
path), so a local mirror of docs.kie.ai reads the same as the site; ``source_url`` keeps the
link as kie wrote it, so the catalogue's documentation URLs do not depend on where it was read.
A page that cannot be fetched or parsed stops the run with its URL: nothing is written.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx2
import yaml

DOCS_INDEX = "https://docs.kie.ai/llms.txt"
DOCS_HOST = "docs.kie.ai"
HTTP_METHODS = ("get", "post", "put", "patch", "delete", "options", "head", "trace")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_FENCE = re.compile(r"^```ya?ml[^\S\r\n]*\r?\n(.*?)^```[^\S\r\n]*$", re.MULTILINE | re.DOTALL)
_HEADING = re.compile(r"^#\s+(.+)$", re.MULTILINE)
_FETCHES_AT_ONCE = 8


class DocsError(RuntimeError):
    """kie's documentation could not be read completely (the message names the page)."""


class _Loader(yaml.SafeLoader):
    """YAML as JSON knows it: a date-like value stays the string kie wrote."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def page_links(index: str, index_url: str) -> list[tuple[str, str]]:
    """``(title, url)`` of each English documentation page ``llms.txt`` lists, in its order."""
    own_host = urlsplit(index_url).hostname
    seen: dict[str, str] = {}
    for title, raw in _LINK.findall(index):
        url = raw.split("#", 1)[0]
        parts = urlsplit(url)
        if parts.hostname not in (DOCS_HOST, own_host) or not parts.path.endswith(".md"):
            continue
        if parts.path == "/cn.md" or parts.path.startswith("/cn/"):
            continue  # the Chinese mirror repeats the English pages
        seen.setdefault(url, title.strip())
    return [(title, url) for url, title in seen.items()]


def fetch_location(url: str, index_url: str) -> str:
    """Where to fetch a page: the link's path on the origin ``llms.txt`` came from."""
    index = urlsplit(index_url)
    link = urlsplit(url)
    return urlunsplit((index.scheme, index.netloc, link.path, link.query, ""))


def openapi_document(body: str) -> dict[str, Any] | None:
    """The page's OpenAPI document (its first fenced YAML block that starts one), if any."""
    for block in _FENCE.findall(body):
        if re.search(r"^openapi\s*:", block, re.MULTILINE):
            document = yaml.load(block, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
            return document if isinstance(document, dict) else None
    return None


def endpoints_of(title: str, url: str, body: str) -> list[dict[str, Any]]:
    """One snapshot endpoint per operation of the page's OpenAPI document."""
    spec = openapi_document(body)
    if spec is None:
        return []
    if not isinstance(spec.get("paths"), dict):
        raise DocsError(f"The OpenAPI block of {url} has no paths.")
    heading = _HEADING.search(body)
    page_title = heading.group(1).strip() if heading else title
    endpoints = []
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            operation = item.get(method) if isinstance(item, dict) else None
            if not isinstance(operation, dict):
                continue
            endpoints.append(
                {
                    "source_title": page_title,
                    "source_url": url,
                    "source_file": urlsplit(url).path,
                    "servers": _servers(spec, item, operation),
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary") or None,
                    "operationId": operation.get("operationId") or None,
                    "tags": [t for t in operation.get("tags") or [] if isinstance(t, str)],
                    "parameters": operation.get("parameters") or [],
                    "request": _request(operation),
                    "responses": _responses(operation),
                    "security": operation.get("security") or [],
                }
            )
    return endpoints


def read_docs(index_url: str = DOCS_INDEX, *, timeout: float = 30.0) -> dict[str, Any]:
    """A snapshot of kie's OpenAPI operations, read now from ``index_url`` and its pages."""
    with httpx2.Client(timeout=timeout, follow_redirects=True) as client:
        index = _get(client, index_url)
        links = page_links(index, index_url)

        def read(link: tuple[str, str]) -> list[dict[str, Any]]:
            title, url = link
            return endpoints_of(title, url, _get(client, fetch_location(url, index_url)))

        with ThreadPoolExecutor(max_workers=_FETCHES_AT_ONCE) as pool:
            pages = list(pool.map(read, links))
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    endpoints = [endpoint for page in pages for endpoint in page]
    return {"generated_at": now, "source_index": index_url, "endpoints": endpoints, "failures": 0}


def _get(client: httpx2.Client, url: str) -> str:
    try:
        response = client.get(url)
    except httpx2.HTTPError as exc:
        raise DocsError(f"Could not read {url}: {exc}") from None
    if response.status_code != 200:
        raise DocsError(f"Could not read {url}: HTTP {response.status_code}")
    return response.text


def _servers(spec: dict[str, Any], item: dict[str, Any], operation: dict[str, Any]) -> list[str]:
    for candidate in (operation.get("servers"), item.get("servers"), spec.get("servers")):
        urls = [s["url"] for s in candidate or [] if isinstance(s, dict) and s.get("url")]
        if urls:
            return list(dict.fromkeys(urls))
    return []


def _request(operation: dict[str, Any]) -> dict[str, Any]:
    content = (operation.get("requestBody") or {}).get("content") or {}
    return {
        kind: {
            "schema": media.get("schema"),
            "example": media.get("example"),
            "examples": media.get("examples"),
        }
        for kind, media in content.items()
        if isinstance(media, dict)
    }


def _responses(operation: dict[str, Any]) -> dict[str, Any]:
    return {
        str(status): {
            "description": answer.get("description") or None,
            "content_types": list(answer.get("content") or {}),
        }
        for status, answer in (operation.get("responses") or {}).items()
        if isinstance(answer, dict)
    }
