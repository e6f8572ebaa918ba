"""The webhook route answered in front of the sidecar's app (server/webhook_lane.py), over real
HTTP: what is not its shape goes on to the app, another method is refused, and a store that
fails mid-callback gets a JSON 5xx naming the failure (its traceback in the log, never in
the answer), with the delivery left to kie's retry."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import httpx2
import pytest

from support import sandbox_and_runtime
from test_webhook_sidecar import callback_body, start_job


async def test_other_methods_and_shapes(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path, image_seconds=30) as (sandbox, runtime):
        sandbox.faults.drop_callbacks = True
        job_id = await start_job(runtime)
        async with httpx2.AsyncClient(base_url=runtime.sidecar_url or "") as http:
            got = await http.get(f"/webhooks/kie/{job_id}?token=x")
            assert got.status_code == 405 and got.headers["allow"] == "POST"
            assert got.json() == {"error": "use POST"}
            headers = {"content-type": "application/json"}
            for path in ("/webhooks/kie/", f"/webhooks/kie/{job_id}/more", "/webhooks/kie2/x"):
                answer = await http.post(path, content=b"{}", headers=headers)
                assert answer.status_code == 404, path  # the app's answer: no such route
            bad_id = await http.post("/webhooks/kie/job_XYZ", content=b"{}", headers=headers)
            assert bad_id.status_code == 404 and bad_id.json() == {"error": "unknown job"}
            health = await http.get("/healthz")
            assert health.status_code == 200 and health.json()["status"] == "ok"
        job = await runtime.engine.store.get_job(job_id)
        assert job is not None and not job.status.terminal


async def test_a_store_failure_is_a_json_500_and_nothing_is_acknowledged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with sandbox_and_runtime(tmp_path, image_seconds=30) as (sandbox, runtime):
        sandbox.faults.drop_callbacks = True
        await start_job(runtime)
        task = next(iter(sandbox.tasks.values()))
        assert task.callback_url is not None
        parsed = httpx2.URL(task.callback_url)
        with sqlite3.connect(tmp_path / "kie.sqlite3") as conn:  # the inbox is gone
            conn.execute("DROP TABLE webhook_inbox")
        body = json.dumps(callback_body(task.task_id)).encode()
        async with httpx2.AsyncClient(base_url=runtime.sidecar_url or "") as http:
            with caplog.at_level(logging.ERROR, logger="mcp_server_kie.server.webhook_lane"):
                answer = await http.post(
                    f"{parsed.path}?{parsed.query.decode()}",
                    content=body,
                    headers={"content-type": "application/json"},
                )
    assert answer.status_code == 500
    error = answer.json()["error"]
    assert "failed unexpectedly (OperationalError)" in error and "Traceback" not in error
    assert parsed.params["token"] not in answer.text
    assert any(record.exc_info for record in caplog.records), "the traceback is logged"
