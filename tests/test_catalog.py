"""The catalogue refuses what kie would reject, naming what is allowed, before any spend."""

from __future__ import annotations

import pytest

from mcp_server_kie.catalog import CATALOG, DEFAULT_MODEL, get_model, validate_request
from mcp_server_kie.domain import ApiFamily, MediaKind, UserInputError


def test_defaults_fill_kie_fields() -> None:
    # kling-2.6 text-to-video: kie's schema defaults aspect_ratio to 1:1 (not 16:9).
    spec = get_model("kling-2.6/text-to-video", MediaKind.VIDEO)
    request = validate_request(spec, "a cat", {"duration": 10})
    assert request.input == {
        "prompt": "a cat",
        "aspect_ratio": "1:1",
        "duration": "10",
        "sound": False,
    }
    assert request.expected_credits == 110


def test_bad_aspect_ratio_names_allowed_values() -> None:
    spec = get_model("seedream/4.5-text-to-image", MediaKind.IMAGE)
    with pytest.raises(UserInputError) as error:
        validate_request(spec, "a cat", {"aspect_ratio": "5:4"})
    message = str(error.value)
    assert "aspect_ratio" in message and "'21:9'" in message and "'5:4'" in message


def test_unknown_model_lists_the_available_ones() -> None:
    with pytest.raises(UserInputError, match="google/nano-banana"):
        get_model("dall-e-9", MediaKind.IMAGE)


def test_video_model_for_image_tool_points_to_the_right_tool() -> None:
    with pytest.raises(UserInputError, match="generate_video"):
        get_model("kling-2.6/text-to-video", MediaKind.IMAGE)


def test_knob_a_model_lacks_is_refused() -> None:
    spec = get_model("google/nano-banana", MediaKind.IMAGE)
    with pytest.raises(UserInputError, match="does not take 'duration'"):
        validate_request(spec, "a cat", {"duration": 5})


def test_unknown_option_is_refused_not_sent() -> None:
    spec = get_model("google/nano-banana", MediaKind.IMAGE)
    with pytest.raises(UserInputError, match=r"'callBackUrl' is not a setting.*nano-banana"):
        validate_request(spec, "a cat", {}, options={"callBackUrl": "https://evil"})


def test_prompt_length_limit() -> None:
    spec = get_model("kling-2.6/text-to-video", MediaKind.VIDEO)
    with pytest.raises(UserInputError, match="prompt"):
        validate_request(spec, "x" * 1001, {})


def test_every_default_model_is_in_the_catalogue() -> None:
    ids = {spec.id for spec in CATALOG}
    assert set(DEFAULT_MODEL.values()) <= ids
    assert {spec.kind for spec in CATALOG} == set(MediaKind)


@pytest.mark.parametrize(
    ("model", "kind", "knobs", "options", "expected"),
    [
        ("runway", MediaKind.VIDEO, {"resolution": "1080p", "duration": 10}, None, "720p only"),
        ("gpt-4o-image", MediaKind.IMAGE, {"num_images": 3}, None, "does not take 'num_images'"),
        ("z-image", MediaKind.IMAGE, {"aspect_ratio": "21:9"}, None, "'16:9'"),
        ("kling-2.6/image-to-video", MediaKind.VIDEO, {}, None, "first_frame is required"),
        ("google/nano-banana-edit", MediaKind.IMAGE, {}, None, "reference_images is required"),
        ("veo3_fast", MediaKind.VIDEO, {"duration": 5}, None, "duration must be one of 4, 6, 8"),
        ("bytedance/seedream", MediaKind.IMAGE, {}, {"guidance_scale": 11}, "guidance_scale"),
    ],
)
def test_invalid_combinations_are_refused(
    model: str,
    kind: MediaKind,
    knobs: dict[str, object],
    options: dict[str, object] | None,
    expected: str,
) -> None:
    spec = get_model(model, kind)
    with pytest.raises(UserInputError, match=expected):
        validate_request(spec, "a cat on a sofa", knobs, options)


def test_one_image_fills_a_one_item_list_and_prices_follow_settings() -> None:
    spec = get_model("kling-2.6/image-to-video", MediaKind.VIDEO)
    request = validate_request(spec, "it moves", {"first_frame": "https://x/a.png", "sound": True})
    assert request.input["image_urls"] == ["https://x/a.png"]
    assert request.expected_credits == 110
    veo = get_model("veo3_fast", MediaKind.VIDEO)
    assert validate_request(veo, "x", {"resolution": "1080p"}).expected_credits == 65
    seedance = get_model("bytedance/seedance-2", MediaKind.VIDEO)
    assert validate_request(seedance, "a dog runs", {"duration": 10}).expected_credits == 410


def test_catalogue_covers_every_kind_and_every_family() -> None:
    assert len(CATALOG) >= 147
    assert len({spec.id for spec in CATALOG}) == len(CATALOG)
    assert {spec.family for spec in CATALOG} == set(ApiFamily)
