"""The Veo 3.1 family: `POST /api/v1/veo/generate`, `GET /api/v1/veo/record-info` and
`GET /api/v1/veo/get-1080p-video`. Builds request bodies and reads replies. Pure, no I/O.

The body's `model` is one of `veo3` (Quality), `veo3_fast`, `veo3_lite`. A record reports only
a numeric `successFlag` (0 generating, 1 success, 2 failed, 3 generation failed), its videos at
`response.resultUrls` (an extended task also has `fullResultUrls`, the whole extended video;
`originUrls` are the un-reframed originals of a non-16:9 task and are not outputs), and a
failure in `errorCode`/`errorMessage`. No progress and no credits are reported.

The 1080p upgrade of a successful task takes about 1-3 minutes; until it is ready kie.ai
answers a non-200 code whose message says "1080P is processing" (documented as 400; third-party
clients report 500). `still_processing` recognises that answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from mcp_server_kie.domain import TaskSnapshot, TaskState
from mcp_server_kie.kie.errors import KieError, KieProtocolError
from mcp_server_kie.kie.wire import (
    add_callback_url,
    clean_fail_code,
    clean_provider_text,
    is_http_url,
    map_fields,
    record_task_id,
    state_from_flag,
    url_list,
)

LABEL = "Veo"
CREATE_PATH = "/api/v1/veo/generate"
RECORD_PATH = "/api/v1/veo/record-info"
HD_PATH = "/api/v1/veo/get-1080p-video"
MODELS = frozenset({"veo3", "veo3_fast", "veo3_lite"})

# Our snake_case input key -> kie's wire name. kie's current OpenAPI document (2026-08) names
# the ratio `aspect_ratio` (older pages `aspectRatio`) and no longer lists `seeds`.
FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "prompt": "prompt",
        "image_urls": "imageUrls",
        "generation_type": "generationType",
        "aspect_ratio": "aspect_ratio",
        "resolution": "resolution",
        "duration": "duration",
        "watermark": "watermark",
        "enable_translation": "enableTranslation",
    }
)

# Codes kie.ai has been seen to use for "the 1080p video is not ready yet", and its wording.
_PROCESSING_CODES = frozenset({400, 500})
_PROCESSING_WORDS = ("processing", "处理中")


def create_body(model: str, input: Mapping[str, Any], callback_url: str | None) -> dict[str, Any]:
    """The JSON body of a Veo generate call; `model` goes into the body's `model`."""
    if model not in MODELS:
        raise ValueError(f"Veo model must be one of {', '.join(sorted(MODELS))}")
    body: dict[str, Any] = {"model": model, **map_fields(input, FIELDS, family=LABEL)}
    if "imageUrls" in body:
        images = body["imageUrls"]
        if not isinstance(images, list | tuple) or not all(isinstance(u, str) for u in images):
            raise ValueError("image_urls must be a list of image URLs")
        body["imageUrls"] = list(images)
    return add_callback_url(body, callback_url)


def parse_state(data: Mapping[str, Any]) -> TaskState | None:
    """The state `successFlag` names, or None."""
    return state_from_flag(data)


def parse_record(data: Mapping[str, Any]) -> TaskSnapshot:
    """Read a record-info `data` object into a TaskSnapshot (every documented variant)."""
    task_id = record_task_id(data)
    state = parse_state(data)
    if state is None:
        shown = clean_provider_text(str(data.get("successFlag")), limit=40)
        raise KieProtocolError(
            f"kie.ai reported an unknown Veo successFlag ({shown}) for {task_id}."
        )
    response = data.get("response")
    urls: tuple[str, ...] = ()
    if isinstance(response, Mapping):
        urls = url_list(response.get("resultUrls")) or url_list(response.get("fullResultUrls"))
    failed = state is TaskState.FAIL
    return TaskSnapshot(
        task_id=task_id,
        state=state,
        result_urls=urls,
        fail_code=clean_fail_code(data.get("errorCode")) if failed else None,
        fail_message=(clean_provider_text(data.get("errorMessage")) or None) if failed else None,
    )


def hd_video_url(data: object) -> str | None:
    """The 1080p link in a get-1080p-video `data`, or None when kie.ai sent none yet."""
    if not isinstance(data, Mapping):
        return None
    link = data.get("resultUrl")
    if link is None or link == "":
        listed = url_list(data.get("resultUrls"))
        return listed[0] if listed else None
    if not isinstance(link, str) or not is_http_url(link.strip()):
        raise KieProtocolError("kie.ai's 1080p reply carried a link that is not an http(s) URL.")
    return link.strip()


def still_processing(error: KieError) -> bool:
    """True when a get-1080p-video error is kie.ai's "1080P is processing" answer."""
    text = error.provider_message.lower()
    return error.code in _PROCESSING_CODES and any(word in text for word in _PROCESSING_WORDS)
