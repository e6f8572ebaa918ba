"""Catalogue entries: which kie models we support, what each accepts, and what it costs.

Each entry pairs a pydantic input model (kie's own field names, allowed values and defaults)
with how the common tool knobs (aspect ratio, duration, ...) map onto it. Pure data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mcp_server_kie.domain import MediaKind


class KieInput(BaseModel):
    """Base of every model's input: unknown fields are refused, not silently sent."""

    model_config = ConfigDict(extra="forbid")


class Seedream45TextToImage(KieInput):
    prompt: Annotated[str, Field(min_length=1, max_length=3000)]
    aspect_ratio: Literal["1:1", "4:3", "3:4", "16:9", "9:16", "2:3", "3:2", "21:9"] = "1:1"
    quality: Literal["basic", "high"] = "basic"
    nsfw_checker: bool | None = None


class NanoBanana(KieInput):
    prompt: Annotated[str, Field(min_length=1, max_length=5000)]
    aspect_ratio: Literal[
        "1:1", "9:16", "16:9", "3:4", "4:3", "3:2", "2:3", "5:4", "4:5", "21:9", "auto"
    ] = "1:1"
    output_format: Literal["png", "jpeg"] = "png"
    nsfw_checker: bool | None = None


class Kling26TextToVideo(KieInput):
    prompt: Annotated[str, Field(min_length=1, max_length=1000)]
    aspect_ratio: Literal["1:1", "16:9", "9:16"] = "16:9"
    duration: Literal["5", "10"] = "5"
    sound: bool = False


def _kling26_price(values: Mapping[str, Any]) -> float:
    per_five = 110.0 if values.get("sound") else 55.0
    return per_five * (2 if values.get("duration") == "10" else 1)


@dataclass(frozen=True)
class ModelSpec:
    """One kie model as the tools see it."""

    id: str
    title: str
    kind: MediaKind
    family: Literal["market"]
    input_model: type[KieInput]
    # How the common tool knobs map to this model's own field names (knob -> kie field).
    knobs: Mapping[str, str] = field(default_factory=dict)
    # Expected cost in credits for validated input (1 credit = US$0.005).
    price: Callable[[Mapping[str, Any]], float] = lambda _values: 0.0
    typical_seconds: float = 30.0
    description: str = ""


CATALOG: tuple[ModelSpec, ...] = (
    ModelSpec(
        id="seedream/4.5-text-to-image",
        title="Seedream 4.5 (text to image)",
        kind=MediaKind.IMAGE,
        family="market",
        input_model=Seedream45TextToImage,
        knobs={"aspect_ratio": "aspect_ratio", "quality": "quality"},
        price=lambda _values: 6.5,
        typical_seconds=20,
        description="ByteDance Seedream 4.5: sharp, detailed images; quality basic (2K) or "
        "high (4K).",
    ),
    ModelSpec(
        id="google/nano-banana",
        title="Nano Banana (Gemini 2.5 Flash Image)",
        kind=MediaKind.IMAGE,
        family="market",
        input_model=NanoBanana,
        knobs={"aspect_ratio": "aspect_ratio", "output_format": "output_format"},
        price=lambda _values: 4.0,
        typical_seconds=10,
        description="Google's fast, cheap image model; strong prompt following.",
    ),
    ModelSpec(
        id="kling-2.6/text-to-video",
        title="Kling 2.6 (text to video)",
        kind=MediaKind.VIDEO,
        family="market",
        input_model=Kling26TextToVideo,
        knobs={"aspect_ratio": "aspect_ratio", "duration": "duration", "sound": "sound"},
        price=_kling26_price,
        typical_seconds=120,
        description="Kling 2.6: cinematic 5 or 10 s clips, optional generated sound.",
    ),
)

DEFAULT_MODEL: Mapping[MediaKind, str] = {
    MediaKind.IMAGE: "google/nano-banana",
    MediaKind.VIDEO: "kling-2.6/text-to-video",
}
