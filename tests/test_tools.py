"""The MCP surface in-process: schemas, annotations, clear errors, bounded waits."""

from __future__ import annotations

import time
from pathlib import Path

import jsonschema
from mcp import Client

from mcp_server_kie.server.app import build_server
from support import sandbox_and_runtime


async def test_tools_publish_input_and_output_schemas(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path) as (_sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == {
        "generate_image",
        "generate_video",
        "generate_audio",
        "transform_media",
        "get_status",
        "list_media",
        "delete_media",
        "list_models",
        "describe_model",
        "get_credits",
        "get_settings",
        "update_settings",
    }
    for tool in tools.values():
        assert tool.description and tool.output_schema, tool.name
        for prop in tool.input_schema["properties"].values():
            assert "description" in prop or "$ref" in prop or "anyOf" in prop
    required = set(tools["generate_image"].output_schema["required"])  # type: ignore[index]
    assert {"job_id", "status", "kind", "model", "prompt"} <= required
    assert tools["get_status"].annotations and tools["get_status"].annotations.read_only_hint
    assert tools["list_media"].annotations and tools["list_media"].annotations.read_only_hint
    delete = tools["delete_media"].annotations
    assert delete is not None and delete.destructive_hint is True
    gen = tools["generate_video"].annotations
    assert gen is not None and gen.read_only_hint is False and gen.open_world_hint is True


async def test_bad_arguments_are_refused_before_anything_is_sent(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path) as (sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            cases = [
                ("generate_image", {"prompt": "x", "aspect_ratio": "7:3"}, "'16:9'"),
                ("generate_image", {"prompt": "x", "model": "nope"}, "google/nano-banana"),
                (
                    "generate_image",
                    {"prompt": "x", "model": "kling-2.6/text-to-video"},
                    "generate_video",
                ),
                ("generate_video", {"prompt": "x", "duration": 7}, "'10'"),
                ("get_status", {"job_id": "job_missing"}, "list_media"),
            ]
            for tool, args, hint in cases:
                result = await client.call_tool(tool, args)
                assert result.is_error, (tool, args)
                text = result.content[0].text  # type: ignore[union-attr]
                assert hint in text, text
        assert sandbox.count("/api/v1/jobs/createTask") == 0


async def test_video_returns_a_handle_within_the_wait_and_reports_progress(
    tmp_path: Path,
) -> None:
    progress: list[tuple[float, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, message))

    async with sandbox_and_runtime(tmp_path, video_seconds=4) as (_sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            started = time.monotonic()
            result = await client.call_tool(
                "generate_video",
                {"prompt": "a kite", "wait_seconds": 1},
                progress_callback=on_progress,
            )
            elapsed = time.monotonic() - started
            assert not result.is_error
            job = result.structured_content
            assert job is not None and job["status"] == "processing"
            assert elapsed < 1 + 2.5  # and "processing": it returned before the 4 s video
            final = await client.call_tool(
                "get_status",
                {"job_id": job["job_id"], "wait_seconds": 15},
                progress_callback=on_progress,
            )
            schemas = {t.name: t.output_schema for t in (await client.list_tools()).tools}
    assert final.structured_content is not None
    assert final.structured_content["status"] == "completed"
    assert final.structured_content["outputs"][0]["duration_seconds"] > 0
    assert progress, "no progress notifications"
    assert all(message for _value, message in progress)
    jsonschema.validate(final.structured_content, schemas["get_status"])  # type: ignore[arg-type]


async def test_prompts_offer_the_common_workflows(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path) as (_sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            names = {prompt.name for prompt in (await client.list_prompts()).prompts}
            assert {"storyboard", "variations", "find_media"} <= names
            story = await client.get_prompt("storyboard", {"idea": "a fox at dawn", "frames": "4"})
            text = story.messages[0].content.text  # type: ignore[union-attr]
            assert "a fox at dawn" in text and "4 distinct shot" in text
            assert "generate_video" in text and "get_status" in text
