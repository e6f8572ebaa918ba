"""The media library: finding (filters, prompt search, stable paging), deleting, resources with
update notifications in both protocol eras, and the local /media and /events routes."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.types import BlobResourceContents, ResourceUpdatedNotification, TextResourceContents

from mcp_server_kie.domain import ApiFamily, JobStatus, MediaKind
from mcp_server_kie.sandbox import SandboxConfig, serve_sandbox
from mcp_server_kie.server.app import build_server
from mcp_server_kie.server.runtime import open_runtime
from mcp_server_kie.storage import MediaQuery, NewJob, Store, decode_cursor
from media_backends import stored
from support import (
    SANDBOX_KEY,
    call,
    eventually,
    previews_made,
    sandbox_and_runtime,
    settings_for,
)


def new_job(job_id: str, prompt: str, **overrides: Any) -> NewJob:
    fields: dict[str, Any] = {
        "id": job_id,
        "kind": MediaKind.IMAGE,
        "family": ApiFamily.MARKET,
        "model": "google/nano-banana",
        "prompt": prompt,
        "params": {},
        "callback_token_hash": None,
        "callback_expected": False,
        "idempotency_key": None,
        "expected_credits": None,
        **overrides,
    }
    return NewJob(**fields)


async def test_paging_returns_every_item_once_while_new_jobs_arrive(database_url: str) -> None:
    store = await Store.connect(database_url)
    try:
        for i in range(40):
            await store.create_job(new_job(f"job_{i:03d}", f"prompt {i}"))
        for newest_first in (True, False):
            seen: list[str] = []
            after = None
            extra = 0
            while True:
                page = await store.list_jobs(
                    MediaQuery(limit=7, newest_first=newest_first, after=after)
                )
                seen += [job.id for job in page.jobs]
                # Someone generates more between pages.
                await store.create_job(new_job(f"job_new_{newest_first}_{extra}", "late"))
                extra += 1
                if page.next_cursor is None:
                    break
                after = decode_cursor(page.next_cursor, newest_first)
            originals = [job_id for job_id in seen if not job_id.startswith("job_new")]
            assert len(seen) == len(set(seen)), "an item came twice"
            assert sorted(originals) == [f"job_{i:03d}" for i in range(40)]
            if newest_first:  # later items are newer than the cursor: never shown mid-walk
                assert originals == seen
    finally:
        await store.close()


async def test_search_and_filters_combine(database_url: str) -> None:
    store = await Store.connect(database_url)
    try:
        await store.create_job(new_job("job_a", "A red fox jumping over snow", client_ref="n1"))
        await store.create_job(new_job("job_b", "A blue whale; deep ocean", client_ref="n2"))
        await store.create_job(
            new_job(
                "job_c", "Red sports car", kind=MediaKind.VIDEO, model="kling-2.6/text-to-video"
            )
        )
        await store.mark_submitted("job_b", "task_b")

        async def ids(**query: Any) -> list[str]:
            return [job.id for job in (await store.list_jobs(MediaQuery(**query))).jobs]

        assert await ids(text="red") == ["job_c", "job_a"]
        assert await ids(text="RED fox") == ["job_a"]
        assert await ids(text="whal") == ["job_b"]  # word prefixes match
        assert await ids(text='ocean" OR "red') == []  # user text is words, not FTS syntax
        assert await ids(text="!!!") == []
        assert await ids(kind=MediaKind.VIDEO) == ["job_c"]
        assert await ids(model="google/nano-banana") == ["job_b", "job_a"]
        assert await ids(status=JobStatus.PROCESSING) == ["job_b"]
        assert await ids(client_ref="n1") == ["job_a"]
        assert await ids(text="red", kind=MediaKind.IMAGE) == ["job_a"]
        assert await ids(since=time.time() + 60) == []
        assert await ids(until=time.time() + 60, newest_first=False) == ["job_a", "job_b", "job_c"]
    finally:
        await store.close()


async def test_list_media_tool_pages_and_explains_bad_arguments(
    tmp_path: Path, database_url: str
) -> None:
    async with sandbox_and_runtime(tmp_path, database_url=database_url) as (_sandbox, runtime):
        for i in range(5):
            await runtime.engine.store.create_job(new_job(f"job_{i}", f"lighthouse {i}"))
        async with Client(build_server(runtime.tools)) as client:
            first = await call(client, "list_media", {"limit": 3, "query": "lighthouse"})
            assert [item["job_id"] for item in first["items"]] == ["job_4", "job_3", "job_2"]
            rest = await call(
                client,
                "list_media",
                {"limit": 3, "query": "lighthouse", "cursor": first["next_cursor"]},
            )
            assert [item["job_id"] for item in rest["items"]] == ["job_1", "job_0"]
            assert rest["next_cursor"] is None
            for args, hint in [
                ({"cursor": "garbage"}, "cursor"),
                ({"cursor": first["next_cursor"], "sort": "oldest"}, "sort order"),
                ({"since": "yesterday"}, "ISO 8601"),
                ({"kind": "sound"}, "image"),
            ]:
                result = await client.call_tool("list_media", args)
                assert result.is_error, args
                assert hint in result.content[0].text  # type: ignore[union-attr]


async def test_delete_media_removes_files_and_rows(
    tmp_path: Path, media_url: str | None, database_url: str
) -> None:
    async with sandbox_and_runtime(tmp_path, media_url=media_url, database_url=database_url) as (
        _sandbox,
        runtime,
    ):
        media = runtime.tools.library.media
        assert media.backend == ("local" if media_url is None else "s3")
        async with Client(build_server(runtime.tools)) as client:
            jobs = [
                await call(client, "generate_image", {"prompt": f"cat {i}", "wait_seconds": 20})
                for i in range(3)
            ]
            assert all(job["status"] == "completed" for job in jobs)
            paths = [job["outputs"][0]["path"] for job in jobs]
            assert all([await stored(media, path) for path in paths])
            assert all(path.startswith(media.root) for path in paths)

            one = await call(
                client, "delete_media", {"asset_id": jobs[0]["outputs"][0]["asset_id"]}
            )
            assert one["files_deleted"] >= 1 and one["bytes_freed"] > 0
            assert await stored(media, paths[0]) is None
            still = await call(client, "get_status", {"job_id": jobs[0]["job_id"]})
            assert still["outputs"] == []

            whole = await call(client, "delete_media", {"job_id": jobs[1]["job_id"]})
            assert whole["jobs_deleted"] == 1 and await stored(media, paths[1]) is None
            if media_url is None:
                assert not Path(paths[1]).parent.exists(), "empty job directory left behind"
            gone = await client.call_tool("get_status", {"job_id": jobs[1]["job_id"]})
            assert gone.is_error

            for args, hint in [
                ({"everything": True}, "delete everything"),
                ({"everything": True, "confirm": "yes"}, "delete everything"),
                ({}, "exactly one"),
                ({"job_id": jobs[2]["job_id"], "asset_id": "asset_x"}, "exactly one"),
                ({"job_id": "job_nope"}, "No job"),
            ]:
                refused = await client.call_tool("delete_media", args)
                assert refused.is_error, args
                assert hint in refused.content[0].text  # type: ignore[union-attr]
            assert await stored(media, paths[2])

            running = await call(
                client, "generate_video", {"prompt": "slow [sandbox:slow]", "wait_seconds": 0}
            )
            refused = await client.call_tool("delete_media", {"job_id": running["job_id"]})
            assert refused.is_error and "still" in refused.content[0].text  # type: ignore[union-attr]

            cleared = await call(
                client, "delete_media", {"everything": True, "confirm": "delete everything"}
            )
            assert cleared["jobs_deleted"] == 2  # the two finished jobs; the running one stays
            assert await stored(media, paths[2]) is None
            left = await call(client, "list_media", {})
            assert [item["job_id"] for item in left["items"]] == [running["job_id"]]


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
async def test_resources_serve_files_and_announce_finished_jobs(
    tmp_path: Path, media_url: str | None, database_url: str
) -> None:
    async with sandbox_and_runtime(
        tmp_path, video_seconds=1.0, media_url=media_url, database_url=database_url
    ) as (
        _sandbox,
        runtime,
    ):
        server = build_server(runtime.tools)
        legacy_updates: list[str] = []

        async def on_message(message: object) -> None:
            if isinstance(message, ResourceUpdatedNotification):
                legacy_updates.append(str(message.params.uri))

        async with (
            Client(server) as modern,
            Client(server, mode="legacy", message_handler=on_message) as legacy,
        ):
            job = await call(modern, "generate_video", {"prompt": "waves", "wait_seconds": 0})
            uri = f"job://{job['job_id']}"
            await legacy.subscribe_resource(uri)
            async with modern.listen(resource_subscriptions=[uri]) as updates:
                async with asyncio.timeout(20):
                    async for event in updates:
                        assert str(event.uri) == uri  # type: ignore[union-attr]
                        status = json.loads(
                            (await modern.read_resource(uri)).contents[0].text  # type: ignore[union-attr]
                        )["status"]
                        if status == "completed":
                            break
            await eventually(lambda: uri in legacy_updates, what="legacy resources/updated")

            await eventually(lambda: previews_made(runtime, job["job_id"]), what="the preview")
            done = await call(modern, "get_status", {"job_id": job["job_id"]})
            output = done["outputs"][0]
            media = (await modern.read_resource(output["uri"])).contents[0]
            assert isinstance(media, BlobResourceContents)
            assert media.mime_type == "video/mp4"
            assert len(media.blob) > 0
            assert base64.b64decode(media.blob) == await stored(
                runtime.tools.library.media, output["path"]
            )
            thumb = (await modern.read_resource(output["uri"] + "/thumbnail")).contents[0]
            assert isinstance(thumb, BlobResourceContents) and thumb.mime_type == "image/jpeg"
            status_json = (await modern.read_resource(uri)).contents[0]
            assert isinstance(status_json, TextResourceContents)
            assert json.loads(status_json.text)["outputs"][0]["asset_id"] == output["asset_id"]
            with pytest.raises(Exception, match="No file"):
                await modern.read_resource("media://asset_" + "0" * 24)


async def test_events_stream_a_job_in_order(tmp_path: Path, database_url: str) -> None:
    async with sandbox_and_runtime(tmp_path, database_url=database_url) as (_sandbox, runtime):
        assert runtime.sidecar_url
        statuses: list[str] = []
        async with httpx2.AsyncClient(timeout=20) as http:
            async with http.stream("GET", f"{runtime.sidecar_url}/events") as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                lines = stream.aiter_lines()
                async with asyncio.timeout(20):  # the headers come before the stream watches
                    async for line in lines:
                        if line.startswith(": watching jobs"):
                            break
                async with Client(build_server(runtime.tools)) as client:
                    job = await call(client, "generate_image", {"prompt": "owl", "wait_seconds": 0})
                    async with asyncio.timeout(20):
                        async for line in lines:
                            if not line.startswith("data:"):
                                continue
                            event = json.loads(line.removeprefix("data:").strip())
                            assert event["job_id"] == job["job_id"]
                            statuses.append(event["status"])
                            if event["status"] == "completed":
                                break
        deduped = [s for i, s in enumerate(statuses) if i == 0 or s != statuses[i - 1]]
        assert deduped == ["pending", "processing", "completed"]


async def test_media_routes_serve_by_id_with_ranges_and_only_locally(
    tmp_path: Path, media_url: str | None, database_url: str
) -> None:
    async with sandbox_and_runtime(tmp_path, media_url=media_url, database_url=database_url) as (
        _sandbox,
        runtime,
    ):
        base = runtime.sidecar_url
        async with Client(build_server(runtime.tools)) as client:
            job = await call(client, "generate_video", {"prompt": "river", "wait_seconds": 20})
        await eventually(lambda: previews_made(runtime, job["job_id"]), what="the preview")
        output = job["outputs"][0]
        data = await stored(runtime.tools.library.media, output["path"])
        assert data
        assert output["url"] == f"{base}/media/{output['asset_id']}"
        async with httpx2.AsyncClient() as http:
            whole = await http.get(output["url"])
            assert whole.status_code == 200
            assert whole.headers["content-type"] == "video/mp4"
            assert whole.content == data
            assert "immutable" in whole.headers["cache-control"]
            part = await http.get(output["url"], headers={"Range": "bytes=10-19"})
            assert part.status_code == 206
            assert part.content == data[10:20]
            assert part.headers["content-range"] == f"bytes 10-19/{len(data)}"
            tail = await http.get(output["url"], headers={"Range": "bytes=-7"})
            assert tail.status_code == 206 and tail.content == data[-7:]
            head = await http.head(output["url"])
            assert head.status_code == 200
            assert head.headers["content-length"] == str(len(data)) and head.content == b""
            beyond = await http.get(output["url"], headers={"Range": f"bytes={len(data)}-"})
            assert beyond.status_code == 416
            saved = await http.get(output["url"] + "?download=1")
            assert saved.headers["content-disposition"].startswith("attachment")
            thumb = await http.get(output["url"] + "/thumbnail")
            assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
            for path in [
                "/media/asset_" + "0" * 24,
                "/media/..%2f..%2fetc%2fpasswd",
                "/media/%2e%2e/kie.sqlite3",
                "/media/../kie.sqlite3",
                "/files/..%2f..%2fetc/passwd",
                "/kie.sqlite3",
                "/media",
            ]:
                response = await http.get(f"{base}{path}")
                assert response.status_code == 404, path
            proxied = await http.get(output["url"], headers={"X-Forwarded-For": "203.0.113.9"})
            assert proxied.status_code == 404
            foreign_host = await http.get(output["url"], headers={"Host": "abc.example.com"})
            assert foreign_host.status_code == 404
            events = await http.get(f"{base}/events", headers={"X-Forwarded-For": "203.0.113.9"})
            assert events.status_code == 404


async def test_jobs_finishing_after_the_call_or_a_restart_are_saved_and_thumbnailed(
    tmp_path: Path, media_url: str | None, database_url: str
) -> None:
    async def assert_saved(job: Any, runtime: Any) -> None:
        media = runtime.tools.library.media
        assert job.status is JobStatus.COMPLETED
        [asset] = job.assets
        data = await stored(media, asset.path)
        assert data and hashlib.sha256(data).hexdigest() == asset.sha256
        assert asset.width and asset.height and asset.duration
        assert asset.thumbnail_path and await media.size(asset.thumbnail_path) < 64 * 1024

    # A callback long after the tool call returned.
    async with sandbox_and_runtime(
        tmp_path / "late", video_seconds=2, media_url=media_url, database_url=database_url
    ) as (
        sandbox,
        runtime,
    ):
        async with Client(build_server(runtime.tools)) as client:
            late = await call(client, "generate_video", {"prompt": "tide", "wait_seconds": 0})
        assert late["status"] == "processing"
        job = await eventually(
            lambda: _terminal(runtime, late["job_id"]), timeout=20, what="the late job"
        )
        await assert_saved(job, runtime)
        assert len(sandbox.callbacks) >= 1

    # The server stops mid-job; the next start's reconciler finds it finished at kie.
    data = tmp_path / "restart"
    config = SandboxConfig(api_key=SANDBOX_KEY, video_seconds=2)
    async with serve_sandbox(config) as sandbox:
        settings = settings_for(sandbox, data, webhooks=False)
        settings = settings.model_copy(
            update={"media_url": media_url, "database_url": database_url}
        )
        async with open_runtime(settings) as runtime:
            async with Client(build_server(runtime.tools)) as client:
                started = await call(
                    client, "generate_video", {"prompt": "dune", "wait_seconds": 0}
                )
        assert started["status"] == "processing"
        async with open_runtime(settings) as runtime:
            job = await eventually(
                lambda: _terminal(runtime, started["job_id"]), timeout=20, what="the reconciler"
            )
            await assert_saved(job, runtime)
        assert len(sandbox.tasks) == 1


async def _terminal(runtime: Any, job_id: str) -> Any:
    return await previews_made(runtime, job_id)  # terminal, previews made
