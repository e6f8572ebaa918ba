"""Operations on a finished Veo 3.1 task: extend it (`POST /api/v1/veo/extend`), get it in 1080p
(`GET /api/v1/veo/get-1080p-video`) or in 4K (`POST /api/v1/veo/get-4k-video`). Pure, no I/O.

Each takes the kie task id of the earlier task (`task_id`). An extend and a 4K request create
tasks of their own, read like any Veo task on `/api/v1/veo/record-info` (`veo.parse_record`).
The 1080p version is no task: the same GET answers "1080P is processing" (a non-200 code) until
the video is ready, then `data.resultUrl`. A 1080p job therefore keeps a handle of its own,
`<source task id>:1080p:<index>:<nonce>` (`hd_handle`; the nonce keeps two requests for the same
video apart, as task ids are unique), and is read by asking that GET again.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from mcp_server_kie.domain import TaskSnapshot, TaskState
from mcp_server_kie.kie import veo
from mcp_server_kie.kie.errors import KieError
from mcp_server_kie.kie.wire import add_callback_url, clean_task_id, map_fields, record_task_id

EXTEND_LABEL = "Veo extend"
EXTEND_PATH = "/api/v1/veo/extend"
HD_LABEL = "Veo 1080p"
HD_PATH = veo.HD_PATH
UHD_LABEL = "Veo 4K"
UHD_PATH = "/api/v1/veo/get-4k-video"
_HD_MARK = ":1080p:"
MAX_INDEX = 99

# Our snake_case input key -> kie's wire name. `model` of an extend is its mode (fast, quality,
# lite), not the catalogue's model id.
EXTEND_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "task_id": "taskId",
        "prompt": "prompt",
        "seeds": "seeds",
        "model": "model",
        "watermark": "watermark",
    }
)
UPGRADE_FIELDS: Mapping[str, str] = MappingProxyType({"task_id": "taskId", "index": "index"})


def extend_body(model: str, input: Mapping[str, Any], callback_url: str | None) -> dict[str, Any]:
    """The JSON body of a Veo extend call. `model` names the catalogue entry only."""
    body = map_fields(input, EXTEND_FIELDS, family=EXTEND_LABEL)
    _require_source(body, EXTEND_LABEL)
    return add_callback_url(body, callback_url)


def uhd_body(model: str, input: Mapping[str, Any], callback_url: str | None) -> dict[str, Any]:
    """The JSON body of a get-4k-video call."""
    body = map_fields(input, UPGRADE_FIELDS, family=UHD_LABEL)
    _require_source(body, UHD_LABEL)
    body["index"] = _index(body.get("index", 0))
    return add_callback_url(body, callback_url)


def hd_query(model: str, input: Mapping[str, Any], callback_url: str | None) -> dict[str, Any]:
    """The query of a get-1080p-video call (kie takes no callback for it: it is polled)."""
    body = map_fields(input, UPGRADE_FIELDS, family=HD_LABEL)
    source = _require_source(body, HD_LABEL)
    return {"taskId": source, "index": str(_index(body.get("index", 0)))}


def hd_handle(task_id: str, index: int = 0) -> str:
    """A new handle for a 1080p job to keep in place of a task id."""
    return f"{task_id}{_HD_MARK}{_index(index)}:{secrets.token_hex(4)}"


def hd_created(data: object, query: Mapping[str, Any]) -> str | None:
    """The handle of a 1080p request kie accepted (ready or still processing)."""
    return clean_task_id(hd_handle(str(query["taskId"]), int(query["index"])))


def hd_params(handle: str) -> dict[str, str]:
    """The get-1080p-video query for a 1080p job's handle."""
    source, mark, rest = handle.rpartition(_HD_MARK)
    index = rest.split(":", 1)[0]
    if not mark or not index.isdigit():
        return {"taskId": handle, "index": "0"}
    return {"taskId": source, "index": index}


def parse_hd(data: Mapping[str, Any]) -> TaskSnapshot:
    """A get-1080p-video `data` (with the handle as `taskId`): success once it has a link."""
    handle = record_task_id(data)
    link = veo.hd_video_url(data)
    if link is None:
        return TaskSnapshot(task_id=handle, state=TaskState.GENERATING)
    return TaskSnapshot(task_id=handle, state=TaskState.SUCCESS, result_urls=(link,))


def hd_pending(error: KieError) -> bool:
    """kie's "1080P is processing" answer: the request stands, the video is not ready yet."""
    return veo.still_processing(error)


def _require_source(body: Mapping[str, Any], label: str) -> str:
    source = clean_task_id(body.get("taskId"))
    if source is None:
        raise ValueError(f"{label} needs task_id, the kie task id of an earlier Veo task")
    return source


def _index(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INDEX:
        raise ValueError(f"index must be an integer from 0 to {MAX_INDEX}")
    return value


def never_pending(error: KieError) -> bool:
    """Every other family: an error is an error."""
    return False
