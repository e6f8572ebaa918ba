"""The Veo 3.1 family (reference §3.3): create, record, prices, validation, the 1080p video
and callbacks."""

from __future__ import annotations

import json
import re

import httpx2
import pytest
from sandbox_checks import sha256, signed_by, video_facts

from mcp_server_kie.sandbox import FAIL_MESSAGE, Sandbox, SandboxConfig, serve_sandbox

GENERATE = "/api/v1/veo/generate"
RECORD = "/api/v1/veo/record-info"
HD = "/api/v1/veo/get-1080p-video"
BODY = {"prompt": "waves rolling onto a beach"}
AUTH = {"Authorization": "Bearer sandbox-key"}
IMAGE = "https://example.com/frame.png"


def make(clock, **overrides) -> Sandbox:
    return Sandbox(SandboxConfig(clock=clock, **overrides))


async def generate(http, body) -> dict:
    return (await http.post(GENERATE, json=body)).json()


async def record(http, task_id: str) -> dict:
    return (await http.get(RECORD, params={"taskId": task_id})).json()


async def hd(http, task_id: str, index: str = "0") -> dict:
    return (await http.get(HD, params={"taskId": task_id, "index": index})).json()


async def test_create_record_and_success_shape(clock, client):
    sandbox = make(clock, video_seconds=10.0)
    async with client(sandbox) as http:
        answer = await generate(http, BODY)
        task_id = answer["data"]["taskId"]
        created = clock.now
        running = []
        for at in (0.0, 5.0, 9.9):
            clock.now = created + at
            running.append((await record(http, task_id))["data"])
        clock.now = created + 10.0
        done = (await record(http, task_id))["data"]
        video = await http.get(done["response"]["resultUrls"][0])
    assert answer == {"code": 200, "msg": "success", "data": {"taskId": task_id}}
    assert re.fullmatch(r"veo_task_[0-9a-f]{24}", task_id)
    for data in running:
        assert data["successFlag"] == 0
        assert data["response"] is None
        assert data["completeTime"] is None
    assert done["successFlag"] == 1
    assert done["taskId"] == task_id
    assert done["errorCode"] is None
    assert done["errorMessage"] is None
    assert done["fallbackFlag"] is False
    assert done["createTime"] == round(created * 1000)
    assert done["completeTime"] == round((created + 10.0) * 1000)
    assert json.loads(done["paramJson"]) == BODY
    assert done["response"] == {
        "taskId": task_id,
        "resultUrls": [f"{sandbox.base_url}/cdn/{task_id}/0.mp4"],
        "originUrls": None,
        "resolution": "720p",
    }
    facts = video_facts(video.content)
    assert (facts.codec, facts.size, facts.frames) == ("h264", (320, 180), 8 * 12)
    assert sandbox.credits == 10_000 - 60, "veo3_fast at 720p by default"


async def test_portrait_video_reports_the_16_9_original(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        body = {**BODY, "aspectRatio": "9:16", "duration": 4, "resolution": "1080p"}
        task_id = (await generate(http, body))["data"]["taskId"]
        clock.advance(60.0)
        response = (await record(http, task_id))["data"]["response"]
        result = (await http.get(response["resultUrls"][0])).content
        origin = (await http.get(response["originUrls"][0])).content
    assert response["resolution"] == "1080p"
    assert video_facts(result).size == (180, 320)
    assert video_facts(origin).size == (320, 180)
    assert video_facts(result).frames == 4 * 12


@pytest.mark.parametrize(
    ("model", "resolution", "price"),
    [
        ("veo3_fast", "720p", 60),
        ("veo3_fast", "1080p", 65),
        ("veo3_fast", "4k", 180),
        ("veo3", "720p", 250),
        ("veo3", "1080p", 255),
        ("veo3", "4k", 370),
        ("veo3_lite", "720p", 30),
        ("veo3_lite", "1080p", 35),
        ("veo3_lite", "4k", 150),
    ],
)
async def test_prices_by_model_and_resolution(clock, client, model, resolution, price):
    sandbox = make(clock)
    async with client(sandbox) as http:
        body = {**BODY, "model": model, "resolution": resolution}
        assert (await generate(http, body))["code"] == 200
        clock.advance(60.0)
        assert sandbox.credits == 10_000 - price


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"prompt": None}, "prompt is required"),
        ({"model": "veo2"}, "model"),
        ({"duration": 5}, "duration"),
        ({"duration": "8"}, "integer"),
        ({"aspectRatio": "1:1"}, "aspectRatio"),
        ({"resolution": "8k"}, "resolution"),
        ({"imageUrls": [IMAGE] * 4}, "at most 3"),
        ({"generationType": "IMAGE_2_VIDEO"}, "generationType"),
        ({"generationType": "FIRST_AND_LAST_FRAMES_2_VIDEO"}, "one or two"),
        ({"generationType": "REFERENCE_2_VIDEO", "imageUrls": [IMAGE], "model": "veo3"}, "veo3"),
        ({"generationType": "REFERENCE_2_VIDEO", "imageUrls": [IMAGE], "duration": 6}, "8"),
        ({"enableTranslation": "yes"}, "boolean"),
    ],
)
async def test_invalid_bodies_are_422_without_a_task(clock, client, change, needle):
    sandbox = make(clock)
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    async with client(sandbox) as http:
        answer = await generate(http, body)
    assert answer["code"] == 422, answer
    assert needle in answer["msg"]
    assert sandbox.tasks == {}


@pytest.mark.parametrize(
    "change",
    [
        {"imageUrls": [IMAGE]},
        {"imageUrls": [IMAGE, IMAGE], "generationType": "FIRST_AND_LAST_FRAMES_2_VIDEO"},
        {"imageUrls": [IMAGE] * 3, "model": "veo3_lite"},
        {"watermark": "mine", "enableTranslation": False, "aspect_ratio": "Auto"},
    ],
)
async def test_documented_variants_are_accepted(clock, client, change):
    sandbox = make(clock)
    async with client(sandbox) as http:
        answer = await generate(http, {**BODY, **change})
    assert answer["code"] == 200, answer


async def test_1080p_is_processing_first_then_ready(clock, client):
    sandbox = make(clock, video_seconds=10.0)
    async with client(sandbox) as http:
        task_id = (await generate(http, BODY))["data"]["taskId"]
        unfinished = await hd(http, task_id)
        clock.advance(30.0)  # done long ago: only the first call is still "processing"
        first = await hd(http, task_id)
        hd_url = f"{sandbox.base_url}/cdn/{task_id}/0-1080p.mp4"
        before = await http.get(hd_url)
        second = await hd(http, task_id)
        bad_index = await hd(http, task_id, "1")
        served = await http.get(second["data"]["resultUrl"])
        again = await hd(http, task_id)
    assert unfinished["code"] == 422
    assert first["code"] == 400
    assert first["msg"] == "1080P is processing, ready in 1-2 min"
    assert first["data"] is None
    assert before.status_code == 404, "nothing is served before it is handed out"
    assert second["code"] == 200
    assert second["data"] == {"resultUrl": hd_url}
    assert bad_index["code"] == 422
    assert again["data"] == second["data"]
    facts = video_facts(served.content)
    assert (facts.codec, facts.comment) == ("h264", "1080p")
    assert sandbox.served_sha256(hd_url) == sha256(served.content)
    assert sandbox.count("/get-1080p-video") == 5


async def test_1080p_waits_a_fifth_of_the_task_duration_after_success(clock, client):
    sandbox = make(clock, video_seconds=10.0)
    async with client(sandbox) as http:
        task_id = (await generate(http, BODY))["data"]["taskId"]
        clock.advance(10.0)
        codes = [(await hd(http, task_id))["code"]]
        clock.advance(1.9)
        codes.append((await hd(http, task_id))["code"])
        clock.advance(0.1)
        codes.append((await hd(http, task_id))["code"])
    assert codes == [400, 400, 200]


async def test_failed_generation_is_flag_3_and_has_no_1080p(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        body = {**BODY, "prompt": "[sandbox:fail] storm"}
        task_id = (await generate(http, body))["data"]["taskId"]
        clock.advance(60.0)
        data = (await record(http, task_id))["data"]
        hd_answer = await hd(http, task_id)
    assert data["successFlag"] == 3
    assert data["errorCode"] == 501
    assert data["errorMessage"] == FAIL_MESSAGE
    assert data["response"] is None
    assert hd_answer["code"] == 422
    assert sandbox.credits == 10_000


async def test_402_when_the_quality_model_is_too_dear(clock, client):
    sandbox = make(clock, initial_credits=100.0)
    async with client(sandbox) as http:
        quality = await generate(http, {**BODY, "model": "veo3"})
        fast = await generate(http, BODY)
        second_fast = await generate(http, BODY)  # 100 - 60 held < 60
    assert [quality["code"], fast["code"], second_fast["code"]] == [402, 200, 402]


async def test_callbacks_follow_the_documented_shape_and_are_signed(clock, receiver, wait):
    key = "whk-veo-key"
    config = SandboxConfig(clock=clock, video_seconds=5.0, hmac_key=key)
    async with receiver() as hook, serve_sandbox(config) as sandbox:
        async with httpx2.AsyncClient(base_url=sandbox.base_url, headers=AUTH) as http:
            body = {**BODY, "aspectRatio": "9:16", "callBackUrl": hook.url("ok")}
            good = (await generate(http, body))["data"]["taskId"]
            failing = {**BODY, "prompt": "[sandbox:fail]", "callBackUrl": hook.url("bad")}
            bad = (await generate(http, failing))["data"]["taskId"]
            clock.advance(5.0)
            await wait(lambda: len(hook.received) == 2, what="two callbacks")
            response = (await record(http, good))["data"]["response"]
            content = (await http.get(response["resultUrls"][0])).content
    by_path = {delivery["path"]: delivery for delivery in hook.received}
    success, failure = by_path["/ok"]["json"], by_path["/bad"]["json"]
    assert success["code"] == 200
    assert success["msg"] == "Veo3.1 video generated successfully."
    assert success["data"]["taskId"] == good
    assert json.loads(success["data"]["promptJson"]) == body
    assert success["data"]["fallbackFlag"] is False
    assert success["data"]["info"] == {
        "resultUrls": response["resultUrls"],
        "originUrls": response["originUrls"],
        "resolution": "720p",
    }
    assert isinstance(success["data"]["info"]["resultUrls"], list)
    assert failure == {
        "code": 501,
        "msg": FAIL_MESSAGE,
        "data": {"taskId": bad, "fallbackFlag": False},
    }
    assert signed_by(by_path["/ok"]["headers"], key, good)
    assert signed_by(by_path["/bad"]["headers"], key, bad)
    assert video_facts(content).size == (180, 320)
    assert sandbox.served_sha256(response["resultUrls"][0]) == sha256(content)
