"""Library edges that scripts/mutation found unguarded: cursors safe to paste into a URL, a
last page that is exactly full, the cursor taken from the last job of a page, assets listed
with their jobs, and deleting one job or every finished job (search index included)."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

import pytest

from mcp_server_kie.domain import Asset, JobStatus, MediaKind
from mcp_server_kie.storage import BadCursor, MediaQuery, Store, decode_cursor
from mcp_server_kie.storage.library import encode_cursor
from test_library import new_job


@pytest.fixture
async def store(tmp_path: Path) -> Store:
    opened = await Store.open(tmp_path / "kie.sqlite3")
    yield opened  # type: ignore[misc]
    await opened.close()


def test_cursors_are_url_safe_unpadded_and_read_back() -> None:
    for n in range(1000):  # ids of every length modulo 3, and encodings ending in any letter
        job_id = "job_" + "x" * (n % 7) + str(n)
        for newest_first in (True, False):
            cursor = encode_cursor(1700000000.25 + n, job_id, newest_first)
            assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor), cursor
            assert decode_cursor(cursor, newest_first) == (1700000000.25 + n, job_id)


async def finish(store: Store, job_id: str, files: int) -> list[Asset]:
    await store.mark_submitted(job_id, f"task_{job_id}")
    now = time.time()
    assets = [
        Asset(f"asset_{job_id}_{i}", job_id, i, MediaKind.IMAGE, f"{job_id}/{i}.png",
              "image/png", 100 + i, "0" * 64, f"https://cdn.example/{job_id}/{i}.png", now)
        for i in range(files)
    ]  # fmt: skip
    assert await store.complete_job(job_id, assets, 4.0)
    return assets


async def test_pages_end_exactly_full_and_carry_their_assets(store: Store) -> None:
    expected = {}
    for i in range(6):
        await store.create_job(new_job(f"job_{i}", f"prompt {i}"))
        expected[f"job_{i}"] = await finish(store, f"job_{i}", i % 3)
    first = await store.list_jobs(MediaQuery(limit=3))
    assert [job.id for job in first.jobs] == ["job_5", "job_4", "job_3"]
    assert first.next_cursor is not None
    assert decode_cursor(first.next_cursor, True)[1] == "job_3"  # the page's last job
    second = await store.list_jobs(
        MediaQuery(limit=3, after=decode_cursor(first.next_cursor, True))
    )
    assert [job.id for job in second.jobs] == ["job_2", "job_1", "job_0"]
    assert second.next_cursor is None  # six jobs: the second page is full and the last
    for job in first.jobs + second.jobs:
        assert list(job.assets) == expected[job.id]
        assert job.status is JobStatus.COMPLETED


async def test_deleting_one_job_keeps_the_others_findable(store: Store) -> None:
    await store.create_job(new_job("job_fox", "a red fox"))
    await store.create_job(new_job("job_owl", "a snowy owl"))
    await store.create_job(new_job("job_emu", "an emu"))
    await store.create_job(new_job("job_cat", "a running cat"))
    for job_id in ("job_fox", "job_owl", "job_emu"):
        await finish(store, job_id, 1)

    async def found(text: str) -> list[str]:
        return [job.id for job in (await store.list_jobs(MediaQuery(text=text))).jobs]

    ids, assets = await store.delete_jobs(["job_fox"])
    assert ids == ["job_fox"] and [a.job_id for a in assets] == ["job_fox"]
    assert await found("fox") == []
    assert await found("owl") == ["job_owl"]

    ids, assets = await store.delete_jobs(None)  # every finished job; the running one stays
    assert sorted(ids) == ["job_emu", "job_owl"]
    assert sorted(a.id for a in assets) == ["asset_job_emu_0", "asset_job_owl_0"]
    assert await found("owl") == [] and await found("emu") == []
    assert await found("cat") == ["job_cat"]
    assert [job.id for job in (await store.list_jobs(MediaQuery())).jobs] == ["job_cat"]
    assert await store.delete_jobs(None) == ([], [])


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",  # not base64 of JSON
        _cursor(b'["1.5", "job_x", "newest"]'),  # fields of the wrong type
        _cursor(b"[1" + b"0" * 400 + b', "job_x", "newest"]'),  # too large for a timestamp
        _cursor(b'[Infinity, "job_x", "newest"]'),  # not a finite time
        _cursor(b'[NaN, "job_x", "newest"]'),
    ],
)
def test_a_cursor_not_handed_out_is_refused_in_one_sentence(cursor: str) -> None:
    with pytest.raises(BadCursor) as refused:
        decode_cursor(cursor, True)
    assert str(refused.value) == "cursor is not one this server handed out"


def test_a_cursor_for_the_other_order_says_to_start_again() -> None:
    with pytest.raises(BadCursor) as refused:
        decode_cursor(_cursor(b'[1.5, "job_x", "oldest"]'), True)
    assert str(refused.value) == "cursor belongs to the other sort order; start again without it"
