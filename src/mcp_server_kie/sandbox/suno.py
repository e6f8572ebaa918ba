"""The Suno music family (kie's "Suno API" documents): `POST /api/v1/generate` and
`GET /api/v1/generate/record-info`.

A request makes two songs. The record's `status` moves PENDING -> TEXT_SUCCESS (lyrics done)
-> FIRST_SUCCESS (first song done) -> SUCCESS, or ends in GENERATE_AUDIO_FAILED; the songs are
listed at `response.sunoData[]` (`audioUrl`, `streamAudioUrl`, `imageUrl`, `duration`, ...).
The callback is sent once the task ends, as its `complete` stage (kie's documents allow skipping
the `text` and `first` stages): `data.callbackType`, `data.task_id` and the songs in snake_case
at `data.data[]`. Suno's own codes: 400 for a parameter error, 413 for a prompt or style that
is too long, 429 for too few credits. `callBackUrl` is required; one on the reserved `.invalid`
domain can never be reached, so nothing is sent there.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from mcp_server_kie.sandbox.errors import ApiError
from mcp_server_kie.sandbox.models import FieldSpec, choice, flag, validate_fields
from mcp_server_kie.sandbox.tasks import FAIL_MESSAGE, Order, Output, SimTask, compact, ms

VERSIONS = ("V4", "V4_5", "V4_5PLUS", "V4_5ALL", "V5", "V5_5")
PRICE = 12.0  # credits per generate request (§6)
SONG_SECONDS = 8  # the sandbox's stand-in songs are short
_UNIT = FieldSpec(type="number", minimum=0, maximum=1)

FIELDS: dict[str, FieldSpec] = {
    "prompt": FieldSpec(),
    "style": FieldSpec(),
    "title": FieldSpec(max_length=80),
    "customMode": FieldSpec(type="bool", required=True),
    "instrumental": FieldSpec(type="bool", required=True),
    "model": choice(*VERSIONS),
    "callBackUrl": FieldSpec(type="url", required=True),
    "negativeTags": FieldSpec(),
    "vocalGender": choice("m", "f"),
    "styleWeight": _UNIT,
    "weirdnessConstraint": _UNIT,
    "audioWeight": _UNIT,
    "personaId": FieldSpec(),
    "personaModel": choice("style_persona", "voice_persona"),
    "duration": FieldSpec(type="number", minimum=10, maximum=360),
    "soundLoop": flag(),
}


def _limits(version: str) -> tuple[int, int]:
    """(lyrics, style) character limits in custom mode."""
    return (3000, 200) if version == "V4" else (5000, 1000)


def _problem(body: dict[str, Any]) -> tuple[int, str] | None:
    problem = validate_fields(FIELDS, body)
    if problem is not None:
        return 400, problem
    version = body.get("model")
    if version is None:
        return 400, "model is required"
    prompt, style = body.get("prompt") or "", body.get("style") or ""
    if body["customMode"]:
        if not style or not body.get("title"):
            return 400, "style and title are required in custom mode"
        if not body["instrumental"] and not prompt:
            return 400, "prompt is required in custom mode unless instrumental"
        lyrics, style_limit = _limits(str(version))
        if len(prompt) > lyrics or len(style) > style_limit:
            return 413, "Theme or prompt too long"
    else:
        if not prompt:
            return 400, "prompt is required"
        if len(prompt) > 3000:
            return 413, "Theme or prompt too long"
    return None


def _reachable(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return not (host == "invalid" or host.endswith(".invalid"))


class SunoFamily:
    name = "suno"
    no_credits = 429  # Suno's code table: 429 is "insufficient credits", 430 "too often"
    create_path = "/api/v1/generate"
    record_path = "/api/v1/generate/record-info"

    def new_task_id(self) -> str:
        return secrets.token_hex(16)

    def parse(self, body: dict[str, Any]) -> Order:
        problem = _problem(body)
        if problem is not None:
            raise ApiError(*problem)
        callback_url = str(body["callBackUrl"])
        prompt = body.get("prompt") or body.get("style") or ""
        return Order(
            model=str(body["model"]),
            kind="audio",
            request=dict(body),
            callback_url=callback_url if _reachable(callback_url) else None,
            price=PRICE,
            prompt=str(prompt),
            outputs=(
                Output("result", 0, "mp3", "", SONG_SECONDS),
                Output("result", 1, "mp3", "", SONG_SECONDS + 2),
            ),
        )

    def created(self, task: SimTask) -> dict[str, Any]:
        return {"taskId": task.task_id}

    def _status(self, task: SimTask, now: float) -> str:
        phase = task.phase(now)
        if phase == "success":
            return "SUCCESS"
        if phase == "fail":
            return "GENERATE_AUDIO_FAILED"
        fraction = task.fraction(now)
        if fraction >= 0.6:
            return "FIRST_SUCCESS"
        return "TEXT_SUCCESS" if fraction >= 0.3 else "PENDING"

    def _songs(self, task: SimTask) -> list[dict[str, Any]]:
        title = task.inputs.get("title") or "Sandbox song"
        return [
            {
                "id": f"{task.task_id}-{output.index}",
                "audioUrl": output.url,
                "sourceAudioUrl": output.url,
                "streamAudioUrl": f"{output.url}?stream=1",
                "imageUrl": None,
                "prompt": task.prompt,
                "modelName": f"chirp-{task.model.lower()}",
                "title": title,
                "tags": task.inputs.get("style") or "",
                "createTime": ms(task.created_at),
                "duration": float(output.seconds),
            }
            for output in task.outputs
            if output.role == "result"
        ]

    def record(self, task: SimTask, now: float) -> dict[str, Any]:
        status = self._status(task, now)
        failed = status == "GENERATE_AUDIO_FAILED"
        songs = self._songs(task) if status == "SUCCESS" else None
        return {
            "taskId": task.task_id,
            "parentMusicId": "",
            "param": compact(task.inputs),
            "response": {"taskId": task.task_id, "sunoData": songs} if songs else None,
            "status": status,
            "type": "chirp-" + task.model.lower(),
            "operationType": "generate",
            "errorCode": 500 if failed else None,
            "errorMessage": FAIL_MESSAGE if failed else None,
        }

    def callback_body(self, task: SimTask, now: float) -> dict[str, Any]:
        if not task.succeeded(now):
            failure: dict[str, Any] = {"callbackType": "error", "task_id": task.task_id}
            return {"code": 500, "msg": FAIL_MESSAGE, "data": {**failure, "data": None}}
        songs = [
            {
                "id": song["id"],
                "audio_url": song["audioUrl"],
                "source_audio_url": song["sourceAudioUrl"],
                "stream_audio_url": song["streamAudioUrl"],
                "image_url": song["imageUrl"],
                "prompt": song["prompt"],
                "model_name": song["modelName"],
                "title": song["title"],
                "tags": song["tags"],
                "createTime": song["createTime"],
                "duration": song["duration"],
            }
            for song in self._songs(task)
        ]
        data: dict[str, Any] = {"callbackType": "complete", "task_id": task.task_id, "data": songs}
        return {"code": 200, "msg": "All generated successfully.", "data": data}


SUNO = SunoFamily()
