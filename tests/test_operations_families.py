"""transform_media over the per-family APIs: Veo extend/1080p/4K and Runway extend get the
source job's kie task id (and only for a job of their own family), Runway Aleph and Flux
Kontext get the library's file uploaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcp_server_kie.sandbox import Sandbox
from test_operations import client_on_sandbox, finished


def last_body(sandbox: Sandbox) -> dict[str, Any]:
    return dict(list(sandbox.tasks.values())[-1].order.request)


async def test_veo_extend_and_upscale_continue_the_source_task(tmp_path: Path) -> None:
    async with client_on_sandbox(tmp_path) as (sandbox, _runtime, client):
        veo = await finished(client, "generate_video", {"prompt": "a fox", "model": "veo3_fast"})
        [veo_task] = [t.task_id for t in sandbox.tasks.values()]
        extended = await finished(
            client, "transform_media", {"source": veo["job_id"], "operation": "extend"}
        )
        assert extended["model"] == "veo3-extend"
        assert last_body(sandbox)["taskId"] == veo_task
        assert last_body(sandbox)["prompt"] == "a fox"
        hd = await finished(
            client, "transform_media", {"source": veo["job_id"], "operation": "upscale"}
        )
        assert hd["model"] == "veo3-1080p"
        args = {"source": extended["job_id"], "operation": "upscale", "model": "veo3-4k"}
        assert (await finished(client, "transform_media", args))["model"] == "veo3-4k"
        assert sandbox.uploads == []

        sent = len(sandbox.tasks)
        refused = await client.call_tool(
            "transform_media",
            {"source": hd["job_id"], "operation": "extend", "model": "veo3-extend"},
        )
        assert refused.is_error
        assert "continues only veo or veo-extend jobs" in str(refused.content)
        assert len(sandbox.tasks) == sent and sandbox.uploads == []


async def test_runway_extend_aleph_restyle_and_a_flux_kontext_edit(tmp_path: Path) -> None:
    async with client_on_sandbox(tmp_path) as (sandbox, _runtime, client):
        runway = await finished(client, "generate_video", {"prompt": "a cat", "model": "runway"})
        [runway_task] = [t.task_id for t in sandbox.tasks.values()]
        extended = await finished(
            client, "transform_media", {"source": runway["job_id"], "operation": "extend"}
        )
        assert extended["model"] == "runway-extend"
        assert last_body(sandbox)["taskId"] == runway_task
        restyled = await finished(
            client,
            "transform_media",
            {"source": runway["job_id"], "operation": "edit", "prompt": "make it snow"},
        )
        assert restyled["model"] == "runway-aleph"
        [video_upload] = sandbox.uploads
        assert video_upload.sha256 == runway["outputs"][0]["sha256"]
        assert last_body(sandbox)["videoUrl"] == video_upload.url

        image = await finished(client, "generate_image", {"prompt": "a hat"})
        args = {"source": image["job_id"], "operation": "edit", "prompt": "make it red"}
        edited = await finished(client, "transform_media", {**args, "model": "flux-kontext-pro"})
        assert edited["model"] == "flux-kontext-pro"
        assert last_body(sandbox)["inputImage"] == sandbox.uploads[-1].url
        assert sandbox.uploads[-1].sha256 == image["outputs"][0]["sha256"]
