"""The Flux Kontext family (reference §3.2): `POST /api/v1/flux/kontext/generate` and
`GET /api/v1/flux/kontext/record-info`.

`inputImage` turns a generation into an edit. `safetyTolerance` ranges 0-6 when generating and
0-2 when editing; kie answers code 500 when it is out of range. The record's `successFlag` is
0 while generating, 1 on success, 3 when generation failed; times are ISO strings as in kie's
examples. The result is `response.resultImageUrl` (kie's copy) beside `originImageUrl` (the
provider's); the callback carries both in `data.info`, empty strings on failure.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from mcp_server_kie.sandbox.errors import ApiError
from mcp_server_kie.sandbox.models import (
    FieldSpec,
    choice,
    collect_urls,
    flag,
    prompt,
    validate_fields,
)
from mcp_server_kie.sandbox.tasks import FAIL_MESSAGE, Order, Output, SimTask, compact

RATIOS = ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16")
FIELDS: dict[str, FieldSpec] = {
    "prompt": prompt(),
    "enableTranslation": flag(True),
    "uploadCn": flag(False),
    "inputImage": FieldSpec(type="url"),
    "aspectRatio": choice(*RATIOS, default="16:9"),
    "outputFormat": choice("jpeg", "png", default="jpeg"),
    "promptUpsampling": flag(False),
    "model": choice("flux-kontext-pro", "flux-kontext-max", default="flux-kontext-pro"),
    "callBackUrl": FieldSpec(),
    "safetyTolerance": FieldSpec(type="int", default=2),
    "watermark": FieldSpec(),
}

# Credits per image, reference §6.
PRICES: dict[str, float] = {"flux-kontext-pro": 5.0, "flux-kontext-max": 10.0}


def _safety_problem(body: dict[str, Any]) -> str | None:
    value = body.get("safetyTolerance")
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        return None  # a wrong type is reported by the field checks
    editing = bool(body.get("inputImage"))
    top = 2 if editing else 6
    if not 0 <= value <= top:
        mode = "image editing" if editing else "image generation"
        return f"safetyTolerance must be between 0 and {top} in {mode} mode"
    return None


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


class FluxKontextFamily:
    name = "flux-kontext"
    no_credits = 402
    create_path = "/api/v1/flux/kontext/generate"
    record_path = "/api/v1/flux/kontext/record-info"

    def new_task_id(self) -> str:
        return "flux_" + secrets.token_hex(12)

    def parse(self, body: dict[str, Any]) -> Order:
        problem = validate_fields(FIELDS, body)
        if problem is not None:
            raise ApiError(422, problem)
        unsafe = _safety_problem(body)
        if unsafe is not None:
            raise ApiError(500, unsafe)  # kie's documented answer for this one
        model = body.get("model") or "flux-kontext-pro"
        extension = "png" if body.get("outputFormat") == "png" else "jpg"
        aspect = str(body.get("aspectRatio") or ("1:1" if body.get("inputImage") else "16:9"))
        return Order(
            model=model,
            kind="image",
            request=dict(body),
            callback_url=body.get("callBackUrl") or None,
            price=PRICES[model],
            prompt=body["prompt"],
            outputs=(
                Output("result", 0, extension, aspect),
                Output("origin", 0, extension, aspect, label="original"),
            ),
            input_urls=collect_urls(FIELDS, body),
        )

    def created(self, task: SimTask) -> dict[str, Any]:
        return {"taskId": task.task_id}

    def _info(self, task: SimTask) -> dict[str, str]:
        return {"originImageUrl": task.urls("origin")[0], "resultImageUrl": task.result_urls[0]}

    def record(self, task: SimTask, now: float) -> dict[str, Any]:
        phase = task.phase(now)
        success, failed = phase == "success", phase == "fail"
        return {
            "taskId": task.task_id,
            "paramJson": compact(task.inputs),
            "completeTime": _iso(task.completed_at) if task.terminal(now) else None,
            "response": self._info(task) if success else None,
            "successFlag": 1 if success else 3 if failed else 0,
            "errorCode": 501 if failed else None,
            "errorMessage": FAIL_MESSAGE if failed else None,
            "createTime": _iso(task.created_at),
        }

    def callback_body(self, task: SimTask, now: float) -> dict[str, Any]:
        if task.succeeded(now):
            data = {"taskId": task.task_id, "info": self._info(task)}
            return {"code": 200, "msg": "BFL image generated successfully.", "data": data}
        empty = {"originImageUrl": "", "resultImageUrl": ""}
        return {"code": 501, "msg": FAIL_MESSAGE, "data": {"taskId": task.task_id, "info": empty}}


FLUX_KONTEXT = FluxKontextFamily()
