"""Each place where the hand-written catalogue disagreed with kie's own documents (issue 12)."""

from __future__ import annotations

import pytest

from mcp_server_kie.catalog import CATALOG, get_model, validate_request
from mcp_server_kie.domain import MediaKind, UserInputError
from mcp_server_kie.kie.client import task_unknown
from mcp_server_kie.kie.errors import error_for_code

GPT2 = "https://docs.kie.ai/market/gpt/gpt-image-2-text-to-image"


def refused(model: str, kind: MediaKind, knobs: dict[str, object], **options: object) -> str:
    spec = get_model(model, kind)
    with pytest.raises(UserInputError) as error:
        validate_request(spec, "a lighthouse at dusk", knobs, options or None)
    return str(error.value)


@pytest.mark.parametrize(
    ("knobs", "field_words"),
    [
        ({"resolution": "2K"}, "resolution must be 1K when aspect_ratio is auto or not given"),
        ({"aspect_ratio": "auto", "resolution": "4K"}, "resolution must be 1K"),
        ({"aspect_ratio": "1:1", "resolution": "4K"}, "1:1 image can be 1K or 2K"),
        ({"aspect_ratio": "4:5", "resolution": "2K"}, "5:4, 4:5, 3:1, 1:3 and 9:21 are 1K only"),
    ],
)
def test_gpt_image_2_refuses_what_kie_fails_to_create(knobs, field_words):
    message = refused("gpt-image-2-text-to-image", MediaKind.IMAGE, knobs)
    assert field_words in message and GPT2 in message


def test_gpt_image_2_sends_no_aspect_ratio_unless_asked_and_allows_16_9_at_4k():
    spec = get_model("gpt-image-2-text-to-image", MediaKind.IMAGE)
    assert validate_request(spec, "x", {}).input == {"prompt": "x"}
    wide = validate_request(spec, "x", {"aspect_ratio": "16:9", "resolution": "4K"})
    assert wide.input["resolution"] == "4K" and wide.expected_credits == 16


def test_hailuo_2_3_refuses_ten_seconds_at_1080p():
    knobs = {"first_frame": "https://x/a.png", "duration": 10, "resolution": "1080P"}
    message = refused("hailuo/2-3-image-to-video-pro", MediaKind.VIDEO, knobs)
    assert "768P only" in message and "docs.kie.ai/market/hailuo/2-3-image-to-video-pro" in message


@pytest.mark.parametrize(
    "knobs",
    [
        {"last_frame": "https://x/l.png"},
        {"first_frame": "https://x/f.png", "reference_images": ["https://x/r.png"]},
    ],
)
def test_seedance_2_modes_are_exclusive_and_a_last_frame_needs_a_first(knobs):
    message = refused("bytedance/seedance-2", MediaKind.VIDEO, knobs)
    assert "frame" in message and "https://docs.kie.ai/market/bytedance/seedance-2" in message


def test_seedance_2_first_and_last_frames_together_are_fine():
    spec = get_model("bytedance/seedance-2", MediaKind.VIDEO)
    request = validate_request(
        spec, "a dog runs", {"first_frame": "https://x/f.png", "last_frame": "https://x/l.png"}
    )
    assert request.input["last_frame_url"] == "https://x/l.png"


def test_imagen4_fast_takes_an_integer_seed_and_imagen4_a_string():
    fast = validate_request(get_model("google/imagen4-fast", MediaKind.IMAGE), "x", {"seed": 42})
    assert fast.input["seed"] == 42
    for model in ("google/imagen4", "google/imagen4-ultra"):
        plain = validate_request(get_model(model, MediaKind.IMAGE), "x", {"seed": 42})
        assert plain.input["seed"] == "42"


def test_4o_image_uses_the_current_schema_and_price():
    spec = get_model("gpt-4o-image", MediaKind.IMAGE)
    assert set(spec.fields) == {"prompt", "files_url", "size", "file_url"}
    request = validate_request(spec, "a fox", {"reference_images": ["https://x/a.png"]})
    assert request.input == {"prompt": "a fox", "files_url": ["https://x/a.png"], "size": "1:1"}
    assert request.expected_credits == 6
    assert "does not take 'num_images'" in refused(
        "gpt-4o-image", MediaKind.IMAGE, {"num_images": 2}
    )
    assert "'is_enhance' is not a setting" in refused(
        "gpt-4o-image", MediaKind.IMAGE, {}, is_enhance=True
    )


def test_veo_reference_images_say_so_and_only_fast_and_lite_take_them_at_8_s():
    fast = get_model("veo3_fast", MediaKind.VIDEO)
    refs = validate_request(fast, "x", {"reference_images": ["https://x/a.png"]})
    assert refs.input["generation_type"] == "REFERENCE_2_VIDEO"
    frames = validate_request(fast, "x", {"first_frame": "https://x/a.png"})
    assert frames.input["generation_type"] == "FIRST_AND_LAST_FRAMES_2_VIDEO"
    assert frames.input["image_urls"] == ["https://x/a.png"]
    message = refused("veo3", MediaKind.VIDEO, {"reference_images": ["https://x/a.png"]})
    assert "veo3_fast and veo3_lite only" in message
    short = refused(
        "veo3_lite", MediaKind.VIDEO, {"reference_images": ["https://a/b"], "duration": 6}
    )
    assert "8-second videos only" in short


def test_veo_has_no_seeds_and_names_its_ratio_aspect_ratio():
    spec = get_model("veo3_fast", MediaKind.VIDEO)
    assert "seeds" not in spec.fields and spec.knobs["aspect_ratio"] == "aspect_ratio"
    assert "does not take 'seed'" in refused("veo3_fast", MediaKind.VIDEO, {"seed": 12345})
    portrait = validate_request(spec, "x", {"aspect_ratio": "9:16"})
    assert portrait.input["aspect_ratio"] == "9:16"


def test_sora_2_is_not_offered_and_says_why():
    assert not [spec for spec in CATALOG if spec.id.startswith("sora")]
    with pytest.raises(UserInputError, match="OpenAI closed the Sora API on 2026-09-24"):
        get_model("sora-2-text-to-video", MediaKind.VIDEO)


def test_an_unknown_market_task_is_recognised_from_kies_422_answer():
    error = error_for_code(422, what="reading a task", provider_message="recordInfo is null")
    assert task_unknown(error)
    other = error_for_code(422, what="reading a task", provider_message="prompt is required")
    assert not task_unknown(other)


@pytest.mark.parametrize(("duration", "credits"), [(5, 104.5), (10, 209.5), (15, 315)])
def test_wan_2_6_prices_at_1080p(duration, credits):
    spec = get_model("wan/2-6-text-to-video", MediaKind.VIDEO)
    request = validate_request(spec, "x", {"duration": duration, "resolution": "1080p"})
    assert request.expected_credits == credits


def test_kling_2_6_text_to_video_defaults_to_1_1_like_kie():
    spec = get_model("kling-2.6/text-to-video", MediaKind.VIDEO)
    assert validate_request(spec, "x", {}).input["aspect_ratio"] == "1:1"


def test_a_refusal_names_field_allowed_values_and_doc_url():
    message = refused("z-image", MediaKind.IMAGE, {"aspect_ratio": "21:9"})
    assert "aspect_ratio must be one of '1:1', '4:3', '3:4', '16:9', '9:16'" in message
    assert "https://docs.kie.ai/market/z-image/z-image" in message
