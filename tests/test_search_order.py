"""Prompt search reads its index newest first and stops after a page, on both backends.

Not timed: the guards read the query plan of the exact SQL the store runs (storage.library's
page_sql) and fail if it sorts every match before keeping a page. The paging checks hold the
result to the library's order, (created_at, id), ties on the timestamp included.
"""

from __future__ import annotations

import random
import re
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql as pgsql

from mcp_server_kie.domain import MediaKind
from mcp_server_kie.storage import MediaQuery, Store
from mcp_server_kie.storage.database import Transaction
from mcp_server_kie.storage.library import page_sql
from mcp_server_kie.storage.sqlite.opening import _statements
from mcp_server_kie.storage.sqlite.schema import MIGRATIONS

WORDS = ["sunset", "forest", "harbour", "neon", "portrait", "misty", "castle", "river"]


async def fill(store: Store, jobs: list[tuple[str, str, str, float]]) -> None:
    """(id, kind, prompt, created_at) rows, inserted as given (not in the library's order)."""

    async def insert(conn: Transaction) -> None:
        await conn.execute_many(
            "INSERT INTO jobs (id, kind, family, model, prompt, params, status, created_at,"
            " updated_at) VALUES (?, ?, 'market', 'google/nano-banana', ?, '{}', 'completed',"
            " ?, ?)",
            [(job_id, kind, prompt, created, created) for job_id, kind, prompt, created in jobs],
        )

    await store.db.write(insert)


async def walk(store: Store, **query: Any) -> list[str]:
    """Every id of a search, page by page through the cursors."""
    seen: list[str] = []
    after = None
    while True:
        page = await store.list_jobs(MediaQuery(limit=4, after=after, **query))
        seen += [job.id for job in page.jobs]
        if page.next_cursor is None:
            return seen
        last = page.jobs[-1]
        after = (last.created_at, last.id)


async def test_search_pages_follow_created_at_then_id_through_ties(database_url: str) -> None:
    rng = random.Random(7)
    base = 1_790_000_000.0
    # Groups of jobs on one timestamp, jobs a fraction of a microsecond apart (one index
    # microsecond, different times) and plain ones, inserted in shuffled order.
    times = [base + 1, base + 1, base + 1, base + 2.0000001, base + 2.0000004, base + 2.0000002]
    times += [base + 3 + i for i in range(12)] + [base + 20] * 5
    jobs = [
        (f"job_{rng.randrange(16**6):06x}_{i:02d}", "video" if i % 3 else "image", prompt, t)
        for i, t in enumerate(times)
        for prompt in [f"a {'cat' if i % 4 else 'dog'} in {rng.choice(WORDS)}"]
    ]
    rng.shuffle(jobs)
    store = await Store.connect(database_url)
    try:
        await fill(store, jobs)
        for query in ({"text": "ca"}, {"text": "a cat", "kind": MediaKind.VIDEO}):
            matching = [
                (t, job_id)
                for job_id, kind, prompt, t in jobs
                if all(
                    any(word.startswith(prefix) for word in prompt.split())
                    for prefix in query["text"].split()
                )
                and query.get("kind", MediaKind(kind)).value == kind
            ]
            assert 5 < len(matching) < len(jobs)
            for newest_first in (True, False):
                expected = [job_id for _, job_id in sorted(matching, reverse=newest_first)]
                assert await walk(store, newest_first=newest_first, **query) == expected
    finally:
        await store.close()


SHAPES: list[dict[str, Any]] = [
    {"text": "sunset"},
    {"text": "sun misty"},
    {"text": "sunset", "kind": MediaKind.IMAGE},
    {"text": "sunset", "model": "google/nano-banana", "since": 1.0},
    {"text": "sunset", "after": (1_790_000_500.0, "job_x")},
    {"text": "sunset", "newest_first": False, "after": (1_790_000_500.0, "job_x")},
]


async def library_with_a_common_word(database_url: str) -> Store:
    """3,000 jobs: every prompt has "sunset" and "misty", three have "zebra", the
    rest of each prompt comes from 300 words (PostgreSQL estimates a word prefix's frequency
    from its statistics only when they hold 100 words or more, as any real library's do)."""
    rng = random.Random(3)
    vocabulary = [f"{word}{n}" for word in WORDS for n in range(40)]
    jobs = [
        (
            f"job_{i:06d}",
            "image" if i % 5 else "video",
            " ".join(
                ["sunset", "misty", *rng.choices(vocabulary, k=6)] + ["zebra"] * (i % 1000 == 0)
            ),
            1_790_000_000.0 + i,
        )
        for i in range(3000)
    ]
    store = await Store.connect(database_url)
    await fill(store, jobs)
    if store.backend_kind == "postgresql":  # what autovacuum does after a bulk change
        await store.db.write(lambda conn: conn.execute("ANALYZE jobs"))
    return store


async def plan(store: Store, query: MediaQuery) -> str:
    sql, params = page_sql(query, store.db.dialect)
    if store.backend_kind == "sqlite":
        rows = await store.db.fetch_all(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row["detail"]) for row in rows)
    rows = await store.db.fetch_all(f"EXPLAIN {sql}", params)
    return "\n".join(str(row["QUERY PLAN"]) for row in rows)


async def generic_plan(database_url: str, query: MediaQuery, store: Store) -> str:
    """PostgreSQL's plan for the store's SQL as a prepared statement that settled on a generic
    plan (psycopg prepares a query it runs five times; the server may then stop re-planning)."""
    sql, params = page_sql(query, store.db.dialect)
    numbers = iter(range(1, len(params) + 1))
    text = re.sub(r"\?", lambda _: f"${next(numbers)}", sql)
    values = pgsql.SQL(", ").join(pgsql.Literal(value) for value in params)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        await conn.execute(f"PREPARE page AS {text}".encode())
        cursor = await conn.execute(pgsql.SQL("EXPLAIN EXECUTE page({})").format(values))
        return "\n".join(str(row[0]) for row in await cursor.fetchall())


async def test_a_common_word_is_searched_without_sorting_its_matches(database_url: str) -> None:
    store = await library_with_a_common_word(database_url)
    try:
        for shape in SHAPES:
            text = await plan(store, MediaQuery(limit=50, **shape))
            if store.backend_kind == "sqlite":
                # FTS5 hands out matches in rowid (= creation) order, newest first or oldest
                # first; sorting them would show as a temporary B-tree.
                assert "TEMP B-TREE" not in text, f"{shape} sorts every match:\n{text}"
                assert "SCAN jobs_fts VIRTUAL TABLE" in text, text
            else:
                # Every job matches: the plan must walk a (created_at, id) index and stop,
                # also once the statement is prepared and planned without its parameters:
                # the words must still be in it, or the planner would assume a default
                # frequency (and, in a large library, sort every match).
                assert "Sort" not in text, f"{shape} sorts every match:\n{text}"
                assert "Limit" in text and "Index Scan" in text, text
                generic = await generic_plan(database_url, MediaQuery(limit=50, **shape), store)
                assert "Sort" not in generic, f"{shape} prepared sorts every match:\n{generic}"
                assert "'sun" in generic, f"{shape} is planned without its words:\n{generic}"
    finally:
        await store.close()


async def test_a_rare_word_sorts_only_its_own_matches(database_url: str) -> None:
    store = await library_with_a_common_word(database_url)
    try:
        text = await plan(store, MediaQuery(limit=50, text="zebra"))
        if store.backend_kind == "sqlite":
            assert "TEMP B-TREE" not in text, text
        else:
            # Three matches in 3,000: reading them and sorting those three beats walking the
            # date index through every job (the planner's choice); a sort, if any, is of the
            # few rows the planner expects to match (a word missing from the statistics'
            # commonest prefixes is estimated at half the rarest one's frequency: a handful).
            sorted_rows = [int(n) for n in re.findall(r"Sort  \(cost=\S+ rows=(\d+)", text)]
            assert all(n <= 30 for n in sorted_rows), text
        page = await store.list_jobs(MediaQuery(limit=50, text="zebra"))
        assert [job.id for job in page.jobs] == ["job_002000", "job_001000", "job_000000"]
    finally:
        await store.close()


async def test_a_library_from_before_the_ordered_index_is_searched_in_order_after_upgrading(
    tmp_path: Path,
) -> None:
    """Schema 11 rebuilds the SQLite index in place: rows inserted out of date order (the old
    index numbered them by insertion) come back newest first, and deleting still unindexes."""
    path = tmp_path / "db.sqlite3"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:10]:
        for statement in _statements(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version=10")
    for job_id, created in (("job_b", 20.0), ("job_c", 30.0), ("job_a", 20.0), ("job_d", 5.0)):
        conn.execute(
            "INSERT INTO jobs (id, kind, model, prompt, params, status, created_at, updated_at)"
            " VALUES (?, 'image', 'z-image', 'a lighthouse at dusk', '{}', 'completed', ?, ?)",
            (job_id, created, created),
        )
    conn.commit()
    conn.close()
    store = await Store.open(path)
    try:
        assert await walk(store, text="lightho") == ["job_c", "job_b", "job_a", "job_d"]
        assert await walk(store, text="dusk", newest_first=False) == [
            "job_d",
            "job_a",
            "job_b",
            "job_c",
        ]
        await store.delete_jobs(["job_b"])
        assert await walk(store, text="lighthouse") == ["job_c", "job_a", "job_d"]
        row = await store.db.fetch_one("SELECT count(*) AS n FROM jobs_fts")
        assert row is not None and row["n"] == 3
    finally:
        await store.close()


async def test_the_index_refuses_a_1025th_job_in_one_microsecond(tmp_path: Path) -> None:
    """Each microsecond holds 1,024 index rowids; one more would sort into the next one."""
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        same = 1_790_000_000.25
        await fill(store, [(f"job_{i:04d}", "image", "a cat", same) for i in range(1024)])
        with pytest.raises(sqlite3.IntegrityError, match="1024 jobs created in one microsecond"):
            await fill(store, [("job_late", "image", "a cat", same)])
        assert len(await walk(store, text="cat")) == 1024
    finally:
        await store.close()
