"""Spend safety (limits refuse before anything is sent; an idempotent retry never pays twice)
and the user's saved defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcp import Client

from mcp_server_kie.server.app import build_server
from support import SANDBOX_KEY, call, sandbox_and_runtime

CREATE = "/api/v1/jobs/createTask"


async def refused(client: Client, tool: str, args: dict[str, Any]) -> str:
    result = await client.call_tool(tool, args)
    assert result.is_error, (tool, args)
    return result.content[0].text  # type: ignore[union-attr]


async def test_per_job_limit_refuses_before_any_request(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path, max_credits_per_job=5) as (sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            text = await refused(
                client, "generate_video", {"prompt": "a storm", "model": "kling-2.6/text-to-video"}
            )
        assert "KIE_MAX_CREDITS_PER_JOB" in text and "Nothing was sent" in text
        assert sandbox.requests == []
        assert await runtime.engine.store.count("jobs") == 0


async def test_daily_limit_counts_what_was_spent_and_refuses_the_next_job(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path, max_credits_per_day=6) as (sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            first = await call(client, "generate_image", {"prompt": "one", "wait_seconds": 20})
            assert first["expected_credits"] == 4  # nano-banana
            assert first["status"] == "completed"
            before = len(sandbox.requests)
            text = await refused(client, "generate_image", {"prompt": "two"})
        assert "KIE_MAX_CREDITS_PER_DAY" in text and "4" in text
        assert len(sandbox.requests) == before
        assert sandbox.count(CREATE) == 1


async def test_idempotent_retry_after_a_timeout_returns_the_same_job(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path, video_seconds=2) as (sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            args = {"prompt": "a train", "wait_seconds": 0.2, "idempotency_key": "req-42"}
            first = await call(client, "generate_video", args)
            assert first["status"] == "processing"  # the call ended before the job did
            again = await call(client, "generate_video", {**args, "wait_seconds": 20})
            assert again["job_id"] == first["job_id"]
            assert again["status"] == "completed"
        assert sandbox.count(CREATE) == 1


async def test_saved_defaults_fill_in_missing_arguments_only(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path) as (sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            empty = await call(client, "get_settings", {})
            assert all(value is None for value in empty.values())
            saved = await call(
                client,
                "update_settings",
                {"image_model": "z-image", "image_aspect_ratio": "16:9"},
            )
            assert saved["image_model"] == "z-image"
            job = await call(client, "generate_image", {"prompt": "dunes", "wait_seconds": 0})
            assert job["model"] == "z-image"
            explicit = await call(
                client, "generate_image", {"prompt": "dunes", "aspect_ratio": "1:1"}
            )
            task_inputs = [task.inputs for task in sandbox.tasks.values()]
            assert explicit["model"] == "z-image"
            assert sorted(str(inputs.get("image_size")) for inputs in task_inputs) == sorted(
                ["landscape_16_9", "square"]
            ) or sorted(str(inputs.get("aspect_ratio")) for inputs in task_inputs) == [
                "16:9",
                "1:1",
            ]

            for args, hint in [
                ({"image_model": "kling-2.6/text-to-video"}, "generate_video"),
                ({"video_aspect_ratio": "wide"}, "16:9"),
                ({}, "Nothing to change"),
                ({"num_images": 2, "reset": ["num_images"]}, "Both set and reset"),
            ]:
                assert hint in await refused(client, "update_settings", args)
            cleared = await call(client, "update_settings", {"reset": ["image_model"]})
            assert cleared["image_model"] is None and cleared["image_aspect_ratio"] == "16:9"
            shown = await client.call_tool("get_settings", {})
        assert SANDBOX_KEY not in str(shown)
