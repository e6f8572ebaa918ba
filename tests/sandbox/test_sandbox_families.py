"""What every API family shares: the create rate limit, credits, prompt directives, faults,
the request log, download links and callbacks."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from mcp_server_kie.sandbox import Sandbox, SandboxConfig, serve_sandbox

# family -> (create path, record path, a valid body, its price)
FAMILIES = {
    "market": (
        "/api/v1/jobs/createTask",
        "/api/v1/jobs/recordInfo",
        {"model": "google/nano-banana", "input": {"prompt": "PROMPT"}},
        4.0,
    ),
    "4o": (
        "/api/v1/gpt4o-image/generate",
        "/api/v1/gpt4o-image/record-info",
        {"prompt": "PROMPT", "size": "1:1"},
        6.0,
    ),
    "veo": (
        "/api/v1/veo/generate",
        "/api/v1/veo/record-info",
        {"prompt": "PROMPT", "model": "veo3_lite"},
        30.0,
    ),
    "runway": (
        "/api/v1/runway/generate",
        "/api/v1/runway/record-detail",
        {"prompt": "PROMPT", "duration": 5, "quality": "720p", "aspectRatio": "1:1"},
        12.0,
    ),
}


def body_for(family: str, prompt: str = "a red kite", **extra) -> dict:
    body = FAMILIES[family][2]
    if "input" in body:
        return {**body, "input": {**body["input"], "prompt": prompt}, **extra}
    return {**body, "prompt": prompt, **extra}


def make(clock, **overrides) -> Sandbox:
    return Sandbox(SandboxConfig(clock=clock, **overrides))


def succeeded(family: str, data: dict) -> bool:
    return {
        "market": lambda d: d["state"] == "success",
        "4o": lambda d: d["successFlag"] == 1,
        "veo": lambda d: d["successFlag"] == 1,
        "runway": lambda d: d["state"] == "success",
    }[family](data)


def result_urls(family: str, data: dict) -> list[str]:
    if family == "runway":
        return [data["videoInfo"]["videoUrl"], data["videoInfo"]["imageUrl"]]
    return list(data["response"]["resultUrls"])


async def create(http, family: str, body: dict) -> dict:
    return (await http.post(FAMILIES[family][0], json=body)).json()


async def record(http, family: str, task_id: str) -> dict:
    return (await http.get(FAMILIES[family][1], params={"taskId": task_id})).json()


async def test_the_create_rate_limit_is_shared_by_all_families(clock, client):
    sandbox = make(clock, create_rate_limit=4, create_rate_window=10.0)
    async with client(sandbox) as http:
        codes = {
            family: (await create(http, family, body_for(family)))["code"] for family in FAMILIES
        }
        over = {
            family: (await create(http, family, body_for(family)))["code"] for family in FAMILIES
        }
        clock.advance(10.0)
        after = (await create(http, "runway", body_for("runway")))["code"]
    assert set(codes.values()) == {200}
    assert set(over.values()) == {429}
    assert after == 200
    assert len(sandbox.tasks) == 5


@pytest.mark.parametrize("family", list(FAMILIES))
async def test_credits_402_hold_and_charge_on_success_only(clock, client, family):
    price = FAMILIES[family][3]
    sandbox = make(clock, initial_credits=price * 1.5)
    async with client(sandbox) as http:
        first = await create(http, family, body_for(family))
        held_out = await create(http, family, body_for(family))
        clock.advance(60.0)
        data = (await record(http, family, first["data"]["taskId"]))["data"]
        broke = await create(http, family, body_for(family))
        sandbox.credits = 1_000.0
        failing = await create(http, family, body_for(family, "[sandbox:fail] kite"))
        clock.advance(60.0)
        failed = (await record(http, family, failing["data"]["taskId"]))["data"]
    assert first["code"] == 200
    assert held_out["code"] == 402
    assert held_out["msg"] == "insufficient credits"
    assert succeeded(family, data)
    assert broke["code"] == 402, "half a price is left"
    assert not succeeded(family, failed)
    assert sandbox.credits == 1_000.0, "a failed task costs nothing"


@pytest.mark.parametrize("family", list(FAMILIES))
async def test_slow_directive_takes_ten_times_as_long(clock, client, family):
    sandbox = make(clock, image_seconds=1.0, video_seconds=1.0)
    async with client(sandbox) as http:
        fast = (await create(http, family, body_for(family)))["data"]["taskId"]
        slow = (await create(http, family, body_for(family, "[sandbox:slow] kite")))["data"]
        clock.advance(1.0)
        fast_done = succeeded(family, (await record(http, family, fast))["data"])
        slow_mid = succeeded(family, (await record(http, family, slow["taskId"]))["data"])
        clock.advance(9.0)
        slow_done = succeeded(family, (await record(http, family, slow["taskId"]))["data"])
    assert (fast_done, slow_mid, slow_done) == (True, False, True)


@pytest.mark.parametrize("family", list(FAMILIES))
async def test_faults_apply_to_every_family(clock, client, wait, family):
    sandbox = make(clock)
    async with client(sandbox) as http:
        sandbox.faults.create_status = 455
        refused = await create(http, family, body_for(family))
        task_id = (await create(http, family, body_for(family)))["data"]["taskId"]
        sandbox.faults.record_info_http_status = 500
        broken = await http.get(FAMILIES[family][1], params={"taskId": task_id})
        sandbox.faults.record_info_http_status = None
        healed = await record(http, family, task_id)
        sandbox.faults.create_delay = 0.2
        pending = asyncio.create_task(http.post(FAMILIES[family][0], json=body_for(family)))
        await wait(lambda: len(sandbox.tasks) == 2, what="the delayed task to exist")
        assert not pending.done()
        late = (await pending).json()
    assert (refused["code"], refused["data"]) == (455, None)
    assert broken.status_code == 500
    assert healed["code"] == 200
    assert late["data"]["taskId"] in sandbox.tasks


@pytest.mark.parametrize("family", list(FAMILIES))
async def test_requests_are_logged_and_counted(clock, client, family):
    sandbox = make(clock)
    create_path, record_path = FAMILIES[family][:2]
    async with client(sandbox) as http:
        task_id = (await create(http, family, body_for(family)))["data"]["taskId"]
        for _ in range(2):
            await record(http, family, task_id)
    assert sandbox.count(create_path) == 1
    assert sandbox.count(record_path) == 2
    last = sandbox.requests[-1]
    assert (last.method, last.path, last.query) == ("GET", record_path, {"taskId": task_id})


@pytest.mark.parametrize("family", list(FAMILIES))
async def test_download_url_gives_fresh_links_for_every_family_file(clock, client, family):
    sandbox = make(clock)
    async with client(sandbox) as http:
        task_id = (await create(http, family, body_for(family)))["data"]["taskId"]
        clock.advance(60.0)
        urls = result_urls(family, (await record(http, family, task_id))["data"])
        pairs = []
        for url in urls:
            link = (await http.post("/api/v1/common/download-url", json={"url": url})).json()
            assert link["code"] == 200, link
            pairs.append(((await http.get(url)).content, (await http.get(link["data"])).content))
    assert len(pairs) == (2 if family == "runway" else 1)
    for original, fresh in pairs:
        assert original
        assert original == fresh


async def test_callbacks_go_only_where_asked_for_every_family(clock, receiver, wait):
    auth = {"Authorization": "Bearer sandbox-key"}
    async with receiver() as hook, serve_sandbox(SandboxConfig(clock=clock)) as sandbox:
        async with httpx2.AsyncClient(base_url=sandbox.base_url, headers=auth) as http:
            loud, quiet = {}, {}
            for family in FAMILIES:
                with_hook = body_for(family, callBackUrl=hook.url(family))
                loud[family] = (await create(http, family, with_hook))["data"]["taskId"]
                quiet[family] = (await create(http, family, body_for(family)))["data"]["taskId"]
            clock.advance(60.0)
            await wait(lambda: len(hook.received) == len(FAMILIES), what="a callback each")
            await wait(lambda: sandbox.pending_callbacks == 0, what="no more callback work")
    assert sorted(a.task_id for a in sandbox.callbacks) == sorted(loud.values())
    assert sorted(d["path"] for d in hook.received) == sorted(f"/{f}" for f in FAMILIES)
    assert all(sandbox.tasks[task_id].settled for task_id in quiet.values())
