"""What the store reads and writes, and how a row becomes a domain object."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from mcp_server_kie.domain import ApiFamily, Asset, Job, JobError, JobStatus, MediaKind, TaskState
from mcp_server_kie.storage.database import Row

OPEN_STATUSES = "('pending', 'processing')"  # SQL: jobs kie.ai may still be working on


@dataclass(frozen=True, slots=True)
class NewJob:
    id: str
    kind: MediaKind
    family: ApiFamily
    model: str
    prompt: str
    params: dict[str, object]
    callback_token_hash: str | None
    callback_expected: bool
    idempotency_key: str | None
    expected_credits: float | None
    client_ref: str | None = None
    request_hash: str | None = None  # what the idempotency key was first used for


@dataclass(frozen=True, slots=True)
class MediaPage:
    jobs: list[Job]
    next_cursor: str | None  # None on the last page


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    job_id: str
    body: bytes


# The columns job_from_row reads. Reads name them rather than taking every column: a job's
# row also holds what no reader of a Job needs (on PostgreSQL, the prompt's word-prefix
# vector, most of the row's bytes) and what should not travel (the callback token's hash).
JOB_COLUMNS = (
    "id",
    "kind",
    "family",
    "model",
    "prompt",
    "params",
    "status",
    "created_at",
    "updated_at",
    "task_id",
    "task_state",
    "callback_expected",
    "expected_credits",
    "credits",
    "error_category",
    "error_message",
    "error_retryable",
    "error_provider_code",
    "client_ref",
)


@cache
def job_columns(table: str = "") -> str:
    """JOB_COLUMNS for a SELECT list, each qualified by ``table`` when given (built once)."""
    prefix = f"{table}." if table else ""
    return ", ".join(prefix + column for column in JOB_COLUMNS)


def job_from_row(row: Row, assets: tuple[Asset, ...]) -> Job:
    error = None
    if row["error_category"]:
        error = JobError(
            category=row["error_category"],
            message=row["error_message"] or "",
            retryable=bool(row["error_retryable"]),
            provider_code=row["error_provider_code"],
        )
    return Job(
        id=row["id"],
        kind=MediaKind(row["kind"]),
        family=ApiFamily(row["family"]),
        model=row["model"],
        prompt=row["prompt"],
        params=json.loads(row["params"]),
        status=JobStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        task_id=row["task_id"],
        task_state=TaskState(row["task_state"]) if row["task_state"] else None,
        callback_expected=bool(row["callback_expected"]),
        expected_credits=row["expected_credits"],
        credits=row["credits"],
        error=error,
        assets=assets,
        client_ref=row["client_ref"],
    )


# The columns asset_from_row reads and asset_row writes, in asset_row's order.
ASSET_COLUMNS = (
    "id",
    "job_id",
    "idx",
    "kind",
    "path",
    "mime_type",
    "bytes",
    "sha256",
    "source_url",
    "created_at",
    "width",
    "height",
    "duration",
    "thumbnail_path",
    "preview_pending",
)


def asset_from_row(row: Row) -> Asset:
    return Asset(
        id=row["id"],
        job_id=row["job_id"],
        index=row["idx"],
        kind=MediaKind(row["kind"]),
        path=row["path"],
        mime_type=row["mime_type"],
        bytes=row["bytes"],
        sha256=row["sha256"],
        source_url=row["source_url"],
        created_at=row["created_at"],
        width=row["width"],
        height=row["height"],
        duration=row["duration"],
        thumbnail_path=row["thumbnail_path"],
        preview_pending=bool(row["preview_pending"]),
    )


def asset_row(a: Asset) -> tuple[object, ...]:
    """The values of ASSET_COLUMNS for storing ``a``."""
    return (
        a.id,
        a.job_id,
        a.index,
        a.kind.value,
        a.path,
        a.mime_type,
        a.bytes,
        a.sha256,
        a.source_url,
        a.created_at,
        a.width,
        a.height,
        a.duration,
        a.thumbnail_path,
        int(a.preview_pending),
    )
