"""Callback bodies: where the task id sits, what state they claim, what we refuse."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mcp_server_kie.domain import CallbackNotice, TaskState
from mcp_server_kie.kie.callbacks import callback_task_id, parse_callback
from mcp_server_kie.kie.errors import KieCallbackError, KieProtocolError

Load = Callable[[str], Any]
TID = "e989621f54392584b05867f87b160672"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "market_callback_success.json",
            CallbackNotice(TID, TaskState.SUCCESS, ("https://example.com/generated-image.jpg",)),
        ),
        ("market_callback_failure.json", CallbackNotice(TID, TaskState.FAIL)),
        ("signing_doc_callback.json", CallbackNotice("ee9c2715375b7837f8bb51d641ff5863", None)),
    ],
)
def test_fixture_callbacks(load_fixture: Load, name: str, expected: CallbackNotice) -> None:
    assert parse_callback(load_fixture(name)) == expected


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"taskId": TID}},
        {"data": {"task_id": TID}},
        {"taskId": TID, "data": {"result_video_url": "https://x/y.mp4"}},
        {"taskId": TID, "data": None},
        {"taskId": TID, "data": {"taskId": TID, "task_id": TID}},
    ],
)
def test_task_id_locations(body: dict[str, Any]) -> None:
    assert callback_task_id(body) == TID
    assert parse_callback(body).task_id == TID


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"data": {}},
        {"data": {"taskId": ""}},
        {"data": {"taskId": 123}},
        {"data": {"taskId": "../../etc"}},
        {"data": {"taskId": "x" * 500}},
        {"data": {"taskId": "abc", "task_id": "def"}},
        {"taskId": "abc", "data": {"taskId": "def"}},
        {"data": {"taskId": "a\u202eb"}},
        {"data": {"taskId": None, "task_id": "bad id"}},
    ],
)
def test_no_usable_task_id(body: dict[str, Any]) -> None:
    assert callback_task_id(body) is None
    with pytest.raises(KieCallbackError):
        parse_callback(body)


@pytest.mark.parametrize("body", [None, [], "text", 5, {"taskId": TID, "data": ["x"]}])
def test_wrong_shapes(body: Any) -> None:
    with pytest.raises(KieCallbackError) as caught:
        parse_callback(body)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, KieProtocolError)


def test_callback_task_id_never_raises_on_non_mappings() -> None:
    bodies: list[Any] = [None, [], "x", 3.5, {"data": "x"}]
    for body in bodies:
        assert callback_task_id(body) is None


@pytest.mark.parametrize(
    ("data", "state"),
    [
        ({"state": "generating"}, TaskState.GENERATING),
        ({"successFlag": 1}, TaskState.SUCCESS),
        ({"state": "bogus"}, None),
        ({}, None),
    ],
)
def test_state_claims(data: dict[str, Any], state: TaskState | None) -> None:
    assert parse_callback({"data": {"taskId": TID, **data}}).state is state


FOUR_O = "task12345"
VEO = "veo_task_abcdef123456"
RUNWAY = "ee603959-debb-48d1-98c4-a6d1c717eba6"
VEO_URLS = ("http://example.com/video1.mp4",)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "gpt4o_callback_success.json",
            CallbackNotice(FOUR_O, TaskState.SUCCESS, ("https://example.com/result/image1.png",)),
        ),
        ("gpt4o_callback_failure.json", CallbackNotice(FOUR_O, TaskState.FAIL)),
        ("veo_callback_success.json", CallbackNotice(VEO, TaskState.SUCCESS, VEO_URLS)),
        ("veo_callback_failure.json", CallbackNotice(VEO, TaskState.FAIL)),
        ("veo_callback_fallback_failure.json", CallbackNotice(VEO, TaskState.FAIL)),
        ("veo_callback_fallback_success.json", CallbackNotice(VEO, TaskState.SUCCESS, VEO_URLS)),
        ("veo_callback_openapi_string_urls.json", CallbackNotice(VEO, TaskState.SUCCESS, VEO_URLS)),
        ("runway_callback_success.json", CallbackNotice(RUNWAY, TaskState.SUCCESS)),
        ("runway_callback_failure.json", CallbackNotice(RUNWAY, TaskState.FAIL)),
    ],
)
def test_family_fixture_callbacks(load_fixture: Load, name: str, expected: CallbackNotice) -> None:
    body = load_fixture(name)
    assert parse_callback(body) == expected
    assert callback_task_id(body) == expected.task_id


@pytest.mark.parametrize(
    ("body", "state"),
    [
        ({"code": 200, "data": {"taskId": TID, "info": {"resultUrls": []}}}, TaskState.SUCCESS),
        ({"code": "200", "data": {"task_id": TID, "video_url": ""}}, TaskState.SUCCESS),
        ({"code": 451, "data": {"taskId": TID, "info": None}}, TaskState.FAIL),
        ({"code": 500, "data": {"task_id": TID}}, TaskState.FAIL),
        ({"code": 501, "data": {"taskId": TID, "state": "bogus"}}, TaskState.FAIL),
        ({"code": 200, "data": {"taskId": TID, "state": "fail"}}, TaskState.FAIL),
        ({"code": 200, "data": {"taskId": TID, "info": None}}, None),
        ({"code": 200, "data": {"taskId": TID}}, None),
        ({"code": "ok", "data": {"taskId": TID, "info": {}}}, None),
        ({"code": True, "data": {"taskId": TID, "info": {}}}, None),
    ],
)
def test_state_from_the_body_code(body: dict[str, Any], state: TaskState | None) -> None:
    assert parse_callback(body).state is state


def test_a_suno_style_200_is_not_read_as_success(load_fixture: Load) -> None:
    body = load_fixture("signing_doc_callback.json")
    assert body["code"] == 200
    assert parse_callback(body).state is None


@pytest.mark.parametrize(
    ("data", "urls"),
    [
        (
            {"state": "success", "resultJson": '{"resultUrls": ["https://a/1.png"]}'},
            ("https://a/1.png",),
        ),
        (
            {"state": "success", "resultJson": {"resultUrls": ["https://a/1.png"]}},
            ("https://a/1.png",),
        ),
        (
            {"state": "success", "resultUrls": ["https://a/1.png", "https://a/2.png"]},
            ("https://a/1.png", "https://a/2.png"),
        ),
        ({"info": {"resultImageUrl": "https://a/flux.png"}}, ("https://a/flux.png",)),
        ({"state": "success", "resultJson": "{not json"}, ()),
        ({"state": "success", "resultJson": '{"resultUrls": ["file:///etc/passwd"]}'}, ()),
        ({"state": "fail", "resultJson": '{"resultUrls": ["https://a/1.png"]}'}, ()),
        ({"state": "generating", "resultJson": '{"resultUrls": ["https://a/1.png"]}'}, ()),
    ],
)
def test_claimed_result_urls(data: dict[str, Any], urls: tuple[str, ...]) -> None:
    """Only a success claim names URLs, and only plain http(s) ones (a hint: the status read
    decides what is kept)."""
    assert parse_callback({"code": 200, "data": {"taskId": TID, **data}}).result_urls == urls
