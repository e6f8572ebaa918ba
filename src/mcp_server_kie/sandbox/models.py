"""The shape of the sandbox's model table: fields, their checks, and a model's price.

Deliberately independent of the project's catalogue, so a mistake in one shows up as a
disagreement with the other. The tables themselves are in `image_models`, `video_models` and
`documents` (kie's own documents; `audio_models` adds the audio prices); the same `FieldSpec`
checks also validate the bodies of the 4o, Veo, Runway and Suno families.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator

Kind = Literal["image", "video", "audio"]
FieldType = Literal["str", "bool", "int", "number", "url", "urls", "list"]
Value = str | bool | int | float
Rule = Callable[[Callable[[str], object]], str | None]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field: JSON type, whether required, allowed values, default and limits.

    `url` is an http(s) URL string, `urls` a list of them, `list` any JSON array.
    """

    type: FieldType = "str"
    required: bool = False
    allowed: tuple[Value, ...] | None = None
    default: Value | None = None
    max_length: int | None = None
    min_length: int | None = None
    max_items: int | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A market model as the sandbox understands it.

        The price is `price` unless `price_by` names input fields, in which case it is looked up in
        `prices` by the tuple of those fields' values as text (`"5"`, `"true"`; a list counts as
        `"true"` when it is not empty, a missing value as `"false"`). With `per_second` naming the
        duration field, that is a price per second of video; with `per_thousand_characters` naming a
    text field, a price per 1000 characters of it. `rules` check combinations of fields;
        each gets a lookup of a field's value (sent or default).
    """

    id: str
    kind: Kind
    fields: Mapping[str, FieldSpec]
    price: float = 0.0
    price_by: tuple[str, ...] = ()
    prices: Mapping[tuple[str, ...], float] = field(default_factory=dict)
    per_second: str | None = None
    per_thousand_characters: str | None = None
    rules: tuple[Rule, ...] = ()
    schema: Mapping[str, Any] | None = None  # kie's published input JSON Schema, when known

    def value(self, inputs: Mapping[str, object], name: str) -> object:
        """The value of an input field as the task will use it (the request's or the default)."""
        if inputs.get(name) is not None:
            return inputs[name]
        spec = self.fields.get(name)
        return spec.default if spec is not None else None

    def price_for(self, inputs: Mapping[str, object]) -> float:
        price = self.price
        if self.price_by:
            key = tuple(as_text(self.value(inputs, name)) for name in self.price_by)
            price = self.prices.get(key, self.price)
        if self.per_second is not None:
            price *= seconds_of(self.value(inputs, self.per_second))
        if self.per_thousand_characters is not None:
            text = self.value(inputs, self.per_thousand_characters)
            price *= len(text) / 1000 if isinstance(text, str) else 0
        return round(price, 4)

    def validate(self, inputs: Mapping[str, object]) -> str | None:
        """Return a message naming the first problem with `inputs`, or None if they are valid."""
        if self.schema is not None:
            problem = schema_problem(self.schema, inputs)
        else:
            problem = validate_fields(self.fields, inputs, prefix="input.")
        for rule in self.rules:
            if problem is None:
                problem = rule(lambda name: self.value(inputs, name))
        return None if problem is None else f"{problem} (model {self.id})"

    def url_inputs(self, inputs: Mapping[str, object]) -> tuple[str, ...]:
        """Every URL the request hands the model (image, video and audio inputs)."""
        return collect_urls(self.fields, inputs)


def schema_problem(schema: Mapping[str, Any], inputs: Mapping[str, object]) -> str | None:
    """The first way `inputs` break kie's published JSON Schema, worded like the checks above."""
    errors = sorted(
        Draft202012Validator(dict(schema)).iter_errors(dict(inputs)), key=lambda e: list(e.path)
    )
    if not errors:
        return None
    error = errors[0]
    where = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "enum":
        allowed = ", ".join(as_text(v) for v in error.validator_value)
        return f"input.{where} must be one of: {allowed}"
    return f"input.{where}: {error.message}" if where else f"input: {error.message}"


def as_text(value: object) -> str:
    """A value as a price-table key: booleans and lists as "true"/"false", nothing as "false"."""
    if value is None or isinstance(value, bool | list):
        return "true" if value else "false"
    return str(value)


def seconds_of(value: object) -> int:
    """A duration field's value in whole seconds ("10" and 10 alike); 0 if it has none."""
    try:
        return max(int(str(value)), 0)
    except ValueError:
        return 0


def is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def validate_fields(
    fields: Mapping[str, FieldSpec], values: Mapping[str, object], prefix: str = ""
) -> str | None:
    """The first problem with `values` against `fields`, or None. Unknown keys are ignored."""
    for name, spec in fields.items():
        value = values.get(name)
        if _absent(spec, value):
            if spec.required:
                return f"{prefix}{name} is required"
            continue
        problem = _check(spec, value)
        if problem is not None:
            return f"{prefix}{name} {problem}"
    return None


def _absent(spec: FieldSpec, value: object) -> bool:
    """No value: null, or an empty URL or (for a required field) an empty list."""
    if value is None or (spec.type == "url" and value == ""):
        return True
    return spec.required and spec.type in ("urls", "list") and value == []


def collect_urls(fields: Mapping[str, FieldSpec], values: Mapping[str, object]) -> tuple[str, ...]:
    found: list[str] = []
    for name, spec in fields.items():
        value = values.get(name)
        if spec.type == "url" and isinstance(value, str) and value:
            found.append(value)
        elif spec.type == "urls" and isinstance(value, list):
            found.extend(item for item in value if isinstance(item, str))
    return tuple(found)


def _check(spec: FieldSpec, value: object) -> str | None:
    problem = _check_type(spec, value)
    if problem is None and spec.allowed is not None and value not in spec.allowed:
        problem = "must be one of: " + ", ".join(as_text(v) for v in spec.allowed)
    return problem


def _check_type(spec: FieldSpec, value: object) -> str | None:
    if spec.type == "bool":
        return None if isinstance(value, bool) else "must be a boolean"
    if spec.type in ("int", "number"):
        wanted = "must be an integer" if spec.type == "int" else "must be a number"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return wanted
        if spec.type == "int" and not isinstance(value, int):
            return wanted
        return _check_range(spec, float(value))
    if spec.type in ("urls", "list"):
        if not isinstance(value, list):
            return "must be an array"
        if spec.max_items is not None and len(value) > spec.max_items:
            return f"must have at most {spec.max_items} items"
        if spec.type == "urls" and not all(is_http_url(item) for item in value):
            return "must hold http(s) URLs"
        return None
    if not isinstance(value, str):
        return "must be a string"
    if spec.type == "url" and not is_http_url(value):
        return "must be an http(s) URL"
    if spec.max_length is not None and len(value) > spec.max_length:
        return f"is longer than {spec.max_length} characters"
    if spec.min_length is not None and len(value) < spec.min_length:
        return f"is shorter than {spec.min_length} characters"
    return None


def _check_range(spec: FieldSpec, number: float) -> str | None:
    if spec.minimum is not None and number < spec.minimum:
        return f"must be at least {spec.minimum:g}"
    if spec.maximum is not None and number > spec.maximum:
        return f"must be at most {spec.maximum:g}"
    return None


def prompt(max_length: int | None = None, min_length: int | None = None) -> FieldSpec:
    """A required prompt."""
    return FieldSpec(required=True, max_length=max_length, min_length=min_length)


def choice(*allowed: str | int, default: str | int | None = None) -> FieldSpec:
    """One of `allowed` (all strings, or all integers)."""
    kind: FieldType = "int" if isinstance(allowed[0], int) else "str"
    return FieldSpec(type=kind, allowed=allowed, default=default)


def flag(default: bool | None = None) -> FieldSpec:
    return FieldSpec(type="bool", default=default)


def urls(max_items: int | None = None, required: bool = False) -> FieldSpec:
    return FieldSpec(type="urls", max_items=max_items, required=required)
