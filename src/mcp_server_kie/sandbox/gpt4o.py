"""The 4o Image family (GPT-Image-1, reference §3.1): `POST /api/v1/gpt4o-image/generate` and
`GET /api/v1/gpt4o-image/record-info`.

The record reports `status` GENERATING / SUCCESS / GENERATE_FAILED with `successFlag` 0 / 1 / 2
and a `progress` string from "0.00" to "1.00". kie's pages disagree on the result list's name
(`response.resultUrls` in the schema, `response.result_urls` in the quickstart): the record
carries both. The callback carries `data.info.result_urls`.
"""

from __future__ import annotations

import math
import secrets
from typing import Any

from mcp_server_kie.sandbox.errors import ApiError
from mcp_server_kie.sandbox.models import (
    FieldSpec,
    choice,
    collect_urls,
    flag,
    urls,
    validate_fields,
)
from mcp_server_kie.sandbox.tasks import FAIL_MESSAGE, Order, Output, SimTask, compact, ms

PRICE_PER_IMAGE = 6.0
MODEL_LABEL = "gpt-4o-image"

FIELDS: dict[str, FieldSpec] = {
    "size": FieldSpec(required=True, allowed=("1:1", "3:2", "2:3")),
    "prompt": FieldSpec(),
    "filesUrl": urls(5),
    "fileUrl": FieldSpec(type="url"),  # deprecated single-image form
    "maskUrl": FieldSpec(type="url"),
    "nVariants": choice(1, 2, 4, default=1),
    "isEnhance": flag(False),
    "uploadCn": flag(False),
    "enableFallback": flag(False),
    "fallbackModel": choice("GPT_IMAGE_1", "FLUX_MAX", default="FLUX_MAX"),
    "callBackUrl": FieldSpec(),
}


def progress(task: SimTask, now: float) -> str:
    """The progress string: "0.00" at creation, rising with time, "1.00" once it ends."""
    if task.terminal(now):
        return "1.00"
    hundredths = math.floor(task.fraction(now) * 100 + 1e-9)  # 0.29 is "0.29", not "0.28"
    return f"{min(hundredths, 99) / 100:.2f}"


class Gpt4oFamily:
    name = "gpt4o"
    no_credits = 402
    create_path = "/api/v1/gpt4o-image/generate"
    record_path = "/api/v1/gpt4o-image/record-info"

    def new_task_id(self) -> str:
        return "task_4o_" + secrets.token_hex(12)

    def parse(self, body: dict[str, Any]) -> Order:
        problem = validate_fields(FIELDS, body)
        if problem is not None:
            raise ApiError(422, problem)
        prompt = body.get("prompt") or ""
        if not prompt and not body.get("filesUrl") and not body.get("fileUrl"):
            raise ApiError(422, "prompt is required when no filesUrl is given")
        variants = body.get("nVariants") or 1
        size = str(body["size"])
        return Order(
            model=MODEL_LABEL,
            kind="image",
            request=dict(body),
            callback_url=body.get("callBackUrl") or None,
            price=PRICE_PER_IMAGE * variants,
            prompt=prompt,
            outputs=tuple(Output("result", index, "png", size) for index in range(variants)),
            input_urls=collect_urls(FIELDS, body),
        )

    def created(self, task: SimTask) -> dict[str, Any]:
        return {"taskId": task.task_id}

    def record(self, task: SimTask, now: float) -> dict[str, Any]:
        phase = task.phase(now)
        success, failed = phase == "success", phase == "fail"
        result_urls = list(task.result_urls)
        status = "SUCCESS" if success else "GENERATE_FAILED" if failed else "GENERATING"
        return {
            "taskId": task.task_id,
            "paramJson": compact(task.inputs),
            "completeTime": ms(task.completed_at) if task.terminal(now) else None,
            "response": {"resultUrls": result_urls, "result_urls": result_urls}
            if success
            else None,
            "successFlag": 1 if success else 2 if failed else 0,
            "status": status,
            "errorCode": 400 if failed else None,
            "errorMessage": FAIL_MESSAGE if failed else None,
            "createTime": ms(task.created_at),
            "progress": progress(task, now),
        }

    def callback_body(self, task: SimTask, now: float) -> dict[str, Any]:
        if task.succeeded(now):
            info = {"result_urls": list(task.result_urls)}
            return {"code": 200, "msg": "success", "data": {"taskId": task.task_id, "info": info}}
        return {"code": 400, "msg": FAIL_MESSAGE, "data": {"taskId": task.task_id, "info": None}}


GPT4O = Gpt4oFamily()
