"""The shape of a catalogue entry. Pure data: no I/O, no kie wire names.

An entry is one model as kie.ai documents it (the generated `data/models.json`, or kie's live
discovery answer): the JSON Schema of its input (kie's field names; the per-family APIs' in
snake_case), its defaults, its price per variant, and how the tools' common knobs map onto its
fields.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mcp_server_kie.catalog.capabilities import properties
from mcp_server_kie.domain import ApiFamily, MediaKind

# Knobs whose values are images (URLs, or local files that get uploaded first).
IMAGE_KNOBS: frozenset[str] = frozenset({"reference_images", "first_frame", "last_frame"})
# Fields whose values are videos to work on (URLs, or local files that get uploaded first).
VIDEO_INPUTS: frozenset[str] = frozenset({"video_url", "video_urls", "reference_video_urls"})


@dataclass(frozen=True)
class ModelSpec:
    id: str
    title: str
    kind: MediaKind
    family: ApiFamily
    schema: Mapping[str, Any]  # JSON Schema of the model's `input`
    defaults: Mapping[str, Any] = field(default_factory=dict)
    knobs: Mapping[str, str] = field(default_factory=dict)  # knob -> field name
    pricing: Mapping[str, Any] | None = None  # {"by": [...], "per": ..., "credits": {...}}
    typical_seconds: float = 30.0
    doc_url: str = ""
    capabilities: tuple[str, ...] = ()
    description: str = ""
    note: str = ""  # availability caveats, shown in list_models

    @property
    def fields(self) -> dict[str, Any]:
        """Every input field the schema names (through oneOf/anyOf/allOf too)."""
        return properties(self.schema)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(self.schema.get("required", ()))

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

    @property
    def video_fields(self) -> frozenset[str]:
        """Input fields that carry video URLs (video-to-video sources)."""
        return VIDEO_INPUTS & frozenset(self.fields)

    def price(self, values: Mapping[str, Any]) -> float | None:
        """Credits (1 credit = US$0.005) for a request with these input values (defaults
        filled in from the schema); None when kie's price list has no figure for it."""
        if not self.pricing:
            return None
        merged = {**self.defaults, **values}
        key = "|".join(_as_key(merged.get(name)) for name in self.pricing.get("by", ()))
        credits = self.pricing.get("credits", {}).get(key)
        if credits is None:
            return None
        per = self.pricing.get("per", "task")
        if per == "second":
            seconds = _number(merged.get("duration"))
            return None if seconds is None else round(float(credits) * seconds, 2)
        if per == "1000 characters":
            text = merged.get("text") or merged.get("prompt") or ""
            return round(float(credits) * max(1, math.ceil(len(str(text)) / 1000)), 2)
        return float(credits)


def _as_key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "false" if value is None else str(value)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
