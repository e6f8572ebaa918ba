"""Market image models: ids, `input` fields (reference Appendix A / §4) and prices (§6).

Fields the schema marks required but gives a default are optional here: the default is used.
"""

from __future__ import annotations

from mcp_server_kie.sandbox.models import FieldSpec, ModelSpec, choice, flag, prompt, urls

_BANANA_ASPECTS = ("1:1", "9:16", "16:9", "3:4", "4:3", "3:2", "2:3", "5:4", "4:5", "21:9", "auto")
_PRO_ASPECTS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9", "auto")
_BANANA2_ASPECTS = (
    *("1:1", "2:3", "3:2", "1:4", "4:1", "3:4", "4:3", "4:5", "5:4", "1:8", "8:1"),
    *("9:16", "16:9", "21:9", "auto"),
)
_SEEDREAM_ASPECTS = ("1:1", "4:3", "3:4", "16:9", "9:16", "2:3", "3:2", "21:9")
_SEEDREAM3_SIZES = (
    *("square", "square_hd", "portrait_4_3", "portrait_16_9", "landscape_4_3"),
    "landscape_16_9",
)
_GPT_IMAGE_ASPECTS = (
    *("auto", "1:1", "3:2", "2:3", "4:3", "3:4", "5:4", "4:5", "16:9", "9:16"),
    *("2:1", "1:2", "3:1", "1:3", "21:9", "9:21"),
)
_FLUX_ASPECTS = ("1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3")
_IMAGEN_ASPECTS = ("1:1", "16:9", "9:16", "3:4", "4:3", "auto")
_RESOLUTIONS = ("1K", "2K", "4K")
_NSFW = flag()


def _banana(edit: bool) -> dict[str, FieldSpec]:
    fields = {
        "prompt": prompt(5000),
        "aspect_ratio": choice(*_BANANA_ASPECTS, default="1:1"),
        "image_size": choice(*_BANANA_ASPECTS, default="1:1"),
        "output_format": choice("png", "jpeg", default="png"),
    }
    if edit:
        return {"image_urls": urls(10, required=True), **fields}
    return {**fields, "nsfw_checker": _NSFW}


def _seedream(edit: bool) -> dict[str, FieldSpec]:
    fields = {
        "prompt": prompt(3000),
        "aspect_ratio": choice(*_SEEDREAM_ASPECTS, default="1:1"),
        "quality": choice("basic", "high", default="basic"),
        "nsfw_checker": _NSFW,
    }
    return {"image_urls": urls(14, required=True), **fields} if edit else fields


def _imagen(aspect_default: str, integer_seed: bool) -> dict[str, FieldSpec]:
    return {
        "prompt": prompt(5000),
        "aspect_ratio": choice(*_IMAGEN_ASPECTS, default=aspect_default),
        "negative_prompt": FieldSpec(max_length=5000),
        "seed": FieldSpec(type="int") if integer_seed else FieldSpec(max_length=500),
    }


IMAGE_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("google/nano-banana", "image", _banana(edit=False), price=4.0),
    ModelSpec("google/nano-banana-edit", "image", _banana(edit=True), price=4.0),
    ModelSpec(
        "nano-banana-pro",
        "image",
        {
            "prompt": prompt(10000),
            "aspect_ratio": choice(*_PRO_ASPECTS, default="1:1"),
            "image_input": urls(8),
            "output_format": choice("png", "jpg", default="png"),
            "resolution": choice(*_RESOLUTIONS, default="1K"),
        },
        price=18.0,
        price_by=("resolution",),
        prices={("1K",): 18.0, ("2K",): 18.0, ("4K",): 24.0},
    ),
    ModelSpec(
        "nano-banana-2",
        "image",
        {
            "prompt": prompt(20000),
            "aspect_ratio": choice(*_BANANA2_ASPECTS, default="auto"),
            "image_input": urls(14),
            "output_format": choice("png", "jpg", default="jpg"),
            "resolution": choice(*_RESOLUTIONS, default="1K"),
        },
        price=8.0,
        price_by=("resolution",),
        prices={("1K",): 8.0, ("2K",): 12.0, ("4K",): 18.0},
    ),
    ModelSpec("seedream/4.5-text-to-image", "image", _seedream(edit=False), price=6.5),
    ModelSpec("seedream/4.5-edit", "image", _seedream(edit=True), price=6.5),
    ModelSpec(
        "seedream/5-lite-text-to-image",
        "image",
        {
            "prompt": prompt(3000, min_length=3),
            "aspect_ratio": choice(*_SEEDREAM_ASPECTS, default="1:1"),
            "quality": choice("basic", "high", "ultra", default="basic"),
            "output_format": choice("png", "jpeg", default="png"),
            "nsfw_checker": _NSFW,
        },
        price=5.5,
    ),
    # Seedream 3.0 is not on kie's 2026 price list: 3.5 credits is a sandbox assumption
    # (the figure one third-party MCP lists).
    ModelSpec(
        "bytedance/seedream",
        "image",
        {
            "prompt": prompt(5000),
            "image_size": choice(*_SEEDREAM3_SIZES, default="square_hd"),
            "guidance_scale": FieldSpec(type="number", default=2.5, minimum=1, maximum=10),
            "seed": FieldSpec(type="int"),
        },
        price=3.5,
    ),
    ModelSpec(
        "z-image",
        "image",
        {
            "prompt": prompt(1000),
            "aspect_ratio": choice("1:1", "4:3", "3:4", "16:9", "9:16", default="1:1"),
            "nsfw_checker": _NSFW,
        },
        price=0.8,
    ),
    ModelSpec(
        "gpt-image-2-text-to-image",
        "image",
        {
            "prompt": prompt(20000, min_length=1),
            "aspect_ratio": choice(*_GPT_IMAGE_ASPECTS),
            "resolution": choice(*_RESOLUTIONS),
        },
        price=6.0,  # no resolution given: the 1K price
        price_by=("resolution",),
        prices={("1K",): 6.0, ("2K",): 10.0, ("4K",): 16.0},
    ),
    ModelSpec(
        "flux-2/pro-text-to-image",
        "image",
        {
            "prompt": prompt(5000),
            "aspect_ratio": choice(*_FLUX_ASPECTS, default="1:1"),
            "resolution": choice("1K", "2K", default="1K"),
            "nsfw_checker": _NSFW,
        },
        price=5.0,
        price_by=("resolution",),
        prices={("1K",): 5.0, ("2K",): 7.0},
    ),
    ModelSpec("google/imagen4", "image", _imagen("1:1", integer_seed=False), price=8.0),
    ModelSpec("google/imagen4-fast", "image", _imagen("16:9", integer_seed=True), price=4.0),
    ModelSpec("google/imagen4-ultra", "image", _imagen("1:1", integer_seed=False), price=12.0),
)
