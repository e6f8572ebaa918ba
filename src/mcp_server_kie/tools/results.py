"""What a tool result looks like to a model: a typed structure plus a one-paragraph summary."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mcp.types import CallToolResult, ContentBlock, ImageContent, ResourceLink, TextContent
from pydantic import BaseModel, Field

from mcp_server_kie.catalog import typical_seconds
from mcp_server_kie.domain import Asset, Job, JobStatus, MediaKind

log = logging.getLogger(__name__)

# Thumbnails sent inline in one result stay under this many bytes (before base64), so a
# finished job's whole result stays well under the 150 KB hosts handle comfortably.
THUMBNAIL_BUDGET = 96 * 1024


@dataclass(slots=True)
class MediaLinks:
    """How a stored file can be reached besides its path: an MCP resource URI always, and an
    HTTP URL on this machine when the sidecar is listening."""

    http_base: str | None = None

    def uri(self, asset: Asset) -> str:
        return f"media://{asset.id}"

    def url(self, asset: Asset, suffix: str = "") -> str | None:
        return f"{self.http_base}/media/{asset.id}{suffix}" if self.http_base else None


class Output(BaseModel):
    asset_id: str
    index: int = Field(description="Position among the job's outputs.")
    path: str = Field(description="Absolute path of the stored file on this machine.")
    uri: str = Field(description="MCP resource with the file (media://...); +/thumbnail too.")
    url: str | None = Field(default=None, description="Local HTTP URL of the file, if served.")
    thumbnail_url: str | None = None
    mime_type: str
    bytes: int
    sha256: str
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None


class ErrorInfo(BaseModel):
    category: str = Field(description="Stable error kind, e.g. generation_failed.")
    message: str = Field(description="What went wrong; text from kie.ai is labelled as such.")
    retryable: bool
    next_step: str


class JobResult(BaseModel):
    job_id: str
    status: Literal["pending", "processing", "completed", "failed"]
    kind: Literal["image", "video", "audio"]
    model: str
    prompt: str
    client_ref: str | None = None
    provider_state: str | None = Field(
        default=None, description="kie.ai's own state: waiting, queuing, generating, ..."
    )
    outputs: list[Output] = Field(default_factory=list)
    expected_credits: float | None = Field(
        default=None, description="Credits this job is expected to cost (1 credit = $0.005)."
    )
    credits: float | None = Field(default=None, description="Credits kie.ai charged.")
    error: ErrorInfo | None = None
    next_step: str = Field(description="What to do now.")
    created_at: str
    updated_at: str


class MediaPage(BaseModel):
    items: list[JobResult]
    count: int
    next_cursor: str | None = Field(
        default=None, description="Pass as cursor to get the next page; null on the last page."
    )


def job_json(job: Job, links: MediaLinks) -> dict[str, Any]:
    """The job as a JobResult in JSON form, built directly: a page of 50 is built in a
    quarter of the time the models take to construct and dump, and the SDK still checks each
    tool's structured result against its output schema (tests/test_results_schema.py checks
    every shape of job against the models too)."""
    return {
        "job_id": job.id,
        "status": job.status.value,
        "kind": job.kind.value,
        "model": job.model,
        "prompt": job.prompt,
        "client_ref": job.client_ref,
        "provider_state": job.task_state.value if job.task_state else None,
        "outputs": [_output(asset, links) for asset in job.assets],
        "expected_credits": job.expected_credits,
        "credits": job.credits,
        "error": _error(job),
        "next_step": next_step(job),
        "created_at": _iso(job.created_at),
        "updated_at": _iso(job.updated_at),
    }


def page_json(jobs: Sequence[Job], next_cursor: str | None, links: MediaLinks) -> dict[str, Any]:
    """A page of jobs as a MediaPage in JSON form."""
    return {
        "items": [job_json(job, links) for job in jobs],
        "count": len(jobs),
        "next_cursor": next_cursor,
    }


def next_step(job: Job) -> str:
    if job.status is JobStatus.COMPLETED:
        show = "Show the result to the user: the files are at the paths in outputs."
        if any(asset.preview_pending for asset in job.assets):
            # The job completes before its previews are made (they take tens of ms more).
            show += (
                f" Its thumbnail is still being made: get_status(job_id={job.id!r}) in a "
                "moment includes it."
            )
        return show
    if job.status is JobStatus.FAILED:
        if job.error and job.error.retryable:
            return "Tell the user it failed; retrying with generate_* may work."
        return "Tell the user why it failed; change the request before trying again."
    typical = typical_seconds(job.model)
    return (
        f"Still running; {job.kind.value}s from {job.model} usually take about "
        f"{_duration(typical)}. Call get_status(job_id={job.id!r}, wait_seconds=30) to wait "
        "for it. Do not start the job again."
    )


def summary(job: Job) -> str:
    what = f"{job.kind.value.capitalize()} job {job.id} ({job.model})"
    if job.status is JobStatus.COMPLETED:
        files = "; ".join(_describe(a) for a in job.assets)
        cost = f" Cost {job.credits:g} credits." if job.credits is not None else ""
        pending = ""
        if any(asset.preview_pending for asset in job.assets):
            pending = f" Thumbnail still being made: get_status(job_id={job.id!r}) shows it."
        return f"{what} completed. {files}.{cost}{pending}"
    if job.status is JobStatus.FAILED:
        reason = job.error.message if job.error else "unknown reason"
        return f"{what} failed: {reason}"
    state = job.task_state.value if job.task_state else job.status.value
    return f"{what} is {job.status.value} (kie.ai state: {state}). {next_step(job)}"


def tool_result(job: Job, links: MediaLinks) -> CallToolResult:
    """The summary, then each output's thumbnail (within budget) and a link to the file."""
    content: list[ContentBlock] = [TextContent(type="text", text=summary(job))]
    budget = THUMBNAIL_BUDGET
    for asset in job.assets:
        thumbnail = _thumbnail_bytes(asset, budget)
        if thumbnail is not None:
            budget -= len(thumbnail)
            content.append(
                ImageContent(
                    type="image",
                    data=base64.b64encode(thumbnail).decode(),
                    mime_type="image/jpeg",
                )
            )
        content.append(
            ResourceLink(
                type="resource_link",
                name=Path(asset.path).name,
                title=f"{job.kind.value} {asset.index + 1} of job {job.id}",
                uri=links.uri(asset),
                mime_type=asset.mime_type,
                size=asset.bytes,
            )
        )
    return CallToolResult(
        content=content,
        structured_content=job_json(job, links),
    )


def _thumbnail_bytes(asset: Asset, budget: int) -> bytes | None:
    if not asset.thumbnail_path:
        return None
    try:
        path = Path(asset.thumbnail_path)
        if path.stat().st_size > budget:
            return None
        return path.read_bytes()
    except OSError as exc:
        log.warning("thumbnail of %s unreadable: %s", asset.id, exc.strerror)
        return None


def _describe(asset: Asset) -> str:
    size = (
        f"{asset.bytes / 1024:.0f} KB"
        if asset.bytes < 1024 * 1024
        else (f"{asset.bytes / 1024 / 1024:.1f} MB")
    )
    dims = f"{asset.width}x{asset.height}, " if asset.width and asset.height else ""
    timed = asset.kind in (MediaKind.VIDEO, MediaKind.AUDIO)
    length = f"{asset.duration:g} s, " if timed and asset.duration else ""
    return f"{asset.path} ({dims}{length}{size})"


def _output(asset: Asset, links: MediaLinks) -> dict[str, Any]:
    return {
        "asset_id": asset.id,
        "index": asset.index,
        "path": asset.path,
        "uri": links.uri(asset),
        "url": links.url(asset),
        "thumbnail_url": links.url(asset, "/thumbnail") if asset.thumbnail_path else None,
        "mime_type": asset.mime_type,
        "bytes": asset.bytes,
        "sha256": asset.sha256,
        "width": asset.width,
        "height": asset.height,
        "duration_seconds": asset.duration,
    }


def _error(job: Job) -> dict[str, Any] | None:
    if job.error is None:
        return None
    return {
        "category": job.error.category,
        "message": job.error.message,
        "retryable": job.error.retryable,
        "next_step": next_step(job),
    }


def _iso(timestamp: float) -> str:
    """UTC to the second, as datetime's isoformat writes it (+00:00), in a third of its time."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(timestamp))


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} seconds" if seconds < 90 else f"{seconds / 60:.0f} minutes"
