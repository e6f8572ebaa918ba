"""transform_media: an operation (upscale, extend, edit, ...) on an earlier result of the
library, by job or asset id. The model's input is filled from the catalogue's description of
it: a media URL field gets the library's copy of the file (uploaded to kie.ai, whose own links
expire), a `task_id` field the source job's kie task. Checked before anything is sent."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import Field

from mcp_server_kie.catalog import ModelSpec, ValidatedRequest, validate_request
from mcp_server_kie.catalog.operations import (
    OPERATIONS,
    TASK,
    Operation,
    SourceField,
    capable_models,
    continues,
    continues_task_of,
    describe_models,
    find_operation,
    ranked,
    source_fields,
)
from mcp_server_kie.domain import Job, MediaKind, NotConfiguredError, UserInputError
from mcp_server_kie.jobs import SubmitError
from mcp_server_kie.jobs.sources import Source, check_fits, find_source, upload_source
from mcp_server_kie.tools.context import ToolContext, bounded_wait, tool_context, wait_with_progress
from mcp_server_kie.tools.generate import (
    DEFAULT_WAIT,
    ClientRef,
    IdempotencyKey,
    Options,
    WaitSeconds,
)
from mcp_server_kie.tools.results import JobResult, tool_result

# Stands in for the upload while the request is validated (the file is uploaded only after).
_PLACEHOLDER = "https://upload.local/source"
_LISTED = 12  # models named in a refusal before "and N more"

OperationName = Literal[
    "upscale", "remove-background", "edit", "extend", "lip-sync", "isolate-voice"
]


async def transform_media(
    source: Annotated[
        str,
        Field(
            min_length=1,
            description="The earlier result: its job_id, or one output's asset_id (for a job "
            "with several files).",
        ),
    ],
    operation: Annotated[
        OperationName,
        Field(
            description="upscale (image or video), remove-background (image), edit (image, "
            "or restyle a video; needs prompt), extend (video), lip-sync (image or video; needs "
            "audio), isolate-voice (audio).",
        ),
    ],
    ctx: Context,
    prompt: Annotated[
        str | None,
        Field(
            description="What to change (edit), or how the video continues (extend: default "
            "the source's prompt). Models without a prompt refuse one."
        ),
    ] = None,
    model: Annotated[
        str | None,
        Field(
            description="kie.ai model id. Default: a suitable offered model for the operation "
            "and the source; a model that cannot do it gets a refusal naming those that can."
        ),
    ] = None,
    audio: Annotated[
        str | None,
        Field(description="lip-sync: the speech, as the job_id or asset_id of an audio result."),
    ] = None,
    options: Options = None,
    wait_seconds: WaitSeconds = None,
    idempotency_key: IdempotencyKey = None,
    client_ref: ClientRef = None,
) -> Annotated[CallToolResult, JobResult]:
    """Work on an earlier result from the library: upscale, remove-background, edit, extend,
    lip-sync or isolate-voice. The result is a new job, like generate_*'s.

    source is a job_id or asset_id (from a result's outputs or list_media). The file is sent
    to kie.ai for you; models that continue an earlier kie task (e.g. grok-imagine/extend)
    get its task id instead, and only accept jobs of their own model line. Everything is
    checked before anything is sent or paid for. Images usually finish within this call;
    videos return a job_id: call get_status(job_id, wait_seconds=30) until completed. Never
    call again for the same request: that pays twice (use idempotency_key when retrying).
    """
    state = tool_context(ctx)
    arguments = {"source": source, "operation": operation, "prompt": prompt, "model": model}
    fingerprint = _fingerprint({**arguments, "audio": audio, "options": options})
    try:
        job = (
            await state.engine.find_idempotent(idempotency_key, fingerprint)
            if idempotency_key
            else None
        )
        if job is None:
            job = await _start(
                state,
                find_operation(operation),
                await find_source(state.engine, source),
                prompt=prompt,
                model=model,
                audio=audio,
                options=options,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                client_ref=client_ref,
            )
    except (UserInputError, NotConfiguredError) as exc:
        raise ToolError(str(exc)) from None
    except SubmitError as exc:
        raise ToolError(f"{exc} (job {exc.job.id})" if exc.job else str(exc)) from None
    wait = bounded_wait(state, wait_seconds, DEFAULT_WAIT[job.kind])
    job = await wait_with_progress(state, ctx, job, wait)
    return tool_result(job, state.links)


async def _start(
    state: ToolContext,
    op: Operation,
    source: Source,
    *,
    prompt: str | None,
    model: str | None,
    audio: str | None,
    options: dict[str, Any] | None,
    idempotency_key: str | None,
    fingerprint: str,
    client_ref: str | None,
) -> Job:
    kind = source.kind
    if kind not in op.capability:
        fits = [name for name, o in OPERATIONS.items() if kind in o.capability]
        raise UserInputError(
            f"{op.name} does not apply to {source.label()}. Operations on {_a(kind)}: "
            f"{', '.join(fits)}."
        )
    sound = await _audio_source(state, op, audio)
    models = ranked(capable_models(state.catalogue.specs, op, kind), op, kind)
    spec, fields = _choose(models, model, op, source, needs_audio=sound is not None)
    text = (prompt or "").strip() or (source.job.prompt if op.name == "extend" else "")
    if op.needs_prompt and not text:
        raise UserInputError(f"{op.name} needs a prompt: say what to change.")
    request = _validated(spec, text, fields, source, options)
    state.budget.check(spec.id, request.expected_credits)
    await state.budget.check_today(state.engine.store, spec.id, request.expected_credits)
    request = await _uploaded(state, request, fields, source, sound)
    job = await state.engine.submit(
        spec.kind,
        request,
        text or f"{op.name} of {source.label()}",
        idempotency_key,
        client_ref=client_ref,
        budget=state.budget,
        request_hash=fingerprint,
    )
    what = f"{op.name} of job {source.job.id} (file {source.asset.id})"
    await state.engine.store.record_job_note(job.id, f"made by transform_media: {what}")
    return job


async def _audio_source(state: ToolContext, op: Operation, audio: str | None) -> Source | None:
    if not op.needs_audio:
        if audio:
            raise UserInputError(f"audio is only for lip-sync, not {op.name}.")
        return None
    if not audio:
        raise UserInputError(
            "lip-sync needs audio: the job_id or asset_id of the speech (generate_audio makes one)."
        )
    found = await find_source(state.engine, audio, what="audio")
    if found.kind is not MediaKind.AUDIO:
        raise UserInputError(f"audio must be an audio result; {found.label()} is not.")
    return found


def _choose(
    models: list[ModelSpec], model: str | None, op: Operation, source: Source, *, needs_audio: bool
) -> tuple[ModelSpec, dict[str, SourceField]]:
    """The model to use and the fields the sources fill; a refusal names the ones that fit."""
    fitting = [(spec, f) for spec in models if (f := _fit(spec, source, needs_audio))]
    fitting.sort(key=lambda pair: TASK not in pair[1])  # continuing kie's own task first
    what = f"{op.name} {source.label()}"
    allowed = _named([spec for spec, _ in fitting])
    if model is None:
        if not fitting:
            raise UserInputError(
                f"No offered model can {what}. Models for {op.name} of {_a(source.kind)}: "
                f"{_named(models)}. Those that take a task id accept only the jobs named."
            )
        return fitting[0]
    chosen = next((pair for pair in fitting if pair[0].id == model.strip()), None)
    if chosen is not None:
        return chosen
    spec = next((s for s in models if s.id == model.strip()), None)
    if spec is None:
        reason = f"{model!r} is not a model that can {op.name} {_a(source.kind)}"
    elif not source.job.task_id:
        reason = f"{spec.id} needs the source's kie task id and job {source.job.id} has none"
    else:
        lines = " or ".join(c + "*" if c.endswith("/") else c for c in continues(spec))
        reason = (
            f"{spec.id} continues only {lines} jobs, and this one was made by "
            f"{source.job.model}, so kie.ai cannot use it"
        )
    raise UserInputError(f"Cannot {what} with {model}: {reason}. Models that can: {allowed}.")


def _fit(spec: ModelSpec, source: Source, needs_audio: bool) -> dict[str, SourceField] | None:
    extra = ["audio"] if needs_audio else []
    job = source.job
    if job.task_id and continues_task_of(spec, job.model, job.family.value):
        fields = source_fields(spec, [TASK, *extra])
        if fields:
            return fields
    return source_fields(spec, [source.kind.value, *extra])


def _a(kind: MediaKind) -> str:
    return f"an {kind.value}" if kind.value[0] in "aeiou" else f"a {kind.value}"


def _named(models: list[ModelSpec]) -> str:
    shown = describe_models(models[:_LISTED])
    more = len(models) - _LISTED
    return f"{shown} and {more} more (list_models shows them)" if more > 0 else shown


def _validated(
    spec: ModelSpec,
    text: str,
    fields: dict[str, SourceField],
    source: Source,
    options: dict[str, Any] | None,
) -> ValidatedRequest:
    values = dict(options or {})
    taken = sorted(set(values) & {f.name for f in fields.values()})
    if taken:
        raise UserInputError(
            f"options {', '.join(taken)} of {spec.id} are filled from the source; leave them out."
        )
    if text and not {"prompt", "text"} & set(spec.fields):
        raise UserInputError(f"{spec.id} takes no prompt; call again without one.")
    for medium, field in fields.items():
        value = source.job.task_id if medium == TASK else _PLACEHOLDER
        values[field.name] = [value] if field.is_list else value
    return validate_request(spec, text, {}, values)


async def _uploaded(
    state: ToolContext,
    request: ValidatedRequest,
    fields: dict[str, SourceField],
    source: Source,
    sound: Source | None,
) -> ValidatedRequest:
    """The request with each media field's placeholder replaced by the uploaded file's URL."""
    files = {
        field: sound.asset if medium == "audio" and sound else source.asset
        for medium, field in fields.items()
        if medium != TASK
    }
    for field, asset in files.items():  # every file checked before any is sent
        check_fits(asset, field, request.spec.id)
    new_input = dict(request.input)
    for field, asset in files.items():
        url = await upload_source(state.engine, state.library.media, asset, field.max_bytes)
        new_input[field.name] = [url] if field.is_list else url
    return replace(request, input=new_input)


def _fingerprint(arguments: dict[str, Any]) -> str:
    given = {k: v for k, v in arguments.items() if v is not None}
    canonical = json.dumps(
        {"tool": "transform_media", **given}, sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
