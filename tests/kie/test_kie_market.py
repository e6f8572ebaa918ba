"""Market family: request bodies and every documented recordInfo / callback `data` variant."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from mcp_server_kie.domain import TaskSnapshot, TaskState
from mcp_server_kie.kie.errors import KieProtocolError
from mcp_server_kie.kie.market import create_body, created_task_id, parse_record

Load = Callable[[str], Any]
FOX = "https://tempfile.aiquickdraw.com/h/4f1c0e2a9b7d4c3e8a6f5b2d1c0e9f8a_1759480000.png"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "market_callback_success.json",
            TaskSnapshot(
                task_id="e989621f54392584b05867f87b160672",
                state=TaskState.SUCCESS,
                result_urls=("https://example.com/generated-image.jpg",),
                credits=100.0,
            ),
        ),
        (
            "market_callback_failure.json",
            TaskSnapshot(
                task_id="e989621f54392584b05867f87b160672",
                state=TaskState.FAIL,
                credits=0.0,
                fail_code="500",
                fail_message="Internal server error",
            ),
        ),
        (
            "recordinfo_live_success.json",
            TaskSnapshot(
                task_id="e931f4f24b0f6d5bc4744c719d3f67f3",
                state=TaskState.SUCCESS,
                result_urls=(FOX,),
                credits=0.8,
            ),
        ),
        (
            "recordinfo_live_waiting.json",
            TaskSnapshot(task_id="e931f4f24b0f6d5bc4744c719d3f67f3", state=TaskState.WAITING),
        ),
        (
            "recordinfo_doc_generating.json",
            TaskSnapshot(task_id="task_12345678", state=TaskState.GENERATING),
        ),
        (
            "recordinfo_doc_fail.json",
            TaskSnapshot(
                task_id="task_12345678",
                state=TaskState.FAIL,
                fail_code="500",
                fail_message="Internal server error",
            ),
        ),
    ],
)
def test_fixture_parses_to_snapshot(load_fixture: Load, name: str, expected: TaskSnapshot) -> None:
    assert parse_record(load_fixture(name)["data"]) == expected


def live_record(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"taskId": "e931f4f24b0f6d5bc4744c719d3f67f3", "state": "success"}
    record.update(changes)
    return {key: value for key, value in record.items() if value is not ...}


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("waiting", TaskState.WAITING),
        ("queuing", TaskState.QUEUING),
        ("generating", TaskState.GENERATING),
        ("success", TaskState.SUCCESS),
        ("fail", TaskState.FAIL),
        (" SUCCESS ", TaskState.SUCCESS),
    ],
)
def test_state_strings(raw: str, state: TaskState) -> None:
    assert parse_record(live_record(state=raw)).state is state


@pytest.mark.parametrize(
    ("flag", "state"),
    [
        (0, TaskState.GENERATING),
        (1, TaskState.SUCCESS),
        (3, TaskState.FAIL),
        ("1", TaskState.SUCCESS),
    ],
)
def test_success_flag_when_state_is_missing(flag: object, state: TaskState) -> None:
    assert parse_record(live_record(state=..., successFlag=flag)).state is state


def test_state_string_wins_over_success_flag() -> None:
    assert (
        parse_record(live_record(state="generating", successFlag=1)).state is TaskState.GENERATING
    )


@pytest.mark.parametrize("state", [None, "teleporting", 7, ""])
def test_unknown_state_without_flag_is_a_protocol_error(state: object) -> None:
    with pytest.raises(KieProtocolError, match="unknown state"):
        parse_record(live_record(state=state))


def test_result_from_response_object_when_result_json_is_missing() -> None:
    record = live_record(resultJson=None, response={"resultUrls": [FOX]})
    assert parse_record(record).result_urls == (FOX,)


def test_result_json_may_arrive_already_parsed() -> None:
    assert parse_record(live_record(resultJson={"resultUrls": [FOX]})).result_urls == (FOX,)


def test_top_level_result_urls() -> None:
    assert parse_record(live_record(resultUrls=[FOX, FOX])).result_urls == (FOX, FOX)


def test_broken_result_json_falls_back_to_response() -> None:
    record = live_record(resultJson="{not json", response={"resultUrls": [FOX]})
    assert parse_record(record).result_urls == (FOX,)


def test_broken_result_json_on_success_is_a_protocol_error() -> None:
    with pytest.raises(KieProtocolError, match="resultJson"):
        parse_record(live_record(resultJson="{not json"))


def test_text_output_has_no_urls() -> None:
    record = live_record(resultJson=json.dumps({"resultObject": {"subject_status": 1}}))
    assert parse_record(record).result_urls == ()


def test_non_http_result_urls_are_dropped() -> None:
    urls = [FOX, "file:///etc/passwd", "javascript:alert(1)", 42, "", "https://a b/c", None]
    assert parse_record(live_record(resultJson=json.dumps({"resultUrls": urls}))).result_urls == (
        FOX,
    )


@pytest.mark.parametrize(
    ("fields", "credits"),
    [
        ({"creditsConsumed": 0.8}, 0.8),
        ({"consumeCredits": 100}, 100.0),
        ({"creditsConsumed": 3.0, "consumeCredits": 9}, 3.0),
        ({"creditsConsumed": None, "consumeCredits": 12}, 12.0),
        ({"creditsConsumed": "1.5"}, 1.5),
        ({"creditsConsumed": -4}, None),
        ({"creditsConsumed": True}, None),
        ({"creditsConsumed": "NaN"}, None),
        ({}, None),
    ],
)
def test_credits_variants(fields: dict[str, Any], credits: float | None) -> None:
    assert parse_record(live_record(**fields)).credits == credits


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (None, None, (None, None)),
        ("", "", (None, None)),
        (500, "Internal server error", ("500", "Internal server error")),
        ("422", "bad\u202e\x1b[31m words\u200b here", ("422", "bad words here")),
    ],
)
def test_fail_fields(code: object, message: object, expected: tuple[Any, Any]) -> None:
    snapshot = parse_record(live_record(state="fail", failCode=code, failMsg=message))
    assert (snapshot.fail_code, snapshot.fail_message) == expected


def test_long_fail_message_is_capped() -> None:
    snapshot = parse_record(live_record(state="fail", failMsg="x" * 10_000))
    assert snapshot.fail_message is not None
    assert len(snapshot.fail_message) <= 300


@pytest.mark.parametrize(("raw", "progress"), [("0.48", 0.48), (1, 1.0), (55, 0.55), ("x", None)])
def test_progress(raw: object, progress: float | None) -> None:
    assert parse_record(live_record(state="generating", progress=raw)).progress == progress


@pytest.mark.parametrize("data", [None, [], "text", {"state": "success"}, {"taskId": "a b"}])
def test_wrong_shapes_are_protocol_errors(data: Any) -> None:
    with pytest.raises(KieProtocolError):
        parse_record(data)


def test_create_body_with_callback() -> None:
    body = create_body("z-image", {"prompt": "fox"}, "https://example.org/webhooks/kie/j1?token=t")
    assert body == {
        "model": "z-image",
        "callBackUrl": "https://example.org/webhooks/kie/j1?token=t",
        "input": {"prompt": "fox"},
    }


def test_create_body_without_callback_omits_the_field() -> None:
    assert create_body("bytedance/seedance-2", {"prompt": "p"}, None) == {
        "model": "bytedance/seedance-2",
        "input": {"prompt": "p"},
    }


@pytest.mark.parametrize(
    ("model", "callback_url"), [("", None), ("z-image", "ftp://example.org/x")]
)
def test_create_body_rejects_bad_arguments(model: str, callback_url: str | None) -> None:
    with pytest.raises(ValueError, match=r"model|callback_url"):
        create_body(model, {}, callback_url)


def test_created_task_id(load_fixture: Load) -> None:
    assert created_task_id(load_fixture("create_success.json")["data"]) == (
        "e989621f54392584b05867f87b160672"
    )
    assert created_task_id({"recordId": "abc"}) is None
    assert created_task_id("abc") is None
