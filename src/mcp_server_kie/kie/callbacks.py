"""Reading the bodies kie.ai POSTs to a `callBackUrl`. Pure, no I/O, safe on hostile input.

A callback is only a hint: it names a task and may claim a state and result URLs. The result
URLs and the final state the job keeps always come from kie.ai's status endpoint
(fetch-to-verify); the claimed URLs only let a download start while that read is on its way,
and are used only if the status read names the very same ones.

The claimed state, per family shape:

- Market (a known `data.state` or `data.successFlag`): that state.
- 4o Image, Flux Kontext, Veo and its extend/4K (`data.taskId` + `data.info`), Runway and
  Runway extend (`data.task_id` + `data.video_url`), Aleph (top-level `taskId` +
  `data.result_video_url`): body `code` 200 means success.
- Any other body whose `code` is not 200 (4o 400/451/500; Veo 400/422/500/501;
  Runway 400/500; market 501): failure.
- Suno (`data.callbackType`, code 200): `complete` success, `error` failure; the intermediate
  `text` and `first` stages make no claim.
- Anything else: no claim, `state` None.

Where the task id sits differs per family: market callbacks use `data.taskId`, Runway uses
`data.task_id`, Aleph a top-level `taskId`; kie's signing sample carries both `taskId` and
`data.task_id`. We look in that order. When several are present they must agree, and the first
one present must be a well-formed id; otherwise there is no usable id (an ambiguous body must
not let a signature checked for one id smuggle in another).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcp_server_kie.domain import CallbackNotice, TaskState
from mcp_server_kie.kie.errors import KieCallbackError
from mcp_server_kie.kie.market import parse_state, result_urls
from mcp_server_kie.kie.suno import callback_state
from mcp_server_kie.kie.wire import body_code, clean_task_id, url_list


def callback_task_id(body: Mapping[str, Any]) -> str | None:
    """The task id a callback body names, or None when there is no single well-formed one.

    Use this id both to check the HMAC signature and to find the job. Never raises.
    """
    if not isinstance(body, Mapping):
        return None
    data = body.get("data")
    candidates: list[object] = []
    if isinstance(data, Mapping):
        candidates += [data.get("taskId"), data.get("task_id")]
    candidates.append(body.get("taskId"))
    present = [value for value in candidates if value is not None]
    if not present:
        return None
    first = clean_task_id(present[0])
    if first is None or any(value != first for value in present[1:]):
        return None
    return first


def parse_callback(body: Mapping[str, Any]) -> CallbackNotice:
    """What a callback claims: its task id and, when it says so, the task's state.

    Raises KieCallbackError (a KieProtocolError and a ValueError) when the body is not an
    object, `data` is neither an object nor null, or no usable task id can be found. An
    unknown or missing state is not an error: `state` is then None.
    """
    if not isinstance(body, Mapping):
        raise KieCallbackError("The callback body is not a JSON object.")
    data = body.get("data")
    if data is not None and not isinstance(data, Mapping):
        raise KieCallbackError("The callback body's `data` is not a JSON object.")
    task_id = callback_task_id(body)
    if task_id is None:
        raise KieCallbackError(
            "The callback body carries no usable task id (looked in data.taskId, "
            "data.task_id and taskId; several must agree)."
        )
    state = _claimed_state(body, data)
    urls = _claimed_urls(data, task_id) if state is TaskState.SUCCESS and data is not None else ()
    return CallbackNotice(task_id=task_id, state=state, result_urls=urls)


def _claimed_urls(data: Mapping[str, Any], task_id: str) -> tuple[str, ...]:
    """The result URLs a success callback names: a market body's, read as its status record
    is; else `info.resultUrls` / `info.result_urls` (Veo, 4o Image) or `info.resultImageUrl`
    (Flux Kontext). Other shapes name none."""
    urls = result_urls(data, task_id=task_id, required=False)
    info = data.get("info")
    if urls or not isinstance(info, Mapping):
        return urls
    for key in ("resultUrls", "result_urls", "resultImageUrl"):
        if urls := url_list(info.get(key)):
            return urls
    return ()


def _claimed_state(body: Mapping[str, Any], data: Mapping[str, Any] | None) -> TaskState | None:
    claimed = parse_state(data) if data is not None else None
    if claimed is not None:
        return claimed
    code = body_code(body)
    if code is None:
        return None
    if code != 200:
        return TaskState.FAIL
    if data is not None and (
        isinstance(data.get("info"), Mapping) or "video_url" in data or "result_video_url" in data
    ):
        return TaskState.SUCCESS
    return callback_state(data) if data is not None else None
