"""The Runway Aleph family (video-to-video, reference §3.4): `POST /api/v1/aleph/generate` and
`GET /api/v1/aleph/record-info`.

`prompt` and `videoUrl` are required, and kie must be able to fetch the video. Task ids are
UUIDs. The record reports `successFlag` (0 generating, 1 success, 3 failed) and the video at
`response.resultVideoUrl` with a JPEG cover at `resultImageUrl`. The callback carries the task
id at the top level: `{"code", "msg", "data": {"result_video_url", "result_image_url"},
"taskId"}`, empty strings on failure.
"""

from __future__ import annotations

import uuid
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
from mcp_server_kie.sandbox.tasks import FAIL_MESSAGE, Order, Output, SimTask, compact, ms

PRICE = 110.0  # credits per video, reference §6
SECONDS = 5

FIELDS: dict[str, FieldSpec] = {
    "prompt": prompt(),
    "videoUrl": FieldSpec(type="url", required=True),
    "callBackUrl": FieldSpec(),
    "waterMark": FieldSpec(),
    "uploadCn": flag(False),
    "aspectRatio": choice("16:9", "9:16", "4:3", "3:4", "1:1", "21:9"),
    "seed": FieldSpec(type="int"),
    "referenceImage": FieldSpec(type="url"),
}


class AlephFamily:
    name = "aleph"
    no_credits = 402
    create_path = "/api/v1/aleph/generate"
    record_path = "/api/v1/aleph/record-info"

    def new_task_id(self) -> str:
        return str(uuid.uuid4())

    def parse(self, body: dict[str, Any]) -> Order:
        problem = validate_fields(FIELDS, body)
        if problem is not None:
            raise ApiError(422, problem)
        aspect = str(body.get("aspectRatio") or "16:9")
        return Order(
            model="runway-aleph",
            kind="video",
            request=dict(body),
            callback_url=body.get("callBackUrl") or None,
            price=PRICE,
            prompt=body["prompt"],
            outputs=(
                Output("result", 0, "mp4", aspect, SECONDS, label="aleph"),
                Output("cover", 0, "jpg", aspect),
            ),
            input_urls=collect_urls(FIELDS, body),
        )

    def created(self, task: SimTask) -> dict[str, Any]:
        return {"taskId": task.task_id}

    def record(self, task: SimTask, now: float) -> dict[str, Any]:
        phase = task.phase(now)
        success, failed = phase == "success", phase == "fail"
        response = None
        if success:
            response = {
                "resultVideoUrl": task.result_urls[0],
                "resultImageUrl": task.urls("cover")[0],
            }
        return {
            "taskId": task.task_id,
            "paramJson": compact(task.inputs),
            "completeTime": ms(task.completed_at) if task.terminal(now) else None,
            "response": response,
            "successFlag": 1 if success else 3 if failed else 0,
            "errorCode": 400 if failed else None,
            "errorMessage": FAIL_MESSAGE if failed else None,
            "createTime": ms(task.created_at),
        }

    def callback_body(self, task: SimTask, now: float) -> dict[str, Any]:
        if task.succeeded(now):
            data = {
                "result_video_url": task.result_urls[0],
                "result_image_url": task.urls("cover")[0],
            }
            return {"code": 200, "msg": "success", "data": data, "taskId": task.task_id}
        empty = {"result_video_url": "", "result_image_url": ""}
        return {"code": 400, "msg": FAIL_MESSAGE, "data": empty, "taskId": task.task_id}


ALEPH = AlephFamily()
