"""Turn kie.ai's OpenAPI documents into the committed catalogue file (`catalog/data/models.json`).

Pure: `build_catalogue(snapshot)` maps the documents (shape of `reference/README.md`) to the
catalogue; `catalog.update` reads the shipped snapshot (or kie's docs online) and writes the file.
Every image, video and audio model becomes one entry: id, media kind, API family, capabilities,
the JSON Schema of its input (kie's own; property names of the per-family APIs in snake_case),
defaults, prices per variant (`hand_kept`), typical time and the documentation URL.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from mcp_server_kie.catalog.capabilities import capabilities, properties
from mcp_server_kie.catalog.hand_kept import (
    FAMILY_MODELS,
    NOT_MEDIA,
    PRICE_SOURCE,
    PRICES,
    TYPICAL_SECONDS,
    TYPICAL_SECONDS_BY_KIND,
)

SNAPSHOT_NAME = "kie-openapi-2026-08-19.json.gz"
DATA_FILE = Path(__file__).parent / "data" / "models.json"
MARKET_PATH = "/api/v1/jobs/createTask"
_KINDS = {"Image Models": "image", "Video Models": "video", "Music Models": "audio"}
# Keys of kie's schemas that are editor metadata, not JSON Schema.
_DROPPED_KEYS = ("examples", "example")


def snapshot_path() -> Path:
    """The snapshot shipped with the package (`mcp_server_kie/reference/`)."""
    return Path(str(resources.files("mcp_server_kie") / "reference" / SNAPSHOT_NAME))


def load_snapshot(path: Path | None = None) -> dict[str, Any]:
    with gzip.open(path or snapshot_path(), "rt", encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


_FAMILY_DROPPED = frozenset({"callBackUrl", "enableFallback"})


def build_catalogue(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """The catalogue document for a snapshot of kie's OpenAPI operations."""
    endpoints: list[Mapping[str, Any]] = list(snapshot["endpoints"])
    models: dict[str, dict[str, Any]] = {}
    for endpoint in sorted(endpoints, key=_english_first):
        if endpoint.get("method") == "POST" and endpoint.get("path") == MARKET_PATH:
            entry = _market_entry(endpoint, taken=models)
            if entry is not None:
                models.setdefault(entry["id"], entry)
    by_path = {(e.get("path"), e.get("method")): e for e in endpoints}
    for model_id, path, family, kind, title, caps, fixed in FAMILY_MODELS:
        operation = by_path.get((path, "POST")) or by_path.get((path, "GET"))
        if operation is not None:
            models[model_id] = _family_entry(operation, model_id, family, kind, title, caps, fixed)
    ordered = sorted(models.values(), key=lambda m: (m["kind"], m["id"]))
    return {
        "source": snapshot.get("source_index", ""),
        "snapshot": snapshot.get("generated_at", ""),
        "price_source": PRICE_SOURCE,
        "not_media": NOT_MEDIA,
        "models": ordered,
    }


def _english_first(endpoint: Mapping[str, Any]) -> tuple[int, str]:
    tag = str((endpoint.get("tags") or [""])[0])
    return (0 if "/en/" in tag else 1, str(endpoint.get("source_url", "")))


def _market_entry(endpoint: Mapping[str, Any], taken: Mapping[str, Any]) -> dict[str, Any] | None:
    request = endpoint.get("request", {}).get("application/json", {})
    schema = request.get("schema", {})
    tag = str((endpoint.get("tags") or [""])[0])
    parts = [p.strip() for p in tag.split("/")]
    kind = next((k for label, k in _KINDS.items() if " ".join(parts[3].split()) == label), None)
    names = schema.get("properties", {}).get("model", {}).get("enum") or []
    model_id = _model_id(names, request.get("example"), taken)
    if kind is None or model_id is None or model_id in NOT_MEDIA:
        return None
    input_schema = strict_input(clean_schema(schema.get("properties", {}).get("input", {})))
    return _entry(
        model_id,
        kind=kind,
        family="market",
        title=" ".join(str(endpoint.get("summary", model_id)).split()),
        schema=input_schema,
        doc_url=_doc_url(endpoint),
        capabilities=capabilities(model_id, kind, input_schema),
        fixed={},
    )


def _model_id(names: list[Any], example: Any, taken: Mapping[str, Any]) -> str | None:
    """The page's model id; a page whose enum repeats another page's model (a doc slip) is
    named by its own example body instead."""
    first = names[0] if names and isinstance(names[0], str) else None
    if first is not None and first not in taken:
        return first
    text = example if isinstance(example, str) else json.dumps(example or {})
    found = re.search(r'"model"\s*:\s*"([^"]+)"', text)
    if found and found.group(1) not in taken:
        return found.group(1)
    return None


def _family_entry(
    endpoint: Mapping[str, Any],
    model_id: str,
    family: str,
    kind: str,
    title: str,
    capabilities: Iterable[str],
    fixed: Mapping[str, str],
) -> dict[str, Any]:
    if endpoint.get("method") == "GET":
        params = endpoint.get("parameters") or []
        raw: dict[str, Any] = {
            "type": "object",
            "properties": {
                p["name"]: dict(p.get("schema", {}), description=p.get("description", ""))
                for p in params
                if p.get("in") == "query"
            },
            "required": [p["name"] for p in params if p.get("in") == "query" and p.get("required")],
        }
    else:
        raw = endpoint.get("request", {}).get("application/json", {}).get("schema", {})
    dropped = _FAMILY_DROPPED | set(fixed)  # a fixed field (Veo's model) is the entry itself
    properties = {
        _snake(name): spec
        for name, spec in raw.get("properties", {}).items()
        if name not in dropped
    }
    required = [_snake(n) for n in raw.get("required", []) if n not in dropped]
    schema = strict_input(
        clean_schema({"type": "object", "properties": properties, "required": required})
    )
    return _entry(
        model_id,
        kind=kind,
        family=family,
        title=title,
        schema=schema,
        doc_url=_doc_url(endpoint),
        capabilities=sorted(capabilities),
        fixed=fixed,
    )


def _entry(
    model_id: str,
    *,
    kind: str,
    family: str,
    title: str,
    schema: dict[str, Any],
    doc_url: str,
    capabilities: list[str],
    fixed: Mapping[str, str],
) -> dict[str, Any]:
    return {
        "id": model_id,
        "title": title,
        "kind": kind,
        "family": family,
        "capabilities": capabilities,
        "doc_url": doc_url,
        "defaults": schema_defaults(schema),
        "price": PRICES.get(model_id),
        "typical_seconds": TYPICAL_SECONDS.get(model_id, TYPICAL_SECONDS_BY_KIND[kind]),
        "fixed": dict(fixed),
        "input_schema": schema,
    }


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _doc_url(endpoint: Mapping[str, Any]) -> str:
    url = str(endpoint.get("source_url", ""))
    return url[: -len(".md")] if url.endswith(".md") else url


def clean_schema(node: Any) -> Any:
    """kie's schema without editor metadata (`x-apidog-*`, examples), property names trimmed
    (a few pages carry a trailing space), unknown fields refused (`additionalProperties`)."""
    if isinstance(node, list):
        return [clean_schema(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    cleaned: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-") or key in _DROPPED_KEYS:
            continue
        if key == "properties" and isinstance(value, Mapping):
            cleaned[key] = {str(k).strip(): clean_schema(v) for k, v in value.items()}
        elif key == "required" and isinstance(value, list):
            cleaned[key] = [str(k).strip() for k in value]
        else:
            cleaned[key] = clean_schema(value)
    if cleaned.get("type") == "object" or "properties" in cleaned or "required" in cleaned:
        for key in ("oneOf", "anyOf", "allOf"):  # an object's branches must be objects too;
            branches = [b for b in cleaned.pop(key, None) or [] if _is_object(b)]  # export slips
            if branches:
                cleaned[key] = branches
    if cleaned.get("type") == "object" and "properties" in cleaned:
        cleaned["additionalProperties"] = False
    return cleaned


def _is_object(branch: Any) -> bool:
    return isinstance(branch, Mapping) and (
        branch.get("type") == "object" or "properties" in branch or "required" in branch
    )


def strict_input(schema: dict[str, Any]) -> dict[str, Any]:
    """Refuse unknown fields at the top of `input`, counting fields named in oneOf/anyOf/allOf
    branches (`unevaluatedProperties`). Branches that are not objects (a few pages export
    `{"type": "string"}` where the editor held a reference) can never match an object and
    are left out, as is a branch's own `additionalProperties`."""
    strict = dict(schema)
    for key in ("oneOf", "anyOf", "allOf"):
        branches = [
            {k: v for k, v in branch.items() if k != "additionalProperties"}
            for branch in strict.pop(key, None) or []
            if _is_object(branch)
        ]
        if branches:
            strict[key] = branches
    strict.pop("additionalProperties", None)
    strict["unevaluatedProperties"] = False
    return strict


def schema_defaults(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Meaningful schema defaults (kie's pages put "" or [""] as placeholders: left out)."""
    defaults: dict[str, Any] = {}
    for name, spec in properties(schema).items():
        if not isinstance(spec, Mapping) or "default" not in spec:
            continue
        value = spec["default"]
        if value in ("", None) or (isinstance(value, list) and (not value or "" in value)):
            continue
        if spec.get("format") == "uri" or name.endswith(("_url", "_urls")):
            continue
        defaults[name] = value
    return defaults


def render(catalogue: Mapping[str, Any]) -> str:
    """The file's exact text (stable key order, one trailing newline)."""
    return json.dumps(catalogue, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
