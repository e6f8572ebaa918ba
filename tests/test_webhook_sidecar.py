"""The webhook sidecar over real HTTP on 127.0.0.1: bad deliveries change nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

from mcp_server_kie.catalog import get_model, validate_request
from mcp_server_kie.domain import JobStatus, MediaKind
from mcp_server_kie.server.runtime import Runtime
from mcp_server_kie.server.sidecar import instance_id
from mcp_server_kie.storage import Store
from support import eventually, sandbox_and_runtime


async def snapshot(store: Store) -> dict[str, Any]:
    """Every row of every table: what 'unchanged' means."""
    tables = {}
    for table in ("jobs", "assets", "webhook_inbox", "job_events"):
        rows = await store.db.fetch_all(f"SELECT * FROM {table} ORDER BY rowid")
        tables[table] = [tuple(row) for row in rows]
    return tables


async def start_job(runtime: Runtime, prompt: str = "a lighthouse [sandbox:slow]") -> str:
    spec = get_model("google/nano-banana", MediaKind.IMAGE)
    job = await runtime.engine.submit(MediaKind.IMAGE, validate_request(spec, prompt, {}), prompt)
    return job.id


def callback_body(task_id: str, state: str = "success") -> dict[str, Any]:
    return {
        "code": 200,
        "msg": "Playground task completed successfully.",
        "data": {"taskId": task_id, "state": state, "model": "google/nano-banana"},
    }


async def test_bad_deliveries_get_4xx_and_change_nothing(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path, image_seconds=30) as (sandbox, runtime):
        sandbox.faults.drop_callbacks = True
        job_id = await start_job(runtime)
        other_id = await start_job(runtime, "another [sandbox:slow]")
        task = next(iter(sandbox.tasks.values()))
        assert task.callback_url is not None and job_id in task.callback_url
        parsed = httpx2.URL(task.callback_url)
        good_url = f"{parsed.path}?{parsed.query.decode()}"
        token = parsed.params["token"]
        wrong = ("y" if token[0] == "x" else "x") + token[1:]  # one character off, never equal
        body = json.dumps(callback_body(task.task_id)).encode()
        json_header = {"content-type": "application/json"}
        before = await snapshot(runtime.engine.store)

        cases: list[tuple[str, str, bytes, dict[str, str], int]] = [
            ("wrong token", f"/webhooks/kie/{job_id}?token={wrong}", body, json_header, 403),
            ("missing token", f"/webhooks/kie/{job_id}", body, json_header, 403),
            (
                "another job's token",
                f"/webhooks/kie/{other_id}?token={token}",
                body,
                json_header,
                403,
            ),
            ("unknown job", f"/webhooks/kie/job_{'0' * 24}?token={token}", body, json_header, 404),
            ("not a job id", f"/webhooks/kie/..%2F..%2Fetc?token={token}", body, json_header, 404),
            ("malformed body", good_url, b'{"code": 200, "data": {', json_header, 400),
            ("not an object", good_url, b"[1, 2, 3]", json_header, 400),
            ("NaN", good_url, b'{"code": NaN, "data": {"taskId": "x"}}', json_header, 400),
            ("invalid utf-8", good_url, b'{"data": {"taskId": "\xff"}}', json_header, 400),
            ("deep nesting", good_url, b"[" * 30_000 + b"]" * 30_000, json_header, 400),
            ("no task id", good_url, b'{"code": 200, "data": {}}', json_header, 400),
            (
                "another task",
                good_url,
                json.dumps(callback_body("f" * 32)).encode(),
                json_header,
                400,
            ),
            ("wrong content type", good_url, body, {"content-type": "text/plain"}, 415),
            ("too large", good_url, b" " * 70_000 + body, json_header, 413),
        ]
        async with httpx2.AsyncClient(base_url=runtime.sidecar_url or "") as client:
            for name, url, content, headers, expected in cases:
                response = await client.post(url, content=content, headers=headers)
                assert response.status_code == expected, (name, response.text)
                assert await snapshot(runtime.engine.store) == before, name
            # A well-formed, authentic delivery is accepted and finishes the job (fetch-to-verify
            # reads the real state from kie; the task is still running, so it stays processing).
            response = await client.post(good_url, content=body, headers=json_header)
            assert response.status_code == 200
        assert await runtime.engine.store.count("webhook_inbox") == 1
        job = await runtime.engine.get(job_id)
        assert job is not None and job.status is JobStatus.PROCESSING


async def test_callback_finishes_job_using_status_endpoint_urls(tmp_path: Path) -> None:
    """The callback body lies about its result URL; the job still gets the real file."""
    async with sandbox_and_runtime(tmp_path, image_seconds=0.2) as (sandbox, runtime):
        sandbox.faults.drop_callbacks = True
        job_id = await start_job(runtime, "a harbour at night")
        task = next(iter(sandbox.tasks.values()))
        await eventually(lambda: sandbox.clock() >= task.completed_at, what="task done")
        forged = callback_body(task.task_id)
        forged["data"]["resultJson"] = json.dumps({"resultUrls": ["http://169.254.169.254/x"]})
        assert task.callback_url is not None
        async with httpx2.AsyncClient() as client:
            response = await client.post(task.callback_url, json=forged)
        assert response.status_code == 200

        async def completed() -> bool:
            job = await runtime.engine.get(job_id)
            return job is not None and job.status is JobStatus.COMPLETED

        await eventually(completed, what="job completed")
        job = await runtime.engine.get(job_id)
        assert job is not None
        [asset] = job.assets
        assert asset.source_url == task.result_urls[0]
        assert asset.sha256 == sandbox.served_sha256(task.result_urls[0])


async def test_healthz(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path) as (_sandbox, runtime):
        async with httpx2.AsyncClient() as client:
            response = await client.get(f"{runtime.sidecar_url}/healthz")
            assert response.status_code == 200
            answer = response.json()
            assert answer["status"] == "ok" and answer["service"] == "mcp-server-kie"
            assert answer["instance"] == instance_id(runtime.settings.database_path)
            assert answer["database"] == {"backend": "sqlite", "answers": True}
            assert str(tmp_path) not in response.text  # names the data dir without revealing it
            missing = await client.get(f"{runtime.sidecar_url}/mcp")
            assert missing.status_code == 404


@pytest.mark.parametrize("state", ["fail"])
async def test_failed_task_fails_job_with_provider_text_labelled(
    tmp_path: Path, state: str
) -> None:
    async with sandbox_and_runtime(tmp_path) as (_sandbox, runtime):
        job_id = await start_job(runtime, "please [sandbox:fail]")
        job = await runtime.engine.wait(job_id, 10)
        assert job is not None and job.status is JobStatus.FAILED
        assert job.error is not None and job.error.category == "generation_failed"
        assert "Provider says:" in job.error.message
