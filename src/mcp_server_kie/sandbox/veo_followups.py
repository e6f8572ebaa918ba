"""Veo 3.1 operations on a finished task (reference §3.3): `POST /api/v1/veo/extend` and
`POST /api/v1/veo/get-4k-video`. Both create tasks of their own, read on
`/api/v1/veo/record-info` and called back like a Veo generation. (The 1080p version is no task:
`GET /api/v1/veo/get-1080p-video`, in `veo`.)

The source `taskId` must be a successful Veo generation or extension. A video that has been
fetched in 1080p cannot be extended (kie: "Videos generated after 1080P generation cannot be
extended"). An extension is the source's length plus seven seconds and can itself be had in
1080p; the 4K version keeps the source's shape and length.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from mcp_server_kie.sandbox.errors import ApiError
from mcp_server_kie.sandbox.models import FieldSpec, choice, prompt, validate_fields
from mcp_server_kie.sandbox.tasks import Order, Output, SimTask, source_task
from mcp_server_kie.sandbox.veo import VeoFamily

SOURCES = frozenset({"veo", "veo-extend"})
EXTEND_SECONDS = 7
NO_EXTEND_AFTER_1080P = "Videos generated after 1080P generation cannot be extended"

EXTEND_FIELDS: dict[str, FieldSpec] = {
    "taskId": FieldSpec(required=True),
    "prompt": prompt(),
    "seeds": FieldSpec(type="int", minimum=10000, maximum=99999),
    "model": choice("fast", "quality", "lite", default="fast"),
    "watermark": FieldSpec(),
    "callBackUrl": FieldSpec(),
}
UHD_FIELDS: dict[str, FieldSpec] = {
    "taskId": FieldSpec(required=True),
    "index": FieldSpec(type="int", default=0, minimum=0),
    "callBackUrl": FieldSpec(),
}

# Credits, reference §6: an extension by mode; a 4K version about two Fast generations.
EXTEND_PRICES: dict[str, float] = {"fast": 60.0, "quality": 250.0, "lite": 30.0}
UHD_PRICE = 120.0


def _checked(fields: dict[str, FieldSpec], body: dict[str, Any]) -> None:
    problem = validate_fields(fields, body)
    if problem is not None:
        raise ApiError(422, problem)


class VeoExtendFamily(VeoFamily):
    name = "veo-extend"
    create_path = "/api/v1/veo/extend"
    sources = SOURCES

    def new_task_id(self) -> str:
        return "veo_extend_" + secrets.token_hex(12)

    def parse(self, body: dict[str, Any]) -> Order:
        raise ApiError(422, "record is null")  # only reachable with a source task

    def parse_from(self, body: dict[str, Any], tasks: Mapping[str, SimTask], now: float) -> Order:
        source = source_task(self, body, tasks, now)
        _checked(EXTEND_FIELDS, body)
        if source.hd_ready:
            raise ApiError(422, NO_EXTEND_AFTER_1080P)
        mode = body.get("model") or "fast"
        shape = source.result
        seconds = shape.seconds + EXTEND_SECONDS
        return Order(
            model=f"veo3-extend-{mode}",
            kind="video",
            request=dict(body),
            callback_url=body.get("callBackUrl") or None,
            price=EXTEND_PRICES[mode],
            prompt=body["prompt"],
            outputs=(
                Output("result", 0, "mp4", shape.aspect_ratio, seconds, label="extended"),
                Output("1080p", 0, "mp4", shape.aspect_ratio, seconds, label="1080p"),
            ),
        )


class Veo4kFamily(VeoFamily):
    name = "veo-4k"
    create_path = "/api/v1/veo/get-4k-video"
    sources = SOURCES

    def new_task_id(self) -> str:
        return "veo_4k_" + secrets.token_hex(12)

    def parse(self, body: dict[str, Any]) -> Order:
        raise ApiError(422, "record is null")  # only reachable with a source task

    def parse_from(self, body: dict[str, Any], tasks: Mapping[str, SimTask], now: float) -> Order:
        source = source_task(self, body, tasks, now)
        _checked(UHD_FIELDS, body)
        index = body.get("index") or 0
        if index >= len(source.result_urls):
            raise ApiError(422, f"index must be between 0 and {len(source.result_urls) - 1}")
        shape = source.result
        return Order(
            model="veo3-4k",
            kind="video",
            request={**body, "resolution": "4k"},
            callback_url=body.get("callBackUrl") or None,
            price=UHD_PRICE,
            prompt=source.prompt,
            outputs=(Output("result", 0, "mp4", shape.aspect_ratio, shape.seconds, label="4K"),),
        )

    def created(self, task: SimTask) -> dict[str, Any]:
        return {"taskId": task.task_id, "resultUrls": []}

    def callback_body(self, task: SimTask, now: float) -> dict[str, Any]:
        if not task.succeeded(now):
            unavailable = "The 4K version of this video is unavailable."
            return {"code": 500, "msg": unavailable, "data": {"taskId": task.task_id}}
        info = {"resultUrls": list(task.result_urls), "imageUrls": []}
        data = {"taskId": task.task_id, "info": info}
        return {"code": 200, "msg": "4K Video generated successfully.", "data": data}


VEO_EXTEND = VeoExtendFamily()
VEO_4K = Veo4kFamily()
