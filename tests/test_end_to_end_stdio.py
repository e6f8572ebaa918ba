"""The whole product over stdio, exactly as a desktop host runs it.

The server runs as a subprocess in real mode (not --sandbox), pointed at a sandbox that lives
in this test process, so the test sees every request and every byte the "kie.ai" side served.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import av
import pytest
from mcp import Client, StdioServerParameters
from PIL import Image

from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from support import SANDBOX_KEY, call, eventually, free_port


def server_params(env_overrides: dict[str, str]) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
    env.update(env_overrides)
    return StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_server_kie", "serve"], env=env
    )


@pytest.mark.parametrize("mode", ["webhook", "polling"])
async def test_image_and_video_through_stdio(tmp_path: Path, mode: str) -> None:
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.5, video_seconds=1.0)
    async with serve_sandbox(config) as sandbox:
        port = free_port()
        env = {
            "KIE_API_KEY": SANDBOX_KEY,
            "KIE_BASE_URL": sandbox.base_url,
            "KIE_DATA_DIR": str(tmp_path),
            "KIE_WEBHOOK_PORT": str(port),
        }
        if mode == "webhook":
            env["KIE_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        async with Client(server_params(env)) as client:
            image = await call(
                client,
                "generate_image",
                {"prompt": "a red fox in snow", "aspect_ratio": "16:9", "wait_seconds": 20},
            )
            video = await call(
                client, "generate_video", {"prompt": "a river at dusk", "wait_seconds": 0}
            )
            assert video["status"] == "processing"
            assert "get_status" in video["next_step"]
            video = await call(
                client, "get_status", {"job_id": video["job_id"], "wait_seconds": 20}
            )
            listing = await call(client, "list_media", {"limit": 10})

        assert image["status"] == "completed", image
        assert video["status"] == "completed", video
        assert {item["job_id"] for item in listing["items"]} == {image["job_id"], video["job_id"]}

        for job, mime in ((image, "image/png"), (video, "video/mp4")):
            [output] = job["outputs"]
            path = Path(output["path"])
            assert path.is_file() and path.is_relative_to(tmp_path)
            assert output["mime_type"] == mime
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            assert output["sha256"] == digest
            assert output["bytes"] == len(data)
            task = next(t for t in sandbox.tasks.values() if t.prompt == job["prompt"])
            served = [sandbox.served_sha256(url) for url in task.result_urls]
            assert served == [digest], "stored file differs from what the sandbox served"

        with Image.open(image["outputs"][0]["path"]) as picture:
            assert picture.size == (1024, 576)
        with av.open(video["outputs"][0]["path"]) as container:
            assert next(container.decode(video=0)).width > 0

        delivered = [c for c in sandbox.callbacks if c.status == 200]
        if mode == "webhook":
            assert len(delivered) == 2, sandbox.callbacks
            assert all(t.callback_url for t in sandbox.tasks.values())
        else:
            assert sandbox.callbacks == []
            assert not any(t.callback_url for t in sandbox.tasks.values())
            assert sandbox.count("/api/v1/jobs/recordInfo") >= 2


async def test_no_key_every_tool_explains_how_to_set_it(tmp_path: Path) -> None:
    env = {"KIE_DATA_DIR": str(tmp_path), "KIE_WEBHOOK_PORT": "0"}
    calls = {
        "generate_image": {"prompt": "x"},
        "generate_video": {"prompt": "x"},
        "generate_audio": {"prompt": "x"},
        "transform_media": {"source": "job_0", "operation": "upscale"},
        "get_status": {"job_id": "job_0"},
        "list_media": {},
        "delete_media": {"job_id": "job_0"},
        "list_models": {},
        "describe_model": {"model": "z-image"},
        "get_credits": {},
        "get_settings": {},
        "update_settings": {"num_images": 2},
    }
    async with Client(server_params(env)) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == set(calls)
        for tool, args in calls.items():
            result = await client.call_tool(tool, args)
            assert result.is_error, tool
            text = result.content[0].text  # type: ignore[union-attr]
            assert "KIE_API_KEY" in text and "--sandbox" in text, text


async def test_sandbox_flag_runs_without_any_account(tmp_path: Path) -> None:
    env = {"KIE_DATA_DIR": str(tmp_path), "KIE_WEBHOOK_PORT": "0", "KIE_SANDBOX": "1"}
    async with Client(server_params(env)) as client:
        image = await call(client, "generate_image", {"prompt": "a teapot", "wait_seconds": 20})
    assert image["status"] == "completed"
    assert Path(image["outputs"][0]["path"]).is_file()
    await eventually(lambda: (tmp_path / "kie.sqlite3").exists(), what="database file")
