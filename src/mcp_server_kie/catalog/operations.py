"""Operations on an earlier result (upscale, extend, edit, ...): which offered models can do
one for a source of a given kind, and which of a model's fields the source fills. Pure.

Everything is read from the catalogue: a model can do an operation when it has the matching
capability and its schema has a field for the source (a media URL field of the source's kind,
or `task_id` for models that continue an earlier kie task). A `task_id` only works for a task
of the same model line (`continues`), so that is checked before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mcp_server_kie.catalog.spec import ModelSpec
from mcp_server_kie.domain import MediaKind, UserInputError

TASK = "task"  # the medium of a `task_id` field: an earlier kie task of the same model line


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    capability: dict[MediaKind, str]  # source kind -> the capability a model needs
    output: MediaKind | None  # None: the same kind as the source
    needs_prompt: bool = False
    needs_audio: bool = False


OPERATIONS: Mapping[str, Operation] = {
    op.name: op
    for op in (
        Operation("upscale", {MediaKind.IMAGE: "upscale", MediaKind.VIDEO: "upscale"}, output=None),
        Operation("remove-background", {MediaKind.IMAGE: "background-removal"}, MediaKind.IMAGE),
        Operation(
            "edit",
            {MediaKind.IMAGE: "image-edit", MediaKind.VIDEO: "video-to-video"},
            output=None,
            needs_prompt=True,
        ),
        Operation("extend", {MediaKind.VIDEO: "extend"}, MediaKind.VIDEO),
        Operation(
            "lip-sync",
            {MediaKind.IMAGE: "lip-sync", MediaKind.VIDEO: "lip-sync"},
            MediaKind.VIDEO,
            needs_audio=True,
        ),
        Operation("isolate-voice", {MediaKind.AUDIO: "audio-isolation"}, MediaKind.AUDIO),
    )
}

# The model chosen when none is given, first one offered wins (after any model that continues
# the source's own kie task, which needs no upload).
PREFERRED: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("upscale", "image"): ("recraft/crisp-upscale", "topaz/image-upscale"),
    ("upscale", "video"): ("veo3-1080p", "grok-imagine/upscale", "topaz/video-upscale"),
    ("remove-background", "image"): ("recraft/remove-background",),
    ("edit", "image"): ("google/nano-banana-edit", "flux-kontext-pro", "qwen/image-edit"),
    ("edit", "video"): ("runway-aleph", "wan/2-7-videoedit"),
    ("extend", "video"): ("veo3-extend", "runway-extend", "grok-imagine/extend"),
    ("lip-sync", "image"): ("kling/ai-avatar-standard", "infinitalk/from-audio"),
    ("lip-sync", "video"): ("volcengine/video-to-video-lip-sync",),
    ("isolate-voice", "audio"): ("elevenlabs/audio-isolation",),
}

# Per-family APIs whose `task_id` continues a task of these families (kie: "Videos generated
# after 1080P generation cannot be extended", so a 1080p/4K task is no source).
_CONTINUES: Mapping[str, tuple[str, ...]] = {
    "veo-extend": ("veo", "veo-extend"),
    "veo-1080p": ("veo", "veo-extend"),
    "veo-4k": ("veo", "veo-extend"),
    "runway-extend": ("runway", "runway-extend"),
}

_MAX_SIZE = re.compile(r"Max(?:imum)?(?: file)? size: ?([\d.]+) ?MB", re.IGNORECASE)
_ACCEPTED = re.compile(r"Accepted(?: file)? types: ([a-z0-9/+.,\s-]+)", re.IGNORECASE)
_IMAGE_NAMES = ("image", "input_image", "image_input", "input_urls", "files_url", "file_url")


def field_medium(name: str, field: Any) -> str | None:
    """What a field takes: "image", "video", "audio" (URLs), TASK, or None."""
    if name in ("task_id", "taskId"):
        return TASK
    if not isinstance(field, Mapping):
        return None
    items = field.get("items")
    listed = isinstance(items, Mapping) and items.get("type") == "string"
    strings = field.get("type") == "string" or (field.get("type") == "array" and listed)
    if not strings:
        return None
    if "mask" in name:
        return "mask"  # drawn for the source, never the source itself: a model needing one is out
    if "url" in name and "audio" in name:
        return "audio"
    if "url" in name and "video" in name:
        return "video"
    if name in _IMAGE_NAMES or ("url" in name and "image" in name):
        return "image"
    return None


@dataclass(frozen=True, slots=True)
class SourceField:
    name: str
    medium: str  # image, video, audio or TASK
    is_list: bool
    max_bytes: int | None  # kie's stated size limit, if any
    accepted: tuple[str, ...]  # kie's accepted MIME types, if stated


def source_fields(spec: ModelSpec, media: Iterable[str]) -> dict[str, SourceField] | None:
    """medium -> the field each given medium fills, or None when the model cannot take these
    sources (a medium without a field, or a required source field left empty)."""
    wanted = list(media)
    required = set(spec.required)
    by_medium: dict[str, list[str]] = {}
    for name, field in spec.fields.items():
        medium = field_medium(name, field)
        if medium is not None:
            by_medium.setdefault(medium, []).append(name)
    chosen: dict[str, SourceField] = {}
    for medium in wanted:
        names = sorted(by_medium.get(medium, []), key=lambda n: (n not in required, n))
        if not names:
            return None
        chosen[medium] = _describe(names[0], medium, spec.fields[names[0]])
    filled = {f.name for f in chosen.values()}
    media_fields = {n for names in by_medium.values() for n in names}
    if (required & media_fields) - filled:
        return None
    return chosen


def _describe(name: str, medium: str, field: Mapping[str, Any]) -> SourceField:
    text = str(field.get("description", ""))
    size = _MAX_SIZE.search(text)
    accepted = _ACCEPTED.search(text)
    types = tuple(t.strip() for t in accepted.group(1).split(",") if "/" in t) if accepted else ()
    return SourceField(
        name=name,
        medium=medium,
        is_list=field.get("type") == "array",
        max_bytes=int(float(size.group(1)) * 1_000_000) if size else None,
        accepted=types,
    )


def continues(spec: ModelSpec) -> tuple[str, ...]:
    """What a `task_id` model's tasks may come from: families (per-family APIs) or, for the
    Market, the model line (``grok-imagine/`` continues ``grok-imagine/...`` tasks)."""
    if spec.family.value in _CONTINUES:
        return _CONTINUES[spec.family.value]
    return (spec.id.split("/", 1)[0] + "/",)


def continues_task_of(spec: ModelSpec, source_model: str, source_family: str) -> bool:
    allowed = continues(spec)
    if spec.family.value in _CONTINUES:
        return source_family in allowed
    return source_family == "market" and source_model.startswith(allowed[0])


def find_operation(name: str) -> Operation:
    found = OPERATIONS.get(name.strip().lower())
    if found is None:
        raise UserInputError(
            f"Unknown operation {name!r}. Allowed: {', '.join(OPERATIONS)} (what each can do "
            "depends on the source: an image, a video or audio)."
        )
    return found


def output_kind(op: Operation, source: MediaKind) -> MediaKind:
    return op.output or source


def capable_models(specs: Iterable[ModelSpec], op: Operation, source: MediaKind) -> list[ModelSpec]:
    """Offered models with the capability and a field for the source (and audio, if needed)."""
    capability = op.capability.get(source)
    if capability is None:
        return []
    kind = output_kind(op, source)
    found = []
    for spec in specs:
        if spec.kind is not kind or capability not in spec.capabilities:
            continue
        media = ["audio"] if op.needs_audio else []
        if source_fields(spec, [source.value, *media]) or source_fields(spec, [TASK, *media]):
            found.append(spec)
    return sorted(found, key=lambda s: s.id)


def ranked(models: list[ModelSpec], op: Operation, source: MediaKind) -> list[ModelSpec]:
    """The models in the order a default is chosen: the preferred ones first."""
    preferred = PREFERRED.get((op.name, source.value), ())
    return sorted(models, key=lambda s: preferred.index(s.id) if s.id in preferred else 99)


def describe_models(models: Iterable[ModelSpec]) -> str:
    """Model ids, each task_id model with the jobs it can continue."""
    parts = []
    for spec in models:
        lines = (c + "*" if c.endswith("/") else c for c in continues(spec))
        line = " or ".join(lines) if _task_field(spec) in spec.required else ""
        parts.append(f"{spec.id} (continues {line} jobs)" if line else spec.id)
    return ", ".join(parts) or "none"


def _task_field(spec: ModelSpec) -> str:
    return "taskId" if "taskId" in spec.fields else "task_id"
