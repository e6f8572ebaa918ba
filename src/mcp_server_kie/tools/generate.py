"""generate_image, generate_video and generate_audio: validate, submit, wait a bounded time,
answer."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import Field

from mcp_server_kie.catalog import DEFAULT_MODEL, models_of, validate_request
from mcp_server_kie.domain import MediaKind, NotConfiguredError, UserInputError
from mcp_server_kie.jobs import SubmitError
from mcp_server_kie.jobs.budget import request_fingerprint
from mcp_server_kie.jobs.source_task import with_source_task
from mcp_server_kie.tools.context import bounded_wait, tool_context, wait_with_progress
from mcp_server_kie.tools.preferences import apply_defaults, default_model
from mcp_server_kie.tools.results import JobResult, tool_result

DEFAULT_WAIT = {MediaKind.IMAGE: 40.0, MediaKind.VIDEO: 10.0, MediaKind.AUDIO: 30.0}


def _model_help(kind: MediaKind) -> str:
    count = len(models_of(kind))
    return (
        f"kie.ai model id. Default {DEFAULT_MODEL[kind]}. list_models(kind={kind.value!r}) "
        f"pages through the {count} available; describe_model shows one model's settings."
    )


Prompt = Annotated[str, Field(min_length=1, description="What to generate, in plain words.")]
AspectRatio = Annotated[
    str | None,
    Field(description="Aspect ratio such as 1:1, 16:9, 9:16, 4:3. Default: the model's."),
]
WaitSeconds = Annotated[
    float | None,
    Field(
        ge=0,
        description="How long to wait for the result before returning a handle "
        "(capped at the server's maximum, 45 s by default).",
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Field(
        max_length=200,
        description="Any unique string. Calling again with the same key returns the same job "
        "instead of paying for a second one (use it when retrying a call that timed out).",
    ),
]
Resolution = Annotated[
    str | None, Field(description="Output resolution, e.g. 1K/2K/4K or 720p/1080p (per model).")
]
NegativePrompt = Annotated[str | None, Field(description="What to avoid (models that take it).")]
Seed = Annotated[int | None, Field(description="Seed for repeatable results (where supported).")]
ImageRef = Annotated[
    str | None,
    Field(description="An image: an https URL, or the absolute path of a local image file."),
]
ReferenceImages = Annotated[
    list[str] | None,
    Field(
        description="Reference images: https URLs or absolute paths of local image files "
        "(uploaded for you). Edit models change them; others use them as guidance."
    ),
]
ClientRef = Annotated[
    str | None,
    Field(
        max_length=200,
        description="Your own label for this job, e.g. a canvas node id; list_media can filter "
        "by it.",
    ),
]
Options = Annotated[
    dict[str, Any] | None,
    Field(
        description="Model-specific settings by kie.ai's own field names (see list_models), "
        'e.g. {"guidance_scale": 4} for bytedance/seedream.'
    ),
]


async def generate_image(
    prompt: Prompt,
    ctx: Context,
    model: Annotated[str | None, Field(description=_model_help(MediaKind.IMAGE))] = None,
    aspect_ratio: AspectRatio = None,
    resolution: Resolution = None,
    quality: Annotated[str | None, Field(description="Quality tier, e.g. basic/high.")] = None,
    num_images: Annotated[
        int | None, Field(ge=1, le=10, description="How many images (models that allow it).")
    ] = None,
    negative_prompt: NegativePrompt = None,
    seed: Seed = None,
    reference_images: ReferenceImages = None,
    output_format: Annotated[str | None, Field(description="png or jpeg/jpg.")] = None,
    options: Options = None,
    wait_seconds: WaitSeconds = None,
    idempotency_key: IdempotencyKey = None,
    client_ref: ClientRef = None,
) -> Annotated[CallToolResult, JobResult]:
    """Generate an image with a kie.ai model and save it to the local media library.

    Images usually take 10-30 seconds: by default this call waits for the result and returns
    the saved file. If it is not ready in time, it returns a job_id: call get_status with it
    (do not call generate_image again, that would pay twice). list_models shows every model,
    what it accepts and what it costs. Every argument is checked against the chosen model
    before anything is sent or paid for.
    """
    knobs: dict[str, Any] = {
        "aspect_ratio": aspect_ratio,
        "resolution": resolution,
        "quality": quality,
        "num_images": num_images,
        "negative_prompt": negative_prompt,
        "seed": seed,
        "reference_images": reference_images,
        "output_format": output_format,
    }
    return await _generate(
        ctx,
        MediaKind.IMAGE,
        prompt,
        model,
        knobs,
        options,
        wait_seconds=wait_seconds,
        idempotency_key=idempotency_key,
        client_ref=client_ref,
    )


async def generate_video(
    prompt: Prompt,
    ctx: Context,
    model: Annotated[str | None, Field(description=_model_help(MediaKind.VIDEO))] = None,
    aspect_ratio: AspectRatio = None,
    duration: Annotated[
        int | None, Field(ge=1, le=60, description="Length in seconds, e.g. 5 or 10.")
    ] = None,
    resolution: Resolution = None,
    negative_prompt: NegativePrompt = None,
    seed: Seed = None,
    sound: Annotated[bool | None, Field(description="Generate audio (models that can).")] = None,
    first_frame: ImageRef = None,
    last_frame: ImageRef = None,
    reference_images: ReferenceImages = None,
    options: Options = None,
    wait_seconds: WaitSeconds = None,
    idempotency_key: IdempotencyKey = None,
    client_ref: ClientRef = None,
) -> Annotated[CallToolResult, JobResult]:
    """Generate a video with a kie.ai model and save it to the local media library.

    Videos take one to several minutes, so this call normally returns quickly with a job_id
    and status "processing". Then call get_status(job_id, wait_seconds=30) until it is
    completed. Never call generate_video again for the same request: that pays twice.
    Image-to-video models need first_frame (an https URL or a local image path). To continue
    or upgrade an earlier video, pass its job_id as options.task_id with model veo3-extend,
    veo3-1080p or veo3-4k (a Veo job) or runway-extend (a Runway job). runway-aleph restyles
    a video: options.video_url (an https URL or a local video path). list_models shows every
    model, what it accepts and what it costs.
    """
    knobs: dict[str, Any] = {
        "aspect_ratio": aspect_ratio,
        "duration": duration,
        "resolution": resolution,
        "negative_prompt": negative_prompt,
        "seed": seed,
        "sound": sound,
        "first_frame": first_frame,
        "last_frame": last_frame,
        "reference_images": reference_images,
    }
    return await _generate(
        ctx,
        MediaKind.VIDEO,
        prompt,
        model,
        knobs,
        options,
        wait_seconds=wait_seconds,
        idempotency_key=idempotency_key,
        client_ref=client_ref,
    )


async def generate_audio(
    prompt: Annotated[
        str,
        Field(
            min_length=1,
            description="Speech models: the exact text to speak. Suno music: the song idea "
            "(or, with options custom_mode true, the exact lyrics).",
        ),
    ],
    ctx: Context,
    model: Annotated[str | None, Field(description=_model_help(MediaKind.AUDIO))] = None,
    voice: Annotated[
        str | None, Field(description="Speech models: a voice id (describe_model shows them).")
    ] = None,
    instrumental: Annotated[
        bool | None, Field(description="Suno music: no vocals, music only.")
    ] = None,
    style: Annotated[
        str | None,
        Field(description="Suno music in custom mode: genre and mood, e.g. 'lo-fi jazz'."),
    ] = None,
    title: Annotated[
        str | None, Field(max_length=80, description="Suno music in custom mode: song title.")
    ] = None,
    options: Options = None,
    wait_seconds: WaitSeconds = None,
    idempotency_key: IdempotencyKey = None,
    client_ref: ClientRef = None,
) -> Annotated[CallToolResult, JobResult]:
    """Generate speech or music with a kie.ai model and save it to the local media library.

    Speech (ElevenLabs, the default) speaks the prompt and takes 5-30 seconds: by default this
    call waits and returns the saved MP3. Suno music (model "suno"; its version in
    options.model, V5 unless chosen) writes and sings a song from the prompt in 1-3 minutes and
    makes two songs per request: the call returns a job_id; then call get_status(job_id,
    wait_seconds=30) until it is completed.
    Never call generate_audio again for the same request: that pays twice. Results are files
    (path, URL, media:// link, duration), never inline audio. list_models(kind="audio") shows
    every audio model; describe_model(model) its settings and price.
    """
    knobs: dict[str, Any] = {
        "voice": voice,
        "instrumental": instrumental,
        "style": style,
        "title": title,
    }
    return await _generate(
        ctx,
        MediaKind.AUDIO,
        prompt,
        model,
        knobs,
        options,
        wait_seconds=wait_seconds,
        idempotency_key=idempotency_key,
        client_ref=client_ref,
    )


async def _generate(
    ctx: Context,
    kind: MediaKind,
    prompt: str,
    model: str | None,
    knobs: dict[str, Any],
    options: dict[str, Any] | None,
    *,
    wait_seconds: float | None,
    idempotency_key: str | None,
    client_ref: str | None,
) -> CallToolResult:
    state = tool_context(ctx)
    store = state.engine.store
    fingerprint = request_fingerprint(kind, prompt, model, {**knobs, "options": options})
    try:
        # A retry of a call that already started (and paid for) its job gets that job.
        job = (
            await state.engine.find_idempotent(idempotency_key, fingerprint)
            if idempotency_key
            else None
        )
        if job is None:
            preferences = await store.preferences()
            chosen = model or default_model(preferences, kind) or DEFAULT_MODEL[kind]
            spec = state.catalogue.get_model(chosen, kind)
            knobs = apply_defaults(preferences, spec, knobs)
            request = validate_request(spec, prompt, knobs, options)
            request = await with_source_task(store, request)
            job = await state.engine.submit(
                kind,
                request,
                prompt,
                idempotency_key,
                client_ref=client_ref,
                budget=state.budget,
                request_hash=fingerprint,
            )
    except (UserInputError, NotConfiguredError) as exc:
        raise ToolError(str(exc)) from None
    except SubmitError as exc:
        raise ToolError(f"{exc} (job {exc.job.id})" if exc.job else str(exc)) from None
    wait = bounded_wait(state, wait_seconds, DEFAULT_WAIT[kind])
    job = await wait_with_progress(state, ctx, job, wait)
    return tool_result(job, state.links)
