"""SQLite prompt search that reads the full-text index newest first and stops after a page.

The FTS5 index's rowid follows the library's order: a job's rowid is its creation time in
whole microseconds times 1024, plus a counter among jobs created in the same microsecond (the
schema's triggers assign it). So FTS5 hands out matches in (created_at) order by rowid alone,
and ``ORDER BY rowid DESC LIMIT 51`` reads about 51 matches however many there are, where
sorting every match by date first read and sorted tens of thousands.

Within one microsecond the counter need not follow the ids, so the page's last microsecond is
read whole (a second, bounded index read, empty almost always); the caller sorts the few rows
by (created_at, id) and keeps the page: paging is exact, ties on the timestamp included.

Every prompt word is a word prefix. FTS5 answers a prefix from a prefix index of that length
(the table keeps one for lengths 1 to 20) as cheaply as a whole word; without one it would
merge the lists of every word with that prefix, in full, before returning one match.
"""

from __future__ import annotations

from collections.abc import Sequence

from mcp_server_kie.storage.database import SearchPage
from mcp_server_kie.storage.records import job_columns

PER_MICROSECOND = 1024  # index rowids per microsecond of creation time
PREFIX_LENGTHS = " ".join(str(n) for n in range(1, 21))


def bucket_start(created_at: str) -> str:
    """SQL: the first index rowid of the microsecond of ``created_at`` (an SQL expression).
    Times before 1970 share the first microsecond; no job is created then."""
    return f"(CAST(max({created_at}, 0) * 1000000 AS INTEGER) * {PER_MICROSECOND})"


def match_expression(words: Sequence[str]) -> str:
    """Every word as a word prefix; quoting each word keeps FTS5 operators and punctuation in
    user text from meaning anything (prompt_words keeps only word characters)."""
    return " ".join(f'"{word}"*' for word in words)


def search_page(page: SearchPage) -> tuple[str, list[object]]:
    """One page (and the rest of its last microsecond) of jobs matching ``page.words``, in the
    index's order; the caller sorts by (created_at, id) and keeps ``page.fetch`` rows."""
    where = " AND ".join(["jobs_fts MATCH ?", *page.conditions])
    found = (
        f"SELECT jobs_fts.rowid AS search_rowid, {job_columns('jobs')} FROM jobs_fts"
        f" CROSS JOIN jobs ON jobs.id = jobs_fts.job_id WHERE {where}"
    )
    params: list[object] = [match_expression(page.words), *page.params]
    start = []  # the cursor's microsecond bounds the index read too, so deep pages seek
    if page.after is not None:
        if page.newest_first:
            start.append(f"AND jobs_fts.rowid < {bucket_start('?')} + {PER_MICROSECOND}")
        else:
            start.append(f"AND jobs_fts.rowid >= {bucket_start('?')}")
    first_params = [*params, *([page.after[0]] if page.after is not None else []), page.fetch]
    if page.newest_first:
        edge = "(SELECT min(search_rowid) FROM page)"
        rest = (
            f"AND jobs_fts.rowid >= {edge} / {PER_MICROSECOND} * {PER_MICROSECOND}"
            f" AND jobs_fts.rowid < {edge}"
        )
    else:
        edge = "(SELECT max(search_rowid) FROM page)"
        rest = (
            f"AND jobs_fts.rowid > {edge}"
            f" AND jobs_fts.rowid < ({edge} / {PER_MICROSECOND} + 1) * {PER_MICROSECOND}"
        )
    order = "DESC" if page.newest_first else "ASC"
    sql = (
        f"WITH page AS ({found} {' '.join(start)} ORDER BY jobs_fts.rowid {order} LIMIT ?)"
        f" SELECT * FROM page UNION ALL {found} {rest}"
    )
    return sql, [*first_params, *params]
