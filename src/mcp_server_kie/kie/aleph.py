"""The Runway Aleph family (video-to-video): `POST /api/v1/aleph/generate` and
`GET /api/v1/aleph/record-info`. Builds request bodies and reads replies. Pure, no I/O.

There is no model field on the wire; `videoUrl` (the video to transform) and `prompt` are
required. A record reports a numeric `successFlag` (0 generating, 1 success, 2 and 3 failed),
the video at `response.resultVideoUrl` (`resultImageUrl` is its cover, not an output) and a
failure in `errorCode`/`errorMessage`. The callback carries the task id at the top level
(`{"code", "msg", "data": {"result_video_url", ...}, "taskId"}`), read in `callbacks`.
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
    map_fields,
    record_task_id,
    state_from_flag,
    url_list,
)

LABEL = "Runway Aleph"
CREATE_PATH = "/api/v1/aleph/generate"
RECORD_PATH = "/api/v1/aleph/record-info"

# Our snake_case input key -> kie's wire name.
FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "prompt": "prompt",
        "video_url": "videoUrl",
        "water_mark": "waterMark",
        "upload_cn": "uploadCn",
        "aspect_ratio": "aspectRatio",
        "seed": "seed",
        "reference_image": "referenceImage",
    }
)


def create_body(model: str, input: Mapping[str, Any], callback_url: str | None) -> dict[str, Any]:
    """The JSON body of an Aleph generate call. `model` names the catalogue entry only and is
    not sent."""
    return add_callback_url(map_fields(input, FIELDS, family=LABEL), callback_url)


def parse_record(data: Mapping[str, Any]) -> TaskSnapshot:
    """Read a record-info `data` object into a TaskSnapshot."""
    task_id = record_task_id(data)
    state = state_from_flag(data)
    if state is None:
        shown = clean_provider_text(str(data.get("successFlag")), limit=40)
        raise KieProtocolError(
            f"kie.ai reported an unknown Aleph successFlag ({shown}) for {task_id}."
        )
    response = data.get("response")
    urls = url_list(response.get("resultVideoUrl")) if isinstance(response, Mapping) else ()
    failed = state is TaskState.FAIL
    code = data.get("errorCode", data.get("failCode"))
    message = data.get("errorMessage", data.get("failMsg"))
    return TaskSnapshot(
        task_id=task_id,
        state=state,
        result_urls=urls if state is TaskState.SUCCESS else (),
        fail_code=clean_fail_code(code) if failed else None,
        fail_message=(clean_provider_text(message) or None) if failed else None,
    )
