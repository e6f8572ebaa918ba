"""Facts about kie.ai's models that its OpenAPI documents do not carry, hand-kept: its price
list, typical times, which operations of the per-family APIs become catalogue entries, and
which Market "models" produce no media file.

Prices are kie's own list of 2026-06-30 (https://kie.ai/pricing, reference/kie-api.md §6) in
credits (1 credit = US$0.005). Each entry says which input fields choose the price (`by`, values
joined with "|" as written in kie's schema; a missing field takes its schema default), what one
price buys (`per`: a task, a second of output video, or 1000 characters of text) and the
credits per variant. A model without an entry has "price unknown"; its real charge is recorded
from kie's task record when it finishes. The generator copies these into the catalogue file.
"""

from __future__ import annotations

from typing import Any

# Market "models" whose result is text about the input (resultObject), not a media file.
NOT_MEDIA: dict[str, str] = {
    "omnihuman-1-5/human-identification": "returns an analysis object, not a media file",
    "omnihuman-1-5/subject-detection": "returns an analysis object, not a media file",
}
# One entry per operation of the per-family APIs: (id, path, family, kind, title,
# capabilities, body fields the entry fixes, e.g. Veo's model).
FAMILY_MODELS: tuple[tuple[str, str, str, str, str, tuple[str, ...], dict[str, str]], ...] = (
    ("gpt-4o-image", "/api/v1/gpt4o-image/generate", "4o-image", "image", "GPT-4o Image",
     ("text-to-image", "image-edit"), {}),
    ("flux-kontext-pro", "/api/v1/flux/kontext/generate", "flux-kontext", "image",
     "Flux Kontext Pro", ("text-to-image", "image-edit"), {"model": "flux-kontext-pro"}),
    ("flux-kontext-max", "/api/v1/flux/kontext/generate", "flux-kontext", "image",
     "Flux Kontext Max", ("text-to-image", "image-edit"), {"model": "flux-kontext-max"}),
    ("veo3_fast", "/api/v1/veo/generate", "veo", "video", "Veo 3.1 Fast",
     ("text-to-video", "image-to-video", "reference-to-video"), {"model": "veo3_fast"}),
    ("veo3", "/api/v1/veo/generate", "veo", "video", "Veo 3.1 Quality",
     ("text-to-video", "image-to-video"), {"model": "veo3"}),
    ("veo3_lite", "/api/v1/veo/generate", "veo", "video", "Veo 3.1 Lite",
     ("text-to-video", "image-to-video", "reference-to-video"), {"model": "veo3_lite"}),
    ("veo3-extend", "/api/v1/veo/extend", "veo-extend", "video", "Veo 3.1 Extend",
     ("extend",), {}),
    ("veo3-1080p", "/api/v1/veo/get-1080p-video", "veo-1080p", "video", "Veo 3.1 1080p",
     ("upscale",), {}),
    ("veo3-4k", "/api/v1/veo/get-4k-video", "veo-4k", "video", "Veo 3.1 4K",
     ("upscale",), {}),
    ("runway", "/api/v1/runway/generate", "runway", "video", "Runway (Gen-4 Turbo)",
     ("text-to-video", "image-to-video"), {}),
    ("runway-extend", "/api/v1/runway/extend", "runway-extend", "video", "Runway Extend",
     ("extend",), {}),
    ("runway-aleph", "/api/v1/aleph/generate", "aleph", "video", "Runway Aleph",
     ("video-to-video",), {}),
    ("suno", "/api/v1/generate", "suno", "audio", "Suno music", ("music",), {}),
)  # fmt: skip

PRICE_SOURCE = "https://kie.ai/pricing"

RES = ("resolution",)


def _p(credits: dict[str, float], by: tuple[str, ...] = (), per: str = "task") -> dict[str, Any]:
    return {"by": list(by), "per": per, "credits": credits}


def _flat(credits: float) -> dict[str, Any]:
    return _p({"": credits})


_KLING26 = _p(
    {"5|false": 55, "5|true": 110, "10|false": 110, "10|true": 220}, ("duration", "sound")
)
_HAILUO23_STD = _p({"6|768P": 30, "10|768P": 50, "6|1080P": 50}, ("duration", "resolution"))
_HAILUO23_PRO = _p({"6|768P": 45, "10|768P": 90, "6|1080P": 80}, ("duration", "resolution"))
_WAN26 = _p(
    {
        "5|720p": 70,
        "10|720p": 140,
        "15|720p": 210,
        "5|1080p": 104.5,
        "10|1080p": 209.5,
        "15|1080p": 315,
    },
    ("duration", "resolution"),
)
_WAN25 = _p(
    {"5|720p": 60, "10|720p": 120, "5|1080p": 100, "10|1080p": 200}, ("duration", "resolution")
)
_WAN22 = _p({"480p": 40, "580p": 60, "720p": 80}, RES)
_WAN27 = _p({"720p": 16, "1080p": 24}, RES, "second")
_SEEDANCE15 = _p(
    {
        "480p|false": 1.75,
        "480p|true": 3.5,
        "720p|false": 3.5,
        "720p|true": 7,
        "1080p|false": 7.5,
        "1080p|true": 15,
    },
    ("resolution", "generate_audio"),
    "second",
)
_GROK_VIDEO = _p({"480p": 1.6, "720p": 3}, RES, "second")
_GPT_IMAGE_2 = _p({"1K": 6, "2K": 10, "4K": 16}, RES)
_GPT_IMAGE_15 = _p({"medium": 4, "high": 22}, ("quality",))
_FLUX2_PRO = _p({"1K": 5, "2K": 7}, RES)
_KLING25 = _p({"5": 42, "10": 84}, ("duration",))
_KLING21_MASTER = _p({"5": 160, "10": 320}, ("duration",))
_RUNWAY = _p({"5|720p": 12, "10|720p": 30, "5|1080p": 30}, ("duration", "quality"))

PRICES: dict[str, dict[str, Any]] = {
    "google/nano-banana": _flat(4),
    "google/nano-banana-edit": _flat(4),
    "nano-banana-2": _p({"1K": 8, "2K": 12, "4K": 18}, RES),
    "nano-banana-pro": _p({"1K": 18, "2K": 18, "4K": 24}, RES),
    "seedream/4.5-text-to-image": _flat(6.5),
    "seedream/4.5-edit": _flat(6.5),
    "seedream/5-lite-text-to-image": _flat(5.5),
    "seedream/5-lite-image-to-image": _flat(5.5),
    "z-image": _flat(0.8),
    "gpt-image-2-text-to-image": _GPT_IMAGE_2,
    "gpt-image-2-image-to-image": _GPT_IMAGE_2,
    "gpt-image/1.5-text-to-image": _GPT_IMAGE_15,
    "gpt-image/1.5-image-to-image": _GPT_IMAGE_15,
    "gpt-4o-image": _flat(6),
    "flux-kontext-pro": _flat(5),
    "flux-kontext-max": _flat(10),
    "flux-2/pro-text-to-image": _FLUX2_PRO,
    "flux-2/pro-image-to-image": _FLUX2_PRO,
    "google/imagen4-fast": _flat(4),
    "google/imagen4": _flat(8),
    "google/imagen4-ultra": _flat(12),
    "recraft/remove-background": _flat(1),
    "recraft/crisp-upscale": _flat(0.5),
    "grok-imagine/text-to-image": _flat(4),
    "veo3_fast": _p({"720p": 60, "1080p": 65, "4k": 180}, RES),
    "veo3": _p({"720p": 250, "1080p": 255, "4k": 370}, RES),
    "veo3_lite": _p({"720p": 30, "1080p": 35, "4k": 150}, RES),
    "veo3-extend": _p({"fast": 60, "quality": 250, "lite": 30}, ("model",)),
    "veo3-1080p": _flat(5),
    "veo3-4k": _flat(120),
    "runway": _RUNWAY,
    "runway-aleph": _flat(110),
    "kling-2.6/text-to-video": _KLING26,
    "kling-2.6/image-to-video": _KLING26,
    "kling-3.0/video": _p(
        {
            "std|false": 14,
            "std|true": 20,
            "pro|false": 18,
            "pro|true": 27,
            "4K|false": 67,
            "4K|true": 67,
        },
        ("mode", "sound"),
        "second",
    ),
    "kling/v2-1-master-text-to-video": _KLING21_MASTER,
    "kling/v2-1-master-image-to-video": _KLING21_MASTER,
    "kling/v2-1-pro": _p({"5": 50}, ("duration",)),
    "kling/v2-1-standard": _p({"5": 25}, ("duration",)),
    "kling/v2-5-turbo-text-to-video-pro": _KLING25,
    "kling/v2-5-turbo-image-to-video-pro": _KLING25,
    "hailuo/02-text-to-video-standard": _p({"6": 30, "10": 50}, ("duration",)),
    "hailuo/02-image-to-video-standard": _p({"6|512P": 12}, ("duration", "resolution")),
    "hailuo/02-text-to-video-pro": _flat(57),
    "hailuo/02-image-to-video-pro": _flat(57),
    "hailuo/2-3-image-to-video-standard": _HAILUO23_STD,
    "hailuo/2-3-image-to-video-pro": _HAILUO23_PRO,
    "wan/2-6-text-to-video": _WAN26,
    "wan/2-6-image-to-video": _WAN26,
    "wan/2-6-video-to-video": _WAN26,
    "wan/2-5-text-to-video": _WAN25,
    "wan/2-5-image-to-video": _WAN25,
    "wan/2-2-a14b-text-to-video-turbo": _WAN22,
    "wan/2-2-a14b-image-to-video-turbo": _WAN22,
    "wan/2-7-text-to-video": _WAN27,
    "wan/2-7-image-to-video": _WAN27,
    "wan/2-7-r2v": _WAN27,
    "wan/2-7-videoedit": _WAN27,
    "bytedance/seedance-1.5-pro": _SEEDANCE15,
    "bytedance/seedance-2": _p({"480p": 19, "720p": 41, "1080p": 102, "4k": 208}, RES, "second"),
    "bytedance/seedance-2-fast": _p({"480p": 15.5, "720p": 33}, RES, "second"),
    "grok-imagine/text-to-video": _GROK_VIDEO,
    "grok-imagine/image-to-video": _GROK_VIDEO,
    "elevenlabs/text-to-speech-turbo-2-5": _p({"": 6}, per="1000 characters"),
    "elevenlabs/text-to-speech-multilingual-v2": _p({"": 12}, per="1000 characters"),
    "suno": _flat(12),
}

# Seconds a job usually takes (kie publishes no figures; these are observed orders of size).
TYPICAL_SECONDS_BY_KIND: dict[str, float] = {"image": 20.0, "video": 150.0, "audio": 40.0}
TYPICAL_SECONDS: dict[str, float] = {
    "google/nano-banana": 10,
    "google/nano-banana-edit": 12,
    "z-image": 10,
    "google/imagen4-fast": 10,
    "gpt-image-2-text-to-image": 40,
    "gpt-image-2-image-to-image": 45,
    "gpt-4o-image": 60,
    "veo3_fast": 120,
    "veo3": 240,
    "veo3_lite": 90,
    "runway": 90,
    "kling-2.6/text-to-video": 120,
    "kling-2.6/image-to-video": 120,
    "kling-3.0/video": 180,
    "bytedance/seedance-2": 180,
    "recraft/remove-background": 8,
    "recraft/crisp-upscale": 10,
    "elevenlabs/text-to-speech-turbo-2-5": 15,
    "elevenlabs/text-to-speech-multilingual-v2": 20,
    "elevenlabs/text-to-dialogue-v3": 30,
    "elevenlabs/audio-isolation": 20,
    "google/gemini-2-5-pro-tts": 30,
    "google/gemini-3-1-flash-tts": 20,
    "suno": 120,
}
