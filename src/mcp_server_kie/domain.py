"""Plain data shared by every room: media kinds, job and task states, jobs, assets.

No I/O and no imports from the rest of the package. Everything here is safe to construct in a
test and to pass across boundaries.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"


class ApiFamily(StrEnum):
    """kie.ai serves models through API families with different endpoints and shapes."""

    MARKET = "market"  # /api/v1/jobs/*: most models
    GPT4O_IMAGE = "4o-image"  # /api/v1/gpt4o-image/*
    FLUX_KONTEXT = "flux-kontext"  # /api/v1/flux/kontext/*
    VEO = "veo"  # /api/v1/veo/generate
    VEO_EXTEND = "veo-extend"  # /api/v1/veo/extend: continues an earlier Veo task
    VEO_1080P = "veo-1080p"  # /api/v1/veo/get-1080p-video: an earlier Veo task in 1080p
    VEO_4K = "veo-4k"  # /api/v1/veo/get-4k-video: an earlier Veo task in 4K
    RUNWAY = "runway"  # /api/v1/runway/generate
    RUNWAY_EXTEND = "runway-extend"  # /api/v1/runway/extend: continues an earlier Runway task
    ALEPH = "aleph"  # /api/v1/aleph/*: Runway Aleph video-to-video
    SUNO = "suno"  # /api/v1/generate/*: Suno music


class JobStatus(StrEnum):
    """Our own job lifecycle. `pending`: row written, kie not (yet) told. `processing`: kie has
    the task. `completed`/`failed` are terminal and sticky."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL: frozenset[JobStatus] = frozenset({JobStatus.COMPLETED, JobStatus.FAILED})


class TaskState(StrEnum):
    """kie.ai's view of a task, normalised across API families."""

    WAITING = "waiting"
    QUEUING = "queuing"
    GENERATING = "generating"
    SUCCESS = "success"
    FAIL = "fail"

    @property
    def terminal(self) -> bool:
        return self in (TaskState.SUCCESS, TaskState.FAIL)


@dataclass(frozen=True, slots=True)
class TaskSnapshot:
    """What kie's status endpoint says about one task, in our words."""

    task_id: str
    state: TaskState
    result_urls: tuple[str, ...] = ()
    credits: float | None = None
    fail_code: str | None = None
    fail_message: str | None = None
    progress: float | None = None


@dataclass(frozen=True, slots=True)
class CallbackNotice:
    """What a callback body claims. Never trusted for URLs or final state: the engine re-reads
    the task from kie's status endpoint (fetch-to-verify). ``result_urls`` (claimed with
    success) may be downloaded meanwhile, and kept only if the status read names them too."""

    task_id: str
    state: TaskState | None
    result_urls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class JobError:
    """Why a job failed, written for the model that reads it."""

    category: str  # e.g. "generation_failed", "download_failed", "timeout", "rejected"
    message: str
    retryable: bool = False
    provider_code: str | None = None


@dataclass(frozen=True, slots=True)
class Asset:
    """One stored output file of a job."""

    id: str
    job_id: str
    index: int
    kind: MediaKind
    path: str
    mime_type: str
    bytes: int
    sha256: str
    source_url: str
    created_at: float
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    thumbnail_path: str | None = None
    # True while the preview is still to be made (it is made after the job completes).
    preview_pending: bool = False


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    kind: MediaKind
    model: str
    prompt: str
    params: dict[str, Any]
    status: JobStatus
    created_at: float
    updated_at: float
    family: ApiFamily = ApiFamily.MARKET
    task_id: str | None = None
    task_state: TaskState | None = None
    callback_expected: bool = False
    expected_credits: float | None = None
    credits: float | None = None
    error: JobError | None = None
    assets: tuple[Asset, ...] = field(default_factory=tuple)
    client_ref: str | None = None


_UNSAFE_CATEGORIES = {"Cc", "Cf", "Co", "Cs"}
PROVIDER_TEXT_LIMIT = 300

# Whole terminal escape sequences (ECMA-48), 7-bit and 8-bit: OSC strings (window titles,
# hyperlinks) up to BEL or ST, other string controls (DCS, SOS, PM, APC), CSI sequences, and
# two-character escapes; then the remnants an earlier stripping of ESC alone leaves behind
# (`[31m`, `[1;32m`, `[2K`, `]0;title`).
_TERMINAL_SEQUENCE = re.compile(
    r"(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|\x1b[!-/]*[0-~]?"
)
_SEQUENCE_REMNANT = re.compile(
    r"\[[0-9;?]{0,16}[A-HJKSTfhlmnsu](?!\])|\][0-9]{1,3};[^\s\]]*(?:\s|$)"
)


def strip_terminal_sequences(text: str) -> str:
    """``text`` without terminal escape sequences or the fragments of ones half-removed."""
    return _SEQUENCE_REMNANT.sub("", _TERMINAL_SEQUENCE.sub("", text))


def clean_provider_text(text: object, limit: int = PROVIDER_TEXT_LIMIT) -> str:
    """Provider text made safe to show a model: control, bidi and zero-width characters
    removed, whitespace folded, length capped."""
    raw = strip_terminal_sequences(str(text))
    kept = "".join(
        " " if ch in "\t\n\r" else ch
        for ch in raw
        if ch in "\t\n\r" or unicodedata.category(ch) not in _UNSAFE_CATEGORIES
    )
    folded = " ".join(kept.split())
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


class UserInputError(ValueError):
    """A request the model can correct: the message says what was wrong and what is allowed."""


class NotConfiguredError(RuntimeError):
    """The server cannot reach kie.ai because it is not configured (no API key)."""
