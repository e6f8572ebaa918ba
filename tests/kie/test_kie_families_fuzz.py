"""Hostile JSON never escapes the KieError family: record parsers raise only KieProtocolError,
parse_callback only KieCallbackError."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_server_kie.domain import ApiFamily
from mcp_server_kie.kie.callbacks import parse_callback
from mcp_server_kie.kie.errors import KieCallbackError, KieProtocolError
from mcp_server_kie.kie.families import FAMILIES

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(
    [
        "taskId",
        "task_id",
        "state",
        "status",
        "successFlag",
        "progress",
        "response",
        "videoInfo",
        "info",
        "video_url",
        "errorCode",
        "errorMessage",
        "failCode",
        "failMsg",
        "resultJson",
    ]
)
RECORDS = st.dictionaries(KEYS, JSON | st.just("task12345") | st.just("SUCCESS"), max_size=8)


@settings(max_examples=150, deadline=None)
@given(record=RECORDS, family=st.sampled_from(list(ApiFamily)))
def test_record_parsers_raise_only_protocol_errors(
    record: dict[str, Any], family: ApiFamily
) -> None:
    try:
        snapshot = FAMILIES[family].parse_record(record)
    except KieProtocolError:
        return
    assert snapshot.task_id
    assert all(url.startswith(("http://", "https://")) for url in snapshot.result_urls)
    assert snapshot.progress is None or 0 <= snapshot.progress <= 1


@settings(max_examples=150, deadline=None)
@given(code=JSON, data=RECORDS | JSON)
def test_parse_callback_raises_only_callback_errors(code: Any, data: Any) -> None:
    try:
        notice = parse_callback({"code": code, "data": data})
    except KieCallbackError:
        return
    assert notice.task_id
