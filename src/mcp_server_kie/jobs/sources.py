"""The source of an operation on an earlier result: a job or an asset of the library, and its
file uploaded to kie.ai when a model wants a URL (kie's own result links expire, the library's
copy does not). Reads through the media store, so a local folder and a bucket both work.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcp_server_kie.catalog.operations import SourceField
from mcp_server_kie.domain import Asset, Job, JobStatus, MediaKind, UserInputError
from mcp_server_kie.jobs import Engine, SubmitError
from mcp_server_kie.kie import KieError
from mcp_server_kie.media import MediaStore
from mcp_server_kie.media.store import MediaStoreError


@dataclass(frozen=True, slots=True)
class Source:
    """A finished job and the one of its files the operation works on."""

    job: Job
    asset: Asset

    @property
    def kind(self) -> MediaKind:
        return self.asset.kind

    def label(self) -> str:
        return f"job {self.job.id} (file {self.asset.id}, a {self.job.model} {self.kind.value})"


async def find_source(engine: Engine, ref: str, *, what: str = "source") -> Source:
    """The job or asset ``ref`` names, finished and with a file; UserInputError otherwise."""
    ref = ref.strip()
    store = engine.store
    asset = await store.get_asset(ref)
    job = await store.get_job(asset.job_id if asset else ref)
    if job is None:
        raise UserInputError(
            f"No job or file {ref!r} in the library for {what}. Give a job_id (job_...) or an "
            "asset_id from a result's outputs; list_media shows them."
        )
    if job.status is not JobStatus.COMPLETED:
        state = f"still {job.status.value}" if not job.status.terminal else "failed"
        raise UserInputError(
            f"Job {job.id} is {state}: only a completed job can be the {what}. "
            + ("Wait with get_status first." if not job.status.terminal else "")
        )
    if asset is None:
        if not job.assets:
            raise UserInputError(f"Job {job.id} has no files left in the library (deleted?).")
        asset = job.assets[0]
    return Source(job, asset)


def check_fits(asset: Asset, field: SourceField, model: str) -> None:
    """kie's stated type and size limits for the field (UserInputError when the file breaks
    one): checked for every file before any is uploaded."""
    if field.accepted and asset.mime_type not in field.accepted:
        raise UserInputError(
            f"{model}'s {field.name} accepts {', '.join(field.accepted)}; file {asset.id} is "
            f"{asset.mime_type}."
        )
    if field.max_bytes is not None and asset.bytes > field.max_bytes:
        raise UserInputError(
            f"File {asset.id} is {asset.bytes / 1e6:.1f} MB; {model} accepts at most "
            f"{field.max_bytes / 1e6:.0f} MB. Choose another model or a smaller file."
        )


async def upload_source(
    engine: Engine, media: MediaStore, asset: Asset, max_bytes: int | None
) -> str:
    """Upload the library's copy of ``asset`` to kie.ai and return the URL to send."""
    kie = engine.require_kie()
    try:
        data = await media.read(asset.path, max_bytes or asset.bytes + 1)
    except MediaStoreError:
        data = None
    if data is None:
        raise UserInputError(
            f"File {asset.id} could not be read from the media library (deleted or changed); "
            "list_media shows what is there."
        )
    name = asset.path.rsplit("/", 1)[-1]
    try:
        return await kie.upload_file(data, name, asset.mime_type)
    except KieError as exc:
        message = f"Uploading file {asset.id} to kie.ai failed: {exc.message}"
        raise SubmitError(None, message) from None
