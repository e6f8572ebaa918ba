"""The sweep of unreferenced objects, on both media backends (a local folder; a bucket on a
real S3-compatible server) and both databases: files a killed writer published but never
recorded are removed once old enough, and nothing else is: not a recorded file or preview, not
a file of a job still running, not a fresh file, not a name no writer gives, not a download
still being written; and only by the replica holding the sweep lease."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from mcp import Client

from mcp_server_kie.domain import Job
from mcp_server_kie.jobs.sweep import LEASE, OrphanSweep
from mcp_server_kie.media import MediaStore
from mcp_server_kie.media.tempfiles import held, temp_path
from mcp_server_kie.server.app import build_server
from media_backends import contents, stored
from support import call, eventually, previews_made, sandbox_and_runtime

HOUR = 3600.0


def folder(job: Job) -> str:
    """The job's folder in the store (jobs.outputs: YYYY/MM/DD/job_id)."""
    return f"{time.strftime('%Y/%m/%d', time.gmtime(job.created_at))}/{job.id}"


async def left_behind(media: MediaStore, job: Job, index: int = 0) -> list[str]:
    """What a writer killed after publishing (before recording) leaves: a file and its
    preview under their own write-once names (as jobs.outputs names them)."""
    name = f"{folder(job)}/{index}-{secrets.token_hex(4)}"
    preview = f"{name}.{secrets.token_hex(4)}.thumb.jpg"
    return [
        await media.publish(b"\x89PNG killed writer", f"{name}.png", "image/png"),
        await media.publish(b"\xff\xd8 preview", preview, "image/jpeg"),
    ]


async def test_the_sweep_removes_only_old_unreferenced_files_of_finished_jobs(
    tmp_path: Path, media_url: str | None, database_url: str
) -> None:
    async with sandbox_and_runtime(
        tmp_path,
        webhooks=False,
        video_seconds=600,  # the video job keeps running throughout
        media_url=media_url,
        database_url=database_url,
    ) as (_sandbox, runtime):
        store, media = runtime.engine.store, runtime.tools.library.media
        async with Client(build_server(runtime.tools)) as client:
            done = await call(client, "generate_image", {"prompt": "a kite", "wait_seconds": 30})
            running = await call(client, "generate_video", {"prompt": "a kite", "wait_seconds": 0})
        finished = await eventually(
            lambda: previews_made(runtime, done["job_id"]), what="the image's preview"
        )
        still_running = await store.get_job(running["job_id"])
        assert finished is not None and finished.status.value == "completed"
        assert still_running is not None and still_running.status.value == "processing"
        [asset] = finished.assets
        kept = [asset.path, asset.thumbnail_path]
        orphans = await left_behind(media, finished, 0) + await left_behind(media, finished, 1)
        of_running = await left_behind(media, still_running)
        other_name = await media.publish(b"not ours", f"{folder(finished)}/notes.txt", "text/plain")

        fresh = await OrphanSweep(store, media, min_age=HOUR).sweep()
        assert fresh.removed == 0 and not fresh.skipped  # everything is younger than an hour

        later = OrphanSweep(store, media, min_age=HOUR, clock=lambda: time.time() + 2 * HOUR)
        assert await store.claim_lease(LEASE, "another-replica:1:sweeping", 30)
        assert (await later.sweep()).skipped  # another replica is sweeping
        await store.release_lease(LEASE, "another-replica:1:sweeping")
        if media.backend == "local":  # a download still being written: a held temporary file
            writing = temp_path(Path(media.root) / folder(finished) / "2-0badcafe.png")
            with held(writing):
                swept = await later.sweep()
                assert writing.exists()
        else:
            swept = await later.sweep()
        again = await later.sweep()

        left = set(await contents(media))
        assert swept.removed == len(orphans) == 4 and again.removed == 0
        assert swept.freed == 2 * (len(b"\x89PNG killed writer") + len(b"\xff\xd8 preview"))
        assert not left & set(orphans)
        assert set(kept) | set(of_running) | {other_name} <= left
        assert await stored(media, asset.path) is not None
        assert await store.lease_holder(LEASE) is None


async def test_files_of_a_deleted_job_are_swept(
    tmp_path: Path, media_url: str | None, database_url: str
) -> None:
    async with sandbox_and_runtime(
        tmp_path, webhooks=False, media_url=media_url, database_url=database_url
    ) as (_sandbox, runtime):
        store, media = runtime.engine.store, runtime.tools.library.media
        async with Client(build_server(runtime.tools)) as client:
            done = await call(client, "generate_image", {"prompt": "a boat", "wait_seconds": 30})
        job = await eventually(lambda: previews_made(runtime, done["job_id"]), what="previews")
        orphans = await left_behind(media, job)
        # The library deletes the job and its recorded files; the leftovers stay behind.
        await runtime.tools.library.delete_job(job.id)
        assert set(orphans) <= set(await contents(media))
        swept = await OrphanSweep(
            store, media, min_age=HOUR, clock=lambda: time.time() + 2 * HOUR
        ).sweep()
        assert swept.removed == 2
        assert not set(await contents(media)) & set(orphans)


async def test_a_starting_server_sweeps_what_a_killed_one_left(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path, webhooks=False) as (_sandbox, runtime):
        media = runtime.tools.library.media
        async with Client(build_server(runtime.tools)) as client:
            done = await call(client, "generate_image", {"prompt": "a hat", "wait_seconds": 30})
        job = await eventually(lambda: previews_made(runtime, done["job_id"]), what="previews")
        orphans = await left_behind(media, job)
    # The next start, with a short safe age, sweeps them in the background (KIE_ORPHAN_AGE_SECONDS).
    async with sandbox_and_runtime(tmp_path, webhooks=False, orphan_age_seconds=0.5) as (
        _sandbox,
        runtime,
    ):
        media = runtime.tools.library.media

        async def swept() -> bool:
            return not set(await contents(media)) & set(orphans)

        await eventually(swept, timeout=20, what="the start-up sweep")
        assert {job.assets[0].path, job.assets[0].thumbnail_path} <= set(await contents(media))
