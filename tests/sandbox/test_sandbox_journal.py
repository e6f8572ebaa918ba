"""The sandbox's task file (sandbox/journal.py): a restarted sandbox on another port knows its
tasks and balance and serves their files from its new address, and two sandboxes on one
folder keep each other's tasks."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2

from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox

KEY = "journal-key"


def config(path: Path) -> SandboxConfig:
    return SandboxConfig(api_key=KEY, image_seconds=0.0, state_path=path)


async def create(base_url: str, prompt: str) -> str:
    async with httpx2.AsyncClient(base_url=base_url) as http:
        answer = await http.post(
            "/api/v1/jobs/createTask",
            headers={"Authorization": f"Bearer {KEY}"},
            json={"model": "google/nano-banana", "input": {"prompt": prompt}},
        )
    body = answer.json()
    assert body["code"] == 200, body
    return str(body["data"]["taskId"])


async def record(base_url: str, task_id: str) -> dict[str, object]:
    async with httpx2.AsyncClient(base_url=base_url) as http:
        answer = await http.get(
            "/api/v1/jobs/recordInfo",
            params={"taskId": task_id},
            headers={"Authorization": f"Bearer {KEY}"},
        )
    return dict(answer.json())


async def test_tasks_survive_a_restart_on_another_port(tmp_path: Path) -> None:
    path = tmp_path / "sandbox-tasks.json"
    async with serve_sandbox(config(path)) as first:
        task_id = await create(first.base_url, "a red kite")
        first_url = first.base_url
        balance = first.credits
    async with serve_sandbox(config(path)) as second:
        assert second.base_url != first_url
        answer = await record(second.base_url, task_id)
        assert answer["code"] == 200, answer
        data = answer["data"]
        assert isinstance(data, dict) and data["state"] == "success"
        [url] = json.loads(str(data["resultJson"]))["resultUrls"]
        assert url.startswith(second.base_url + "/")
        async with httpx2.AsyncClient() as http:
            image = await http.get(url)
        assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"
        assert second.credits == balance


async def test_two_sandboxes_on_one_file_keep_each_others_tasks(tmp_path: Path) -> None:
    path = tmp_path / "sandbox-tasks.json"
    async with serve_sandbox(config(path)) as one, serve_sandbox(config(path)) as two:
        first = await create(one.base_url, "one")
        second = await create(two.base_url, "two")
    saved = {raw["task_id"] for raw in json.loads(path.read_text())["tasks"]}
    assert {first, second} <= saved
