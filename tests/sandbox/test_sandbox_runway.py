"""The Runway family (reference §3.4): UUID tasks, the record's own state spellings, video and
cover, prices, validation and snake_case callbacks."""

from __future__ import annotations

import uuid

import httpx2
import pytest
from sandbox_checks import image_facts, sha256, signed_by, video_facts

from mcp_server_kie.sandbox import FAIL_MESSAGE, Sandbox, SandboxConfig, serve_sandbox

GENERATE = "/api/v1/runway/generate"
RECORD = "/api/v1/runway/record-detail"
BODY = {"prompt": "a lighthouse in fog", "duration": 5, "quality": "720p", "aspectRatio": "16:9"}
AUTH = {"Authorization": "Bearer sandbox-key"}


def make(clock, **overrides) -> Sandbox:
    return Sandbox(SandboxConfig(clock=clock, **overrides))


async def generate(http, body) -> dict:
    return (await http.post(GENERATE, json=body)).json()


async def record(http, task_id: str) -> dict:
    return (await http.get(RECORD, params={"taskId": task_id})).json()


async def test_states_progress_to_success_with_video_and_cover(clock, client):
    sandbox = make(clock, video_seconds=10.0)
    async with client(sandbox) as http:
        answer = await generate(http, {**BODY, "aspectRatio": "3:4"})
        task_id = answer["data"]["taskId"]
        created = clock.now
        states = []
        for at in (0.0, 1.0, 3.0, 10.0):
            clock.now = created + at
            data = (await record(http, task_id))["data"]
            states.append(data["state"])
            if at < 10.0:
                assert data["videoInfo"] is None
        info = data["videoInfo"]
        video = (await http.get(info["videoUrl"])).content
        cover = await http.get(info["imageUrl"])
    assert answer == {"code": 200, "msg": "success", "data": {"taskId": task_id}}
    assert str(uuid.UUID(task_id)) == task_id
    assert states == ["wait", "queueing", "generating", "success"]
    assert data["taskId"] == task_id
    assert data["generateParam"] == {
        "prompt": "a lighthouse in fog",
        "imageUrl": "",
        "expandPrompt": False,
    }
    assert data["failCode"] is None
    assert data["failMsg"] == ""
    assert data["expireFlag"] == 0
    assert data["parentTaskId"] == ""
    assert len(data["generateTime"]) == len("2023-08-15 14:30:45")
    assert str(uuid.UUID(info["videoId"])) == info["videoId"]
    assert info["taskId"] == task_id
    assert info["videoUrl"] == f"{sandbox.base_url}/cdn/{task_id}/0.mp4"
    facts = video_facts(video)
    assert (facts.codec, facts.size, facts.frames) == ("h264", (240, 320), 5 * 12)
    assert cover.headers["content-type"] == "image/jpeg"
    assert image_facts(cover.content)[0] == "JPEG"
    assert sandbox.served_sha256(info["imageUrl"]) == sha256(cover.content)
    assert sandbox.credits == 10_000 - 12


async def test_expire_flag_turns_after_fourteen_days(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        task_id = (await generate(http, BODY))["data"]["taskId"]
        clock.advance(14 * 24 * 3600 + 60)
        data = (await record(http, task_id))["data"]
    assert data["expireFlag"] == 1


@pytest.mark.parametrize(
    ("duration", "quality", "price"),
    [(5, "720p", 12), (10, "720p", 30), (5, "1080p", 30)],
)
async def test_prices_by_duration_and_quality(clock, client, duration, quality, price):
    sandbox = make(clock)
    async with client(sandbox) as http:
        body = {**BODY, "duration": duration, "quality": quality}
        task_id = (await generate(http, body))["data"]["taskId"]
        clock.advance(60.0)
        url = (await record(http, task_id))["data"]["videoInfo"]["videoUrl"]
        content = (await http.get(url)).content
    assert sandbox.credits == 10_000 - price
    assert video_facts(content).frames == duration * 12


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"duration": 10, "quality": "1080p"}, "1080p"),
        ({"duration": 8}, "duration must be one of"),
        ({"duration": "5"}, "integer"),
        ({"duration": None}, "duration is required"),
        ({"quality": None}, "quality is required"),
        ({"quality": "4k"}, "quality must be one of"),
        ({"aspectRatio": "21:9"}, "aspectRatio"),
        ({"aspectRatio": None}, "aspectRatio is required"),
        ({"prompt": "x" * 1801}, "1800"),
        ({"prompt": None}, "prompt is required"),
        ({"imageUrl": "not a url"}, "imageUrl"),
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


async def test_an_image_makes_the_aspect_ratio_optional(clock, client):
    sandbox = make(clock)
    body = {k: v for k, v in BODY.items() if k != "aspectRatio"}
    async with client(sandbox) as http:
        answer = await generate(http, {**body, "imageUrl": "https://example.com/a.jpg"})
        data = (await record(http, answer["data"]["taskId"]))["data"]
    assert answer["code"] == 200
    assert data["generateParam"]["imageUrl"] == "https://example.com/a.jpg"


async def test_fail_directive_and_402(clock, client):
    sandbox = make(clock, initial_credits=20.0)
    async with client(sandbox) as http:
        failing = await generate(http, {**BODY, "prompt": "[sandbox:fail] fog"})
        too_dear = await generate(http, {**BODY, "duration": 10})  # 30 > 20 - 12 held
        clock.advance(60.0)
        data = (await record(http, failing["data"]["taskId"]))["data"]
        after = await generate(http, {**BODY, "quality": "1080p"})  # 30 > 20
    assert too_dear["code"] == 402
    assert after["code"] == 402
    assert data["state"] == "fail"
    assert data["failCode"] == 400
    assert data["failMsg"] == FAIL_MESSAGE
    assert data["videoInfo"] is None
    assert sandbox.credits == 20.0


async def test_callbacks_are_snake_case_with_empty_strings_on_failure(clock, receiver, wait):
    key = "whk-runway-key"
    config = SandboxConfig(clock=clock, video_seconds=5.0, hmac_key=key)
    async with receiver() as hook, serve_sandbox(config) as sandbox:
        async with httpx2.AsyncClient(base_url=sandbox.base_url, headers=AUTH) as http:
            good = await generate(http, {**BODY, "callBackUrl": hook.url("ok")})
            failing = {**BODY, "prompt": "[sandbox:fail]", "callBackUrl": hook.url("bad")}
            bad = await generate(http, failing)
            clock.advance(5.0)
            await wait(lambda: len(hook.received) == 2, what="two callbacks")
            good_id, bad_id = good["data"]["taskId"], bad["data"]["taskId"]
            info = (await record(http, good_id))["data"]["videoInfo"]
            content = (await http.get(info["videoUrl"])).content
    by_path = {delivery["path"]: delivery for delivery in hook.received}
    assert by_path["/ok"]["json"] == {
        "code": 200,
        "msg": "All generated successfully.",
        "data": {
            "task_id": good_id,
            "video_id": info["videoId"],
            "video_url": info["videoUrl"],
            "image_url": info["imageUrl"],
        },
    }
    assert by_path["/bad"]["json"] == {
        "code": 400,
        "msg": FAIL_MESSAGE,
        "data": {"task_id": bad_id, "video_id": "", "video_url": "", "image_url": ""},
    }
    assert signed_by(by_path["/ok"]["headers"], key, good_id)
    assert signed_by(by_path["/bad"]["headers"], key, bad_id)
    assert video_facts(content).codec == "h264"
