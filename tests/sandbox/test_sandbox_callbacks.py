"""Callbacks over real loopback HTTP: body, HMAC headers, retries, faults, and serve_sandbox."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import logging
import socket
import time

import httpx2

from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox

AUTH = {"Authorization": "Bearer sandbox-key"}


async def create(sandbox, model: str, prompt: str, callback_url: str | None, **inputs) -> str:
    body: dict = {"model": model, "input": {"prompt": prompt, **inputs}}
    if callback_url is not None:
        body["callBackUrl"] = callback_url
    async with httpx2.AsyncClient(base_url=sandbox.base_url, headers=AUTH) as http:
        answer = (await http.post("/api/v1/jobs/createTask", json=body)).json()
    assert answer["code"] == 200, answer
    return answer["data"]["taskId"]


def fast(**overrides) -> SandboxConfig:
    values = {"image_seconds": 0.05, "video_seconds": 0.1, **overrides}
    return SandboxConfig(**values)


def expected_signature(key: str, task_id: str, timestamp: str) -> str:
    """The documented algorithm, written out independently of the sandbox."""
    mac = hmac.new(key.encode("utf-8"), f"{task_id}.{timestamp}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


async def test_serve_sandbox_listens_on_a_free_loopback_port_and_stops(capsys):
    async with serve_sandbox() as sandbox:
        host, port = sandbox.base_url.removeprefix("http://").split(":")
        assert host == "127.0.0.1"
        assert int(port) > 0
        async with httpx2.AsyncClient(base_url=sandbox.base_url, headers=AUTH) as http:
            answer = (await http.get("/api/v1/chat/credit")).json()
        assert answer == {"code": 200, "msg": "success", "data": 10_000.0}
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", int(port))) != 0, "the port is closed after exit"
    assert capsys.readouterr().out == "", "nothing may reach stdout"


async def test_success_callback_carries_the_record_with_consume_and_remained_credits(
    receiver, wait
):
    async with receiver() as hook, serve_sandbox(fast()) as sandbox:
        task_id = await create(sandbox, "google/nano-banana", "a kite", hook.url("ok"))
        await wait(lambda: len(sandbox.callbacks) == 1, what="the callback")
        async with httpx2.AsyncClient(base_url=sandbox.base_url, headers=AUTH) as http:
            record = (await http.get("/api/v1/jobs/recordInfo", params={"taskId": task_id})).json()[
                "data"
            ]
    delivery = hook.received[0]
    assert delivery["path"] == "/ok"
    assert delivery["headers"]["content-type"] == "application/json"
    assert "x-webhook-signature" not in delivery["headers"]
    body = delivery["json"]
    assert body["code"] == 200
    assert body["msg"] == "Playground task completed successfully."
    data = body["data"]
    assert data["taskId"] == task_id
    assert data["state"] == "success"
    assert data["successFlag"] == 1
    assert data["consumeCredits"] == 4
    assert data["remainedCredits"] == 10_000 - 4
    assert "creditsConsumed" not in data
    assert isinstance(data["resultJson"], str)
    assert json.loads(data["resultJson"])["resultUrls"] == record["response"]["resultUrls"]
    assert json.loads(data["param"])["callBackUrl"] == hook.url("ok")
    assert data["failCode"] is None
    same = {k: v for k, v in record.items() if k != "creditsConsumed"}
    assert {k: data[k] for k in same} == same, "the rest is identical to recordInfo"
    assert [(a.task_id, a.status, a.attempt) for a in sandbox.callbacks] == [(task_id, 200, 1)]


async def test_failure_callback_is_code_501_without_charge(receiver, wait):
    async with receiver() as hook, serve_sandbox(fast()) as sandbox:
        task_id = await create(sandbox, "google/nano-banana", "[sandbox:fail]", hook.url())
        await wait(lambda: len(hook.received) == 1, what="the callback")
    body = hook.received[0]["json"]
    assert body["code"] == 501
    assert body["msg"] == "Playground task failed."
    data = body["data"]
    assert data["taskId"] == task_id
    assert data["state"] == "fail"
    assert data["successFlag"] == 3
    assert data["failCode"] == "500"
    assert data["failMsg"] == "The sandbox was asked to fail this task."
    assert data["consumeCredits"] == 0
    assert data["remainedCredits"] == 10_000
    assert data["resultJson"] is None


async def test_no_callback_without_callback_url(receiver, wait):
    async with receiver() as hook, serve_sandbox(fast()) as sandbox:
        task_id = await create(sandbox, "google/nano-banana", "quiet", None)
        await wait(lambda: sandbox.tasks[task_id].settled, what="the task to finish")
        await wait(lambda: sandbox.pending_callbacks == 0, what="no callback work")
    assert hook.received == []
    assert sandbox.callbacks == []


async def test_hmac_headers_verify_with_the_documented_algorithm(receiver, wait):
    key = "whk_" + "k" * 28
    async with receiver() as hook, serve_sandbox(fast(hmac_key=key)) as sandbox:
        task_id = await create(sandbox, "kling-2.6/text-to-video", "signed", hook.url())
        await wait(lambda: len(hook.received) == 1, what="the callback")
    headers = hook.received[0]["headers"]
    timestamp = headers["x-webhook-timestamp"]
    assert timestamp.isdigit()
    assert abs(int(timestamp) - time.time()) < 30
    assert hmac.compare_digest(
        headers["x-webhook-signature"], expected_signature(key, task_id, timestamp)
    )
    assert headers["x-webhook-signature"] != expected_signature("other", task_id, timestamp)


async def test_retries_after_500_until_a_2xx(receiver, wait):
    async with receiver() as hook, serve_sandbox(fast()) as sandbox:
        hook.statuses = [500, 503]
        task_id = await create(sandbox, "google/nano-banana", "retry me", hook.url())
        await wait(lambda: len(hook.received) == 3, what="three deliveries")
        await wait(lambda: sandbox.pending_callbacks == 0, what="delivery to finish")
    assert [(a.attempt, a.status) for a in sandbox.callbacks] == [(1, 500), (2, 503), (3, 200)]
    assert {a.task_id for a in sandbox.callbacks} == {task_id}
    gaps = [b.time - a.time for a, b in itertools.pairwise(sandbox.callbacks)]
    assert gaps[0] >= 0.19
    assert gaps[1] >= 0.49
    assert sandbox.tasks[task_id].callback_done


async def test_gives_up_after_callback_attempts(receiver, wait):
    async with receiver() as hook, serve_sandbox(fast(callback_attempts=3)) as sandbox:
        hook.statuses = [500] * 10
        await create(sandbox, "google/nano-banana", "never acknowledged", hook.url())
        await wait(lambda: len(hook.received) == 3, what="three deliveries")
        await wait(lambda: sandbox.pending_callbacks == 0, what="delivery to give up")
    assert len(hook.received) == 3
    assert [a.status for a in sandbox.callbacks] == [500, 500, 500]


async def test_network_errors_and_timeouts_are_retried(receiver, wait):
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        closed_port = spare.getsockname()[1]
    config = fast(callback_attempts=2, callback_timeout=0.3)
    async with receiver() as hook, serve_sandbox(config) as sandbox:
        hook.delay = 0.6
        refused = await create(
            sandbox, "google/nano-banana", "refused", f"http://127.0.0.1:{closed_port}/x"
        )
        slow = await create(sandbox, "google/nano-banana", "slow receiver", hook.url())
        await wait(lambda: len(sandbox.callbacks) == 4, what="two attempts each")
        await wait(lambda: sandbox.pending_callbacks == 0, what="deliveries to end")
    by_task = {
        task: [a for a in sandbox.callbacks if a.task_id == task] for task in (refused, slow)
    }
    for attempts in by_task.values():
        assert [a.attempt for a in attempts] == [1, 2]
        assert all(a.status is None and a.error for a in attempts)
    assert "Timeout" in by_task[slow][0].error


async def test_drop_callbacks_fault_sends_nothing(receiver, wait):
    async with receiver() as hook, serve_sandbox(fast()) as sandbox:
        sandbox.faults.drop_callbacks = True
        task_id = await create(sandbox, "google/nano-banana", "lost", hook.url())
        await wait(lambda: sandbox.tasks[task_id].settled, what="the task to finish")
        await wait(lambda: sandbox.pending_callbacks == 0, what="the loop to pass it")
        sandbox.faults.drop_callbacks = False
        other = await create(sandbox, "google/nano-banana", "delivered", hook.url())
        await wait(lambda: len(sandbox.callbacks) == 1, what="the next callback")
    assert hook.received[0]["json"]["data"]["taskId"] == other
    assert [a.task_id for a in sandbox.callbacks] == [other]


async def test_delivery_loop_follows_the_sandbox_clock(clock, receiver, wait):
    config = SandboxConfig(clock=clock, image_seconds=30.0)
    async with receiver() as hook, serve_sandbox(config) as sandbox:
        task_id = await create(sandbox, "google/nano-banana", "patient", hook.url())
        clock.advance(29.0)
        await wait(lambda: sandbox.pending_callbacks == 0)
        assert hook.received == []
        clock.advance(1.0)
        await wait(lambda: len(hook.received) == 1, what="the callback after the clock moved")
    assert hook.received[0]["json"]["data"]["taskId"] == task_id
    assert hook.received[0]["json"]["data"]["costTime"] == 30


async def test_keys_and_callback_tokens_never_reach_the_logs(receiver, wait, caplog):
    caplog.set_level(logging.DEBUG)
    config = fast(api_key="secret-api-key-123", hmac_key="secret-hmac-key-456")
    async with receiver() as hook, serve_sandbox(config) as sandbox:
        hook.statuses = [500]
        async with httpx2.AsyncClient(
            base_url=sandbox.base_url, headers={"Authorization": "Bearer secret-api-key-123"}
        ) as http:
            body = {
                "model": "google/nano-banana",
                "callBackUrl": hook.url() + "?token=secret-token-789",
                "input": {"prompt": "x"},
            }
            assert (await http.post("/api/v1/jobs/createTask", json=body)).json()["code"] == 200
        await wait(lambda: len(sandbox.callbacks) == 2, what="a failed and a good delivery")
    assert hook.received[0]["path"] == "/hook"
    assert "failed (attempt 1)" in caplog.text, "the failure was logged"
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("mcp_server_kie")]
    assert ours, "the sandbox logged something"
    # httpx2 itself logs request URLs at INFO; only our own records are held to this rule.
    assert not [message for message in ours if "secret-token-789" in message]
    assert "secret-api-key-123" not in caplog.text
    assert "secret-hmac-key-456" not in caplog.text
    assert "secret" not in repr(config)
