"""Schema 5 makes audio a media kind: an existing library migrates with every job, file, event
and search entry kept, and audio jobs can then be stored and found."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mcp_server_kie.domain import ApiFamily, MediaKind
from mcp_server_kie.storage import NewJob, Store
from mcp_server_kie.storage.database import Transaction
from mcp_server_kie.storage.library import MediaQuery
from mcp_server_kie.storage.sqlite.opening import _statements
from mcp_server_kie.storage.sqlite.schema import MIGRATIONS


def library_at_schema_4(path: Path) -> None:
    """A database as the previous release left it, with one finished image job."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys=ON")
    for script in MIGRATIONS[:4]:
        for statement in _statements(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version=4")
    conn.execute(
        "INSERT INTO jobs (id, kind, model, prompt, params, status, created_at, updated_at,"
        " client_ref) VALUES ('job_old', 'image', 'z-image', 'a lighthouse at dusk', '{}',"
        " 'completed', 1, 2, 'node-7')"
    )
    conn.execute(
        "INSERT INTO assets (id, job_id, idx, kind, path, mime_type, bytes, sha256, source_url,"
        " created_at, thumbnail_path) VALUES ('asset_old', 'job_old', 0, 'image', '/p.png',"
        " 'image/png', 10, 'ab', 'https://x/p.png', 2, '/p.thumb.jpg')"
    )
    conn.execute(
        "INSERT INTO job_events (job_id, at, to_status, cause) VALUES ('job_old', 2,"
        " 'completed', 'callback')"
    )
    conn.commit()
    conn.close()


def audio_job(job_id: str) -> NewJob:
    return NewJob(
        id=job_id,
        kind=MediaKind.AUDIO,
        family=ApiFamily.SUNO,
        model="suno",
        prompt="a sea shanty",
        params={},
        callback_token_hash=None,
        callback_expected=False,
        idempotency_key=None,
        expected_credits=12,
    )


async def test_an_old_library_migrates_and_then_holds_audio(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    library_at_schema_4(path)
    store = await Store.open(path)
    try:
        old = await store.get_job("job_old")
        assert old is not None and old.kind is MediaKind.IMAGE and old.client_ref == "node-7"
        assert [a.thumbnail_path for a in old.assets] == ["/p.thumb.jpg"]
        assert await store.count("job_events") == 1
        found = await store.list_jobs(MediaQuery(text="lighthouse"))
        assert [job.id for job in found.jobs] == ["job_old"]

        await store.create_job(audio_job("job_song"))
        audio = await store.list_jobs(MediaQuery(kind=MediaKind.AUDIO))
        images = await store.list_jobs(MediaQuery(kind=MediaKind.IMAGE))
        assert [job.id for job in audio.jobs] == ["job_song"]
        assert [job.id for job in images.jobs] == ["job_old"]
        assert [job.id for job in (await store.list_jobs(MediaQuery(text="shanty"))).jobs] == [
            "job_song"
        ]

        # The children still follow their job (the foreign keys survived the rebuild).
        async def remove(conn: Transaction) -> None:
            await conn.execute("DELETE FROM jobs WHERE id = 'job_old'")

        await store.db.write(remove)
        assert await store.count("assets") == 0
        left = await store.db.fetch_one(
            "SELECT count(*) AS n FROM job_events WHERE job_id = 'job_old'"
        )
        assert left is not None and left["n"] == 0
        assert (await store.db.fetch_one("PRAGMA foreign_key_check")) is None
    finally:
        await store.close()
