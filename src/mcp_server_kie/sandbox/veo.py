"""The Veo 3.1 family (reference §3.3): `POST /api/v1/veo/generate`,
`GET /api/v1/veo/record-info` and `GET /api/v1/veo/get-1080p-video`.

`successFlag` is 0 while generating, 1 on success, 3 when generation failed. A video whose
ratio is not 16:9 also reports the 16:9 original in `originUrls`. The 1080p version of a
successful task answers code 400 "1080P is processing" on the first call and until a fifth of
the task's duration has passed after it finished; then `data.resultUrl` is a served MP4.
"""

from __future__ import annotations

import secrets
from typing import Any

from mcp_server_kie.sandbox.errors import ApiError
from mcp_server_kie.sandbox.models import (
    FieldSpec,
    choice,
    collect_urls,
    flag,
    prompt,
    urls,
    validate_fields,
)
from mcp_server_kie.sandbox.tasks import FAIL_MESSAGE, Order, Output, SimTask, compact, ms

HD_PROCESSING = "1080P is processing, ready in 1-2 min"
HD_DELAY_FRACTION = 0.2
TEXT, FRAMES, REFERENCE = "TEXT_2_VIDEO", "FIRST_AND_LAST_FRAMES_2_VIDEO", "REFERENCE_2_VIDEO"

FIELDS: dict[str, FieldSpec] = {
    "prompt": prompt(),
    "model": choice("veo3", "veo3_fast", "veo3_lite", default="veo3_fast"),
    "imageUrls": urls(3),
    "generationType": choice(TEXT, FRAMES, REFERENCE),
    "aspect_ratio": choice("16:9", "9:16", "Auto", default="16:9"),  # current docs (2026-08)
    "aspectRatio": choice("16:9", "9:16", "Auto"),  # older docs' spelling, still honoured
    "resolution": choice("720p", "1080p", "4k", default="720p"),
    "duration": choice(4, 6, 8, default=8),
    "watermark": FieldSpec(),
    "enableTranslation": flag(),
    "enableFallback": flag(False),  # deprecated
    "callBackUrl": FieldSpec(),
}

# Credits per video by (model, resolution), reference §6.
PRICES: dict[tuple[str, str], float] = {
    ("veo3_fast", "720p"): 60.0,
    ("veo3_fast", "1080p"): 65.0,
    ("veo3_fast", "4k"): 180.0,
    ("veo3", "720p"): 250.0,
    ("veo3", "1080p"): 255.0,
    ("veo3", "4k"): 370.0,
    ("veo3_lite", "720p"): 30.0,
    ("veo3_lite", "1080p"): 35.0,
    ("veo3_lite", "4k"): 150.0,
}


def _value(body: dict[str, Any], name: str) -> Any:
    value = body.get(name)
    return FIELDS[name].default if value is None else value


def _generation_problem(body: dict[str, Any]) -> str | None:
    images = len(body.get("imageUrls") or [])
    inferred = TEXT if not images else FRAMES if images < 3 else REFERENCE
    kind = body.get("generationType") or inferred
    if kind == FRAMES and not 1 <= images <= 2:
        return f"{FRAMES} needs one or two imageUrls"
    if kind == REFERENCE:
        if not 1 <= images <= 3:
            return f"{REFERENCE} needs one to three imageUrls"
        if _value(body, "model") == "veo3":
            return f"{REFERENCE} is available with veo3_fast and veo3_lite only"
        if _value(body, "duration") != 8:
            return f"{REFERENCE} supports 8 second videos only"
    return None


class VeoFamily:
    name = "veo"
    no_credits = 402
    create_path = "/api/v1/veo/generate"
    record_path = "/api/v1/veo/record-info"
    hd_path = "/api/v1/veo/get-1080p-video"

    def new_task_id(self) -> str:
        return "veo_task_" + secrets.token_hex(12)

    def parse(self, body: dict[str, Any]) -> Order:
        problem = validate_fields(FIELDS, body) or _generation_problem(body)
        if problem is not None:
            raise ApiError(422, problem)
        model, resolution = _value(body, "model"), _value(body, "resolution")
        ratio = body.get("aspect_ratio") or body.get("aspectRatio")
        aspect = "9:16" if ratio == "9:16" else "16:9"
        seconds = int(_value(body, "duration"))
        outputs = [
            Output("result", 0, "mp4", aspect, seconds),
            Output("1080p", 0, "mp4", aspect, seconds, label="1080p"),
        ]
        if aspect != "16:9":
            outputs.append(Output("origin", 0, "mp4", "16:9", seconds, label="original"))
        return Order(
            model=model,
            kind="video",
            request=dict(body),
            callback_url=body.get("callBackUrl") or None,
            price=PRICES[(model, resolution)],
            prompt=body["prompt"],
            outputs=tuple(outputs),
            input_urls=collect_urls(FIELDS, body),
        )

    def created(self, task: SimTask) -> dict[str, Any]:
        return {"taskId": task.task_id}

    def _info(self, task: SimTask) -> dict[str, Any]:
        origin = list(task.urls("origin"))
        return {
            "resultUrls": list(task.result_urls),
            "originUrls": origin or None,
            "resolution": _value(task.inputs, "resolution"),
        }

    def record(self, task: SimTask, now: float) -> dict[str, Any]:
        phase = task.phase(now)
        success, failed = phase == "success", phase == "fail"
        return {
            "taskId": task.task_id,
            "paramJson": compact(task.inputs),
            "completeTime": ms(task.completed_at) if task.terminal(now) else None,
            "response": {"taskId": task.task_id, **self._info(task)} if success else None,
            "successFlag": 1 if success else 3 if failed else 0,
            "errorCode": 501 if failed else None,
            "errorMessage": FAIL_MESSAGE if failed else None,
            "createTime": ms(task.created_at),
            "fallbackFlag": False,
        }

    def callback_body(self, task: SimTask, now: float) -> dict[str, Any]:
        data: dict[str, Any] = {"taskId": task.task_id}
        if not task.succeeded(now):
            return {"code": 501, "msg": FAIL_MESSAGE, "data": {**data, "fallbackFlag": False}}
        data.update(promptJson=compact(task.inputs), info=self._info(task), fallbackFlag=False)
        return {"code": 200, "msg": "Veo3.1 video generated successfully.", "data": data}

    def hd_video(self, task: SimTask, index: str, now: float) -> dict[str, str]:
        """The `data` of a get-1080p-video answer, or ApiError while it is not ready."""
        if not task.succeeded(now):
            raise ApiError(422, "record status is not success")
        hd_urls = task.urls("1080p")
        if not index.isdigit() or int(index) >= len(hd_urls):
            raise ApiError(422, f"index must be between 0 and {len(hd_urls) - 1}")
        task.hd_requests += 1
        ready_at = task.completed_at + HD_DELAY_FRACTION * task.duration
        if task.hd_requests == 1 or now < ready_at:
            raise ApiError(400, HD_PROCESSING)
        task.hd_ready = True
        return {"resultUrl": hd_urls[int(index)]}


VEO = VeoFamily()
