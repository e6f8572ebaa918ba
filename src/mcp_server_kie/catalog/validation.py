"""Validate a request against a model before anything is spent: the tools' knobs mapped onto the
model's fields, then kie's JSON Schema (`jsonschema`), then the prose rules (`rules`).

Every refusal names the field, the allowed values and the model's documentation page. A field
the schema does not list is refused: kie ignores unknown fields and bills its defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp_server_kie.catalog.rules import PROSE_DEFAULTS, rules_for
from mcp_server_kie.catalog.spec import ModelSpec
from mcp_server_kie.domain import UserInputError

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

_VEO_MODES = {
    "reference_images": "REFERENCE_2_VIDEO",
    "first_frame": "FIRST_AND_LAST_FRAMES_2_VIDEO",
    "last_frame": "FIRST_AND_LAST_FRAMES_2_VIDEO",
}


@dataclass(frozen=True, slots=True)
class ValidatedRequest:
    spec: ModelSpec
    input: dict[str, Any]  # exactly what goes to kie as `input`
    expected_credits: float | None


def allowed_values(spec: ModelSpec, field_name: str) -> tuple[Any, ...]:
    """The values an enumerated field accepts (empty when the field is not an enumeration)."""
    field = spec.fields.get(field_name)
    if not isinstance(field, Mapping):
        return ()
    items = field.get("items")
    enum = field.get("enum") or (items.get("enum") if isinstance(items, Mapping) else None)
    return tuple(enum or ())


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
    given = {k: v for k, v in knobs.items() if v is not None}
    if spec.family.value == "veo":
        _veo_images(given, values)
    for knob, value in given.items():
        target = spec.knobs.get(knob)
        if target is None:
            accepted = ", ".join(sorted(spec.knobs)) or "no extra settings"
            raise UserInputError(
                f"Model {spec.id} does not take {knob!r}. It accepts: {accepted}. "
                f"See {spec.doc_url}"
            )
        values[target] = _coerce(spec, target, value)
    text_field = next((f for f in ("prompt", "text") if f in spec.fields), None)
    if text_field is not None and prompt:
        values.setdefault(text_field, prompt)
    for name in spec.required:  # kie needs these; fill its default (or its prose default)
        if name not in values:
            default = _required_default(spec, name)
            if default is not None:
                values[name] = default
    for name, value in PROSE_DEFAULTS.get(spec.id, {}).items():
        values.setdefault(name, value)
    problems = [p for p in (_describe(spec, e) for e in _errors(spec, _as_sent(spec, values))) if p]
    effective = {**spec.defaults, **values}
    problems += [rule.message for rule in rules_for(spec.id) if rule.breaks(effective, values)]
    if problems:
        raise UserInputError(
            f"Invalid request for {spec.id}: " + "; ".join(problems) + f". See {spec.doc_url}"
        )
    return ValidatedRequest(spec=spec, input=values, expected_credits=spec.price(values))


def _veo_images(given: dict[str, Any], values: dict[str, Any]) -> None:
    """Veo takes one image list; the knob used says which mode (generationType) it means."""
    modes = {_VEO_MODES[k] for k in _VEO_MODES if given.get(k)}
    if len(modes) > 1:
        raise UserInputError(
            "Veo takes either reference_images (REFERENCE_2_VIDEO) or first_frame/last_frame "
            "(FIRST_AND_LAST_FRAMES_2_VIDEO), not both."
        )
    if not modes:
        return
    if "reference_images" in given:
        refs = given.pop("reference_images")
        values["image_urls"] = refs if isinstance(refs, list) else [refs]
    else:
        frames = [given.pop("first_frame", None), given.pop("last_frame", None)]
        if frames[0] is None:
            raise UserInputError("Veo needs a first_frame when a last_frame is given.")
        values["image_urls"] = [f for f in frames if f is not None]
    values.setdefault("generation_type", modes.pop())


def _as_sent(spec: ModelSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """The input as kie will see it: a local image or video file (uploaded after validation)
    stands in as the URL it will become, so URL patterns in kie's schema are checked fairly."""
    sent = dict(values)
    for name in (spec.image_fields | spec.video_fields) & set(values):
        value = values[name]
        items = value if isinstance(value, list) else [value]
        suffix = "mp4" if name in spec.video_fields else "png"
        urls = [
            v if not isinstance(v, str) or "://" in v else f"https://upload.local/{len(v)}.{suffix}"
            for v in items
        ]
        sent[name] = urls if isinstance(value, list) else urls[0]
    return sent


def _required_default(spec: ModelSpec, name: str) -> Any:
    if name in spec.defaults:
        return spec.defaults[name]
    field = spec.fields.get(name, {})
    if field.get("type") == "boolean":
        return False
    enum = field.get("enum")
    return enum[0] if enum else None


def _errors(spec: ModelSpec, values: Mapping[str, Any]) -> list[ValidationError]:
    # Imported on the first request, not at start-up (jsonschema and its registry: ~90 ms).
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(dict(spec.schema))
    return sorted(validator.iter_errors(dict(values)), key=lambda e: list(e.path))


def _coerce(spec: ModelSpec, field_name: str, value: Any) -> Any:
    """Meet kie's spellings: duration 5 for "5", one image for a one-item list, and back."""
    field = spec.fields.get(field_name, {})
    wanted = field.get("type")
    allowed = allowed_values(spec, field_name)
    if isinstance(value, bool):
        return value
    if wanted == "string" and isinstance(value, int | float):
        as_text = str(int(value)) if float(value).is_integer() else str(value)
        return as_text if not allowed or as_text in allowed else value
    if wanted == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if wanted == "array" and isinstance(value, str):
        return [value]
    if wanted == "string" and isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _describe(spec: ModelSpec, error: ValidationError) -> str:
    if error.validator in ("anyOf", "oneOf") and error.context:
        # "valid under none of the forms": say what the closest form (fewest problems) lacks
        forms: dict[object, list[ValidationError]] = {}
        for sub in error.context:
            forms.setdefault(sub.relative_schema_path[0], []).append(sub)
        closest = min(forms.values(), key=len)
        return "; ".join(p for p in (_describe(spec, sub) for sub in closest) if p)
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        sent = error.instance if isinstance(error.instance, dict) else {}
        extra = sorted(set(sent) - set(spec.fields))
        if not extra:  # fields left over by a failed oneOf branch: reported by that error
            return ""
        known = ", ".join(sorted(spec.fields))
        shown = ", ".join(repr(e) for e in extra)
        return f"{shown} is not a setting of {spec.id} (it has: {known})"
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else path
        knob = next((k for k, f in spec.knobs.items() if f == missing), missing)
        return f"{knob} is required by {spec.id}"
    name = path or "input"
    field = str(error.absolute_path[0]) if error.absolute_path else ""
    allowed = allowed_values(spec, field)
    if error.validator == "enum" or (allowed and error.validator == "type"):
        listed = ", ".join(repr(a) for a in allowed)
        return f"{name} must be one of {listed} (got {error.instance!r})"
    knob = next((k for k, f in spec.knobs.items() if f == field), "")
    label = f"{knob} ({name})" if knob and knob != name else name
    if error.validator in ("maxLength", "minLength") and isinstance(error.instance, str):
        bound = "at most" if error.validator == "maxLength" else "at least"
        got = len(error.instance)
        return f"{label} must be {bound} {error.validator_value} characters (got {got})"
    return f"{label}: {error.message}"
