"""The Market ("unified jobs") family: `POST /api/v1/jobs/createTask` and
`GET /api/v1/jobs/recordInfo`. Builds request bodies and reads task records. Pure, no I/O.

Every family module (market, gpt4o, veo, runway) owns its paths, its create body and its record
parser, and produces the same `TaskSnapshot`; `families` lists them for the client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcp_server_kie.domain import TaskSnapshot, TaskState
from mcp_server_kie.kie.errors import KieProtocolError
from mcp_server_kie.kie.wire import (
    add_callback_url,
    clean_fail_code,
    clean_provider_text,
    load_json,
    parse_number,
    parse_progress,
    record_task_id,
    state_from_flag,
    url_list,
)
from mcp_server_kie.kie.wire import created_task_id as created_task_id

CREATE_PATH = "/api/v1/jobs/createTask"
RECORD_PATH = "/api/v1/jobs/recordInfo"

_STATES: dict[str, TaskState] = {
    "waiting": TaskState.WAITING,
    "queuing": TaskState.QUEUING,
    "queueing": TaskState.QUEUING,
    "generating": TaskState.GENERATING,
    "success": TaskState.SUCCESS,
    "fail": TaskState.FAIL,
    "failed": TaskState.FAIL,
}


def create_body(model: str, input: Mapping[str, Any], callback_url: str | None) -> dict[str, Any]:
    """The JSON body of createTask. `callBackUrl` is left out when there is no callback URL."""
    if not isinstance(model, str) or not model.strip():
        raise ValueError("model must be a non-empty model id")
    if not isinstance(input, Mapping):
        raise TypeError("input must be a mapping of the model's input fields")
    body = add_callback_url({"model": model}, callback_url)
    body["input"] = dict(input)
    return body


def parse_state(data: Mapping[str, Any]) -> TaskState | None:
    """`state` when it is a known string, else `successFlag`, else None."""
    raw = data.get("state")
    if isinstance(raw, str) and raw.strip().lower() in _STATES:
        return _STATES[raw.strip().lower()]
    return state_from_flag(data)


def parse_record(data: Mapping[str, Any]) -> TaskSnapshot:
    """Read a recordInfo `data` object (or a market callback's `data`) into a TaskSnapshot.

    Accepts every documented variant: `state` strings or `successFlag`; `resultJson` as a JSON
    string or object, or the live `response` object; `resultUrls` at the top level;
    `creditsConsumed` (recordInfo) or `consumeCredits` (callbacks); `failCode`/`failMsg` as
    null, "" or missing. Other fields (`param`, `costTime`, times, ...) are ignored.
    """
    task_id = record_task_id(data)
    state = parse_state(data)
    if state is None:
        shown = clean_provider_text(data.get("state"), limit=40) or "missing"
        raise KieProtocolError(f"kie.ai reported an unknown state ({shown}) for task {task_id}.")
    return TaskSnapshot(
        task_id=task_id,
        state=state,
        result_urls=result_urls(data, task_id=task_id, required=state is TaskState.SUCCESS),
        credits=_credits(data),
        fail_code=clean_fail_code(data.get("failCode")),
        fail_message=clean_provider_text(data.get("failMsg")) or None,
        progress=parse_progress(data.get("progress")),
    )


def result_urls(data: Mapping[str, Any], *, task_id: str, required: bool) -> tuple[str, ...]:
    """The result URLs of a status record's (or a market callback's) `data`; with
    ``required``, a `resultJson` that is not JSON is a KieProtocolError, else it names none."""
    raw_json = data.get("resultJson")
    parsed = load_json(raw_json) if isinstance(raw_json, str) and raw_json.strip() else raw_json
    for source in (parsed, data.get("response"), data):
        if isinstance(source, Mapping):
            urls = url_list(source.get("resultUrls", source.get("result_urls")))
            if urls:
                return urls
    if required and isinstance(raw_json, str) and raw_json.strip() and parsed is None:
        raise KieProtocolError(f"kie.ai's resultJson for task {task_id} is not valid JSON.")
    return ()


def _credits(data: Mapping[str, Any]) -> float | None:
    for key in ("creditsConsumed", "consumeCredits"):
        value = parse_number(data.get(key))
        if value is not None and value >= 0:
            return value
    return None
