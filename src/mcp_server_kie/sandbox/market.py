"""The Market family: `POST /api/v1/jobs/createTask` and `GET /api/v1/jobs/recordInfo`.

Task ids are 32 lowercase hex characters. The record follows the live shape (reference §2.2):
`param`/`paramJson` echo the request with `input` double-encoded, `resultJson` is a string and
`response` the same parsed; the callback is the record plus `consumeCredits`/`remainedCredits`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from mcp_server_kie.sandbox.audio_models import with_audio_facts
from mcp_server_kie.sandbox.documents import documented_models
from mcp_server_kie.sandbox.errors import ApiError
from mcp_server_kie.sandbox.image_models import IMAGE_MODELS
from mcp_server_kie.sandbox.models import ModelSpec, seconds_of
from mcp_server_kie.sandbox.tasks import FAIL_MESSAGE, Order, Output, SimTask, compact, ms
from mcp_server_kie.sandbox.video_models import VIDEO_MODELS

# Every Market model kie documents; the hand-kept tables (prices, prose rules) win.
MODELS: dict[str, ModelSpec] = {
    **with_audio_facts(documented_models()),
    **{spec.id: spec for spec in (*IMAGE_MODELS, *VIDEO_MODELS)},
}
SPOKEN_CHARACTERS_PER_SECOND = 15

_SUCCESS_FLAGS = {"waiting": 0, "queuing": 0, "generating": 0, "success": 1, "fail": 3}
_NAMED_SHAPES = {
    "square": "1:1",
    "square_hd": "1:1",
    "portrait_4_3": "3:4",
    "portrait_16_9": "9:16",
    "landscape_4_3": "4:3",
    "landscape_16_9": "16:9",
    "portrait": "9:16",
    "landscape": "16:9",
}


def aspect_of(spec: ModelSpec, inputs: Mapping[str, object]) -> str:
    """The shape to render: the aspect field sent, else the deprecated image_size, else defaults.

    Named sizes map to ratios; anything without a fixed ratio ("auto", "adaptive") renders as
    1:1 for an image and 16:9 for a video.
    """
    sent = inputs.get("aspect_ratio") or inputs.get("image_size")
    value = sent or spec.value(inputs, "aspect_ratio") or spec.value(inputs, "image_size")
    text = _NAMED_SHAPES.get(str(value), str(value))
    if ":" in text:
        return text
    return "16:9" if spec.kind == "video" else "1:1"


def _spoken_text(inputs: Mapping[str, object]) -> str:
    """All the text an audio request speaks (a dialogue's lines added up)."""
    parts: list[object] = [inputs.get("text")]
    for name in ("dialogue", "dialogue_turns"):
        turns = inputs.get(name)
        if isinstance(turns, list):
            parts += [turn.get("text") for turn in turns if isinstance(turn, dict)]
    return " ".join(part for part in parts if isinstance(part, str))


def outputs_for(spec: ModelSpec, inputs: Mapping[str, object]) -> tuple[Output, ...]:
    if spec.kind == "audio":
        seconds = len(_spoken_text(inputs)) // SPOKEN_CHARACTERS_PER_SECOND + 1
        return (Output("result", 0, "mp3", "", seconds=seconds),)
    aspect = aspect_of(spec, inputs)
    if spec.kind == "video":
        length = spec.value(inputs, "duration") or spec.value(inputs, "n_frames")
        return (Output("result", 0, "mp4", aspect, seconds=seconds_of(length) or 5),)
    extension = "jpg" if spec.value(inputs, "output_format") in ("jpeg", "jpg") else "png"
    return (Output("result", 0, extension, aspect),)


class MarketFamily:
    name = "market"
    no_credits = 402
    create_path = "/api/v1/jobs/createTask"
    record_path = "/api/v1/jobs/recordInfo"

    def new_task_id(self) -> str:
        return secrets.token_hex(16)

    def parse(self, body: dict[str, Any], models: Mapping[str, ModelSpec] = MODELS) -> Order:
        """Validate a createTask body against the models offered now (`models`)."""
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise ApiError(422, "model is required")
        inputs = body.get("input", {})
        if not isinstance(inputs, dict):
            raise ApiError(422, "input must be a JSON object")
        callback_url = body.get("callBackUrl")
        if callback_url is not None and not isinstance(callback_url, str):
            raise ApiError(422, "callBackUrl must be a string")
        spec = models.get(model)
        if spec is None:
            raise ApiError(422, f"The model {model!r} is not supported")
        problem = spec.validate(inputs)
        if problem is not None:
            raise ApiError(422, problem)
        prompt = inputs.get("prompt", inputs.get("text"))
        return Order(
            model=model,
            kind=spec.kind,
            request=dict(inputs),
            callback_url=callback_url or None,
            price=spec.price_for(inputs),
            prompt=prompt if isinstance(prompt, str) else "",
            outputs=outputs_for(spec, inputs),
            input_urls=spec.url_inputs(inputs),
        )

    def created(self, task: SimTask) -> dict[str, Any]:
        return {"taskId": task.task_id, "recordId": task.task_id}

    def param(self, task: SimTask) -> str:
        """The create request echoed back, with `input` double-encoded (the live quirk)."""
        request: dict[str, Any] = {"model": task.model, "input": compact(task.inputs)}
        if task.callback_url is not None:
            request["callBackUrl"] = task.callback_url
        return compact(request)

    def record(self, task: SimTask, now: float) -> dict[str, Any]:
        state = task.phase(now)
        terminal = task.terminal(now)
        success = state == "success"
        result_json = compact({"resultUrls": list(task.result_urls)}) if success else None
        failed = state == "fail"
        param = self.param(task)
        return {
            "taskId": task.task_id,
            "model": task.model,
            "state": state,
            "param": param,
            "paramJson": param,
            "resultJson": result_json,
            "response": json.loads(result_json) if result_json is not None else None,
            "successFlag": _SUCCESS_FLAGS[state],
            "creditsConsumed": task.charge(now) if terminal else None,
            "failCode": "500" if failed else None,
            "failMsg": FAIL_MESSAGE if failed else None,
            "costTime": round(task.duration) if success else 0,
            "createTime": ms(task.created_at),
            "updateTime": ms(task.updated_at(now)),
            "completeTime": ms(task.completed_at) if terminal else None,
            "progress": None,
        }

    def callback_body(self, task: SimTask, now: float) -> dict[str, Any]:
        data = self.record(task, now)
        data.pop("creditsConsumed")
        data["consumeCredits"] = task.charge(now)
        data["remainedCredits"] = task.remained_credits
        if data["state"] == "success":
            return {"code": 200, "msg": "Playground task completed successfully.", "data": data}
        return {"code": 501, "msg": "Playground task failed.", "data": data}


MARKET = MarketFamily()
