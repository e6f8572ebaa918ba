"""The shape of a catalogue entry. Pure data: no I/O, no kie wire names.

An entry pairs a pydantic input model (the model's own fields, allowed values, defaults and
limits, in snake_case) with how the tools' common knobs map onto those fields, what the model
accepts as inputs, and what it costs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from mcp_server_kie.domain import ApiFamily, MediaKind

Price = Callable[[Mapping[str, Any]], float | None]

# Knobs whose values are images (URLs, or local files that get uploaded first).
IMAGE_KNOBS: frozenset[str] = frozenset({"reference_images", "first_frame", "last_frame"})


class KieInput(BaseModel):
    """Base of every model's input: unknown fields are refused, never silently sent."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class ModelSpec:
    id: str
    title: str
    kind: MediaKind
    family: ApiFamily
    input_model: type[KieInput]
    knobs: Mapping[str, str] = field(default_factory=dict)  # knob -> field name
    price: Price = lambda _values: None  # credits (1 credit = US$0.005); None: unknown
    typical_seconds: float = 30.0
    description: str = ""
    note: str = ""  # availability caveats, shown in list_models

    @property
    def accepts(self) -> list[str]:
        """What the model takes: text, plus any of reference images, first and last frame."""
        return [
            "text",
            *(k for k in ("reference_images", "first_frame", "last_frame") if k in self.knobs),
        ]

    @property
    def image_fields(self) -> frozenset[str]:
        """Input fields that carry image URLs."""
        return frozenset(f for knob, f in self.knobs.items() if knob in IMAGE_KNOBS)


def flat(credits: float) -> Price:
    return lambda _values: credits


def by_field(name: str, table: Mapping[Any, float], default_key: Any = None) -> Price:
    """Price looked up from one field's value."""
    return lambda values: table.get(values.get(name, default_key))


def per_second(rate: Price, duration_field: str = "duration") -> Price:
    def price(values: Mapping[str, Any]) -> float | None:
        per = rate(values)
        seconds = values.get(duration_field)
        if per is None or seconds is None:
            return None
        return round(per * float(seconds), 2)

    return price
