"""kie's model discovery endpoints (reference §2.8): which Market models kie offers now, with
their pricing sentence, and one model's input JSON Schema. Reads replies; the client paces the
calls (1 request/s). Model ids keep their slashes in the path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcp_server_kie.kie.client import KieClient
from mcp_server_kie.kie.errors import KieProtocolError
from mcp_server_kie.kie.wire import clean_provider_text

MODELS_PATH = "/api/v1/models"
CREATE_PATH = "/api/v1/jobs/createTask"


@dataclass(frozen=True, slots=True)
class ListedModel:
    model: str
    title: str
    task_types: tuple[str, ...]
    pricing: str  # kie's pricing sentence, e.g. "... costs 4 credits per image (~$0.02)"


async def listed_models(client: KieClient) -> list[ListedModel]:
    """Every Market model kie lists now (one request)."""
    data = await client.discovery(MODELS_PATH, what="listing kie.ai's models")
    rows = data.get("models") if isinstance(data, Mapping) else None
    if not isinstance(rows, list):
        raise KieProtocolError("kie.ai's model list had the wrong shape (no `models` list).")
    listed: list[ListedModel] = []
    for row in rows:
        if not isinstance(row, Mapping) or not isinstance(row.get("model"), str):
            continue
        raw_types = row.get("taskType")
        types: list[Any] = raw_types if isinstance(raw_types, list) else []
        listed.append(
            ListedModel(
                model=row["model"],
                title=clean_provider_text(row.get("title"), limit=120) or row["model"],
                task_types=tuple(clean_provider_text(t, limit=60) for t in types),
                pricing=clean_provider_text(row.get("pricingDesc"), limit=300),
            )
        )
    return listed


async def input_schema(client: KieClient, model: str) -> dict[str, Any] | None:
    """The JSON Schema of a model's `input`, from its OpenAPI object (None when kie has none)."""
    data = await client.discovery(
        f"{MODELS_PATH}/{model}/schema", what=f"reading the schema of {model}"
    )
    openapi = data.get("openapi") if isinstance(data, Mapping) else None
    if not isinstance(openapi, Mapping):
        return None
    operation = openapi.get("paths", {}).get(CREATE_PATH, {}).get("post", {})
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    body = _resolve(content.get("schema", {}), openapi)
    schema = _resolve(body.get("properties", {}).get("input"), openapi)
    return dict(schema) if isinstance(schema, Mapping) and schema else None


def _resolve(node: Any, openapi: Mapping[str, Any]) -> Any:
    """Follow a local `$ref` (`#/components/schemas/...`); kie does not inline them."""
    for _ in range(8):
        ref = node.get("$ref") if isinstance(node, Mapping) else None
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return node if isinstance(node, Mapping) else {}
        target: Any = openapi
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        node = target
    return {}
