"""Market video models: ids, `input` fields (reference Appendix A, §4, §4.1) and prices (§6).

Kling, Wan and Hailuo take `duration` as a string ("5"); Seedance 2 as an integer; Sora 2 has
`n_frames` (seconds, as a string). Fields the schema marks required but gives a default are
optional here: the default is used.
"""

from __future__ import annotations

from collections.abc import Callable

from mcp_server_kie.sandbox.models import FieldSpec, ModelSpec, choice, flag, prompt, urls

Prices = dict[tuple[str, ...], float]

_NSFW = flag()
_KLING_PRICES: Prices = {
    ("5", "false"): 55.0,
    ("5", "true"): 110.0,
    ("10", "false"): 110.0,
    ("10", "true"): 220.0,
}
_KLING3_DURATIONS = tuple(str(seconds) for seconds in range(3, 16))


def _multi_prompt_needs_shots(value: Callable[[str], object]) -> str | None:
    # Sandbox reading: multi_prompt is listed as required, but it only means something (and is
    # only demanded) when multi_shots is on.
    if value("multi_shots") is True and not value("multi_prompt"):
        return "input.multi_prompt is required when multi_shots is true"
    return None


def _hailuo_1080p_is_six_seconds(value: Callable[[str], object]) -> str | None:
    # kie prices Hailuo 2.3 at 1080P only for 6 s videos; the sandbox refuses 10 s at 1080P.
    if value("resolution") == "1080P" and value("duration") == "10":
        return "input.duration must be 6 when input.resolution is 1080P"
    return None


def _kling26(image: bool) -> dict[str, FieldSpec]:
    fields: dict[str, FieldSpec] = {"prompt": prompt(1000)}
    if image:
        fields["image_urls"] = urls(1, required=True)
    else:
        fields["aspect_ratio"] = choice("1:1", "16:9", "9:16", default="1:1")
    fields["duration"] = choice("5", "10", default="5")
    fields["sound"] = flag(False)  # required in the schema, no default there: false here
    return fields


def _kling25(image: bool) -> dict[str, FieldSpec]:
    fields: dict[str, FieldSpec] = {"prompt": prompt(2500)}
    if image:
        fields["image_url"] = FieldSpec(type="url", required=True)
        fields["tail_image_url"] = FieldSpec(type="url")
    else:
        fields["aspect_ratio"] = choice("16:9", "9:16", "1:1", default="16:9")
    fields["cfg_scale"] = FieldSpec(type="number", default=0.5, minimum=0, maximum=1)
    fields["duration"] = choice("5", "10", default="5")
    fields["negative_prompt"] = FieldSpec(max_length=500 if image else 2500)
    return fields


def _hailuo23(pro: bool) -> dict[str, FieldSpec]:
    fields = {
        "prompt": prompt(5000),
        "image_url": FieldSpec(type="url", required=True),
        "duration": choice("6", "10", default="6"),
        "resolution": choice("768P", "1080P", default="768P"),
    }
    return {**fields, "nsfw_checker": _NSFW} if pro else fields


def _wan26(image: bool) -> dict[str, FieldSpec]:
    fields = {
        "prompt": prompt(5000),
        "duration": choice("5", "10", "15", default="5"),
        "multi_shots": flag(False),
        "resolution": choice("720p", "1080p", default="1080p"),
    }
    if image:
        return {"image_urls": urls(1, required=True), **fields, "nsfw_checker": _NSFW}
    return fields


def _sora2(image: bool) -> dict[str, FieldSpec]:
    fields: dict[str, FieldSpec] = {
        "prompt": prompt(10000),  # the cn page's limit (an English copy says 5000)
        "aspect_ratio": choice("portrait", "landscape", default="landscape"),
        "n_frames": choice("10", "15", default="10"),
        "remove_watermark": flag(True),
    }
    return {**fields, "image_urls": urls(1, required=True)} if image else fields


_SEEDANCE2 = {
    "prompt": FieldSpec(min_length=3, max_length=20000),
    "first_frame_url": FieldSpec(type="url"),
    "last_frame_url": FieldSpec(type="url"),
    "reference_image_urls": urls(9),
    "reference_video_urls": urls(3),
    "reference_audio_urls": urls(3),
    "return_last_frame": flag(False),
    "generate_audio": flag(True),
    "resolution": choice("480p", "720p", "1080p", "4k", default="720p"),
    "aspect_ratio": choice("1:1", "4:3", "3:4", "16:9", "9:16", "21:9", "adaptive", default="16:9"),
    # The schema gives only "integer, default 5"; 4-15 s is the sandbox's (and Seedance's) range.
    "duration": FieldSpec(type="int", default=5, minimum=4, maximum=15),
    "web_search": flag(),
    "nsfw_checker": _NSFW,
}

# Per second, (resolution, any reference video given?).
_SEEDANCE2_PRICES: Prices = {
    ("480p", "false"): 19.0,
    ("480p", "true"): 11.4,
    ("720p", "false"): 41.0,
    ("720p", "true"): 25.0,
    ("1080p", "false"): 102.0,
    ("1080p", "true"): 62.0,
    ("4k", "false"): 208.0,
    ("4k", "true"): 128.0,
}

# Per second, (mode, sound). kie prices Kling 3.0 by resolution: std is 720p, pro 1080p.
_KLING3_PRICES: Prices = {
    ("std", "false"): 14.0,
    ("std", "true"): 20.0,
    ("pro", "false"): 18.0,
    ("pro", "true"): 27.0,
    ("4K", "false"): 67.0,
    ("4K", "true"): 67.0,
}

_WAN26_PRICES: Prices = {
    ("5", "720p"): 70.0,
    ("10", "720p"): 140.0,
    ("15", "720p"): 210.0,
    ("5", "1080p"): 104.5,
    ("10", "1080p"): 209.5,
    ("15", "1080p"): 315.0,
}

_KLING25_PRICES: Prices = {("5",): 42.0, ("10",): 84.0}


def _hailuo_prices(pro: bool) -> Prices:
    six, ten, six_hd = (45.0, 90.0, 80.0) if pro else (30.0, 50.0, 50.0)
    return {("6", "768P"): six, ("10", "768P"): ten, ("6", "1080P"): six_hd}


def _priced_like_kling26(model_id: str, fields: dict[str, FieldSpec]) -> ModelSpec:
    by = ("duration", "sound")
    return ModelSpec(model_id, "video", fields, 55.0, by, _KLING_PRICES)


VIDEO_MODELS: tuple[ModelSpec, ...] = (
    _priced_like_kling26("kling-2.6/text-to-video", _kling26(image=False)),
    _priced_like_kling26("kling-2.6/image-to-video", _kling26(image=True)),
    ModelSpec(
        "kling-3.0/video",
        "video",
        {
            "prompt": prompt(),
            "image_urls": urls(),
            "sound": flag(False),
            "duration": choice(*_KLING3_DURATIONS, default="5"),
            "aspect_ratio": choice("16:9", "9:16", "1:1", default="16:9"),
            "mode": choice("std", "pro", "4K", default="pro"),
            "multi_shots": flag(False),
            "multi_prompt": FieldSpec(type="list"),
            "kling_elements": FieldSpec(type="list", max_items=3),
        },
        price=18.0,
        price_by=("mode", "sound"),
        prices=_KLING3_PRICES,
        per_second="duration",
        rules=(_multi_prompt_needs_shots,),
    ),
    ModelSpec(
        "kling/v2-5-turbo-text-to-video-pro",
        "video",
        _kling25(image=False),
        42.0,
        ("duration",),
        _KLING25_PRICES,
    ),
    ModelSpec(
        "kling/v2-5-turbo-image-to-video-pro",
        "video",
        _kling25(image=True),
        42.0,
        ("duration",),
        _KLING25_PRICES,
    ),
    ModelSpec(
        "hailuo/2-3-image-to-video-pro",
        "video",
        _hailuo23(pro=True),
        45.0,
        ("duration", "resolution"),
        _hailuo_prices(pro=True),
        rules=(_hailuo_1080p_is_six_seconds,),
    ),
    ModelSpec(
        "hailuo/2-3-image-to-video-standard",
        "video",
        _hailuo23(pro=False),
        30.0,
        ("duration", "resolution"),
        _hailuo_prices(pro=False),
        rules=(_hailuo_1080p_is_six_seconds,),
    ),
    ModelSpec(
        "wan/2-6-text-to-video",
        "video",
        _wan26(image=False),
        104.5,
        ("duration", "resolution"),
        _WAN26_PRICES,
    ),
    ModelSpec(
        "wan/2-6-image-to-video",
        "video",
        _wan26(image=True),
        104.5,
        ("duration", "resolution"),
        _WAN26_PRICES,
    ),
    ModelSpec(
        "bytedance/seedance-2",
        "video",
        _SEEDANCE2,
        price=41.0,
        price_by=("resolution", "reference_video_urls"),
        prices=_SEEDANCE2_PRICES,
        per_second="duration",
    ),
    # Sora 2 is not on kie's 2026 price list: a flat 30 credits is a sandbox assumption.
    ModelSpec("sora-2-text-to-video", "video", _sora2(image=False), price=30.0),
    ModelSpec("sora-2-image-to-video", "video", _sora2(image=True), price=30.0),
)
