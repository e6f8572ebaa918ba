"""The Runway family (Gen-3/4, not Aleph; reference §3.4): `POST /api/v1/runway/generate`,
`POST /api/v1/runway/extend` (continues a finished task named by `taskId`; its record names
that task as `parentTaskId`) and `GET /api/v1/runway/record-detail` for both.

Task ids are UUIDs. The record's `state` is spelled `wait`, `queueing`, `generating`,
`success`, `fail`; a finished video comes with a JPEG cover (`videoInfo.imageUrl`). The
callback's fields are snake_case (`data.task_id`, `video_url`, ...), empty strings on failure.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from mcp_server_kie.sandbox.errors import ApiError
from mcp_server_kie.sandbox.models import (
    FieldSpec,
    choice,
    collect_urls,
    prompt,
    validate_fields,
)
from mcp_server_kie.sandbox.tasks import FAIL_MESSAGE, Order, Output, SimTask, source_task

RETENTION_SECONDS = 14 * 24 * 3600

FIELDS: dict[str, FieldSpec] = {
    "prompt": prompt(1800),
    "imageUrl": FieldSpec(type="url"),
    "duration": FieldSpec(type="int", required=True, allowed=(5, 10)),
    "quality": FieldSpec(required=True, allowed=("720p", "1080p")),
    "aspectRatio": choice("16:9", "4:3", "1:1", "3:4", "9:16"),
    "waterMark": FieldSpec(),
    "callBackUrl": FieldSpec(),
}

EXTEND_FIELDS: dict[str, FieldSpec] = {
    "taskId": FieldSpec(required=True),
    "prompt": prompt(1800),
    "quality": FieldSpec(required=True, allowed=("720p", "1080p")),
    "waterMark": FieldSpec(),
    "callBackUrl": FieldSpec(),
}
EXTEND_SECONDS = 5

# Credits by (duration, quality), reference §6; 10 s at 1080p does not exist.
PRICES: dict[tuple[int, str], float] = {(5, "720p"): 12.0, (10, "720p"): 30.0, (5, "1080p"): 30.0}

_STATES = {
    "waiting": "wait",
    "queuing": "queueing",
    "generating": "generating",
    "success": "success",
    "fail": "fail",
}


def _combination_problem(body: dict[str, Any]) -> str | None:
    if body.get("quality") == "1080p" and body.get("duration") == 10:
        return "quality 1080p is not available for 10 second videos"
    if not body.get("imageUrl") and not body.get("aspectRatio"):
        return "aspectRatio is required when no imageUrl is given"
    return None


def video_id(task: SimTask) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-runway-video:{task.task_id}"))


class RunwayFamily:
    name = "runway"
    no_credits = 402
    create_path = "/api/v1/runway/generate"
    record_path = "/api/v1/runway/record-detail"

    def new_task_id(self) -> str:
        return str(uuid.uuid4())

    def parse(self, body: dict[str, Any]) -> Order:
        problem = validate_fields(FIELDS, body) or _combination_problem(body)
        if problem is not None:
            raise ApiError(422, problem)
        # With an image, the video takes the image's shape; the sandbox renders it 16:9.
        aspect = "16:9" if body.get("imageUrl") else str(body["aspectRatio"])
        seconds = int(body["duration"])
        return Order(
            model="runway",
            kind="video",
            request=dict(body),
            callback_url=body.get("callBackUrl") or None,
            price=PRICES[(seconds, body["quality"])],
            prompt=body["prompt"],
            outputs=(
                Output("result", 0, "mp4", aspect, seconds),
                Output("cover", 0, "jpg", aspect),
            ),
            input_urls=collect_urls(FIELDS, body),
        )

    def created(self, task: SimTask) -> dict[str, Any]:
        return {"taskId": task.task_id}

    def record(self, task: SimTask, now: float) -> dict[str, Any]:
        phase = task.phase(now)
        success, failed = phase == "success", phase == "fail"
        video_info = None
        if success:
            video_info = {
                "videoId": video_id(task),
                "taskId": task.task_id,
                "videoUrl": task.result_urls[0],
                "imageUrl": task.urls("cover")[0],
            }
        expired = success and now > task.completed_at + RETENTION_SECONDS
        return {
            "taskId": task.task_id,
            "parentTaskId": str(task.inputs.get("taskId") or ""),
            "generateParam": {
                "prompt": task.prompt,
                "imageUrl": task.inputs.get("imageUrl") or "",
                "expandPrompt": False,
            },
            "state": _STATES[phase],
            "generateTime": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(task.created_at)),
            "videoInfo": video_info,
            "failCode": 400 if failed else None,
            "failMsg": FAIL_MESSAGE if failed else "",
            "expireFlag": 1 if expired else 0,
        }

    def callback_body(self, task: SimTask, now: float) -> dict[str, Any]:
        if task.succeeded(now):
            data = {
                "task_id": task.task_id,
                "video_id": video_id(task),
                "video_url": task.result_urls[0],
                "image_url": task.urls("cover")[0],
            }
            return {"code": 200, "msg": "All generated successfully.", "data": data}
        empty = {"task_id": task.task_id, "video_id": "", "video_url": "", "image_url": ""}
        return {"code": 400, "msg": FAIL_MESSAGE, "data": empty}


class RunwayExtendFamily(RunwayFamily):
    name = "runway-extend"
    create_path = "/api/v1/runway/extend"
    sources = frozenset({"runway", "runway-extend"})

    def parse(self, body: dict[str, Any]) -> Order:
        raise ApiError(422, "record is null")  # only reachable with a source task

    def parse_from(self, body: dict[str, Any], tasks: Mapping[str, SimTask], now: float) -> Order:
        source = source_task(self, body, tasks, now)
        problem = validate_fields(EXTEND_FIELDS, body)
        if problem is not None:
            raise ApiError(422, problem)
        aspect = source.result.aspect_ratio
        return Order(
            model="runway-extend",
            kind="video",
            request=dict(body),
            callback_url=body.get("callBackUrl") or None,
            price=PRICES[(EXTEND_SECONDS, body["quality"])],
            prompt=body["prompt"],
            outputs=(
                Output("result", 0, "mp4", aspect, EXTEND_SECONDS, label="extended"),
                Output("cover", 0, "jpg", aspect),
            ),
        )


RUNWAY = RunwayFamily()
RUNWAY_EXTEND = RunwayExtendFamily()
