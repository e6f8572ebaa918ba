"""Video models. Fields and allowed values follow kie.ai's model pages (reference/kie-api.md
§3.3, §3.4, §4, §4.1, Appendix A); prices from kie's price list of 2026-06-30 (§6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import Field, model_validator

from mcp_server_kie.catalog.spec import KieInput, ModelSpec, Price, by_field, per_second
from mcp_server_kie.domain import ApiFamily, MediaKind

Url = Annotated[str, Field(min_length=1)]
OneImage = Annotated[list[str], Field(min_length=1, max_length=1)]


class Kling26Text(KieInput):
    prompt: Annotated[str, Field(min_length=1, max_length=1000)]
    aspect_ratio: Literal["1:1", "16:9", "9:16"] = "16:9"
    duration: Literal["5", "10"] = "5"
    sound: bool = False


class Kling26Image(KieInput):
    prompt: Annotated[str, Field(min_length=1, max_length=1000)]
    image_urls: OneImage
    duration: Literal["5", "10"] = "5"
    sound: bool = False


class Kling3(KieInput):
    prompt: Annotated[str, Field(min_length=1)]
    image_urls: Annotated[list[str], Field(max_length=2)] = []
    aspect_ratio: Literal["16:9", "9:16", "1:1"] = "16:9"
    duration: Literal["3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"] = "5"
    mode: Literal["std", "pro", "4K"] = "pro"
    sound: bool = False
    multi_shots: bool = False
    multi_prompt: list[dict[str, Any]] = []


class Kling25TurboText(KieInput):
    prompt: Annotated[str, Field(min_length=1, max_length=2500)]
    aspect_ratio: Literal["16:9", "9:16", "1:1"] = "16:9"
    duration: Literal["5", "10"] = "5"
    negative_prompt: Annotated[str | None, Field(max_length=2500)] = None
    cfg_scale: Annotated[float, Field(ge=0, le=1)] = 0.5


class Kling25TurboImage(KieInput):
    prompt: Annotated[str, Field(min_length=1, max_length=2500)]
    image_url: Url
    tail_image_url: str | None = None
    duration: Literal["5", "10"] = "5"
    negative_prompt: Annotated[str | None, Field(max_length=500)] = None
    cfg_scale: Annotated[float, Field(ge=0, le=1)] = 0.5


class Hailuo23(KieInput):
    prompt: Annotated[str, Field(min_length=1, max_length=5000)]
    image_url: Url
    duration: Literal["6", "10"] = "6"
    resolution: Literal["768P", "1080P"] = "768P"


class Wan26Text(KieInput):
    prompt: Annotated[str, Field(min_length=1, max_length=5000)]
    duration: Literal["5", "10", "15"] = "5"
    resolution: Literal["720p", "1080p"] = "1080p"
    multi_shots: bool = False


class Wan26Image(Wan26Text):
    image_urls: OneImage


class Seedance2(KieInput):
    prompt: Annotated[str, Field(min_length=3, max_length=20000)]
    first_frame_url: str | None = None
    last_frame_url: str | None = None
    reference_image_urls: Annotated[list[str], Field(max_length=9)] = []
    aspect_ratio: Literal["1:1", "4:3", "3:4", "16:9", "9:16", "21:9", "adaptive"] = "16:9"
    resolution: Literal["480p", "720p", "1080p", "4k"] = "720p"
    duration: Annotated[int, Field(ge=4, le=15)] = 5
    generate_audio: bool = True
    return_last_frame: bool = False


class Sora2Text(KieInput):
    prompt: Annotated[str, Field(min_length=1, max_length=10000)]
    aspect_ratio: Literal["portrait", "landscape"] = "landscape"
    n_frames: Literal["10", "15"] = "10"
    remove_watermark: bool = True


class Sora2Image(Sora2Text):
    image_urls: OneImage


class Veo31(KieInput):
    prompt: Annotated[str, Field(min_length=1)]
    image_urls: Annotated[list[str], Field(max_length=3)] = []
    generation_type: (
        Literal["TEXT_2_VIDEO", "FIRST_AND_LAST_FRAMES_2_VIDEO", "REFERENCE_2_VIDEO"] | None
    ) = None
    aspect_ratio: Literal["16:9", "9:16", "Auto"] = "16:9"
    resolution: Literal["720p", "1080p", "4k"] = "720p"
    duration: Literal[4, 6, 8] = 8
    seeds: Annotated[int | None, Field(ge=10000, le=99999)] = None
    enable_translation: bool | None = None


class Runway(KieInput):
    prompt: Annotated[str, Field(min_length=1, max_length=1800)]
    image_url: str | None = None
    duration: Literal[5, 10] = 5
    quality: Literal["720p", "1080p"] = "720p"
    aspect_ratio: Literal["16:9", "4:3", "1:1", "3:4", "9:16"] = "16:9"

    @model_validator(mode="after")
    def _ten_seconds_only_at_720p(self) -> Self:
        if self.duration == 10 and self.quality == "1080p":
            raise ValueError("Runway makes 10-second videos at 720p only; use 5 s for 1080p")
        return self


def _kling26(values: Mapping[str, Any]) -> float:
    return (110.0 if values.get("sound") else 55.0) * (2 if values.get("duration") == "10" else 1)


def _kling3_rate(values: Mapping[str, Any]) -> float | None:
    rates = {"std": (14, 20), "pro": (18, 27), "4K": (67, 67)}.get(values.get("mode", "pro"))
    return None if rates is None else float(rates[1 if values.get("sound") else 0])


def _hailuo(table: Mapping[tuple[str, str], float]) -> Price:
    return lambda v: table.get((str(v.get("duration")), str(v.get("resolution"))))


def _wan26(values: Mapping[str, Any]) -> float | None:
    per_5s = {"720p": 70.0, "1080p": 104.75}.get(values.get("resolution", "1080p"))
    return None if per_5s is None else round(per_5s * int(values.get("duration", "5")) / 5, 2)


_RUNWAY_PRICES: dict[tuple[object, object], float] = {
    (5, "720p"): 12.0,
    (10, "720p"): 30.0,
    (5, "1080p"): 30.0,
}


def _runway(values: Mapping[str, Any]) -> float | None:
    return _RUNWAY_PRICES.get((values.get("duration"), values.get("quality")))


_KLING_T = {"aspect_ratio": "aspect_ratio", "duration": "duration", "sound": "sound"}
_VEO_KNOBS = {
    "aspect_ratio": "aspect_ratio",
    "resolution": "resolution",
    "duration": "duration",
    "seed": "seeds",
    "reference_images": "image_urls",
}
_HAILUO_KNOBS = {"first_frame": "image_url", "duration": "duration", "resolution": "resolution"}
_SORA_NOTE = (
    "kie.ai paused Sora 2 in 2026; if kie refuses the request, its answer is passed on as is."
)


def _video(**kwargs: object) -> ModelSpec:
    kwargs.setdefault("family", ApiFamily.MARKET)
    return ModelSpec(kind=MediaKind.VIDEO, **kwargs)  # type: ignore[arg-type]


VIDEO_MODELS: tuple[ModelSpec, ...] = (
    _video(
        id="kling-2.6/text-to-video",
        title="Kling 2.6 (text to video)",
        input_model=Kling26Text,
        knobs=_KLING_T,
        price=_kling26,
        typical_seconds=120,
        description="Kling 2.6: cinematic 5 or 10 s clips, optional generated sound.",
    ),
    _video(
        id="kling-2.6/image-to-video",
        title="Kling 2.6 (image to video)",
        input_model=Kling26Image,
        knobs={"duration": "duration", "sound": "sound", "first_frame": "image_urls"},
        price=_kling26,
        typical_seconds=120,
        description="Animate one image with Kling 2.6.",
    ),
    _video(
        id="kling-3.0/video",
        title="Kling 3.0",
        input_model=Kling3,
        knobs={**_KLING_T, "first_frame": "image_urls"},
        price=per_second(_kling3_rate),
        typical_seconds=180,
        description="Kling 3.0: 3-15 s, std/pro/4K modes, multi-shot, text or image.",
    ),
    _video(
        id="kling/v2-5-turbo-text-to-video-pro",
        title="Kling 2.5 Turbo Pro (text to video)",
        input_model=Kling25TurboText,
        knobs={
            "aspect_ratio": "aspect_ratio",
            "duration": "duration",
            "negative_prompt": "negative_prompt",
        },
        price=by_field("duration", {"5": 42, "10": 84}, "5"),
        typical_seconds=100,
        description="Kling 2.5 Turbo: fast, fluid motion from text.",
    ),
    _video(
        id="kling/v2-5-turbo-image-to-video-pro",
        title="Kling 2.5 Turbo Pro (image to video)",
        input_model=Kling25TurboImage,
        knobs={
            "duration": "duration",
            "negative_prompt": "negative_prompt",
            "first_frame": "image_url",
            "last_frame": "tail_image_url",
        },
        price=by_field("duration", {"5": 42, "10": 84}, "5"),
        typical_seconds=100,
        description="Kling 2.5 Turbo: animate an image, optionally towards an end frame.",
    ),
    _video(
        id="hailuo/2-3-image-to-video-pro",
        title="Hailuo 2.3 Pro (image to video)",
        input_model=Hailuo23,
        knobs=_HAILUO_KNOBS,
        typical_seconds=150,
        price=_hailuo({("6", "768P"): 45, ("10", "768P"): 90, ("6", "1080P"): 80}),
        description="MiniMax Hailuo 2.3 Pro: realistic motion from an image.",
    ),
    _video(
        id="hailuo/2-3-image-to-video-standard",
        title="Hailuo 2.3 Standard (image to video)",
        input_model=Hailuo23,
        knobs=_HAILUO_KNOBS,
        typical_seconds=120,
        price=_hailuo({("6", "768P"): 30, ("10", "768P"): 50, ("6", "1080P"): 50}),
        description="MiniMax Hailuo 2.3 Standard: cheaper realistic motion from an image.",
    ),
    _video(
        id="wan/2-6-text-to-video",
        title="Wan 2.6 (text to video)",
        input_model=Wan26Text,
        knobs={"duration": "duration", "resolution": "resolution"},
        price=_wan26,
        typical_seconds=150,
        description="Alibaba Wan 2.6: 5-15 s, up to 1080p.",
    ),
    _video(
        id="wan/2-6-image-to-video",
        title="Wan 2.6 (image to video)",
        input_model=Wan26Image,
        knobs={"duration": "duration", "resolution": "resolution", "first_frame": "image_urls"},
        price=_wan26,
        typical_seconds=150,
        description="Alibaba Wan 2.6: animate an image.",
    ),
    _video(
        id="bytedance/seedance-2",
        title="Seedance 2",
        input_model=Seedance2,
        knobs={
            "aspect_ratio": "aspect_ratio",
            "resolution": "resolution",
            "duration": "duration",
            "sound": "generate_audio",
            "first_frame": "first_frame_url",
            "last_frame": "last_frame_url",
            "reference_images": "reference_image_urls",
        },
        price=per_second(by_field("resolution", {"480p": 19, "720p": 41, "1080p": 102, "4k": 208})),
        typical_seconds=180,
        description="ByteDance Seedance 2: audio, first/last frames, up to 9 references.",
    ),
    _video(
        id="sora-2-text-to-video",
        title="Sora 2 (text to video)",
        input_model=Sora2Text,
        knobs={"duration": "n_frames"},
        typical_seconds=240,
        description="OpenAI Sora 2: 10 or 15 s; aspect_ratio is portrait or landscape.",
        note=_SORA_NOTE,
    ),
    _video(
        id="sora-2-image-to-video",
        title="Sora 2 (image to video)",
        input_model=Sora2Image,
        knobs={"duration": "n_frames", "first_frame": "image_urls"},
        typical_seconds=240,
        description="OpenAI Sora 2 from a first frame.",
        note=_SORA_NOTE,
    ),
    _video(
        id="veo3_fast",
        title="Veo 3.1 Fast",
        family=ApiFamily.VEO,
        input_model=Veo31,
        knobs=_VEO_KNOBS,
        price=by_field("resolution", {"720p": 60, "1080p": 65, "4k": 180}),
        typical_seconds=120,
        description="Google Veo 3.1 Fast: 4-8 s with sound; text, first/last frame or refs.",
    ),
    _video(
        id="veo3",
        title="Veo 3.1 Quality",
        family=ApiFamily.VEO,
        input_model=Veo31,
        knobs=_VEO_KNOBS,
        price=by_field("resolution", {"720p": 250, "1080p": 255, "4k": 370}),
        typical_seconds=240,
        description="Google Veo 3.1 Quality: the best Veo, with sound.",
    ),
    _video(
        id="veo3_lite",
        title="Veo 3.1 Lite",
        family=ApiFamily.VEO,
        input_model=Veo31,
        knobs=_VEO_KNOBS,
        price=by_field("resolution", {"720p": 30, "1080p": 35, "4k": 150}),
        typical_seconds=90,
        description="Google Veo 3.1 Lite: the cheapest Veo.",
    ),
    _video(
        id="runway",
        title="Runway (Gen-4 Turbo)",
        family=ApiFamily.RUNWAY,
        input_model=Runway,
        knobs={
            "aspect_ratio": "aspect_ratio",
            "duration": "duration",
            "resolution": "quality",
            "first_frame": "image_url",
        },
        price=_runway,
        typical_seconds=90,
        description="Runway: 5 or 10 s at 720p, or 5 s at 1080p; text or an image.",
    ),
)
