"""The model catalogue: look models up and validate a request before anything is spent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import ValidationError

from mcp_server_kie.catalog.audio import AUDIO_MODELS
from mcp_server_kie.catalog.images import IMAGE_MODELS
from mcp_server_kie.catalog.spec import IMAGE_KNOBS, KieInput, ModelSpec
from mcp_server_kie.catalog.videos import VIDEO_MODELS
from mcp_server_kie.domain import MediaKind, UserInputError

__all__ = [
    "CATALOG",
    "DEFAULT_MODEL",
    "IMAGE_KNOBS",
    "ModelSpec",
    "ValidatedRequest",
    "allowed_values",
    "get_model",
    "models_of",
    "typical_seconds",
    "validate_request",
]

CATALOG: tuple[ModelSpec, ...] = IMAGE_MODELS + VIDEO_MODELS + AUDIO_MODELS
DEFAULT_MODEL: Mapping[MediaKind, str] = {
    MediaKind.IMAGE: "google/nano-banana",
    MediaKind.VIDEO: "kling-2.6/text-to-video",
    MediaKind.AUDIO: "elevenlabs/text-to-speech-turbo-2-5",
}
_BY_ID: dict[str, ModelSpec] = {spec.id: spec for spec in CATALOG}


@dataclass(frozen=True, slots=True)
class ValidatedRequest:
    spec: ModelSpec
    input: dict[str, Any]  # exactly what goes to kie as `input`
    expected_credits: float | None


def typical_seconds(model_id: str) -> float:
    """How long a job of this model usually takes (60 s for a model no longer listed)."""
    spec = _BY_ID.get(model_id)
    return spec.typical_seconds if spec else 60.0


def models_of(kind: MediaKind) -> list[ModelSpec]:
    return [spec for spec in CATALOG if spec.kind is kind]


def get_model(model_id: str, kind: MediaKind) -> ModelSpec:
    spec = _BY_ID.get(model_id)
    names = ", ".join(s.id for s in models_of(kind))
    if spec is None:
        raise UserInputError(f"Unknown {kind.value} model {model_id!r}. Available: {names}.")
    if spec.kind is not kind:
        other = f"generate_{spec.kind.value}"
        raise UserInputError(
            f"{model_id!r} is a {spec.kind.value} model; call {other} for it, "
            f"or pick one of these {kind.value} models: {names}."
        )
    return spec


def allowed_values(spec: ModelSpec, field_name: str) -> tuple[Any, ...]:
    """The values a Literal field accepts (empty when the field is not an enumeration)."""
    info = spec.input_model.model_fields.get(field_name)
    if info is None:
        return ()
    annotation = info.annotation
    options = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else ()
    values: list[Any] = []
    for candidate in (annotation, *options):
        if get_origin(candidate) is Literal:
            values.extend(get_args(candidate))
    return tuple(values)


def validate_request(
    spec: ModelSpec,
    prompt: str,
    knobs: Mapping[str, Any],
    options: Mapping[str, Any] | None = None,
) -> ValidatedRequest:
    """Map common knobs onto the model's fields and validate everything against it.

    ``knobs`` holds the tool's common arguments that were given (None means "not given");
    ``options`` holds model-specific fields by kie's own names.
    """
    values: dict[str, Any] = dict(options or {})
    for knob, value in knobs.items():
        if value is None:
            continue
        target = spec.knobs.get(knob)
        if target is None:
            accepted = ", ".join(sorted(spec.knobs)) or "no extra settings"
            raise UserInputError(f"Model {spec.id} does not take {knob!r}. It accepts: {accepted}.")
        values[target] = _coerce(spec, target, value)
    values["prompt"] = prompt
    try:
        validated = spec.input_model.model_validate(values)
    except ValidationError as exc:
        raise UserInputError(_describe(spec, exc)) from None
    payload = {k: v for k, v in validated.model_dump(exclude_none=True).items() if v != []}
    return ValidatedRequest(spec=spec, input=payload, expected_credits=spec.price(payload))


def _coerce(spec: ModelSpec, field_name: str, value: Any) -> Any:
    """Meet kie's spellings: duration 5 for "5", one image for a one-item list, and back."""
    allowed = allowed_values(spec, field_name)
    if allowed and all(isinstance(a, str) for a in allowed) and isinstance(value, int | float):
        as_text = str(int(value)) if float(value).is_integer() else str(value)
        return as_text if as_text in allowed else value
    if allowed and all(isinstance(a, int) for a in allowed) and isinstance(value, float):
        return int(value) if value.is_integer() else value
    takes_list = _is_list_field(spec, field_name)
    if takes_list and isinstance(value, str):
        return [value]
    if not takes_list and isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _is_list_field(spec: ModelSpec, field_name: str) -> bool:
    info = spec.input_model.model_fields.get(field_name)
    if info is None:
        return False
    annotation = info.annotation
    candidates = (annotation, *get_args(annotation))
    return any(get_origin(c) is list or c is list for c in candidates)


def _describe(spec: ModelSpec, exc: ValidationError) -> str:
    parts: list[str] = []
    for error in exc.errors():
        field_name = ".".join(str(p) for p in error["loc"]) or "input"
        if error["type"] == "extra_forbidden":
            known = ", ".join(n for n in spec.input_model.model_fields if n != "prompt")
            parts.append(f"{field_name!r} is not a setting of {spec.id} (it has: {known})")
            continue
        if error["type"] == "missing":
            knob = next((k for k, f in spec.knobs.items() if f == field_name), field_name)
            parts.append(f"{knob} is required by {spec.id}")
            continue
        if field_name in spec.image_fields and error["type"].startswith("too_"):
            knob = next(k for k, f in spec.knobs.items() if f == field_name)
            parts.append(f"{knob}: {error['msg']}")
            continue
        allowed = allowed_values(spec, field_name)
        if allowed:
            listed = ", ".join(repr(a) for a in allowed)
            parts.append(f"{field_name} must be one of {listed} (got {error.get('input')!r})")
        else:
            parts.append(f"{field_name}: {error['msg']}")
    return f"Invalid request for {spec.id}: " + "; ".join(parts) + "."


def input_schema_summary(spec: ModelSpec) -> dict[str, Any]:
    """Field -> allowed values or default, for list_models and error messages."""
    summary: dict[str, Any] = {}
    model: type[KieInput] = spec.input_model
    for name, info in model.model_fields.items():
        allowed = allowed_values(spec, name)
        summary[name] = {
            "allowed": list(allowed) or None,
            "default": None if info.is_required() else info.default,
            "required": info.is_required(),
        }
    return summary
