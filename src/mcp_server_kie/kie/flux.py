"""The Flux Kontext family: `POST /api/v1/flux/kontext/generate` and
`GET /api/v1/flux/kontext/record-info`. Builds request bodies and reads replies. Pure, no I/O.

The body's `model` is `flux-kontext-pro` or `flux-kontext-max`; an `inputImage` turns a
generation into an edit. A record reports a numeric `successFlag` (0 generating, 1 success,
2 create failed, 3 generation failed), the image at `response.resultImageUrl` (kie-hosted for 14
days; `originImageUrl` is the provider's copy, valid 10 minutes, read only when the other is
missing), and a failure in `errorCode`/`errorMessage`. No progress and no credits are reported.
kie answers code 500 when `safetyTolerance` is out of range for the mode (0-6 generating, 0-2
editing): that is a fault of the request, not of the service, and is read as one.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from mcp_server_kie.domain import TaskSnapshot, TaskState
from mcp_server_kie.kie.errors import KieError, KieProtocolError, KieValidationError
from mcp_server_kie.kie.wire import (
    add_callback_url,
    clean_fail_code,
    clean_provider_text,
    map_fields,
    record_task_id,
    state_from_flag,
    url_list,
)

LABEL = "Flux Kontext"
CREATE_PATH = "/api/v1/flux/kontext/generate"
RECORD_PATH = "/api/v1/flux/kontext/record-info"
MODELS = frozenset({"flux-kontext-pro", "flux-kontext-max"})

# Our snake_case input key -> kie's wire name.
FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "prompt": "prompt",
        "enable_translation": "enableTranslation",
        "upload_cn": "uploadCn",
        "input_image": "inputImage",
        "aspect_ratio": "aspectRatio",
        "output_format": "outputFormat",
        "prompt_upsampling": "promptUpsampling",
        "safety_tolerance": "safetyTolerance",
        "watermark": "watermark",
    }
)


def create_body(model: str, input: Mapping[str, Any], callback_url: str | None) -> dict[str, Any]:
    """The JSON body of a Flux Kontext generate call; `model` goes into the body's `model`."""
    if model not in MODELS:
        raise ValueError(f"Flux Kontext model must be one of {', '.join(sorted(MODELS))}")
    body: dict[str, Any] = {"model": model, **map_fields(input, FIELDS, family=LABEL)}
    return add_callback_url(body, callback_url)


def parse_record(data: Mapping[str, Any]) -> TaskSnapshot:
    """Read a record-info `data` object into a TaskSnapshot."""
    task_id = record_task_id(data)
    state = state_from_flag(data)
    if state is None:
        shown = clean_provider_text(str(data.get("successFlag")), limit=40)
        raise KieProtocolError(
            f"kie.ai reported an unknown Flux Kontext successFlag ({shown}) for {task_id}."
        )
    response = data.get("response")
    urls: tuple[str, ...] = ()
    if isinstance(response, Mapping):
        urls = url_list(response.get("resultImageUrl")) or url_list(response.get("originImageUrl"))
    failed = state is TaskState.FAIL
    return TaskSnapshot(
        task_id=task_id,
        state=state,
        result_urls=urls if state is TaskState.SUCCESS else (),
        fail_code=clean_fail_code(data.get("errorCode")) if failed else None,
        fail_message=(clean_provider_text(data.get("errorMessage")) or None) if failed else None,
    )


def map_error(error: KieError) -> KieError:
    """kie's 500 about `safetyTolerance` is a refusal of the request (a validation error)."""
    if error.code == 500 and "safetytolerance" in error.provider_message.lower():
        return KieValidationError(
            "kie.ai refused the safety_tolerance of this Flux Kontext request (0-6 when "
            "generating, 0-2 when editing an image). Fix it; sending it unchanged will fail "
            f'again. kie.ai said: "{error.provider_message}"',
            code=error.code,
            provider_message=error.provider_message,
        )
    return error
