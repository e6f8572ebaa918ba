"""transform_media end to end through the MCP tools on the sandbox: an operation on an earlier
result by job or asset id fills the chosen model's input from the catalogue (the library's file
uploaded to kie, or the source job's kie task id), and a refusal names what is allowed and sends
nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from mcp_server_kie.catalog import COMMITTED
from mcp_server_kie.catalog.operations import source_fields
from mcp_server_kie.domain import Asset, MediaKind, UserInputError
from mcp_server_kie.jobs.sources import check_fits
from mcp_server_kie.sandbox import Sandbox, SandboxConfig, serve_sandbox
from mcp_server_kie.server.app import build_server
from mcp_server_kie.server.runtime import Runtime, open_runtime
from support import SANDBOX_KEY, call, settings_for


@asynccontextmanager
async def client_on_sandbox(
    tmp_path: Path, media_url: str | None = None, **settings: object
) -> AsyncIterator[tuple[Sandbox, Runtime, Client]]:
    config = SandboxConfig(api_key=SANDBOX_KEY, image_seconds=0.1, video_seconds=0.2)
    async with serve_sandbox(config) as sandbox:
        ready = settings_for(sandbox, tmp_path, webhooks=True).model_copy(
            update={"upload_base_url": sandbox.base_url, "media_url": media_url, **settings}
        )
        async with open_runtime(ready) as runtime, Client(build_server(runtime.tools)) as client:
            yield sandbox, runtime, client


async def finished(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    job = await call(client, tool, args)
    for _ in range(20):
        if job["status"] in ("completed", "failed"):
            break
        job = await call(client, "get_status", {"job_id": job["job_id"], "wait_seconds": 5})
    assert job["status"] == "completed", job
    return job


def task_of(sandbox: Sandbox, model: str) -> dict[str, Any]:
    tasks = [t for t in sandbox.tasks.values() if t.model == model]
    assert len(tasks) == 1, [t.model for t in sandbox.tasks.values()]
    return dict(tasks[0].order.request.get("input", tasks[0].order.request))


async def test_upscale_an_image_by_asset_id_uploads_the_library_copy(
    tmp_path: Path, media_url: str | None
) -> None:
    async with client_on_sandbox(tmp_path, media_url) as (sandbox, runtime, client):
        source = await finished(client, "generate_image", {"prompt": "a red kite"})
        output = source["outputs"][0]
        args = {"source": output["asset_id"], "operation": "upscale", "idempotency_key": "up-1"}
        job = await finished(client, "transform_media", args)

        assert job["model"] == "recraft/crisp-upscale" and job["kind"] == "image"
        assert job["outputs"] and job["job_id"] != source["job_id"]
        [upload] = sandbox.uploads
        assert upload.sha256 == output["sha256"]  # the library's copy, not kie's old link
        assert task_of(sandbox, "recraft/crisp-upscale") == {"image": upload.url}
        assert source["job_id"] in job["prompt"]
        events = await runtime.engine.store.job_events(job["job_id"])
        assert any(output["asset_id"] in cause and "upscale" in cause for *_, cause in events)

        again = await call(client, "transform_media", args)  # a retry: same job, nothing sent
        assert again["job_id"] == job["job_id"] and len(sandbox.uploads) == 1
        listed = await call(client, "list_media", {"model": "recraft/crisp-upscale"})
        assert [item["job_id"] for item in listed["items"]] == [job["job_id"]]


async def test_remove_the_background_of_a_job(tmp_path: Path) -> None:
    async with client_on_sandbox(tmp_path) as (sandbox, _runtime, client):
        source = await finished(client, "generate_image", {"prompt": "a cat on a sofa"})
        job = await finished(
            client,
            "transform_media",
            {"source": source["job_id"], "operation": "remove-background"},
        )
        assert job["model"] == "recraft/remove-background"
        [upload] = sandbox.uploads
        assert upload.sha256 == source["outputs"][0]["sha256"]
        assert task_of(sandbox, "recraft/remove-background") == {"image": upload.url}


async def test_edit_an_image_by_job_id_with_a_prompt(tmp_path: Path) -> None:
    async with client_on_sandbox(tmp_path) as (sandbox, _runtime, client):
        source = await finished(client, "generate_image", {"prompt": "a blue house"})
        job = await finished(
            client,
            "transform_media",
            {"source": source["job_id"], "operation": "edit", "prompt": "paint the door red"},
        )
        assert job["model"] == "google/nano-banana-edit"
        assert job["prompt"] == "paint the door red"
        [upload] = sandbox.uploads
        sent = task_of(sandbox, "google/nano-banana-edit")
        assert sent["image_urls"] == [upload.url] and sent["prompt"] == "paint the door red"


async def test_extend_a_video_by_job_id_sends_its_kie_task_id(tmp_path: Path) -> None:
    async with client_on_sandbox(tmp_path) as (sandbox, _runtime, client):
        source = await finished(
            client,
            "generate_video",
            {"prompt": "waves at dusk", "model": "grok-imagine/text-to-video"},
        )
        [source_task] = [t.task_id for t in sandbox.tasks.values()]
        job = await finished(
            client, "transform_media", {"source": source["job_id"], "operation": "extend"}
        )
        assert job["model"] == "grok-imagine/extend" and job["kind"] == "video"
        sent = task_of(sandbox, "grok-imagine/extend")
        assert sent["task_id"] == source_task
        assert sent["prompt"] == "waves at dusk"  # the source's prompt, unless one is given
        assert sent["extend_times"] == 6
        assert sandbox.uploads == []  # a task id, no file

        upscaled = await finished(
            client, "transform_media", {"source": source["job_id"], "operation": "upscale"}
        )
        assert upscaled["model"] == "grok-imagine/upscale"
        assert task_of(sandbox, "grok-imagine/upscale")["task_id"] == source_task


async def test_refusals_name_what_is_allowed_and_send_nothing(tmp_path: Path) -> None:
    async with client_on_sandbox(tmp_path) as (sandbox, runtime, client):
        image = await finished(client, "generate_image", {"prompt": "a lighthouse"})
        video = await finished(client, "generate_video", {"prompt": "a train", "duration": 5})
        runtime.tools.budget.per_job = 3.0  # as KIE_MAX_CREDITS_PER_JOB=3 would set it
        sent = (len(sandbox.requests), len(sandbox.tasks))

        async def refused(args: dict[str, Any]) -> str:
            result = await client.call_tool("transform_media", args)
            assert result.is_error, result.structured_content
            return " ".join(getattr(block, "text", "") for block in result.content)

        text = await refused({"source": image["job_id"], "operation": "sharpen"})
        for name in ("upscale", "remove-background", "edit", "extend", "lip-sync"):
            assert name in text, text
        text = await refused({"source": image["job_id"], "operation": "extend"})
        assert "upscale, remove-background, edit" in text
        text = await refused(
            {"source": image["job_id"], "operation": "upscale", "model": "topaz/video-upscale"}
        )
        assert "recraft/crisp-upscale" in text and "topaz/image-upscale" in text
        text = await refused(
            {"source": video["job_id"], "operation": "extend", "model": "grok-imagine/extend"}
        )
        assert "continues only grok-imagine/* jobs" in text and "pixverse-v6/extend" in text
        text = await refused({"source": "job_nope", "operation": "upscale"})
        assert "list_media" in text
        text = await refused({"source": image["job_id"], "operation": "edit"})
        assert "edit needs a prompt" in text
        text = await refused({"source": video["job_id"], "operation": "lip-sync"})
        assert "needs audio" in text
        text = await refused(  # 4 credits, over the limit of 3 per job
            {"source": image["job_id"], "operation": "edit", "prompt": "make it night"}
        )
        assert "limit of 3 credits per job" in text
        runtime.tools.budget.per_job, runtime.tools.budget.per_day = None, 1.0
        text = await refused({"source": image["job_id"], "operation": "upscale"})  # 0.5 credits
        assert "credits per day" in text  # decided before the file is uploaded
        assert (len(sandbox.requests), len(sandbox.tasks)) == sent
        assert sandbox.uploads == []


async def test_extend_a_video_of_another_line_uploads_it_to_a_model_that_takes_a_url(
    tmp_path: Path,
) -> None:
    async with client_on_sandbox(tmp_path) as (sandbox, _runtime, client):
        source = await finished(client, "generate_video", {"prompt": "a train", "duration": 5})
        assert source["model"] == "kling-2.6/text-to-video"
        args = {"source": source["job_id"], "operation": "extend", "prompt": "it enters a tunnel"}
        refused = await client.call_tool("transform_media", args)  # kie lists no defaults
        assert refused.is_error
        assert "duration is required by pixverse-v6/extend" in str(refused.content)
        assert "resolution is required" in str(refused.content) and sandbox.uploads == []
        options = {"duration": 5, "quality": "540p"}
        job = await finished(client, "transform_media", {**args, "options": options})
        assert job["model"] == "pixverse-v6/extend"
        [upload] = sandbox.uploads
        assert upload.sha256 == source["outputs"][0]["sha256"]
        sent = task_of(sandbox, "pixverse-v6/extend")
        assert sent["video_url"] == upload.url and "taskId" not in sent


def test_kies_stated_type_and_size_limits_are_checked_before_an_upload() -> None:
    spec = COMMITTED.find("recraft/remove-background")
    assert spec is not None
    fields = source_fields(spec, ["image"])
    assert fields is not None
    field = fields["image"]
    assert field.max_bytes == 5_000_000 and "image/png" in field.accepted
    png = Asset("asset_1", "job_1", 0, MediaKind.IMAGE, "/m/a.png", "image/png", 1000, "", "", 0.0)
    check_fits(png, field, spec.id)
    with pytest.raises(UserInputError, match="accepts image/jpeg, image/png, image/webp"):
        check_fits(replace(png, mime_type="image/gif"), field, spec.id)
    with pytest.raises(
        UserInputError, match=r"6\.0 MB; recraft/remove-background accepts at most 5"
    ):
        check_fits(replace(png, bytes=6_000_000), field, spec.id)


async def test_lip_sync_an_image_to_speech_and_isolate_a_voice(tmp_path: Path) -> None:
    async with client_on_sandbox(tmp_path) as (sandbox, _runtime, client):
        face = await finished(client, "generate_image", {"prompt": "a portrait"})
        speech = await finished(client, "generate_audio", {"prompt": "Hello there."})
        args = {
            "source": face["outputs"][0]["asset_id"],
            "operation": "lip-sync",
            "audio": speech["job_id"],
            "prompt": "speaks calmly",
        }
        job = await finished(client, "transform_media", args)
        assert job["model"] == "kling/ai-avatar-standard" and job["kind"] == "video"
        sent = task_of(sandbox, "kling/ai-avatar-standard")
        by_sha = {upload.sha256: upload.url for upload in sandbox.uploads}
        assert sent["image_url"] == by_sha[face["outputs"][0]["sha256"]]
        assert sent["audio_url"] == by_sha[speech["outputs"][0]["sha256"]]

        voice = await finished(
            client, "transform_media", {"source": speech["job_id"], "operation": "isolate-voice"}
        )
        assert voice["model"] == "elevenlabs/audio-isolation" and voice["kind"] == "audio"
        assert task_of(sandbox, "elevenlabs/audio-isolation")["audio_url"] in by_sha.values()
