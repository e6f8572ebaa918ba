"""Veo 3.1 family: snake_case -> wire bodies, record-info variants, the 1080p reply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mcp_server_kie.domain import TaskSnapshot, TaskState
from mcp_server_kie.kie.errors import (
    KieAuthError,
    KieError,
    KieProtocolError,
    KieUnavailableError,
    KieValidationError,
)
from mcp_server_kie.kie.veo import FIELDS, create_body, hd_video_url, parse_record, still_processing

Load = Callable[[str], Any]
TID = "veo_task_abcdef123456"
VIDEO = "http://example.com/video1.mp4"

SNAKE_INPUTS: dict[str, tuple[str, dict[str, Any]]] = {
    "openapi_example": (
        "veo3_fast",
        {
            "prompt": "A dog playing in a park",
            "image_urls": ["http://example.com/image1.jpg", "http://example.com/image2.jpg"],
            "watermark": "MyBrand",
            "aspect_ratio": "16:9",
            "enable_translation": True,
            "generation_type": "REFERENCE_2_VIDEO",
        },
    ),
    "quickstart_text_to_video": (
        "veo3",
        {"prompt": "一只可爱的小猫在花园里玩耍，阳光明媚，高清画质", "aspect_ratio": "16:9"},
    ),
    "quickstart_image_to_video": (
        "veo3",
        {
            "prompt": "让这张图片中的人物挥手微笑，背景轻微摇摆",
            "image_urls": ["https://your-domain.com/image.jpg"],
            "aspect_ratio": "16:9",
        },
    ),
}


@pytest.mark.parametrize("name", sorted(SNAKE_INPUTS))
def test_documented_request_bodies(load_fixture: Load, name: str) -> None:
    documented = dict(load_fixture("veo_requests_doc.json")[name])
    documented.pop("enableFallback", None)  # deprecated by kie; deliberately not mapped
    if "aspectRatio" in documented:  # the older quickstart pages' spelling; the 2026-08
        documented["aspect_ratio"] = documented.pop("aspectRatio")  # OpenAPI names aspect_ratio
    model, snake = SNAKE_INPUTS[name]
    assert create_body(model, snake, documented.get("callBackUrl")) == documented


def test_the_body_carries_kies_current_field_names() -> None:
    # kie's OpenAPI of 2026-08 names the ratio `aspect_ratio` and has no `seeds` (issue 12).
    body = create_body("veo3_fast", {"prompt": "p", "aspect_ratio": "9:16"}, None)
    assert body == {"model": "veo3_fast", "prompt": "p", "aspect_ratio": "9:16"}
    with pytest.raises(ValueError, match="seeds"):
        create_body("veo3_fast", {"prompt": "p", "seeds": 12345}, None)


def test_every_mapped_key_reaches_the_wire_under_its_wire_name() -> None:
    values: dict[str, Any] = {key: f"v-{key}" for key in FIELDS}
    values["image_urls"] = ["https://a/first.png", "https://a/last.png"]
    body = create_body("veo3_lite", values, "https://example.org/hook?token=t")
    assert set(body) == {*FIELDS.values(), "model", "callBackUrl"}
    assert body["model"] == "veo3_lite"
    assert body["imageUrls"] == values["image_urls"]
    assert body["generationType"] == "v-generation_type"
    assert body["enableTranslation"] == "v-enable_translation"


@pytest.mark.parametrize("model", ["veo3.1", "", "VEO3", "veo3_quality", "google/veo3"])
def test_model_must_be_a_veo_wire_model(model: str) -> None:
    with pytest.raises(ValueError, match="veo3_fast"):
        create_body(model, {"prompt": "p"}, None)


@pytest.mark.parametrize("key", ["imageUrls", "enable_fallback", "model", "callback_url"])
def test_unknown_snake_key_is_a_value_error(key: str) -> None:
    with pytest.raises(ValueError, match=key):
        create_body("veo3_fast", {"prompt": "p", key: True}, None)


def test_image_urls_must_be_a_list() -> None:
    with pytest.raises(ValueError, match="image_urls"):
        create_body("veo3_fast", {"prompt": "p", "image_urls": "https://a/b.png"}, None)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "veo_record_openapi_success.json",
            TaskSnapshot(task_id=TID, state=TaskState.SUCCESS, result_urls=(VIDEO,)),
        ),
        ("veo_record_derived_generating.json", TaskSnapshot(TID, TaskState.GENERATING)),
        (
            "veo_record_derived_extended.json",
            TaskSnapshot(TID, TaskState.SUCCESS, ("http://example.com/full_video1.mp4",)),
        ),
        (
            "veo_record_derived_failed.json",
            TaskSnapshot(
                TID,
                TaskState.FAIL,
                fail_code="400",
                fail_message="Your prompt was flagged by Website as violating content policies.",
            ),
        ),
        (
            "veo_record_derived_generation_failed.json",
            TaskSnapshot(
                TID, TaskState.FAIL, fail_code="501", fail_message="Video generation task failed"
            ),
        ),
    ],
)
def test_fixture_parses_to_snapshot(load_fixture: Load, name: str, expected: TaskSnapshot) -> None:
    assert parse_record(load_fixture(name)["data"]) == expected


def record(**fields: Any) -> dict[str, Any]:
    return {"taskId": TID, **fields}


@pytest.mark.parametrize(
    ("flag", "state"),
    [
        (0, TaskState.GENERATING),
        (1, TaskState.SUCCESS),
        (2, TaskState.FAIL),
        (3, TaskState.FAIL),
        ("3", TaskState.FAIL),
        (1.0, TaskState.SUCCESS),
    ],
)
def test_success_flags(flag: object, state: TaskState) -> None:
    assert parse_record(record(successFlag=flag)).state is state


@pytest.mark.parametrize("flag", [None, 4, -1, 1.5, "x", True])
def test_unknown_success_flag_is_a_protocol_error(flag: object) -> None:
    with pytest.raises(KieProtocolError, match="successFlag"):
        parse_record(record(successFlag=flag))


@pytest.mark.parametrize(
    ("response", "urls"),
    [
        ({"resultUrls": [VIDEO], "fullResultUrls": ["https://x/full.mp4"]}, (VIDEO,)),
        ({"resultUrls": [], "fullResultUrls": ["https://x/full.mp4"]}, ("https://x/full.mp4",)),
        ({"resultUrls": f"[{VIDEO}]"}, (VIDEO,)),
        ({"resultUrls": f'["{VIDEO}"]'}, (VIDEO,)),
        ({"resultUrls": f"[{VIDEO}, https://x/2.mp4]"}, (VIDEO, "https://x/2.mp4")),
        ({"originUrls": ["https://x/original.mp4"]}, ()),
        (None, ()),
    ],
)
def test_result_url_variants(response: Any, urls: tuple[str, ...]) -> None:
    assert parse_record(record(successFlag=1, response=response)).result_urls == urls


def test_no_progress_or_credits(load_fixture: Load) -> None:
    snapshot = parse_record(load_fixture("veo_record_openapi_success.json")["data"])
    assert (snapshot.progress, snapshot.credits) == (None, None)


def test_hd_reply(load_fixture: Load) -> None:
    data = load_fixture("veo_1080p_success.json")["data"]
    assert hd_video_url(data) == data["resultUrl"]
    assert hd_video_url({"resultUrls": ["https://x/4k.mp4"]}) == "https://x/4k.mp4"
    for empty in (None, {}, {"resultUrl": ""}, {"resultUrl": None}, []):
        assert hd_video_url(empty) is None
    for bad in ("file:///etc/passwd", 5, "https://a b/c"):
        with pytest.raises(KieProtocolError):
            hd_video_url({"resultUrl": bad})


@pytest.mark.parametrize(
    ("error", "processing"),
    [
        (KieValidationError("x", code=400, provider_message="1080P is processing."), True),
        (KieUnavailableError("x", code=500, provider_message="1080p Processing"), True),
        (KieValidationError("x", code=400, provider_message="1080P正在处理中"), True),
        (KieValidationError("x", code=400, provider_message="bad task id"), False),
        (KieValidationError("x", code=422, provider_message="record status is not success"), False),
        (KieAuthError("x", code=401, provider_message="processing"), False),
        (KieUnavailableError("no connection while fetching (processing)"), False),
    ],
)
def test_still_processing(error: KieError, processing: bool) -> None:
    assert still_processing(error) is processing
