"""The sandbox's own reading of kie.ai's published OpenAPI documents (the snapshot shipped in
`mcp_server_kie/reference/`): every Market image, video and audio model kie documents, with the
input JSON Schema kie publishes for it, so the simulator accepts exactly what kie's documents allow.

Independent of the project's catalogue on purpose: this reads kie's documents, not our reading
of them. The hand-kept tables (`image_models`, `video_models`) win where they exist: they add
kie's prices and the rules kie states only in prose; `audio_models` adds the same to the
documented audio models. A model known only from the documents is
charged a flat `DOCUMENTED_PRICE` per task. Unknown input fields are ignored, as kie does.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Mapping
from importlib import resources
from typing import Any

from mcp_server_kie.sandbox.models import FieldSpec, FieldType, Kind, ModelSpec

SNAPSHOT = "kie-openapi-2026-08-19.json.gz"
CREATE_PATH = "/api/v1/jobs/createTask"
DOCUMENTED_PRICE: dict[Kind, float] = {"image": 4.0, "video": 50.0, "audio": 0.0}
_KINDS: dict[str, Kind] = {
    "Image Models": "image",
    "Video Models": "video",
    "Music Models": "audio",
}
_TYPES: dict[str, FieldType] = {"boolean": "bool", "integer": "int", "number": "number"}


def load_documents() -> dict[str, Any]:
    path = resources.files("mcp_server_kie") / "reference" / SNAPSHOT
    with gzip.open(str(path), "rt", encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def documented_models(documents: Mapping[str, Any] | None = None) -> dict[str, ModelSpec]:
    """Model id -> spec for every Market image/video/audio model in kie's documents."""
    docs = documents if documents is not None else load_documents()
    endpoints = [e for e in docs["endpoints"] if e.get("path") == CREATE_PATH]
    endpoints.sort(key=lambda e: 0 if "/en/" in str(e.get("tags", [""])[0]) else 1)
    models: dict[str, ModelSpec] = {}
    for endpoint in endpoints:
        tag = str((endpoint.get("tags") or [""])[0]).split("/")
        kind = _KINDS.get(" ".join(tag[3].split())) if len(tag) > 3 else None
        request = endpoint.get("request", {}).get("application/json", {})
        schema = request.get("schema", {})
        model_id = _model_id(schema, request.get("example"), models)
        if kind is None or model_id is None:
            continue
        input_schema = _lenient(schema.get("properties", {}).get("input", {}))
        models[model_id] = ModelSpec(
            id=model_id,
            kind=kind,
            fields=_fields(input_schema),
            price=DOCUMENTED_PRICE[kind],
            schema=input_schema,
        )
    return models


def _model_id(schema: Mapping[str, Any], example: Any, taken: Mapping[str, Any]) -> str | None:
    names = schema.get("properties", {}).get("model", {}).get("enum") or []
    if names and isinstance(names[0], str) and names[0] not in taken:
        return names[0]
    text = example if isinstance(example, str) else json.dumps(example or {})
    found = re.search(r'"model"\s*:\s*"([^"]+)"', text)
    return found.group(1) if found and found.group(1) not in taken else None


def _lenient(node: Any) -> Any:
    """kie's schema as kie applies it: trimmed field names, unknown fields ignored."""
    if isinstance(node, list):
        return [_lenient(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-") or key in ("examples", "example", "additionalProperties"):
            continue
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {str(k).strip(): _lenient(v) for k, v in value.items()}
        elif key in ("oneOf", "anyOf", "allOf") and isinstance(value, list) and _is_object(node):
            objects = [_lenient(b) for b in value if isinstance(b, Mapping) and _is_object(b)]
            if objects:  # an object's non-object branch (an export slip) never matches: dropped
                out[key] = objects
        elif key == "required" and isinstance(value, list):
            out[key] = [str(k).strip() for k in value]
        else:
            out[key] = _lenient(value)
    return out


def _is_object(branch: Mapping[str, Any]) -> bool:
    return branch.get("type") == "object" or "properties" in branch or "required" in branch


def _fields(schema: Mapping[str, Any]) -> dict[str, FieldSpec]:
    """Field checks for defaults, URL inputs and prices; the schema itself is checked too."""
    properties: dict[str, Any] = dict(schema.get("properties", {}))
    for key in ("oneOf", "anyOf", "allOf"):
        for branch in schema.get(key, []) or []:
            for name, spec in (branch.get("properties") or {}).items():
                properties.setdefault(name, spec)
    fields: dict[str, FieldSpec] = {}
    for name, spec in properties.items():
        if not isinstance(spec, Mapping):
            continue
        kind: FieldType = _TYPES.get(str(spec.get("type")), "str")
        if spec.get("type") == "array":
            kind = "urls" if "url" in name or "image" in name else "list"
        elif spec.get("type") == "string" and name.endswith("_url"):
            kind = "url"
        default = spec.get("default")
        if default in ("", []) or isinstance(default, list | dict) or kind in ("url", "urls"):
            default = None
        fields[name] = FieldSpec(type=kind, default=default)
    return fields
