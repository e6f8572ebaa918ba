"""Cross-field rules kie.ai states only in prose, one declarative row each, with the sentence and
the page they come from. JSON Schema cannot say them; `validation` checks them after the schema.

A rule refuses a request for one of its `models` when every condition in `when` and in `refuse`
holds. A condition is a tuple of values (None: the field is not given and has no default),
`PRESENT` (given and not empty), `SENT` (given in the request itself, a default does not
count), `Outside(values)` (given and not one of them) or `LongerThan(n)` (text, or a list of
lines' texts added up, of more than n characters), defined in `conditions`. The values seen
are the request's, else the model's schema default. `tests/test_catalog_rules.py` checks that
every model and field a rule names still exists in the generated catalogue, so a regeneration
can never silently drop a rule.
"""

from __future__ import annotations

from typing import Any

from mcp_server_kie.catalog.conditions import PRESENT, SENT, LongerThan, Outside, Rule

_GPT2 = ("gpt-image-2-text-to-image", "gpt-image-2-image-to-image")
_GPT2_T2I = "https://docs.kie.ai/market/gpt/gpt-image-2-text-to-image"
_GPT2_I2I = "https://docs.kie.ai/market/gpt/gpt-image-2-image-to-image"
_HAILUO = (
    "hailuo/2-3-image-to-video-pro",
    "hailuo/2-3-image-to-video-standard",
    "hailuo/02-image-to-video-standard",
)
_SEEDANCE = (
    "bytedance/seedance-2",
    "bytedance/seedance-2-fast",
    "bytedance/seedance-2-mini",
    "bytedance/seedance-2-5",
)
_SEEDANCE_URL = "https://docs.kie.ai/market/bytedance/seedance-2-5"
_VEO_URL = "https://docs.kie.ai/veo3-api/generate-veo-3-video"
_RUNWAY_URL = "https://docs.kie.ai/runway-api/generate-ai-video"
_REFS = ("reference_image_urls", "reference_video_urls", "reference_audio_urls")
_SUNO_URL = "https://docs.kie.ai/suno-api/generate-music"
_CUSTOM = {"custom_mode": (True,)}
_SIMPLE = {"custom_mode": (False, None)}
_SUNO_5000 = ("V4_5", "V4_5PLUS", "V4_5ALL", "V5", "V5_5")

RULES: tuple[Rule, ...] = (
    Rule(
        _GPT2,
        {"aspect_ratio": (None, "auto")},
        {"resolution": ("2K", "4K")},
        "resolution must be 1K when aspect_ratio is auto or not given; choose an aspect_ratio "
        "such as 16:9 for 2K or 4K",
        'Images with the aspect ratio set to "auto" or without a specified aspect ratio '
        "parameter will only be converted to 1K images; otherwise, the task will fail to create.",
        _GPT2_T2I,
    ),
    Rule(
        _GPT2,
        {"aspect_ratio": ("1:1",)},
        {"resolution": ("4K",)},
        "a 1:1 image can be 1K or 2K, not 4K",
        "Images with a 1:1 aspect ratio cannot be converted to 4K images.",
        _GPT2_T2I,
    ),
    Rule(
        ("gpt-image-2-text-to-image",),
        {"aspect_ratio": ("5:4", "4:5", "3:1", "1:3", "9:21")},
        {"resolution": ("2K", "4K")},
        "aspect ratios 5:4, 4:5, 3:1, 1:3 and 9:21 are 1K only",
        "Note: for 2K and 4K resolution, the following aspect ratios are not supported: 5:4, "
        "4:5, 3:1, 1:3, and 9:21.",
        _GPT2_T2I,
    ),
    Rule(
        ("gpt-image-2-image-to-image",),
        {"aspect_ratio": ("5:4", "4:5")},
        {"resolution": ("2K", "4K")},
        "aspect ratios 5:4 and 4:5 are 1K only",
        "Note: 5:4 and 4:5 aspect ratios only support 1K images.",
        _GPT2_I2I,
    ),
    Rule(
        _HAILUO,
        {"resolution": ("1080P",)},
        {"duration": ("10",)},
        "10-second videos are 768P only; use duration 6 for 1080P",
        "10 seconds videos are not supported for 1080p resolution.",
        "https://docs.kie.ai/market/hailuo/2-3-image-to-video-pro",
    ),
    *(
        Rule(
            _SEEDANCE,
            {"first_frame_url": PRESENT},
            {ref: PRESENT},
            f"first/last frames and {ref} are different modes; send one or the other",
            "Cannot be used simultaneously with reference_image_urls, reference_video_urls, or "
            "reference_audio_urls",
            _SEEDANCE_URL,
        )
        for ref in _REFS
    ),
    *(
        Rule(
            _SEEDANCE,
            {"last_frame_url": PRESENT},
            {ref: PRESENT},
            f"first/last frames and {ref} are different modes; send one or the other",
            f"{ref}: Mutually exclusive with the first/last-frame scenario",
            _SEEDANCE_URL,
        )
        for ref in _REFS
    ),
    Rule(
        _SEEDANCE,
        {"last_frame_url": PRESENT},
        {"first_frame_url": (None,)},
        "a last frame needs a first frame too",
        "last_frame_url cannot be passed alone; first_frame_url must be provided together with it",
        _SEEDANCE_URL,
    ),
    Rule(
        ("veo3",),
        {"generation_type": ("REFERENCE_2_VIDEO",)},
        {},
        "reference images (REFERENCE_2_VIDEO) work with veo3_fast and veo3_lite only",
        "REFERENCE_2_VIDEO mode currently supports the veo3_fast and veo3_lite models.",
        _VEO_URL,
    ),
    Rule(
        ("veo3_fast", "veo3_lite", "veo3"),
        {"generation_type": ("REFERENCE_2_VIDEO",)},
        {"duration": Outside((8,))},
        "reference images (REFERENCE_2_VIDEO) make 8-second videos only",
        "The REFERENCE_2_VIDEO mode currently only supports a duration of 8 seconds.",
        _VEO_URL,
    ),
    Rule(
        ("runway",),
        {"duration": (10,)},
        {"quality": ("1080p",)},
        "Runway makes 10-second videos at 720p only; use duration 5 for 1080p",
        "If 10-second video is selected, 1080p resolution cannot be used",
        _RUNWAY_URL,
    ),
    Rule(
        ("runway",),
        {},
        {"duration": Outside((5, 10))},
        "duration must be 5 or 10",
        "Video duration, optional values are 5 or 10.",
        _RUNWAY_URL,
    ),
    Rule(
        ("runway",),
        {},
        {"quality": Outside(("720p", "1080p"))},
        "quality must be 720p or 1080p",
        "Video resolution, optional values are 720p or 1080p.",
        _RUNWAY_URL,
    ),
    Rule(
        ("minimax-h3/reference-to-video",),
        {"reference_audio_urls": PRESENT, "reference_image_urls": (None,)},
        {"reference_video_urls": (None,)},
        "reference audio needs a reference image or video with it",
        "reference_audio cannot be used alone, it must be accompanied by reference_image or "
        "reference_video",
        "https://docs.kie.ai/market/minimax-h3/reference-to-video",
    ),
    Rule(
        ("grok-imagine/image-to-video",),
        {"image_urls": PRESENT},
        {"task_id": PRESENT},
        "send image_urls or task_id, not both",
        "Do not use it simultaneously with task_id",
        "https://docs.kie.ai/market/grok-imagine/image-to-video",
    ),
    Rule(
        ("wan/2-7-image", "wan/2-7-image-pro"),
        {"enable_sequential": (True,)},
        {"thinking_mode": (True,)},
        "thinking_mode works only with enable_sequential false",
        "Only available when `enable_sequential=false` and `input_urls` is empty",
        "https://docs.kie.ai/market/wan/2-7-image",
    ),
    *(
        Rule(
            ("suno",),
            _CUSTOM,
            {name: (None,)},
            f"custom_mode needs a {name} ({what}); or leave custom_mode false and kie writes "
            "the song from the prompt",
            "Required in Custom Mode (`customMode: true`).",
            _SUNO_URL,
        )
        for name, what in (("style", "genre and mood"), ("title", "at most 80 characters"))
    ),
    Rule(
        ("elevenlabs/text-to-dialogue-v3",),
        {},
        {"dialogue": LongerThan(5000)},
        "the dialogue's lines add up to more than 5000 characters",
        "The total character count of all text fields combined must not exceed 5000 characters.",
        "https://docs.kie.ai/market/elevenlabs/text-to-dialogue-v3",
    ),
    Rule(
        ("suno",),
        _SIMPLE,
        {"prompt": LongerThan(3000)},
        "outside custom mode the prompt (the song idea) is at most 3000 characters",
        "In Non-custom Mode (`customMode: false`): Always required. The prompt serves as the "
        "core idea",
        _SUNO_URL,
    ),
    Rule(
        ("suno",),
        {**_CUSTOM, "model": ("V4",)},
        {"prompt": LongerThan(3000)},
        "V4 lyrics (the prompt in custom mode) are at most 3000 characters",
        "**V4**: Maximum 3000 characters",
        _SUNO_URL,
    ),
    Rule(
        ("suno",),
        {**_CUSTOM, "model": _SUNO_5000},
        {"prompt": LongerThan(5000)},
        "lyrics (the prompt in custom mode) are at most 5000 characters",
        "**V5_5 & V5**: Maximum 5000 characters",
        _SUNO_URL,
    ),
    Rule(
        ("suno",),
        {**_CUSTOM, "model": ("V4",)},
        {"style": LongerThan(200)},
        "a V4 style is at most 200 characters",
        "**V4**: Maximum 200 characters",
        _SUNO_URL,
    ),
    Rule(
        ("suno",),
        {**_CUSTOM, "model": _SUNO_5000},
        {"style": LongerThan(1000)},
        "style is at most 1000 characters",
        "**V5_5 & V5**: Maximum 1000 characters",
        _SUNO_URL,
    ),
    Rule(
        ("suno",),
        {},
        {"title": LongerThan(80)},
        "title is at most 80 characters",
        "Max length: 80 characters.",
        _SUNO_URL,
    ),
    *(
        Rule(
            ("suno",),
            when,
            {"duration": SENT},
            "duration works only with model V5_5 in custom mode (custom_mode true)",
            "Audio duration. Optional; only effective when custom_mode is true and model is V5_5.",
            _SUNO_URL,
        )
        for when in (_SIMPLE, {"model": Outside(("V5_5",))})
    ),
    Rule(
        ("suno",),
        {"model": Outside(("V5", "V5_5"))},
        {"persona_model": SENT},
        "persona_model works only with model V5 or V5_5",
        "The persona model is only available for models version 5 and 5.5.",
        _SUNO_URL,
    ),
    *(
        Rule(
            ("suno",),
            _SIMPLE,
            {name: SENT},
            f"{name} applies only in custom mode: pass custom_mode true (then style and title "
            "are both required, and the prompt is sung as lyrics)",
            "If `false`: Simplified mode where only `prompt` is required and other parameters "
            "are ignored.",
            _SUNO_URL,
        )
        for name in ("style", "title", "vocal_gender", "persona_id")
    ),
)

# Values kie's prose gives for required fields whose schema has no default (sent when the
# request does not choose), with the sentence they come from.
PROSE_DEFAULTS: dict[str, dict[str, Any]] = {
    # "Video duration, optional values are 5 or 10." / "optional values are 720p or 1080p."
    "runway": {"duration": 5, "quality": "720p", "aspect_ratio": "16:9"},
    # runway-extend requires quality: "Video resolution, optional values are 720p or 1080p."
    "runway-extend": {"quality": "720p"},
    # kie's schema requires Suno's `model` and names no default; we send V5 ("`V5`: Superior
    # musical expression, faster generation."), not the oldest version its enum lists first.
    "suno": {"model": "V5"},
    # grok-imagine/extend requires extend_times and names two values, "`6`: Expand 6 seconds of
    # video content" and "`10`: ..."; we send the shorter (and cheaper) one.
    "grok-imagine/extend": {"extend_times": 6},
}


def rules_for(model_id: str) -> tuple[Rule, ...]:
    return tuple(rule for rule in RULES if model_id in rule.models)
