"""The Runway family (Gen-3/4, not Aleph): `POST /api/v1/runway/generate`,
`POST /api/v1/runway/extend` (continues an earlier task, named by `task_id`) and
`GET /api/v1/runway/record-detail` for both. Builds request bodies and reads task records. Pure.

There is no model field on the wire. A record reports a `state` spelled `wait`, `queueing`,
`generating`, `success` or `fail` (not the Market spellings), one video at
`videoInfo.videoUrl` (`videoInfo.imageUrl` is its cover image, not an output), and a failure in
`failCode`/`failMsg`. `expireFlag` 1 means the video is gone (after 14 days). No progress and
no credits are reported. kie's docs describe `callBackUrl` as required for this family.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from mcp_server_kie.domain import TaskSnapshot, TaskState
from mcp_server_kie.kie.errors import KieProtocolError
from mcp_server_kie.kie.wire import (
    add_callback_url,
    clean_fail_code,
    clean_provider_text,
    clean_task_id,
    map_fields,
    record_task_id,
    url_list,
)

LABEL = "Runway"
CREATE_PATH = "/api/v1/runway/generate"
RECORD_PATH = "/api/v1/runway/record-detail"
EXTEND_LABEL = "Runway extend"
EXTEND_PATH = "/api/v1/runway/extend"

# Our snake_case input key -> kie's wire name.
FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "prompt": "prompt",
        "image_url": "imageUrl",
        "duration": "duration",
        "quality": "quality",
        "aspect_ratio": "aspectRatio",
        "water_mark": "waterMark",
    }
)

EXTEND_FIELDS: Mapping[str, str] = MappingProxyType(
    {"task_id": "taskId", "prompt": "prompt", "quality": "quality", "water_mark": "waterMark"}
)

_STATES: dict[str, TaskState] = {
    "wait": TaskState.WAITING,
    "waiting": TaskState.WAITING,
    "queueing": TaskState.QUEUING,
    "queuing": TaskState.QUEUING,
    "generating": TaskState.GENERATING,
    "success": TaskState.SUCCESS,
    "fail": TaskState.FAIL,
    "failed": TaskState.FAIL,
}


def create_body(model: str, input: Mapping[str, Any], callback_url: str | None) -> dict[str, Any]:
    """The JSON body of a Runway generate call. `model` names the catalogue entry only and is
    not sent."""
    return add_callback_url(map_fields(input, FIELDS, family=LABEL), callback_url)


def extend_body(model: str, input: Mapping[str, Any], callback_url: str | None) -> dict[str, Any]:
    """The JSON body of a Runway extend call; `task_id` is the kie task id of the earlier
    Runway task. `model` names the catalogue entry only and is not sent."""
    body = map_fields(input, EXTEND_FIELDS, family=EXTEND_LABEL)
    if clean_task_id(body.get("taskId")) is None:
        raise ValueError("Runway extend needs task_id, the kie task id of an earlier Runway task")
    return add_callback_url(body, callback_url)


def parse_state(data: Mapping[str, Any]) -> TaskState | None:
    """The state a Runway `state` string names, or None."""
    raw = data.get("state")
    if isinstance(raw, str):
        return _STATES.get(raw.strip().lower())
    return None


def parse_record(data: Mapping[str, Any]) -> TaskSnapshot:
    """Read a record-detail `data` object into a TaskSnapshot."""
    task_id = record_task_id(data)
    state = parse_state(data)
    if state is None:
        shown = clean_provider_text(data.get("state"), limit=40) or "missing"
        raise KieProtocolError(f"kie.ai reported an unknown Runway state ({shown}) for {task_id}.")
    info = data.get("videoInfo")
    urls = url_list(info.get("videoUrl")) if isinstance(info, Mapping) else ()
    failed = state is TaskState.FAIL
    return TaskSnapshot(
        task_id=task_id,
        state=state,
        result_urls=urls,
        fail_code=clean_fail_code(data.get("failCode")) if failed else None,
        fail_message=(clean_provider_text(data.get("failMsg")) or None) if failed else None,
    )
