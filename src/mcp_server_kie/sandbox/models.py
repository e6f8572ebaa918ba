"""The sandbox's own model table: which market models it knows, their inputs and prices.

Deliberately independent of the project's catalogue, so a mistake in one shows up as a
disagreement with the other. Adding a model is adding a `ModelSpec` to `MODELS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["image", "video"]
FieldType = Literal["str", "bool"]

_IMAGE_ASPECTS = ("1:1", "4:3", "3:4", "16:9", "9:16", "2:3", "3:2", "21:9")
_BANANA_ASPECTS = ("1:1", "9:16", "16:9", "3:4", "4:3", "3:2", "2:3", "5:4", "4:5", "21:9", "auto")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One `input` field: JSON type, whether required, allowed values, default, length limit."""

    type: FieldType = "str"
    required: bool = False
    allowed: tuple[str | bool, ...] | None = None
    default: str | bool | None = None
    max_length: int | None = None


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A market model as the sandbox understands it.

    The price is `price` unless `price_by` names input fields, in which case it is looked up in
    `prices` by the tuple of those fields' values (as JSON-ish text: `"5"`, `"true"`).
    """

    id: str
    kind: Kind
    fields: Mapping[str, FieldSpec]
    price: float = 0.0
    price_by: tuple[str, ...] = ()
    prices: Mapping[tuple[str, ...], float] = field(default_factory=dict)

    def value(self, inputs: Mapping[str, object], name: str) -> object:
        """The value of an input field as the task will use it (the request's or the default)."""
        if name in inputs:
            return inputs[name]
        spec = self.fields.get(name)
        return spec.default if spec is not None else None

    def price_for(self, inputs: Mapping[str, object]) -> float:
        if not self.price_by:
            return self.price
        key = tuple(_as_text(self.value(inputs, name)) for name in self.price_by)
        return self.prices.get(key, self.price)

    def validate(self, inputs: Mapping[str, object]) -> str | None:
        """Return a message naming the first problem with `inputs`, or None if they are valid."""
        for name, spec in self.fields.items():
            if name not in inputs or inputs[name] is None:
                if spec.required:
                    return f"input.{name} is required for model {self.id}"
                continue
            problem = _check(name, spec, inputs[name])
            if problem is not None:
                return f"{problem} (model {self.id})"
        return None


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check(name: str, spec: FieldSpec, value: object) -> str | None:
    if spec.type == "bool":
        if not isinstance(value, bool):
            return f"input.{name} must be a boolean"
    elif not isinstance(value, str):
        return f"input.{name} must be a string"
    elif spec.max_length is not None and len(value) > spec.max_length:
        return f"input.{name} is longer than {spec.max_length} characters"
    if spec.allowed is not None and value not in spec.allowed:
        allowed = ", ".join(_as_text(v) for v in spec.allowed)
        return f"input.{name} must be one of: {allowed}"
    return None


def _prompt(max_length: int) -> FieldSpec:
    return FieldSpec(required=True, max_length=max_length)


MODELS: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        ModelSpec(
            id="seedream/4.5-text-to-image",
            kind="image",
            fields={
                "prompt": _prompt(3000),
                "aspect_ratio": FieldSpec(allowed=_IMAGE_ASPECTS, default="1:1"),
                "quality": FieldSpec(allowed=("basic", "high"), default="basic"),
                "nsfw_checker": FieldSpec(type="bool"),
            },
            price=6.5,
        ),
        ModelSpec(
            id="google/nano-banana",
            kind="image",
            fields={
                "prompt": _prompt(5000),
                "aspect_ratio": FieldSpec(allowed=_BANANA_ASPECTS, default="1:1"),
                "image_size": FieldSpec(allowed=_BANANA_ASPECTS),
                "output_format": FieldSpec(allowed=("png", "jpeg"), default="png"),
            },
            price=4.0,
        ),
        ModelSpec(
            id="kling-2.6/text-to-video",
            kind="video",
            fields={
                "prompt": _prompt(1000),
                "aspect_ratio": FieldSpec(allowed=("1:1", "16:9", "9:16"), default="16:9"),
                "duration": FieldSpec(allowed=("5", "10"), default="5"),
                "sound": FieldSpec(type="bool", default=False),
            },
            price=55.0,
            price_by=("duration", "sound"),
            prices={
                ("5", "false"): 55.0,
                ("5", "true"): 110.0,
                ("10", "false"): 110.0,
                ("10", "true"): 220.0,
            },
        ),
    )
}
