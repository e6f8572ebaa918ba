"""Scripted status-query faults (`Faults.record_faults`): rate limits with Retry-After, gateway
errors, connection resets and stalls, for every family; resets and stalls over real HTTP."""

from __future__ import annotations

import time

import httpx2
import pytest
from test_sandbox_families import FAMILIES, body_for, create, make

from mcp_server_kie.sandbox import RecordFault, SandboxConfig, serve_sandbox


@pytest.mark.parametrize("family", list(FAMILIES))
async def test_scripted_faults_answer_in_order_then_heal(clock, client, family):
    sandbox = make(clock)
    record_path = FAMILIES[family][1]
    async with client(sandbox) as http:
        task_id = (await create(http, family, body_for(family)))["data"]["taskId"]
        sandbox.faults.record_faults.extend(
            [RecordFault.http(429, retry_after=3), RecordFault.http(502), RecordFault.http(503)]
        )
        answers = [await http.get(record_path, params={"taskId": task_id}) for _ in range(4)]
    assert [a.status_code for a in answers] == [429, 502, 503, 200]
    assert answers[0].headers["retry-after"] == "3"
    assert answers[0].json()["code"] == 429
    assert "retry-after" not in answers[1].headers
    assert answers[3].json()["code"] == 200
    assert not sandbox.faults.record_faults
    assert sandbox.count(record_path) == 4


async def test_scripted_faults_come_before_the_standing_status(clock, client):
    sandbox = make(clock)
    record_path = FAMILIES["market"][1]
    async with client(sandbox) as http:
        task_id = (await create(http, "market", body_for("market")))["data"]["taskId"]
        sandbox.faults.record_faults.append(RecordFault.http(429, retry_after=1.5))
        sandbox.faults.record_info_http_status = 503
        answers = [await http.get(record_path, params={"taskId": task_id}) for _ in range(2)]
    assert [a.status_code for a in answers] == [429, 503]
    assert answers[0].headers["retry-after"] == "1.5"


async def test_reset_in_process_is_a_bare_502(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        task_id = (await create(http, "4o", body_for("4o")))["data"]["taskId"]
        sandbox.faults.record_faults.append(RecordFault.connection_reset())
        answer = await http.get(FAMILIES["4o"][1], params={"taskId": task_id})
    assert answer.status_code == 502 and answer.content == b""


@pytest.mark.parametrize("family", ["market", "veo"])
async def test_reset_and_stall_over_real_http(family):
    create_path, record_path = FAMILIES[family][:2]
    async with serve_sandbox(SandboxConfig()) as sandbox:
        headers = {"Authorization": f"Bearer {sandbox.config.api_key}"}
        async with httpx2.AsyncClient(
            base_url=sandbox.base_url, headers=headers, timeout=0.5
        ) as http:
            created = await http.post(create_path, json=body_for(family))
            params = {"taskId": created.json()["data"]["taskId"]}
            sandbox.faults.record_faults.extend(
                [RecordFault.connection_reset(), RecordFault.stalled(30)]
            )
            with pytest.raises(httpx2.ReadError):
                await http.get(record_path, params=params)
            started = time.monotonic()
            with pytest.raises(httpx2.ReadTimeout):
                await http.get(record_path, params=params)
            # The client gave up at its own timeout, long before the 30 s stall ended.
            assert time.monotonic() - started < 10
            healed = await http.get(record_path, params=params)
    assert healed.status_code == 200 and healed.json()["code"] == 200
    assert sandbox.count(record_path) == 3


async def test_a_short_stall_answers_late_but_normally(clock, client):
    sandbox = make(clock)
    record_path = FAMILIES["runway"][1]
    async with client(sandbox) as http:
        task_id = (await create(http, "runway", body_for("runway")))["data"]["taskId"]
        sandbox.faults.record_faults.append(RecordFault.stalled(0.3))
        started = time.monotonic()
        answer = await http.get(record_path, params={"taskId": task_id})
    assert time.monotonic() - started >= 0.3
    assert answer.status_code == 200 and answer.json()["data"]["taskId"] == task_id
