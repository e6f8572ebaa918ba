"""Finding jobs in the library: filters, prompt search and keyset paging.

Pages are keyed on ``(created_at, id)``, not offsets, so a page boundary never moves when new
jobs arrive: paging newest-first from a cursor returns every older item exactly once.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from mcp_server_kie.domain import Asset, Job, JobStatus, MediaKind
from mcp_server_kie.storage.database import Database, Dialect, Row, SearchPage, Transaction
from mcp_server_kie.storage.records import (
    OPEN_STATUSES,
    MediaPage,
    asset_from_row,
    job_columns,
    job_from_row,
)

_WORD = re.compile(r"\w+", re.UNICODE)
_ASSET_BY_ID = "SELECT * FROM assets WHERE id = ?"
_DELETE_ASSET = "DELETE FROM assets WHERE id = ?"


@dataclass(frozen=True, slots=True)
class MediaQuery:
    kind: MediaKind | None = None
    model: str | None = None
    status: JobStatus | None = None
    text: str | None = None
    client_ref: str | None = None
    since: float | None = None  # created at or after (unix time)
    until: float | None = None  # created before
    newest_first: bool = True
    limit: int = 20
    after: tuple[float, str] | None = None  # the last item of the previous page


class BadCursor(ValueError):
    """A cursor that this server did not hand out (or that belongs to another sort order)."""


def encode_cursor(created_at: float, job_id: str, newest_first: bool) -> str:
    raw = json.dumps([created_at, job_id, "newest" if newest_first else "oldest"])
    return base64.urlsafe_b64encode(raw.encode()).decode().replace("=", "")  # no padding


def decode_cursor(cursor: str, newest_first: bool) -> tuple[float, str]:
    try:
        # Cursors are handed out without padding; base64 ignores padding beyond what it needs.
        created_at, job_id, order = json.loads(base64.urlsafe_b64decode(cursor + "=="))
    except (ValueError, TypeError, binascii.Error):
        raise BadCursor("cursor is not one this server handed out") from None
    if not isinstance(created_at, int | float) or not isinstance(job_id, str):
        raise BadCursor("cursor is not one this server handed out")
    try:
        created_at = float(created_at)
    except OverflowError:  # an integer too large for a timestamp: not one we handed out
        raise BadCursor("cursor is not one this server handed out") from None
    if not math.isfinite(created_at):
        raise BadCursor("cursor is not one this server handed out")
    if order != ("newest" if newest_first else "oldest"):
        raise BadCursor("cursor belongs to the other sort order; start again without it")
    return float(created_at), job_id


def prompt_words(text: str) -> list[str]:
    """The words of a prompt search (at most 20); each must appear as a word prefix."""
    return [str(word) for word in _WORD.findall(text)[:20]]


def essential_words(words: Sequence[str]) -> list[str]:
    """``words`` without those that another word implies: a prompt word that starts with
    "holholque" starts with "holhol" too, so "holhol holholque" finds what "holholque" finds
    (and a duplicate adds nothing), but an index asked for both would read both word lists.
    Letter case is ignored for ASCII words only, whose case folding is the same everywhere."""
    lower = [word.lower() if word.isascii() else word for word in words]
    return [
        word
        for i, word in enumerate(words)
        if not any(
            other.startswith(lower[i]) and (other != lower[i] or j < i)
            for j, other in enumerate(lower)
            if j != i
        )
    ]


def page_sql(query: MediaQuery, dialect: Dialect) -> tuple[str, list[object]]:
    """The SELECT that list_jobs runs for ``query``: one page of ``jobs`` rows and one extra, so
    the caller knows whether another page exists. A prompt search is the backend's own query
    shape (see Dialect.search_page); everything else walks the (created_at, id) indexes."""
    conditions: list[str] = []
    params: list[object] = []
    for column, value in (
        ("kind", query.kind.value if query.kind else None),
        ("model", query.model),
        ("status", query.status.value if query.status else None),
        ("client_ref", query.client_ref),
    ):
        if value is not None:
            conditions.append(f"{column} = ?")
            params.append(value)
    if query.since is not None:
        conditions.append("created_at >= ?")
        params.append(query.since)
    if query.until is not None:
        conditions.append("created_at < ?")
        params.append(query.until)
    if query.after is not None:
        conditions.append(f"(created_at, id) {'<' if query.newest_first else '>'} (?, ?)")
        params.extend(query.after)
    words = prompt_words(query.text) if query.text is not None else None
    if words:
        page = SearchPage(
            essential_words(words),
            conditions,
            params,
            query.newest_first,
            query.after,
            query.limit + 1,
        )
        return dialect.search_page(page)
    if words is not None:  # a search with no words in it finds nothing
        conditions.append("FALSE")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    order = "DESC" if query.newest_first else "ASC"
    sql = (
        f"SELECT {job_columns()} FROM jobs {where} ORDER BY created_at {order}, id {order} LIMIT ?"
    )
    return sql, [*params, query.limit + 1]


class LibraryQueries:
    """Finding, paging and deleting finished media (mixed into the Store)."""

    db: Database

    async def list_jobs(self, query: MediaQuery) -> MediaPage:
        """One page of jobs with their assets (see storage.library for the paging rules)."""
        sql, params = page_sql(query, self.db.dialect)
        rows = await self.db.fetch_all(sql, params)
        if query.text is not None and not self.db.dialect.search_sorted:
            rows.sort(key=lambda row: (row["created_at"], row["id"]), reverse=query.newest_first)
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        jobs = await self._with_assets(rows)
        next_cursor = None
        if more and jobs:
            last = jobs[-1]
            next_cursor = encode_cursor(last.created_at, last.id, query.newest_first)
        return MediaPage(jobs, next_cursor)

    async def _with_assets(self, rows: Sequence[Row]) -> list[Job]:
        if not rows:
            return []
        ids = [str(r["id"]) for r in rows]
        marks = ", ".join("?" for _ in ids)
        asset_rows = await self.db.fetch_all(
            f"SELECT * FROM assets WHERE job_id IN ({marks}) ORDER BY job_id, idx", ids
        )
        by_job: dict[str, list[Asset]] = {}
        for a in asset_rows:
            by_job.setdefault(str(a["job_id"]), []).append(asset_from_row(a))
        return [job_from_row(r, tuple(by_job.get(str(r["id"]), ()))) for r in rows]

    async def get_asset(self, asset_id: str) -> Asset | None:
        rows = await self.db.fetch_by_key(_ASSET_BY_ID, (asset_id,))
        return asset_from_row(rows[0]) if rows else None

    # ------------------------------------------------------------------ deleting

    async def delete_asset(self, asset_id: str) -> Asset | None:
        """Remove one asset's row; the caller removes its files. None if there was none."""

        async def delete(conn: Transaction) -> Asset | None:
            row = await conn.fetch_one(_ASSET_BY_ID, (asset_id,))
            if row is None:
                return None
            await conn.execute(_DELETE_ASSET, (asset_id,))
            return asset_from_row(row)

        return await self.db.write(delete)

    async def delete_jobs(self, job_ids: Sequence[str] | None) -> tuple[list[str], list[Asset]]:
        """Remove finished jobs (all finished jobs when ``job_ids`` is None) with their assets,
        events and inbox rows. Running jobs are never removed: kie.ai is still working (and
        charging) for them. Returns the ids removed and their assets, whose files the caller
        removes after the commit."""

        async def delete(conn: Transaction) -> tuple[list[str], list[Asset]]:
            scope, params = ("", []) if job_ids is None else _in("id", job_ids)
            rows = await conn.fetch_all(
                f"SELECT id FROM jobs WHERE status NOT IN {OPEN_STATUSES} {scope}", params
            )
            ids = [str(r["id"]) for r in rows]
            if not ids:
                return [], []
            chosen, chosen_params = _in("job_id", ids)
            rows = await conn.fetch_all(f"SELECT * FROM assets WHERE TRUE {chosen}", chosen_params)
            assets = [asset_from_row(r) for r in rows]
            clear_search = self.db.dialect.clear_search
            if job_ids is None and clear_search:  # clearing everything: the index in one go
                await conn.execute(clear_search)
            await conn.execute(f"DELETE FROM webhook_inbox WHERE TRUE {chosen}", chosen_params)
            by_id, by_id_params = _in("id", ids)
            await conn.execute(f"DELETE FROM jobs WHERE TRUE {by_id}", by_id_params)
            return ids, assets

        return await self.db.write(delete)


def _in(column: str, values: Sequence[str]) -> tuple[str, list[str]]:
    return f"AND {column} IN ({', '.join('?' for _ in values)})", list(values)
