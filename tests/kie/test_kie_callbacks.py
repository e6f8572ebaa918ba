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
        ("market_callback_success.json", CallbackNotice(TID, TaskState.SUCCESS)),
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
