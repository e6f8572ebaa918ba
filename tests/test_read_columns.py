"""Reading jobs takes the columns a Job is made of and no more: not the callback token's hash
(a secret's digest has no reader outside the inbox), and on PostgreSQL not the prompt's
word-prefix vector (most of a row's bytes, which each page of 50 would ship and decode)."""

from __future__ import annotations

import time

from mcp_server_kie.domain import MediaKind
from mcp_server_kie.storage import MediaQuery, Store
from mcp_server_kie.storage.due import DUE_JOBS_SQL
from mcp_server_kie.storage.library import page_sql
from mcp_server_kie.storage.records import JOB_COLUMNS
from test_storage import new_job

NEVER_READ = {"callback_token_hash", "search_prefixes", "idempotency_key", "request_hash"}


async def test_job_reads_name_only_the_columns_a_job_is_made_of(database_url: str) -> None:
    store = await Store.connect(database_url)
    try:
        created = await store.create_job(new_job("job_read_columns", key="k-1"))
        dialect = store.db.dialect
        reads = {
            "search": page_sql(MediaQuery(limit=5, text="a cat"), dialect),
            "page": page_sql(MediaQuery(limit=5, kind=MediaKind.IMAGE), dialect),
            "due": (DUE_JOBS_SQL, [time.time() + 60, 5]),
        }
        for name, (sql, params) in reads.items():
            rows = await store.db.fetch_all(sql, params)
            assert [row["id"] for row in rows] == [created.id], name
            columns = set(rows[0]) - {"search_rowid", "check_at"}  # the reads' own extras
            assert columns == set(JOB_COLUMNS), name
            assert not columns & NEVER_READ, name
        found = await store.get_job(created.id)
        assert found is not None and found.prompt == "a cat"
        assert [job.id for job in await store.open_jobs()] == [created.id]
    finally:
        await store.close()
