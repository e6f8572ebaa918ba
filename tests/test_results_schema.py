"""Tool results are built as plain JSON data; they must be exactly what the schema models
(JobResult, MediaPage) describe and would have written, for every shape of job."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mcp_server_kie.domain import (
    ApiFamily,
    Asset,
    Job,
    JobError,
    JobStatus,
    MediaKind,
    TaskState,
)
from mcp_server_kie.tools.results import (
    JobResult,
    MediaLinks,
    MediaPage,
    job_json,
    page_json,
    tool_result,
)

CREATED = 1_764_614_400.75  # a fraction of a second past 2025-12-01 18:40:00 UTC


def asset(index: int, **changes: Any) -> Asset:
    fields: dict[str, Any] = {
        "id": f"asset_{index}",
        "job_id": "job_1",
        "index": index,
        "kind": MediaKind.VIDEO,
        "path": f"/media/job_1/{index}.mp4",
        "mime_type": "video/mp4",
        "bytes": 2048,
        "sha256": "0" * 64,
        "source_url": "https://cdn/x.mp4",
        "created_at": CREATED,
    }
    return Asset(**(fields | changes))


def job(status: JobStatus, **changes: Any) -> Job:
    fields: dict[str, Any] = {
        "id": "job_1",
        "kind": MediaKind.VIDEO,
        "family": ApiFamily.VEO,
        "model": "veo3_fast",
        "prompt": "a lighthouse at dusk",
        "params": {},
        "status": status,
        "created_at": CREATED,
        "updated_at": CREATED + 61,
    }
    return Job(**(fields | changes))


JOBS = {
    "pending": job(JobStatus.PENDING),
    "processing": job(
        JobStatus.PROCESSING, task_id="t1", task_state=TaskState.GENERATING, client_ref="ref-7"
    ),
    "completed": job(
        JobStatus.COMPLETED,
        credits=60.0,
        expected_credits=60.0,
        assets=(
            asset(0, width=1280, height=720, duration=8.0, thumbnail_path="/t/0.jpg"),
            asset(1, preview_pending=True),
        ),
    ),
    "failed": job(
        JobStatus.FAILED,
        error=JobError("generation_failed", "kie.ai said: content policy", retryable=True),
    ),
}
LINKS = {"no sidecar": MediaLinks(), "sidecar": MediaLinks("http://127.0.0.1:8765")}


@pytest.mark.parametrize("links", LINKS.values(), ids=LINKS.keys())
@pytest.mark.parametrize("shape", JOBS.values(), ids=JOBS.keys())
def test_a_job_is_exactly_what_its_schema_model_writes(shape: Job, links: MediaLinks) -> None:
    data = job_json(shape, links)
    assert JobResult.model_validate(data).model_dump(mode="json") == data
    assert list(data) == list(JobResult.model_fields)  # every field, in the schema's order


def test_a_page_is_exactly_what_its_schema_model_writes() -> None:
    links = LINKS["sidecar"]
    for cursor in (None, "next-page"):
        data = page_json(list(JOBS.values()), cursor, links)
        assert MediaPage.model_validate(data).model_dump(mode="json") == data
        assert data["count"] == len(JOBS)
    assert page_json([], None, links) == {"items": [], "count": 0, "next_cursor": None}


def test_times_are_utc_iso_8601_to_the_second() -> None:
    data = job_json(JOBS["completed"], MediaLinks())
    written = datetime.fromtimestamp(CREATED, UTC).isoformat(timespec="seconds")
    assert data["created_at"] == written == "2025-12-01T18:40:00+00:00"
    assert data["updated_at"] == "2025-12-01T18:41:01+00:00"


def test_a_tool_result_carries_the_same_structure() -> None:
    links = LINKS["sidecar"]
    result = tool_result(JOBS["completed"], links)
    assert result.structured_content == job_json(JOBS["completed"], links)
    outputs = result.structured_content["outputs"]
    assert outputs[0]["thumbnail_url"] == "http://127.0.0.1:8765/media/asset_0/thumbnail"
    assert outputs[1]["thumbnail_url"] is None
