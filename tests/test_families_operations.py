"""Operations on an earlier job through generate_video, end to end on the sandbox: Veo extend,
1080p and 4K of a Veo job, Runway extend of a Runway job (each named by our job id, sent to kie
as that job's kie task id), and Aleph video-to-video from a local video file (uploaded)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from mcp import Client

from mcp_server_kie.sandbox import Sandbox
from mcp_server_kie.sandbox.tasks import SimTask
from test_families_end_to_end import assert_stored_as_served, finished, mcp_client, write_png


def task_of_model(sandbox: Sandbox, model: str) -> SimTask:
    [task] = [task for task in sandbox.tasks.values() if task.model == model]
    return task


async def video(client: Client, model: str, prompt: str, **args: Any) -> dict[str, Any]:
    job = await finished(client, "generate_video", {"prompt": prompt, "model": model, **args})
    assert job["model"] == model
    assert [o["mime_type"] for o in job["outputs"]] == ["video/mp4"], job
    return job


async def test_operations_on_earlier_jobs_run_end_to_end(tmp_path: Path) -> None:
    async with mcp_client(tmp_path, webhooks=True) as (sandbox, client, inputs):
        veo = await video(client, "veo3_fast", "a red kite over dunes")
        runway = await video(client, "runway", "a paper boat")
        extended = await video(
            client, "veo3-extend", "the kite climbs", options={"task_id": veo["job_id"]}
        )
        hd, hd_again, uhd, longer = await asyncio.gather(
            video(client, "veo3-1080p", "in 1080p", options={"task_id": veo["job_id"]}),
            video(client, "veo3-1080p", "once more", options={"task_id": veo["job_id"]}),
            video(client, "veo3-4k", "in 4K", options={"task_id": veo["job_id"]}),
            video(
                client,
                "runway-extend",
                "the boat sails on",
                resolution="720p",
                options={"task_id": runway["job_id"]},
            ),
        )
        source = inputs / "source.mp4"
        shutil.copyfile(veo["outputs"][0]["path"], source)
        aleph = await video(
            client, "runway-aleph", "as a watercolour", options={"video_url": str(source)}
        )
        delivered = {c.task_id for c in sandbox.callbacks if c.status == 200}
    veo_task, runway_task = task_of_model(sandbox, "veo3_fast"), task_of_model(sandbox, "runway")
    # kie got the kie task ids of our jobs, never our job ids
    assert task_of_model(sandbox, "veo3-extend-fast").inputs["taskId"] == veo_task.task_id
    assert task_of_model(sandbox, "veo3-4k").inputs["taskId"] == veo_task.task_id
    assert task_of_model(sandbox, "runway-extend").inputs["taskId"] == runway_task.task_id
    hd_asks = [r for r in sandbox.requests if r.path == "/api/v1/veo/get-1080p-video"]
    assert hd_asks and all(r.query == {"taskId": veo_task.task_id, "index": "0"} for r in hd_asks)
    assert len(hd_asks) >= 2  # asked, "1080P is processing", asked again until ready
    for job in (veo, runway, extended, uhd, longer, aleph):
        assert_stored_as_served(sandbox, job)
    assert hd["outputs"][0]["sha256"] == sandbox.served_sha256(veo_task.urls("1080p")[0])
    assert hd_again["outputs"][0]["sha256"] == hd["outputs"][0]["sha256"]
    # the local video went up through kie's upload API and Aleph was given its URL
    [upload] = sandbox.uploads
    assert upload.size == source.stat().st_size
    assert task_of_model(sandbox, "runway-aleph").inputs["videoUrl"] == upload.url
    # every task but the 1080p request (which takes no callback) was called back
    assert delivered == set(sandbox.tasks)


async def test_an_operation_on_a_wrong_source_is_refused_before_anything_is_sent(
    tmp_path: Path,
) -> None:
    async with mcp_client(tmp_path, webhooks=False) as (sandbox, client, inputs):
        runway = await video(client, "runway", "a paper boat")
        before = len(sandbox.requests)
        answers = [
            await client.call_tool(
                "generate_video", {"prompt": "more", "model": model, "options": options}
            )
            for model, options in (
                ("veo3-extend", {"task_id": runway["job_id"]}),
                ("veo3-1080p", {"task_id": "job_0123456789abcdef01234567"}),
                ("runway-extend", {"task_id": "kie-task-of-someone-else", "quality": "720p"}),
                ("runway-aleph", {"video_url": str(inputs / "missing.mp4")}),
                ("runway-aleph", {"video_url": str(write_png(inputs))}),
            )
        ]
        after = sandbox.requests[before:]
    texts = [answer.content[0].text for answer in answers]  # type: ignore[union-attr]
    assert all(answer.is_error for answer in answers)
    assert "is a runway job" in texts[0] and "veo or veo-extend jobs only" in texts[0]
    assert "is not a job of this server" in texts[1]
    assert "is not a job of this server" in texts[2]
    assert "does not exist" in texts[3]
    assert "is not an MP4, MOV or WebM video" in texts[4]
    assert after == []


async def test_flux_kontext_edits_a_local_image(tmp_path: Path) -> None:
    async with mcp_client(tmp_path, webhooks=False) as (sandbox, client, inputs):
        picture = write_png(inputs)
        job = await finished(
            client,
            "generate_image",
            {
                "prompt": "make it night",
                "model": "flux-kontext-max",
                "reference_images": [str(picture)],
                "output_format": "png",
            },
        )
    [upload] = sandbox.uploads
    task = task_of_model(sandbox, "flux-kontext-max")
    assert (task.inputs["inputImage"], task.inputs["outputFormat"]) == (upload.url, "png")
    assert task.inputs["model"] == "flux-kontext-max"
    assert [o["mime_type"] for o in job["outputs"]] == ["image/png"]
    assert_stored_as_served(sandbox, job)
