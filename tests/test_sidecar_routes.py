"""Webhook route details scripts/mutation found unguarded: the media type is read without its
parameters and in any case, an accepted delivery answers exactly {"ok": true}, and a refused
one is logged with the job and the reason (and never the token)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx2
import pytest

from support import sandbox_and_runtime
from test_webhook_sidecar import callback_body, start_job


async def test_media_type_parameters_and_case_and_the_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with sandbox_and_runtime(tmp_path, image_seconds=30) as (sandbox, runtime):
        sandbox.faults.drop_callbacks = True
        job_id = await start_job(runtime)
        task = next(iter(sandbox.tasks.values()))
        assert task.callback_url is not None
        parsed = httpx2.URL(task.callback_url)
        url = f"{parsed.path}?{parsed.query.decode()}"
        token = parsed.params["token"]
        body = json.dumps(callback_body(task.task_id)).encode()
        async with httpx2.AsyncClient(base_url=runtime.sidecar_url or "") as http:
            for refused in ("application/jsonx", "text/json", "application/json-seq"):
                answer = await http.post(url, content=body, headers={"content-type": refused})
                assert answer.status_code == 415, refused
            wrong = url.replace(token, ("y" if token[0] == "x" else "x") + token[1:])
            with caplog.at_level(logging.INFO, logger="mcp_server_kie.server.webhook_lane"):
                refused_answer = await http.post(
                    wrong, content=body, headers={"content-type": "application/json"}
                )
            assert refused_answer.status_code == 403
            reason = refused_answer.json()["error"]
            messages = [r.getMessage() for r in caplog.records if r.name.endswith("webhook_lane")]
            assert f"callback for {job_id} rejected: {reason}" in messages
            assert token not in caplog.text
            accepted = await http.post(
                url, content=body, headers={"content-type": "Application/JSON ; charset=utf-8"}
            )
            assert accepted.status_code == 200
            assert accepted.json() == {"ok": True}
