"""Operations on an earlier result: the user names our job, kie wants its task id.

Veo extend, 1080p and 4K and Runway extend continue or upgrade a finished kie task and take
its kie task id in the input field `task_id`. A user (or a model) only ever sees our job ids,
so `task_id` holds one of those until `source_task_id` swaps in the kie task id of that job,
after checking it is a finished job of a family the operation accepts. Nothing is sent before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Protocol

from mcp_server_kie.catalog import ValidatedRequest
from mcp_server_kie.domain import ApiFamily, Job, JobStatus, UserInputError

SOURCE_FIELD = "task_id"

# Operation family -> the families whose finished jobs it can take as its source.
SOURCE_FAMILIES: Mapping[ApiFamily, frozenset[ApiFamily]] = {
    ApiFamily.VEO_EXTEND: frozenset({ApiFamily.VEO, ApiFamily.VEO_EXTEND}),
    ApiFamily.VEO_1080P: frozenset({ApiFamily.VEO, ApiFamily.VEO_EXTEND}),
    ApiFamily.VEO_4K: frozenset({ApiFamily.VEO, ApiFamily.VEO_EXTEND}),
    ApiFamily.RUNWAY_EXTEND: frozenset({ApiFamily.RUNWAY, ApiFamily.RUNWAY_EXTEND}),
}


class JobReader(Protocol):
    async def get_job(self, job_id: str) -> Job | None: ...


def takes_source_job(family: ApiFamily) -> bool:
    """Whether a family's `task_id` input names an earlier job."""
    return family in SOURCE_FAMILIES


async def source_task_id(store: JobReader, job_id: str, family: ApiFamily) -> str:
    """The kie task id of our job `job_id`, for an operation of `family` on its result.

    Raises UserInputError (a sentence naming what to do) when the job does not exist, has not
    completed, or is of a family the operation cannot continue (e.g. a Runway job for a Veo
    extend).
    """
    accepted = SOURCE_FAMILIES.get(family)
    if accepted is None:
        raise ValueError(f"{family.value} takes no source job")
    job = await store.get_job(job_id) if isinstance(job_id, str) and job_id else None
    if job is None:
        raise UserInputError(
            f"{job_id!r} is not a job of this server. Pass the job_id of an earlier "
            f"{_names(accepted)} job (list_media shows them) as options.task_id."
        )
    if job.family not in accepted:
        raise UserInputError(
            f"Job {job.id} is a {job.family.value} job ({job.model}); {family.value} works on "
            f"{_names(accepted)} jobs only."
        )
    if job.status is not JobStatus.COMPLETED or not job.task_id:
        raise UserInputError(
            f"Job {job.id} is {job.status.value}; {family.value} needs a completed job. Call "
            f"get_status({job.id!r}) and try again once it has completed."
        )
    return job.task_id


async def with_source_task(store: JobReader, request: ValidatedRequest) -> ValidatedRequest:
    """The request with its `task_id` (our job id) replaced by that job's kie task id; any
    other request unchanged."""
    family = request.spec.family
    if not takes_source_job(family) or SOURCE_FIELD not in request.input:
        return request
    task_id = await source_task_id(store, str(request.input[SOURCE_FIELD]), family)
    return replace(request, input={**request.input, SOURCE_FIELD: task_id})


def _names(families: frozenset[ApiFamily]) -> str:
    return " or ".join(sorted(f.value for f in families))
