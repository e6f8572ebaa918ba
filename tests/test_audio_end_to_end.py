"""Audio through the MCP tools against the sandbox: ElevenLabs speech and Suno music, by webhook
and by polling, land in the library as audio files that decode, and never travel inline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import httpx2
import pytest
from mcp import Client

from mcp_server_kie.server.app import build_server
from media_backends import stored
from support import call, eventually, sandbox_and_runtime

JOBS = {
    "speech": {"prompt": "Hello from the harbour. The tide is turning."},
    "music": {"prompt": "a calm piano song about the sea", "model": "suno"},
}


def decoded_seconds(path: str) -> float:
    """Seconds of sound the file really holds, counted by decoding every frame."""
    with av.open(path) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.codec_context.sample_rate


@pytest.mark.parametrize("webhooks", [True, False], ids=["webhook", "polling"])
@pytest.mark.parametrize("what", list(JOBS))
async def test_audio_jobs_land_in_the_library_as_audio(
    tmp_path: Path, what: str, webhooks: bool
) -> None:
    async with sandbox_and_runtime(tmp_path, webhooks=webhooks) as (sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            result = await client.call_tool("generate_audio", {**JOBS[what], "wait_seconds": 0})
            assert not result.is_error, result.content
            job = dict(result.structured_content or {})
            job = await call(client, "get_status", {"job_id": job["job_id"], "wait_seconds": 20})
            assert job["status"] == "completed", job
            assert job["kind"] == "audio"
            listed = await call(client, "list_media", {"kind": "audio"})
            others = await call(client, "list_media", {"kind": "image"})
            shown = await client.call_tool("get_status", {"job_id": job["job_id"]})
            read = await client.read_resource(job["outputs"][0]["uri"])

    assert [item["job_id"] for item in listed["items"]] == [job["job_id"]]
    assert others["items"] == []
    outputs = job["outputs"]
    assert len(outputs) == (2 if what == "music" else 1)  # Suno makes two songs a request
    for output in outputs:
        assert output["mime_type"] == "audio/mpeg"
        assert output["path"].endswith(".mp3")
        assert output["thumbnail_url"] is None
        assert output["duration_seconds"] and output["duration_seconds"] > 0
        assert decoded_seconds(output["path"]) == pytest.approx(output["duration_seconds"], 0.1)
        assert output["url"].startswith("http://127.0.0.1:")
    # The result links the files; it never carries sound (or a picture of it) inline.
    kinds = [block.type for block in shown.content]
    assert kinds == ["text"] + ["resource_link"] * len(outputs), kinds
    assert f"{outputs[0]['duration_seconds']:g} s" in shown.content[0].text  # type: ignore[union-attr]
    blob = read.contents[0]
    assert Path(outputs[0]["path"]).read_bytes()[:3] == b"ID3"
    assert getattr(blob, "blob", None), "the media:// resource serves the file"
    callbacks = [attempt for attempt in sandbox.callbacks if attempt.ok]
    assert len(callbacks) == (1 if webhooks else 0)


async def test_sunos_intermediate_callbacks_leave_the_job_running(tmp_path: Path) -> None:
    """kie sends Suno's `text` and `first` stages before `complete`: they are acknowledged and
    only re-read the task; the job finishes on the final stage."""
    async with sandbox_and_runtime(tmp_path, video_seconds=3.0) as (sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            job = await call(
                client,
                "generate_audio",
                {"prompt": "a song", "model": "suno", "wait_seconds": 0},
            )
            [task] = sandbox.tasks.values()
            assert task.callback_url is not None
            stages = []
            async with httpx2.AsyncClient() as http:
                for stage in ("text", "first"):
                    body = {
                        "code": 200,
                        "msg": f"{stage} generation completed successfully.",
                        "data": {"callbackType": stage, "task_id": task.task_id, "data": []},
                    }
                    stages.append((await http.post(task.callback_url, json=body)).status_code)
            store = runtime.engine.store

            async def both_handled() -> bool:
                sql = "SELECT count(*) AS n FROM webhook_inbox WHERE processed_at IS NOT NULL"
                row = await store.db.fetch_one(sql)
                return row is not None and row["n"] == 2

            await eventually(both_handled, what="both early deliveries handled")
            early = await runtime.engine.get(job["job_id"])
            done = await call(client, "get_status", {"job_id": job["job_id"], "wait_seconds": 20})
    assert stages == [200, 200]
    assert early is not None and early.status.value == "processing"
    assert done["status"] == "completed" and len(done["outputs"]) == 2


async def test_a_song_without_credits_is_refused_plainly(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path, webhooks=False) as (sandbox, runtime):
        sandbox.credits = 5
        async with Client(build_server(runtime.tools)) as client:
            result = await client.call_tool("generate_audio", {"prompt": "a song", "model": "suno"})
    assert result.is_error
    assert "too few credits" in result.content[0].text  # type: ignore[union-attr]
    assert sandbox.tasks == {}


async def test_audio_goes_through_the_media_store_and_is_served_with_its_type_and_ranges(
    tmp_path: Path, media_url: str | None
) -> None:
    """Speech and songs are kept in the configured media store (a local folder or an S3
    bucket), served over /media with their type and byte ranges, and deleted from it."""
    async with sandbox_and_runtime(tmp_path, media_url=media_url) as (_sandbox, runtime):
        media = runtime.tools.library.media
        async with Client(build_server(runtime.tools)) as client:
            job = await call(client, "generate_audio", {"prompt": "Ahoy.", "wait_seconds": 20})
            song = await call(
                client, "generate_audio", {"prompt": "a shanty", "model": "suno", "wait_seconds": 0}
            )
            song = await call(client, "get_status", {"job_id": song["job_id"], "wait_seconds": 20})
            assert job["status"] == song["status"] == "completed", (job, song)
            paths = [o["path"] for o in job["outputs"] + song["outputs"]]
            data = [await stored(media, path) for path in paths]
            assert all(path.startswith(media.root) for path in paths)
            assert all(blob and blob[:3] == b"ID3" for blob in data)
            url = job["outputs"][0]["url"]
            async with httpx2.AsyncClient() as http:
                whole = await http.get(url)
                part = await http.get(url, headers={"Range": "bytes=100-199"})
                thumb = await http.get(url + "/thumbnail")
            gone = await call(client, "delete_media", {"job_id": song["job_id"]})
            left = [await stored(media, path) for path in paths]
    assert whole.status_code == 200 and whole.headers["content-type"] == "audio/mpeg"
    assert whole.content == data[0]
    assert part.status_code == 206 and part.content == whole.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    assert thumb.status_code == 404  # a sound has no picture
    assert gone["jobs_deleted"] == 1 and gone["bytes_freed"] > 0
    assert left[0] == data[0] and left[1:] == [None, None]


async def test_wrong_audio_arguments_are_refused_before_anything_is_sent(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path, webhooks=False) as (sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            answers: dict[str, Any] = {}
            for name, args in {
                "voice": {"voice": "Rachel"},
                "style-outside-custom": {"model": "suno", "style": "jazz"},
                "voice-for-suno": {"model": "suno", "voice": "EkK5I93UQWFDigLMpZcX"},
                "image-model": {"model": "google/nano-banana"},
                "custom-without-title": {
                    "model": "suno",
                    "style": "jazz",
                    "options": {"custom_mode": True, "model": "V4"},
                },
            }.items():
                result = await client.call_tool("generate_audio", {"prompt": "la la", **args})
                assert result.is_error, name
                answers[name] = result.content[0].text  # type: ignore[union-attr]
        assert sandbox.requests == []
    assert "EkK5I93UQWFDigLMpZcX" in answers["voice"]
    assert "custom_mode" in answers["style-outside-custom"]
    assert "does not take 'voice'" in answers["voice-for-suno"]
    assert "generate_image" in answers["image-model"]
    assert "title" in answers["custom-without-title"]


async def test_a_saved_default_audio_model_is_used(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path, webhooks=False) as (sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            refused = await client.call_tool("update_settings", {"audio_model": "z-image"})
            saved = await call(client, "update_settings", {"audio_model": "suno"})
            job = await call(
                client,
                "generate_audio",
                {"prompt": "a waltz", "options": {"model": "V4_5"}, "wait_seconds": 0},
            )
    assert refused.is_error and "generate_image" in refused.content[0].text  # type: ignore[union-attr]
    assert saved["audio_model"] == "suno"
    assert job["model"] == "suno"
    [task] = sandbox.tasks.values()
    assert task.inputs["model"] == "V4_5"
