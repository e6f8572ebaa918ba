"""Runway family: snake_case -> wire bodies and every record-detail state spelling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mcp_server_kie.domain import TaskSnapshot, TaskState
from mcp_server_kie.kie.errors import KieProtocolError
from mcp_server_kie.kie.runway import FIELDS, create_body, parse_record

Load = Callable[[str], Any]
TID = "ee603959-debb-48d1-98c4-a6d1c717eba6"

SNAKE_INPUTS: dict[str, dict[str, Any]] = {
    "quickstart_first_video": {
        "prompt": "一只毛茸茸的橙色小猫在彩色房间里充满活力地跳舞，周围有迪斯科灯光",
        "duration": 5,
        "quality": "720p",
        "aspect_ratio": "16:9",
        "water_mark": "",
    },
    "quickstart_text_to_video": {
        "prompt": "一只雄伟的老鹰在日落时分翱翔穿过山间云层",
        "duration": 5,
        "quality": "720p",
        "aspect_ratio": "16:9",
    },
    "quickstart_image_to_video": {
        "prompt": "角色开始自信地向前走",
        "image_url": "https://example.com/character-image.jpg",
        "duration": 5,
        "quality": "720p",
        "aspect_ratio": "16:9",
    },
}


@pytest.mark.parametrize("name", sorted(SNAKE_INPUTS))
def test_documented_request_bodies(load_fixture: Load, name: str) -> None:
    documented = load_fixture("runway_requests_doc.json")[name]
    assert create_body("runway-gen4", SNAKE_INPUTS[name], None) == documented


def test_every_mapped_key_reaches_the_wire_and_callback_is_added() -> None:
    body = create_body("runway", {key: f"v-{key}" for key in FIELDS}, "https://h.example/cb")
    assert set(body) == {*FIELDS.values(), "callBackUrl"}
    assert body["waterMark"] == "v-water_mark"
    assert body["imageUrl"] == "v-image_url"
    assert body["aspectRatio"] == "v-aspect_ratio"
    assert "model" not in body


@pytest.mark.parametrize("key", ["waterMark", "watermark", "model", "seed", "video_url"])
def test_unknown_snake_key_is_a_value_error(key: str) -> None:
    with pytest.raises(ValueError, match=key):
        create_body("runway", {"prompt": "p", key: "x"}, None)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "runway_record_quickstart_success.json",
            TaskSnapshot(TID, TaskState.SUCCESS, ("https://file.com/k/xxxxxxx.mp4",)),
        ),
        ("runway_record_derived_queueing.json", TaskSnapshot(TID, TaskState.QUEUING)),
        (
            "runway_record_derived_fail.json",
            TaskSnapshot(
                TID, TaskState.FAIL, fail_code="400", fail_message="生成失败，请稍后重试。"
            ),
        ),
    ],
)
def test_fixture_parses_to_snapshot(load_fixture: Load, name: str, expected: TaskSnapshot) -> None:
    assert parse_record(load_fixture(name)["data"]) == expected


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("wait", TaskState.WAITING),
        ("queueing", TaskState.QUEUING),
        ("queuing", TaskState.QUEUING),
        ("generating", TaskState.GENERATING),
        ("success", TaskState.SUCCESS),
        ("fail", TaskState.FAIL),
        (" Success ", TaskState.SUCCESS),
    ],
)
def test_state_spellings(raw: str, state: TaskState) -> None:
    assert parse_record({"taskId": TID, "state": raw}).state is state


@pytest.mark.parametrize("raw", [None, "", "done", 1, "GENERATING_NOW"])
def test_unknown_state_is_a_protocol_error(raw: object) -> None:
    with pytest.raises(KieProtocolError, match="Runway state"):
        parse_record({"taskId": TID, "state": raw})


def test_cover_image_is_not_an_output_and_junk_video_urls_are_dropped() -> None:
    info = {"videoUrl": "javascript:alert(1)", "imageUrl": "https://file.com/m/cover.png"}
    snapshot = parse_record({"taskId": TID, "state": "success", "videoInfo": info})
    assert snapshot.result_urls == ()


def test_fail_fields_only_on_failure() -> None:
    snapshot = parse_record({"taskId": TID, "state": "generating", "failCode": 400, "failMsg": "x"})
    assert (snapshot.fail_code, snapshot.fail_message) == (None, None)
