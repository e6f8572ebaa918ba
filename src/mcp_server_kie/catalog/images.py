"""Image models. Fields and allowed values follow kie.ai's model pages (reference/kie-api.md
§3.1, §4, Appendix A); prices from kie's price list of 2026-06-30 (§6)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from mcp_server_kie.catalog.spec import KieInput, ModelSpec, by_field, flat
from mcp_server_kie.domain import ApiFamily, MediaKind

Prompt = Annotated[str, Field(min_length=1, max_length=5000)]
ImageList = list[str]

GeminiRatio = Literal[
    "1:1", "9:16", "16:9", "3:4", "4:3", "3:2", "2:3", "5:4", "4:5", "21:9", "auto"
]
SeedreamRatio = Literal["1:1", "4:3", "3:4", "16:9", "9:16", "2:3", "3:2", "21:9"]
ImagenRatio = Literal["1:1", "16:9", "9:16", "3:4", "4:3", "auto"]


class NanoBanana(KieInput):
    prompt: Prompt
    aspect_ratio: GeminiRatio = "1:1"
    output_format: Literal["png", "jpeg"] = "png"


class NanoBananaEdit(NanoBanana):
    image_urls: Annotated[ImageList, Field(min_length=1, max_length=10)]


class NanoBananaPro(KieInput):
    prompt: Annotated[str, Field(min_length=1, max_length=10000)]
    image_input: Annotated[ImageList, Field(max_length=8)] = []
    aspect_ratio: Literal[
        "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9", "auto"
    ] = "1:1"
    resolution: Literal["1K", "2K", "4K"] = "1K"
    output_format: Literal["png", "jpg"] = "png"


class NanoBanana2(KieInput):
    prompt: Annotated[str, Field(min_length=1, max_length=20000)]
    image_input: Annotated[ImageList, Field(max_length=14)] = []
    aspect_ratio: Literal[
        "1:1",
        "2:3",
        "3:2",
        "1:4",
        "4:1",
        "3:4",
        "4:3",
        "4:5",
        "5:4",
        "1:8",
        "8:1",
        "9:16",
        "16:9",
        "21:9",
        "auto",
    ] = "auto"
    resolution: Literal["1K", "2K", "4K"] = "1K"
    output_format: Literal["png", "jpg"] = "jpg"


class Seedream45(KieInput):
    prompt: Annotated[str, Field(min_length=1, max_length=3000)]
    aspect_ratio: SeedreamRatio = "1:1"
    quality: Literal["basic", "high"] = "basic"


class Seedream45Edit(Seedream45):
    image_urls: Annotated[ImageList, Field(min_length=1, max_length=14)]


class Seedream5Lite(KieInput):
    prompt: Annotated[str, Field(min_length=3, max_length=3000)]
    aspect_ratio: SeedreamRatio = "1:1"
    quality: Literal["basic", "high", "ultra"] = "basic"
    output_format: Literal["png", "jpeg"] = "png"


class Seedream3(KieInput):
    prompt: Prompt
    image_size: Literal[
        "square", "square_hd", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"
    ] = "square_hd"
    guidance_scale: Annotated[float, Field(ge=1, le=10)] = 2.5
    seed: int | None = None


class ZImage(KieInput):
    prompt: Annotated[str, Field(min_length=1, max_length=1000)]
    aspect_ratio: Literal["1:1", "4:3", "3:4", "16:9", "9:16"] = "1:1"


class GptImage2(KieInput):
    prompt: Annotated[str, Field(min_length=1, max_length=20000)]
    aspect_ratio: Literal[
        "auto",
        "1:1",
        "3:2",
        "2:3",
        "4:3",
        "3:4",
        "5:4",
        "4:5",
        "16:9",
        "9:16",
        "2:1",
        "1:2",
        "3:1",
        "1:3",
        "21:9",
        "9:21",
    ] = "auto"
    resolution: Literal["1K", "2K", "4K"] = "1K"


class Flux2Pro(KieInput):
    prompt: Prompt
    aspect_ratio: Literal["1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3"] = "1:1"
    resolution: Literal["1K", "2K"] = "1K"


class Imagen4(KieInput):
    prompt: Prompt
    aspect_ratio: ImagenRatio = "1:1"
    negative_prompt: Annotated[str | None, Field(max_length=5000)] = None
    seed: Annotated[str | None, Field(max_length=500)] = None


class Imagen4Fast(Imagen4):
    aspect_ratio: ImagenRatio = "16:9"


class Gpt4oImage(KieInput):
    prompt: Prompt
    size: Literal["1:1", "3:2", "2:3"] = "1:1"
    n_variants: Literal[1, 2, 4] = 1
    is_enhance: bool = False
    files_url: Annotated[ImageList, Field(max_length=5)] = []


_GEMINI_KNOBS = {"aspect_ratio": "aspect_ratio", "output_format": "output_format"}
_SEEDREAM_KNOBS = {"aspect_ratio": "aspect_ratio", "quality": "quality"}
_IMAGEN_KNOBS = {
    "aspect_ratio": "aspect_ratio",
    "negative_prompt": "negative_prompt",
    "seed": "seed",
}


def _market(**kwargs: object) -> ModelSpec:
    return ModelSpec(kind=MediaKind.IMAGE, family=ApiFamily.MARKET, **kwargs)  # type: ignore[arg-type]


IMAGE_MODELS: tuple[ModelSpec, ...] = (
    _market(
        id="google/nano-banana",
        title="Nano Banana (Gemini 2.5 Flash Image)",
        input_model=NanoBanana,
        knobs=_GEMINI_KNOBS,
        price=flat(4),
        typical_seconds=10,
        description="Google's fast, cheap image model with strong prompt following.",
    ),
    _market(
        id="google/nano-banana-edit",
        title="Nano Banana Edit",
        input_model=NanoBananaEdit,
        knobs={**_GEMINI_KNOBS, "reference_images": "image_urls"},
        price=flat(4),
        typical_seconds=12,
        description="Edit or combine up to 10 images with an instruction.",
    ),
    _market(
        id="nano-banana-pro",
        title="Nano Banana Pro (Gemini 3 Pro Image)",
        input_model=NanoBananaPro,
        knobs={
            "aspect_ratio": "aspect_ratio",
            "resolution": "resolution",
            "output_format": "output_format",
            "reference_images": "image_input",
        },
        price=by_field("resolution", {"1K": 18, "2K": 18, "4K": 24}),
        typical_seconds=25,
        description="Google's flagship image model: text rendering, up to 4K, 8 references.",
    ),
    _market(
        id="nano-banana-2",
        title="Nano Banana 2",
        input_model=NanoBanana2,
        knobs={
            "aspect_ratio": "aspect_ratio",
            "resolution": "resolution",
            "output_format": "output_format",
            "reference_images": "image_input",
        },
        price=by_field("resolution", {"1K": 8, "2K": 12, "4K": 18}),
        typical_seconds=20,
        description="Google's newest image model: extreme aspect ratios, 14 references.",
    ),
    _market(
        id="seedream/4.5-text-to-image",
        title="Seedream 4.5 (text to image)",
        input_model=Seedream45,
        knobs=_SEEDREAM_KNOBS,
        price=flat(6.5),
        typical_seconds=20,
        description="ByteDance Seedream 4.5: sharp, detailed images; quality basic or high.",
    ),
    _market(
        id="seedream/4.5-edit",
        title="Seedream 4.5 Edit",
        input_model=Seedream45Edit,
        knobs={**_SEEDREAM_KNOBS, "reference_images": "image_urls"},
        price=flat(6.5),
        typical_seconds=25,
        description="Edit with Seedream 4.5 from up to 14 reference images.",
    ),
    _market(
        id="seedream/5-lite-text-to-image",
        title="Seedream 5 Lite",
        input_model=Seedream5Lite,
        knobs={**_SEEDREAM_KNOBS, "output_format": "output_format"},
        price=flat(5.5),
        typical_seconds=20,
        description="ByteDance Seedream 5 Lite: fast, up to ultra quality.",
    ),
    _market(
        id="bytedance/seedream",
        title="Seedream 3.0",
        input_model=Seedream3,
        knobs={"seed": "seed"},
        typical_seconds=15,
        description="The older Seedream 3.0; sizes by image_size (square_hd, landscape_16_9, ...).",
        note="Price not published by kie.ai; credits are recorded once it finishes.",
    ),
    _market(
        id="z-image",
        title="Z-Image",
        input_model=ZImage,
        knobs={"aspect_ratio": "aspect_ratio"},
        price=flat(0.8),
        typical_seconds=10,
        description="Tongyi Z-Image: the cheapest photorealistic images.",
    ),
    _market(
        id="gpt-image-2-text-to-image",
        title="GPT Image 2",
        input_model=GptImage2,
        knobs={"aspect_ratio": "aspect_ratio", "resolution": "resolution"},
        price=by_field("resolution", {"1K": 6, "2K": 10, "4K": 16}),
        typical_seconds=40,
        description="OpenAI GPT Image 2: precise instructions and text, up to 4K.",
    ),
    _market(
        id="flux-2/pro-text-to-image",
        title="Flux 2 Pro",
        input_model=Flux2Pro,
        knobs={"aspect_ratio": "aspect_ratio", "resolution": "resolution"},
        price=by_field("resolution", {"1K": 5, "2K": 7}),
        typical_seconds=20,
        description="Black Forest Labs Flux 2 Pro: photoreal detail, 1K or 2K.",
    ),
    _market(
        id="google/imagen4",
        title="Imagen 4",
        input_model=Imagen4,
        knobs=_IMAGEN_KNOBS,
        price=flat(8),
        typical_seconds=15,
        description="Google Imagen 4, with negative prompts.",
    ),
    _market(
        id="google/imagen4-fast",
        title="Imagen 4 Fast",
        input_model=Imagen4Fast,
        knobs=_IMAGEN_KNOBS,
        price=flat(4),
        typical_seconds=10,
        description="Google Imagen 4 Fast: quicker and cheaper.",
    ),
    _market(
        id="google/imagen4-ultra",
        title="Imagen 4 Ultra",
        input_model=Imagen4,
        knobs=_IMAGEN_KNOBS,
        price=flat(12),
        typical_seconds=25,
        description="Google Imagen 4 Ultra: the highest-fidelity Imagen.",
    ),
    ModelSpec(
        id="gpt-4o-image",
        title="GPT-4o Image",
        kind=MediaKind.IMAGE,
        family=ApiFamily.GPT4O_IMAGE,
        input_model=Gpt4oImage,
        knobs={"aspect_ratio": "size", "num_images": "n_variants", "reference_images": "files_url"},
        price=lambda values: 6.0 * int(values.get("n_variants", 1)),
        typical_seconds=60,
        description="OpenAI GPT-4o image generation (1, 2 or 4 variants; 1:1, 3:2 or 2:3).",
    ),
)
