"""kie's model discovery endpoints (reference §2.8) and the sandbox's live model shelf.

`GET /api/v1/models` lists every Market model the sandbox offers now; `/api/v1/models/{model}/
schema` answers an OpenAPI object whose createTask body holds the model's input schema;
`/price` a pricing sentence; `/success-rate` 144 ten-minute buckets. Slashes in model ids are
not encoded. A test changes the shelf at run time: `add`, `retire`, `set_price`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from mcp_server_kie.sandbox.documents import load_documents
from mcp_server_kie.sandbox.errors import ApiError
from mcp_server_kie.sandbox.market import MODELS
from mcp_server_kie.sandbox.models import FieldSpec, ModelSpec

USD_PER_CREDIT = 0.005
_JSON_TYPES = {"bool": "boolean", "int": "integer", "number": "number", "urls": "array"}


@dataclass(frozen=True, slots=True)
class Listing:
    title: str
    provider: str


class ModelShelf:
    """The Market models one sandbox offers, changeable at run time."""

    def __init__(self) -> None:
        documents = load_documents()
        self.models: dict[str, ModelSpec] = dict(MODELS)
        self.listings: dict[str, Listing] = _listings(documents)

    def add(self, spec: ModelSpec, title: str = "", provider: str = "sandbox") -> None:
        self.models[spec.id] = spec
        self.listings[spec.id] = Listing(title or spec.id, provider)

    def retire(self, model_id: str) -> None:
        self.models.pop(model_id, None)

    def set_price(self, model_id: str, credits: float) -> None:
        spec = self._get(model_id)
        self.models[model_id] = replace(spec, price=credits, price_by=(), prices={})

    def listing(self, query: Mapping[str, str]) -> dict[str, Any]:
        words = query.get("q", "").lower().split()
        kinds = {k.strip().lower() for k in query.get("taskType", "").split(",") if k.strip()}
        provider = query.get("provider", "").lower()
        rows = []
        for model_id, spec in sorted(self.models.items()):
            row = self._row(model_id, spec)
            types = {t.lower() for t in row["taskType"]}
            text = f"{model_id} {row['title']}".lower()
            if (kinds and not kinds & types) or (provider and provider != row["provider"].lower()):
                continue
            if all(word in text for word in words):
                rows.append(row)
        return {"total": len(rows), "models": rows}

    def schema(self, model_id: str) -> dict[str, Any]:
        spec = self._get(model_id)
        input_schema = spec.schema or _schema_of(spec.fields)
        body = {
            "type": "object",
            "required": ["model", "input"],
            "properties": {
                "model": {"type": "string", "enum": [model_id]},
                "callBackUrl": {"type": "string", "format": "uri"},
                "input": dict(input_schema),
            },
        }
        operation = {"requestBody": {"content": {"application/json": {"schema": body}}}}
        openapi = {
            "openapi": "3.1.0",
            "info": {"title": self._title(model_id)},
            "paths": {"/api/v1/jobs/createTask": {"post": operation}},
        }
        return {"model": model_id, "openapi": openapi}

    def price(self, model_id: str) -> dict[str, Any]:
        return {"model": model_id, "pricingDesc": self._pricing(model_id, self._get(model_id))}

    def success_rate(self, model_id: str) -> dict[str, Any]:
        self._get(model_id)
        points = [
            {"start": i * 600, "end": (i + 1) * 600, "successRate": 1.0, "errorRate": 0.0,
             "isNormal": True}
            for i in range(144)
        ]  # fmt: skip
        return {"model": model_id, "points": points}

    def _get(self, model_id: str) -> ModelSpec:
        spec = self.models.get(model_id)
        if spec is None:
            raise ApiError(404, f"The model {model_id!r} is not available")
        return spec

    def _title(self, model_id: str) -> str:
        listing = self.listings.get(model_id)
        return listing.title if listing else model_id

    def _row(self, model_id: str, spec: ModelSpec) -> dict[str, Any]:
        listing = self.listings.get(model_id, Listing(model_id, "sandbox"))
        needs_image = any(
            f.required and f.type in ("url", "urls") for f in spec.fields.values()
        ) or any(name in (spec.schema or {}).get("required", []) for name in _IMAGE_FIELDS)
        source = "Image" if needs_image else "Text"
        return {
            "model": model_id,
            "slug": model_id.replace("/", "-"),
            "title": listing.title,
            "provider": listing.provider,
            "taskType": [f"{source} to {spec.kind.capitalize()}"],
            "description": listing.title,
            "pricingDesc": self._pricing(model_id, spec),
        }

    def _pricing(self, model_id: str, spec: ModelSpec) -> str:
        credits = spec.price or (next(iter(spec.prices.values())) if spec.prices else 0.0)
        unit = (
            "second"
            if spec.per_second
            else "1000 characters"
            if spec.per_thousand_characters
            else spec.kind
        )
        usd = credits * USD_PER_CREDIT
        return f"{self._title(model_id)} API costs {credits:g} credits per {unit} (~${usd:.4g})"


_IMAGE_FIELDS = ("image_url", "image_urls", "input_urls", "image_input")


def _listings(documents: Mapping[str, Any]) -> dict[str, Listing]:
    found: dict[str, Listing] = {}
    for endpoint in documents["endpoints"]:
        schema = endpoint.get("request", {}).get("application/json", {}).get("schema", {})
        names = schema.get("properties", {}).get("model", {}).get("enum") or []
        tag = str((endpoint.get("tags") or [""])[0]).split("/")
        if names and isinstance(names[0], str) and names[0] not in found:
            provider = tag[4].strip() if len(tag) > 4 else "kie"
            found[names[0]] = Listing(" ".join(str(endpoint.get("summary", "")).split()), provider)
    return found


def _schema_of(fields: Mapping[str, FieldSpec]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name, field in fields.items():
        prop: dict[str, Any] = {"type": _JSON_TYPES.get(field.type, "string")}
        if field.allowed is not None:
            prop["enum"] = list(field.allowed)
        if field.default is not None:
            prop["default"] = field.default
        if field.type == "urls":
            prop["items"] = {"type": "string", "format": "uri"}
        properties[name] = prop
    required = [name for name, field in fields.items() if field.required]
    return {"type": "object", "properties": properties, "required": required}
