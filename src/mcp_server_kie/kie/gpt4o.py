"""The 4o Image family (GPT-Image-1): `POST /api/v1/gpt4o-image/generate` and
`GET /api/v1/gpt4o-image/record-info`. Builds request bodies and reads task records. Pure.

There is no model field on the wire: the endpoint is the model. A record reports a `status`
string (GENERATING, SUCCESS, CREATE_TASK_FAILED, GENERATE_FAILED) and a numeric `successFlag`
(0 generating, 1 success, 2 failed; 3 is read as failed too), a string `progress` ("0.00" to
"1.00"), its images at `response.resultUrls` (OpenAPI schema) or `response.result_urls`
(quickstart examples), and a failure in `errorCode`/`errorMessage`. No credits are reported.
There are no queue states: a task is GENERATING from the start.
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
    parse_progress,
    record_task_id,
    state_from_flag,
    url_list,
)

LABEL = "4o Image"
CREATE_PATH = "/api/v1/gpt4o-image/generate"
RECORD_PATH = "/api/v1/gpt4o-image/record-info"
MAX_FILES = 5

# Our snake_case input key -> kie's wire name.
FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "prompt": "prompt",
        "size": "size",
        "n_variants": "nVariants",
        "is_enhance": "isEnhance",
        "files_url": "filesUrl",
        "file_url": "fileUrl",
        "mask_url": "maskUrl",
        "enable_fallback": "enableFallback",
        "fallback_model": "fallbackModel",
    }
)

_STATUSES: dict[str, TaskState] = {
    "GENERATING": TaskState.GENERATING,
    "SUCCESS": TaskState.SUCCESS,
    "CREATE_TASK_FAILED": TaskState.FAIL,
    "GENERATE_FAILED": TaskState.FAIL,
}


def create_body(model: str, input: Mapping[str, Any], callback_url: str | None) -> dict[str, Any]:
    """The JSON body of a 4o Image generate call. `model` names the catalogue entry only and is
    not sent. `files_url` must be a list of at most five image URLs."""
    body = map_fields(input, FIELDS, family=LABEL)
    if "filesUrl" in body:
        files = body["filesUrl"]
        if (
            not isinstance(files, list | tuple)
            or len(files) > MAX_FILES
            or not all(isinstance(url, str) for url in files)
        ):
            raise ValueError(f"files_url must be a list of at most {MAX_FILES} image URLs")
        body["filesUrl"] = list(files)
    return add_callback_url(body, callback_url)


def parse_state(data: Mapping[str, Any]) -> TaskState | None:
    """`status` when it is a known string, else `successFlag`, else None."""
    raw = data.get("status")
    if isinstance(raw, str) and raw.strip().upper() in _STATUSES:
        return _STATUSES[raw.strip().upper()]
    return state_from_flag(data)


def parse_record(data: Mapping[str, Any]) -> TaskSnapshot:
    """Read a record-info `data` object into a TaskSnapshot (every documented variant)."""
    task_id = record_task_id(data)
    state = parse_state(data)
    if state is None:
        shown = clean_provider_text(data.get("status"), limit=40) or "missing"
        raise KieProtocolError(
            f"kie.ai reported an unknown 4o Image status ({shown}) for {task_id}."
        )
    response = data.get("response")
    urls: tuple[str, ...] = ()
    if isinstance(response, Mapping):
        urls = url_list(response.get("resultUrls", response.get("result_urls")))
    failed = state is TaskState.FAIL
    return TaskSnapshot(
        task_id=task_id,
        state=state,
        result_urls=urls,
        fail_code=clean_fail_code(data.get("errorCode")) if failed else None,
        fail_message=(clean_provider_text(data.get("errorMessage")) or None) if failed else None,
        progress=parse_progress(data.get("progress")),
    )
