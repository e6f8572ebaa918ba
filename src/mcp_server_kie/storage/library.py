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
from dataclasses import dataclass

from mcp_server_kie.domain import JobStatus, MediaKind

_WORD = re.compile(r"\w+", re.UNICODE)


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
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, newest_first: bool) -> tuple[float, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, job_id, order = json.loads(base64.urlsafe_b64decode(padded.encode()))
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


def match_expression(text: str) -> str | None:
    """Prompt words as an FTS5 query: every word must appear (as a word prefix). Quoting each
    word keeps FTS5 operators and punctuation in user text from meaning anything."""
    words = _WORD.findall(text)
    if not words:
        return None
    return " ".join(f'"{word}"*' for word in words[:20])


def where_clause(query: MediaQuery) -> tuple[str, list[object]]:
    """The WHERE and ORDER BY ... LIMIT for ``query`` over ``jobs``; fetches one extra row so
    the caller knows whether another page exists."""
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
    if query.text is not None:
        expression = match_expression(query.text)
        if expression is None:
            conditions.append("0")
        else:
            conditions.append("id IN (SELECT job_id FROM jobs_fts WHERE jobs_fts MATCH ?)")
            params.append(expression)
    order = "DESC" if query.newest_first else "ASC"
    if query.after is not None:
        conditions.append(f"(created_at, id) {'<' if query.newest_first else '>'} (?, ?)")
        params.extend(query.after)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    params.append(query.limit + 1)
    return f"{where} ORDER BY created_at {order}, id {order} LIMIT ?", params
