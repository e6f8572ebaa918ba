"""The 4o Image family (reference §3.1): create, record progression, variants, validation,
credits and callbacks."""

from __future__ import annotations

import json
import re

import httpx2
import pytest
from sandbox_checks import image_facts, sha256, signed_by

from mcp_server_kie.sandbox import FAIL_MESSAGE, Sandbox, SandboxConfig, serve_sandbox

GENERATE = "/api/v1/gpt4o-image/generate"
RECORD = "/api/v1/gpt4o-image/record-info"
BODY = {"prompt": "a paper boat on a pond", "size": "3:2"}
AUTH = {"Authorization": "Bearer sandbox-key"}


def make(clock, **overrides) -> Sandbox:
    return Sandbox(SandboxConfig(clock=clock, **overrides))


async def generate(http, body) -> dict:
    response = await http.post(GENERATE, json=body)
    assert response.status_code == 200
    return response.json()


async def record(http, task_id: str) -> dict:
    return (await http.get(RECORD, params={"taskId": task_id})).json()


async def test_create_answers_a_4o_task_id(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        answer = await generate(http, BODY)
    assert answer["code"] == 200
    assert answer["msg"] == "success"
    assert list(answer["data"]) == ["taskId"]
    task_id = answer["data"]["taskId"]
    assert re.fullmatch(r"task_4o_[0-9a-f]{24}", task_id)
    assert list(sandbox.tasks) == [task_id]


async def test_record_progresses_from_generating_to_success(clock, client):
    sandbox = make(clock, image_seconds=10.0)
    async with client(sandbox) as http:
        task_id = (await generate(http, BODY))["data"]["taskId"]
        created = clock.now
        seen = {}
        for at in (0.0, 2.5, 5.0, 9.99, 10.0, 30.0):
            clock.now = created + at
            answer = await record(http, task_id)
            assert answer["code"] == 200
            seen[at] = answer["data"]
    running = [seen[at] for at in (0.0, 2.5, 5.0, 9.99)]
    assert [d["progress"] for d in running] == ["0.00", "0.25", "0.50", "0.99"]
    for data in running:
        assert (data["status"], data["successFlag"]) == ("GENERATING", 0)
        assert data["response"] is None
        assert data["completeTime"] is None
        assert data["errorCode"] is None
    done = seen[10.0]
    assert (done["status"], done["successFlag"], done["progress"]) == ("SUCCESS", 1, "1.00")
    assert done["taskId"] == task_id
    assert done["createTime"] == round(created * 1000)
    assert done["completeTime"] == round((created + 10.0) * 1000)
    assert done["errorCode"] is None
    assert done["errorMessage"] is None
    assert json.loads(done["paramJson"]) == BODY
    urls = done["response"]["resultUrls"]
    assert urls == done["response"]["result_urls"], "both documented spellings"
    assert urls == [f"{sandbox.base_url}/cdn/{task_id}/0.png"]
    assert seen[30.0] == done


@pytest.mark.parametrize(("variants", "credits"), [(1, 6), (2, 12), (4, 24)])
async def test_n_variants_gives_that_many_images_at_six_credits_each(
    clock, client, variants, credits
):
    sandbox = make(clock)
    async with client(sandbox) as http:
        body = {**BODY, "size": "2:3", "nVariants": variants}
        task_id = (await generate(http, body))["data"]["taskId"]
        clock.advance(1.0)
        urls = (await record(http, task_id))["data"]["response"]["resultUrls"]
        files = [(await http.get(url)).content for url in urls]
    assert len(urls) == variants
    assert sandbox.credits == 10_000 - credits
    for url, content in zip(urls, files, strict=True):
        assert image_facts(content) == ("PNG", (683, 1024))
        assert sandbox.served_sha256(url) == sha256(content)
    assert len({sha256(content) for content in files}) == variants, "each variant differs"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"nVariants": 3}, "nVariants"),
        ({"nVariants": "2"}, "nVariants"),
        ({"size": None}, "size is required"),
        ({"size": "16:9"}, "size must be one of"),
        ({"filesUrl": ["https://example.com/a.png"] * 6}, "at most 5"),
        ({"filesUrl": "https://example.com/a.png"}, "array"),
        ({"maskUrl": "mask.png"}, "maskUrl"),
        ({"fallbackModel": "DALL_E"}, "fallbackModel"),
        ({"isEnhance": "true"}, "boolean"),
        ({"prompt": None}, "prompt is required"),
    ],
)
async def test_invalid_bodies_are_422_without_a_task(clock, client, change, needle):
    sandbox = make(clock)
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    async with client(sandbox) as http:
        answer = await generate(http, body)
    assert answer["code"] == 422
    assert needle in answer["msg"]
    assert sandbox.tasks == {}


async def test_files_alone_are_enough_and_own_missing_files_are_refused(clock, client):
    sandbox = make(clock)
    ghost = f"{sandbox.base_url}/cdn/uploads/images/missing.png"
    async with client(sandbox) as http:
        files_only = await generate(http, {"size": "1:1", "filesUrl": ["https://x.test/a.png"]})
        missing = await generate(http, {**BODY, "filesUrl": [ghost]})
        missing_mask = await generate(http, {**BODY, "maskUrl": ghost})
    assert files_only["code"] == 200
    assert missing["code"] == 422
    assert missing["msg"] == "failed to fetch the input image"
    assert missing_mask["code"] == 422


async def test_fail_directive_ends_generate_failed_without_charge(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        body = {**BODY, "prompt": "a boat [sandbox:fail]"}
        task_id = (await generate(http, body))["data"]["taskId"]
        clock.advance(1.0)
        data = (await record(http, task_id))["data"]
        cdn = await http.get(f"/cdn/{task_id}/0.png")
    assert (data["status"], data["successFlag"]) == ("GENERATE_FAILED", 2)
    assert data["errorCode"] == 400
    assert data["errorMessage"] == FAIL_MESSAGE
    assert data["response"] is None
    assert cdn.status_code == 404
    assert sandbox.credits == 10_000


async def test_402_when_the_balance_cannot_cover_every_variant(clock, client):
    sandbox = make(clock, initial_credits=10.0)
    async with client(sandbox) as http:
        two = await generate(http, {**BODY, "nVariants": 2})
        one = await generate(http, BODY)
    assert two["code"] == 402
    assert one["code"] == 200
    assert len(sandbox.tasks) == 1


async def test_unknown_and_foreign_task_ids_are_not_found(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        market = await http.post(
            "/api/v1/jobs/createTask",
            json={"model": "z-image", "input": {"prompt": "x"}},
        )
        market_id = market.json()["data"]["taskId"]
        four_o = (await generate(http, BODY))["data"]["taskId"]
        unknown = await record(http, "task_4o_" + "0" * 24)
        foreign = await record(http, market_id)
        missing = (await http.get(RECORD)).json()
        at_market = (await http.get("/api/v1/jobs/recordInfo", params={"taskId": four_o})).json()
    assert (unknown["code"], unknown["msg"]) == (422, "record is null")
    assert foreign["code"] == 422
    assert missing["code"] == 400
    assert (at_market["code"], at_market["msg"]) == (422, "recordInfo is null")


async def test_callbacks_carry_result_urls_or_null_info_and_are_signed(clock, receiver, wait):
    key = "whk-4o-key"
    config = SandboxConfig(clock=clock, image_seconds=5.0, hmac_key=key)
    async with receiver() as hook, serve_sandbox(config) as sandbox:
        async with httpx2.AsyncClient(base_url=sandbox.base_url, headers=AUTH) as http:
            good = await generate(http, {**BODY, "nVariants": 2, "callBackUrl": hook.url("ok")})
            bad = await generate(
                http, {**BODY, "prompt": "[sandbox:fail]", "callBackUrl": hook.url("bad")}
            )
            clock.advance(5.0)
            await wait(lambda: len(hook.received) == 2, what="two callbacks")
            good_id, bad_id = good["data"]["taskId"], bad["data"]["taskId"]
            data = (await record(http, good_id))["data"]
            files = [(await http.get(url)).content for url in data["response"]["resultUrls"]]
    by_path = {delivery["path"]: delivery for delivery in hook.received}
    success, failure = by_path["/ok"], by_path["/bad"]
    assert success["json"] == {
        "code": 200,
        "msg": "success",
        "data": {"taskId": good_id, "info": {"result_urls": data["response"]["resultUrls"]}},
    }
    assert failure["json"] == {
        "code": 400,
        "msg": FAIL_MESSAGE,
        "data": {"taskId": bad_id, "info": None},
    }
    assert signed_by(success["headers"], key, good_id)
    assert signed_by(failure["headers"], key, bad_id)
    assert not signed_by(success["headers"], key, bad_id)
    assert [image_facts(content)[0] for content in files] == ["PNG", "PNG"]
    assert sandbox.credits == 10_000 - 12
