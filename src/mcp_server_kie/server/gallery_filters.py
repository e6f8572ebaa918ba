"""The gallery's list query: ``GET /api/media``'s query string, list_media's arguments with
the same meanings, validated before anything reaches the store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mcp_server_kie.domain import JobStatus, MediaKind
from mcp_server_kie.server.gallery_page import PAGE_SIZE
from mcp_server_kie.storage import MediaQuery, decode_cursor


class MediaFilters(BaseModel):
    """The query string of ``GET /api/media``: list_media's arguments, same meanings."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["image", "video", "audio"] | None = None
    model: Annotated[str | None, Field(max_length=200)] = None
    status: Literal["pending", "processing", "completed", "failed"] | None = None
    query: Annotated[str | None, Field(max_length=500)] = None
    client_ref: Annotated[str | None, Field(max_length=200)] = None
    since: datetime | None = None
    until: datetime | None = None
    sort: Literal["newest", "oldest"] = "newest"
    limit: Annotated[int, Field(ge=1, le=100)] = PAGE_SIZE
    cursor: str | None = None

    @field_validator("kind", "model", "status", "query", "client_ref", "since", "until", "cursor")
    @classmethod
    def _blank_is_absent(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def to_query(self) -> MediaQuery:
        newest_first = self.sort == "newest"
        return MediaQuery(
            kind=MediaKind(self.kind) if self.kind else None,
            model=self.model,
            status=JobStatus(self.status) if self.status else None,
            text=self.query,
            client_ref=self.client_ref,
            since=timestamp(self.since),
            until=timestamp(self.until),
            newest_first=newest_first,
            limit=self.limit,
            after=decode_cursor(self.cursor, newest_first) if self.cursor else None,
        )


def explain(exc: ValidationError) -> str:
    """A bad query as one line: each field and what is wrong with it."""
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "query"
        problems.append(f"{where}: {error['msg']}")
    return "; ".join(problems)


def timestamp(moment: datetime | None) -> float | None:
    """Unix time of ``moment`` (a naive one is taken as UTC)."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
