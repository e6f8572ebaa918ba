"""The model catalogue: look models up and validate a request before anything is spent.

The models are kie.ai's own description of them, generated from kie's OpenAPI documents into
`data/models.json` (`scripts/update-catalog`). A model is offered when this server speaks its
API family and its media kind, and kie has not retired it (`RETIRED`, with the reason).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mcp_server_kie.catalog.knobs import knob_fields
from mcp_server_kie.catalog.rules import PROSE_DEFAULTS
from mcp_server_kie.catalog.spec import IMAGE_KNOBS, ModelSpec
from mcp_server_kie.catalog.validation import ValidatedRequest, allowed_values, validate_request
from mcp_server_kie.domain import ApiFamily, MediaKind, UserInputError

__all__ = [
    "CATALOG",
    "COMMITTED",
    "COMMITTED_ENTRIES",
    "DEFAULT_MODEL",
    "IMAGE_KNOBS",
    "RETIRED",
    "Catalogue",
    "ModelSpec",
    "ValidatedRequest",
    "allowed_values",
    "get_model",
    "input_schema_summary",
    "load_models",
    "models_of",
    "spec_from_entry",
    "typical_seconds",
    "validate_request",
]

DATA_FILE = Path(__file__).parent / "data" / "models.json"

# Models kie listed once and no longer offers: never offered, old jobs stay readable.
RETIRED: Mapping[str, str] = {
    model_id: "OpenAI closed the Sora API on 2026-09-24 and kie.ai no longer lists Sora 2"
    for model_id in (
        "sora-2-text-to-video",
        "sora-2-image-to-video",
        "sora-2-pro-text-to-video",
        "sora-2-pro-image-to-video",
        "sora-2-pro-storyboard",
        "sora-watermark-remover",
    )
}
_FAMILIES = {family.value: family for family in ApiFamily}
_KINDS = {kind.value: kind for kind in MediaKind}


def spec_from_entry(entry: Mapping[str, Any]) -> ModelSpec | None:
    """A catalogue entry as a ModelSpec, or None when this server cannot run it."""
    family = _FAMILIES.get(str(entry.get("family")))
    kind = _KINDS.get(str(entry.get("kind")))
    model_id = str(entry.get("id", ""))
    if family is None or kind is None or not model_id or model_id in RETIRED:
        return None
    schema: Mapping[str, Any] = entry.get("input_schema") or {"type": "object"}
    fields = ModelSpec(model_id, "", kind, family, schema).fields
    return ModelSpec(
        id=model_id,
        title=str(entry.get("title", model_id)),
        kind=kind,
        family=family,
        schema=schema,
        defaults={**(entry.get("defaults") or {}), **PROSE_DEFAULTS.get(model_id, {})},
        knobs=knob_fields(kind.value, family.value, fields),
        pricing=entry.get("price"),
        typical_seconds=float(entry.get("typical_seconds", 60.0)),
        doc_url=str(entry.get("doc_url", "")),
        capabilities=tuple(entry.get("capabilities") or ()),
        description=", ".join(entry.get("capabilities") or ()),
        note="" if entry.get("price") else "Price not in kie.ai's price list: price unknown.",
    )


def load_models(entries: Iterable[Mapping[str, Any]]) -> tuple[ModelSpec, ...]:
    specs = (spec_from_entry(entry) for entry in entries)
    return tuple(spec for spec in specs if spec is not None)


class Catalogue:
    """The models offered now: the committed file's, or kie's live list merged into it."""

    def __init__(self, specs: Iterable[ModelSpec], *, source: str = "committed") -> None:
        self.specs: tuple[ModelSpec, ...] = tuple(specs)
        self.source = source  # "committed" or "live"
        self._by_id = {spec.id: spec for spec in self.specs}

    def find(self, model_id: str) -> ModelSpec | None:
        return self._by_id.get(model_id)

    def typical_seconds(self, model_id: str) -> float:
        """How long a job of this model usually takes (60 s for a model no longer listed)."""
        spec = self._by_id.get(model_id)
        return spec.typical_seconds if spec else 60.0

    def models_of(self, kind: MediaKind) -> list[ModelSpec]:
        return [spec for spec in self.specs if spec.kind is kind]

    def get_model(self, model_id: str, kind: MediaKind) -> ModelSpec:
        spec = self._by_id.get(model_id)
        if model_id in RETIRED:
            raise UserInputError(
                f"{model_id!r} is no longer offered: {RETIRED[model_id]}. "
                f"Call list_models(kind={kind.value!r}) for the models kie.ai offers now."
            )
        if spec is None:
            raise UserInputError(
                f"Unknown {kind.value} model {model_id!r} (kie.ai does not offer it now). Call "
                f"list_models(kind={kind.value!r}) for the {len(self.models_of(kind))} available "
                f"ones, e.g. {DEFAULT_MODEL[kind]}."
            )
        if spec.kind is not kind:
            other = f"generate_{spec.kind.value}"
            raise UserInputError(
                f"{model_id!r} is a {spec.kind.value} model; call {other} for it, or pick a "
                f"{kind.value} model from list_models(kind={kind.value!r})."
            )
        return spec


COMMITTED_ENTRIES: tuple[dict[str, Any], ...] = tuple(
    json.loads(DATA_FILE.read_text(encoding="utf-8"))["models"]
)
COMMITTED = Catalogue(load_models(COMMITTED_ENTRIES))
CATALOG: tuple[ModelSpec, ...] = COMMITTED.specs
DEFAULT_MODEL: Mapping[MediaKind, str] = {
    MediaKind.IMAGE: "google/nano-banana",
    MediaKind.VIDEO: "kling-2.6/text-to-video",
    **{kind: "elevenlabs/text-to-speech-turbo-2-5" for kind in MediaKind if kind.value == "audio"},
}


def typical_seconds(model_id: str) -> float:
    """How long a job of this model usually takes (60 s for a model no longer listed)."""
    return COMMITTED.typical_seconds(model_id)


def models_of(kind: MediaKind) -> list[ModelSpec]:
    return COMMITTED.models_of(kind)


def get_model(model_id: str, kind: MediaKind) -> ModelSpec:
    return COMMITTED.get_model(model_id, kind)


def input_schema_summary(spec: ModelSpec) -> dict[str, Any]:
    """Field -> allowed values, default, limits, for describe_model and error messages."""
    summary: dict[str, Any] = {}
    required = set(spec.required)
    for name, field in spec.fields.items():
        if not isinstance(field, Mapping):
            continue
        limits = {
            key: field[key]
            for key in ("minimum", "maximum", "maxLength", "minLength", "maxItems")
            if key in field
        }
        summary[name] = {
            "type": field.get("type"),
            "allowed": list(allowed_values(spec, name)) or None,
            "default": spec.defaults.get(name),
            "required": name in required,
            "limits": limits or None,
        }
    return summary
