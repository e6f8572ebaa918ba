"""The market jobs API of the sandbox, in-process over ASGI with a fake clock."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from mcp_server_kie.sandbox import Sandbox, SandboxConfig

CREATE = "/api/v1/jobs/createTask"
RECORD = "/api/v1/jobs/recordInfo"
CREDIT = "/api/v1/chat/credit"
DOWNLOAD = "/api/v1/common/download-url"

BANANA = {"model": "google/nano-banana", "input": {"prompt": "a red fox", "aspect_ratio": "16:9"}}


def make(clock, **overrides) -> Sandbox:
    return Sandbox(SandboxConfig(clock=clock, **overrides))


async def create(http, body) -> dict:
    response = await http.post(CREATE, json=body)
    assert response.status_code == 200
    return response.json()


async def record(http, task_id: str) -> dict:
    response = await http.get(RECORD, params={"taskId": task_id})
    assert response.status_code == 200
    return response.json()


async def test_every_api_route_needs_the_bearer_key(clock, client):
    sandbox = make(clock)
    async with client(sandbox, auth=False) as http:
        answers = [
            await http.post(CREATE, json=BANANA),
            await http.get(RECORD, params={"taskId": "0" * 32}),
            await http.get(CREDIT),
            await http.post(DOWNLOAD, json={"url": "x"}),
            await http.get(CREDIT, headers={"Authorization": "Bearer wrong"}),
            await http.get(CREDIT, headers={"Authorization": "sandbox-key"}),
        ]
    for answer in answers:
        assert answer.status_code == 200
        assert answer.json() == {
            "code": 401,
            "msg": "You do not have access permissions",
            "data": None,
        }
    assert sandbox.tasks == {}


async def test_create_answers_a_32_hex_task_id_and_record_id(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        answer = await create(http, BANANA)
    assert answer["code"] == 200
    assert answer["msg"] == "success"
    task_id = answer["data"]["taskId"]
    assert re.fullmatch(r"[0-9a-f]{32}", task_id)
    assert answer["data"]["recordId"] == task_id
    assert list(sandbox.tasks) == [task_id]


async def test_state_progresses_with_the_clock(clock, client):
    sandbox = make(clock, image_seconds=10.0)
    async with client(sandbox) as http:
        task_id = (await create(http, BANANA))["data"]["taskId"]
        created = clock.now
        seen = []
        for at in (0.0, 0.5, 1.0, 2.9, 3.0, 5.0, 9.99, 10.0, 60.0):
            clock.now = created + at
            data = (await record(http, task_id))["data"]
            seen.append((at, data["state"], data["successFlag"], data["updateTime"]))
        final = data
    states = [(at, state, flag) for at, state, flag, _ in seen]
    assert states == [
        (0.0, "waiting", 0),
        (0.5, "waiting", 0),
        (1.0, "queuing", 0),
        (2.9, "queuing", 0),
        (3.0, "generating", 0),
        (5.0, "generating", 0),
        (9.99, "generating", 0),
        (10.0, "success", 1),
        (60.0, "success", 1),
    ]
    update_times = {at: update for at, _, _, update in seen}
    assert update_times[0.5] == round(created * 1000)
    assert update_times[2.9] == round((created + 1.0) * 1000)
    assert update_times[60.0] == round((created + 10.0) * 1000)
    assert final["createTime"] == round(created * 1000)
    assert final["completeTime"] == round((created + 10.0) * 1000)
    assert final["costTime"] == 10
    assert final["creditsConsumed"] == 4
    assert final["failCode"] is None
    assert final["failMsg"] is None
    assert final["progress"] is None
    assert final["model"] == "google/nano-banana"
    assert final["taskId"] == task_id


async def test_unfinished_record_has_no_result(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        task_id = (await create(http, BANANA))["data"]["taskId"]
        data = (await record(http, task_id))["data"]
    assert data["resultJson"] is None
    assert data["response"] is None
    assert data["completeTime"] is None
    assert data["creditsConsumed"] is None


async def test_param_echoes_the_request_with_input_double_encoded(clock, client):
    sandbox = make(clock)
    inputs = {"prompt": "naïve café ☕", "output_format": "jpeg"}
    with_callback = {
        "model": "google/nano-banana",
        "callBackUrl": "https://x.test/cb",
        "input": inputs,
    }
    async with client(sandbox) as http:
        first = (await create(http, with_callback))["data"]["taskId"]
        second = (await create(http, {"model": "google/nano-banana", "input": inputs}))["data"]
        one = (await record(http, first))["data"]
        two = (await record(http, second["taskId"]))["data"]
    assert isinstance(one["param"], str)
    assert one["paramJson"] == one["param"]
    param = json.loads(one["param"])
    assert param["model"] == "google/nano-banana"
    assert param["callBackUrl"] == "https://x.test/cb"
    assert isinstance(param["input"], str), "input inside param is itself a JSON string"
    assert json.loads(param["input"]) == inputs
    assert "callBackUrl" not in json.loads(two["param"])


async def test_result_json_is_a_string_and_response_is_it_parsed(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        task_id = (await create(http, BANANA))["data"]["taskId"]
        clock.advance(1.0)
        data = (await record(http, task_id))["data"]
    assert isinstance(data["resultJson"], str)
    assert json.loads(data["resultJson"]) == data["response"]
    urls = data["response"]["resultUrls"]
    assert urls == [f"{sandbox.base_url}/cdn/{task_id}/0.png"]


@pytest.mark.parametrize(
    ("body", "code", "needle"),
    [
        ({"model": "no/such-model", "input": {"prompt": "x"}}, 422, "no/such-model"),
        ({"model": "google/nano-banana", "input": {}}, 422, "prompt"),
        ({"input": {"prompt": "x"}}, 422, "model"),
        (
            {"model": "google/nano-banana", "input": {"prompt": "x", "aspect_ratio": "7:5"}},
            422,
            "4:5",
        ),
        (
            {"model": "google/nano-banana", "input": {"prompt": "x", "output_format": "gif"}},
            422,
            "png",
        ),
        (
            {"model": "seedream/4.5-text-to-image", "input": {"prompt": "x", "quality": "ultra"}},
            422,
            "basic",
        ),
        ({"model": "seedream/4.5-text-to-image", "input": {"prompt": "x" * 3001}}, 422, "3000"),
        (
            {"model": "kling-2.6/text-to-video", "input": {"prompt": "x", "duration": 5}},
            422,
            "string",
        ),
        (
            {"model": "kling-2.6/text-to-video", "input": {"prompt": "x", "duration": "7"}},
            422,
            "10",
        ),
        (
            {"model": "kling-2.6/text-to-video", "input": {"prompt": "x", "sound": "true"}},
            422,
            "boolean",
        ),
        ({"model": "google/nano-banana", "input": "prompt=x"}, 422, "input"),
        (["not", "an", "object"], 400, "object"),
    ],
)
async def test_invalid_creates_are_refused_without_a_task(clock, client, body, code, needle):
    sandbox = make(clock)
    async with client(sandbox) as http:
        answer = await create(http, body)
    assert answer["code"] == code
    assert needle in answer["msg"]
    assert sandbox.tasks == {}


async def test_a_body_that_is_not_json_is_code_400(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        response = await http.post(
            CREATE, content=b"{nope", headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 200
    assert response.json()["code"] == 400
    assert sandbox.tasks == {}


async def test_record_info_for_unknown_or_missing_task(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        unknown = (await http.get(RECORD, params={"taskId": "f" * 32})).json()
        missing = (await http.get(RECORD)).json()
    assert (unknown["code"], unknown["msg"]) == (422, "recordInfo is null")  # as kie answers
    assert missing["code"] == 400


async def test_unknown_route_is_a_real_http_404(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        response = await http.get("/api/v1/jobs/nothing-here")
    assert response.status_code == 404


async def test_credits_are_held_checked_and_charged_only_on_success(clock, client):
    sandbox = make(clock, initial_credits=10.0)
    fail = {"model": "google/nano-banana", "input": {"prompt": "x [sandbox:fail]"}}
    async with client(sandbox) as http:
        too_dear = await create(
            http, {"model": "kling-2.6/text-to-video", "input": {"prompt": "x"}}
        )
        first = await create(http, BANANA)
        failing = await create(http, fail)
        held_out = await create(http, BANANA)  # 10 - 4 - 4 held < 4
        balance_while_running = (await http.get(CREDIT)).json()
        clock.advance(1.0)
        balance_after = (await http.get(CREDIT)).json()
        again = await create(http, BANANA)
    assert too_dear["code"] == 402
    assert "insufficient credits" in too_dear["msg"]
    assert first["code"] == 200
    assert failing["code"] == 200
    assert held_out["code"] == 402
    assert balance_while_running == {"code": 200, "msg": "success", "data": 10.0}
    assert balance_after["data"] == 6.0, "only the successful task is charged"
    assert again["code"] == 200
    assert len(sandbox.tasks) == 3


@pytest.mark.parametrize(
    ("duration", "sound", "price"),
    [("5", False, 55.0), ("5", True, 110.0), ("10", False, 110.0), ("10", True, 220.0)],
)
async def test_kling_price_depends_on_duration_and_sound(clock, client, duration, sound, price):
    sandbox = make(clock)
    body = {
        "model": "kling-2.6/text-to-video",
        "input": {"prompt": "waves", "duration": duration, "sound": sound, "aspect_ratio": "9:16"},
    }
    async with client(sandbox) as http:
        task_id = (await create(http, body))["data"]["taskId"]
        clock.advance(3.0)
        data = (await record(http, task_id))["data"]
    assert data["state"] == "success"
    assert data["creditsConsumed"] == price
    assert sandbox.credits == 10_000.0 - price


async def test_seedream_costs_six_and_a_half_credits(clock, client):
    sandbox = make(clock)
    body = {"model": "seedream/4.5-text-to-image", "input": {"prompt": "x", "quality": "high"}}
    async with client(sandbox) as http:
        task_id = (await create(http, body))["data"]["taskId"]
        clock.advance(1.0)
        data = (await record(http, task_id))["data"]
    assert data["creditsConsumed"] == 6.5
    assert sandbox.credits == 10_000.0 - 6.5


async def test_more_creates_than_the_rate_limit_get_429_and_no_task(clock, client):
    sandbox = make(clock, create_rate_limit=3, create_rate_window=10.0)
    async with client(sandbox) as http:
        codes = [(await create(http, BANANA))["code"] for _ in range(5)]
        clock.advance(10.0)
        after_window = (await create(http, BANANA))["code"]
    assert codes == [200, 200, 200, 429, 429]
    assert after_window == 200
    assert len(sandbox.tasks) == 4


async def test_fail_directive_ends_in_fail_without_charge(clock, client):
    sandbox = make(clock)
    body = {"model": "google/nano-banana", "input": {"prompt": "please [sandbox:fail] now"}}
    async with client(sandbox) as http:
        task_id = (await create(http, body))["data"]["taskId"]
        clock.advance(0.5)
        running = (await record(http, task_id))["data"]
        clock.advance(0.5)
        data = (await record(http, task_id))["data"]
        cdn = await http.get(f"/cdn/{task_id}/0.png")
    assert running["state"] == "generating"
    assert data["state"] == "fail"
    assert data["successFlag"] == 3
    assert data["failCode"] == "500"
    assert data["failMsg"] == "The sandbox was asked to fail this task."
    assert data["creditsConsumed"] == 0
    assert data["resultJson"] is None
    assert cdn.status_code == 404
    assert sandbox.credits == 10_000.0


async def test_slow_directive_takes_ten_times_as_long(clock, client):
    sandbox = make(clock, image_seconds=1.0)
    body = {"model": "google/nano-banana", "input": {"prompt": "[sandbox:slow] snail"}}
    async with client(sandbox) as http:
        task_id = (await create(http, body))["data"]["taskId"]
        created = clock.now
        states = []
        for at in (0.9, 1.0, 9.9, 10.0):
            clock.now = created + at
            states.append((await record(http, task_id))["data"]["state"])
    assert states == ["waiting", "queuing", "generating", "success"]


async def test_fault_create_status_answers_once_without_a_task(clock, client):
    sandbox = make(clock)
    sandbox.faults.create_status = 455
    async with client(sandbox) as http:
        first = await create(http, BANANA)
        second = await create(http, BANANA)
    assert first["code"] == 455
    assert first["data"] is None
    assert second["code"] == 200
    assert sandbox.faults.create_status is None
    assert len(sandbox.tasks) == 1


async def test_fault_create_delay_answers_late_after_creating(clock, client, wait):
    sandbox = make(clock)
    sandbox.faults.create_delay = 0.3
    async with client(sandbox) as http:
        pending = asyncio.create_task(http.post(CREATE, json=BANANA))
        await wait(lambda: len(sandbox.tasks) == 1, what="the task to exist")
        assert not pending.done(), "the answer is still being held back"
        answer = (await pending).json()
    assert answer["data"]["taskId"] in sandbox.tasks


async def test_fault_record_info_http_status_until_cleared(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        task_id = (await create(http, BANANA))["data"]["taskId"]
        sandbox.faults.record_info_http_status = 503
        broken = [await http.get(RECORD, params={"taskId": task_id}) for _ in range(2)]
        sandbox.faults.record_info_http_status = None
        healed = await http.get(RECORD, params={"taskId": task_id})
    assert [r.status_code for r in broken] == [503, 503]
    assert broken[0].json()["code"] == 503
    assert healed.status_code == 200
    assert healed.json()["data"]["taskId"] == task_id


async def test_download_url_gives_a_fresh_link_for_sandbox_files_only(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        task_id = (await create(http, BANANA))["data"]["taskId"]
        clock.advance(1.0)
        url = (await record(http, task_id))["data"]["response"]["resultUrls"][0]
        fresh = (await http.post(DOWNLOAD, json={"url": url})).json()
        other = (await http.post(DOWNLOAD, json={"url": "https://example.com/a.png"})).json()
        missing = (await http.post(DOWNLOAD, json={})).json()
        original = await http.get(url)
        via_fresh = await http.get(fresh["data"])
        clock.advance(20 * 60 + 1)
        expired = await http.get(fresh["data"])
    assert fresh["code"] == 200
    assert isinstance(fresh["data"], str)
    assert fresh["data"] != url
    assert fresh["data"].startswith(sandbox.base_url + "/cdn/")
    assert other["code"] == 422
    assert missing["code"] == 422
    assert via_fresh.status_code == 200
    assert via_fresh.content == original.content
    assert expired.status_code == 404


async def test_requests_are_logged_with_path_and_query(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        task_id = (await create(http, BANANA))["data"]["taskId"]
        for _ in range(3):
            await record(http, task_id)
    assert sandbox.count("/recordInfo") == 3
    assert sandbox.count("/createTask") == 1
    last = sandbox.requests[-1]
    assert (last.method, last.path, last.query) == ("GET", RECORD, {"taskId": task_id})
    assert last.time == clock.now


async def test_zero_duration_finishes_at_once(clock, client):
    sandbox = make(clock, image_seconds=0.0)
    async with client(sandbox) as http:
        task_id = (await create(http, BANANA))["data"]["taskId"]
        data = (await record(http, task_id))["data"]
        clock.advance(-1.0)  # a clock stepping back does not un-finish a task
        earlier = (await record(http, task_id))["data"]
        unstarted = (await create(http, BANANA))["data"]["taskId"]
        clock.advance(-1.0)
        before_creation = (await record(http, unstarted))["data"]
    assert data["state"] == "success"
    assert earlier["state"] == "success"
    assert before_creation["state"] == "waiting"
