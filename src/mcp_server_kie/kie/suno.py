"""The Suno music family: `POST /api/v1/generate` and `GET /api/v1/generate/record-info`.
Builds request bodies, reads records, maps Suno's own codes. Pure, no I/O.

The body's `model` is the Suno version (`V4` ... `V5_5`); `customMode`, `instrumental` and
`callBackUrl` are required by kie's schema. Without a public callback URL we send one under the
reserved `.invalid` domain (RFC 6761: it never resolves), so kie's deliveries go nowhere and the
job finishes by polling.

A record reports `status`: `PENDING`, `TEXT_SUCCESS` (lyrics written), `FIRST_SUCCESS` (first
song done), `SUCCESS` (all done), or a failure: `CREATE_TASK_FAILED`, `GENERATE_AUDIO_FAILED`,
`SENSITIVE_WORD_ERROR`, `CALLBACK_EXCEPTION`. The last one means kie.ai could not deliver the
callback; the songs may well exist, so a record that has them counts as a success. Songs sit at
`response.sunoData[].audioUrl` (`streamAudioUrl` is a live stream, not a file); a failure in
`errorCode`/`errorMessage`. No credits are reported.

Suno's business codes differ from the rest of kie.ai: 429 means insufficient credits, 430
(and 405) that calls come too often, 413 that the prompt or style is too long.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from mcp_server_kie.domain import TaskSnapshot, TaskState
from mcp_server_kie.kie.errors import (
    KieCreditsError,
    KieError,
    KieProtocolError,
    KieRateLimitError,
    KieValidationError,
)
from mcp_server_kie.kie.wire import (
    add_callback_url,
    clean_fail_code,
    clean_provider_text,
    map_fields,
    record_task_id,
    url_list,
)

LABEL = "Suno"
CREATE_PATH = "/api/v1/generate"
RECORD_PATH = "/api/v1/generate/record-info"
MODELS = frozenset({"V4", "V4_5", "V4_5PLUS", "V4_5ALL", "V5", "V5_5"})
UNREACHABLE_CALLBACK_URL = "https://callback.invalid/kie-suno"

# Our snake_case input key -> kie's wire name.
FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "prompt": "prompt",
        "model": "model",
        "custom_mode": "customMode",
        "instrumental": "instrumental",
        "style": "style",
        "title": "title",
        "negative_tags": "negativeTags",
        "vocal_gender": "vocalGender",
        "style_weight": "styleWeight",
        "weirdness_constraint": "weirdnessConstraint",
        "audio_weight": "audioWeight",
        "persona_id": "personaId",
        "persona_model": "personaModel",
        "duration": "duration",
    }
)

_STATES: Mapping[str, TaskState] = MappingProxyType(
    {
        "PENDING": TaskState.WAITING,
        "TEXT_SUCCESS": TaskState.GENERATING,
        "FIRST_SUCCESS": TaskState.GENERATING,
        "SUCCESS": TaskState.SUCCESS,
        "CREATE_TASK_FAILED": TaskState.FAIL,
        "GENERATE_AUDIO_FAILED": TaskState.FAIL,
        "SENSITIVE_WORD_ERROR": TaskState.FAIL,
        "CALLBACK_EXCEPTION": TaskState.FAIL,
    }
)
_PROGRESS: Mapping[str, float] = MappingProxyType({"TEXT_SUCCESS": 0.3, "FIRST_SUCCESS": 0.6})
_CALLBACK_STATES: Mapping[str, TaskState] = MappingProxyType(
    {"complete": TaskState.SUCCESS, "error": TaskState.FAIL}
)


def create_body(model: str, input: Mapping[str, Any], callback_url: str | None) -> dict[str, Any]:
    """The JSON body of a generate call. `model` names the catalogue entry only; the Suno
    version travels in the input's `model`."""
    body = map_fields(input, FIELDS, family=LABEL)
    if body.get("model") not in MODELS:
        raise ValueError(f"Suno model must be one of {', '.join(sorted(MODELS))}")
    if not isinstance(body.get("prompt"), str):
        raise ValueError("Suno needs a prompt")
    body.setdefault("customMode", False)
    body.setdefault("instrumental", False)
    return add_callback_url(body, callback_url or UNREACHABLE_CALLBACK_URL)


def parse_state(data: Mapping[str, Any]) -> TaskState | None:
    """The state a record's `status` names, or None."""
    raw = data.get("status")
    return _STATES.get(raw.strip().upper()) if isinstance(raw, str) else None


def parse_record(data: Mapping[str, Any]) -> TaskSnapshot:
    """Read a record-info `data` object into a TaskSnapshot."""
    task_id = record_task_id(data)
    state = parse_state(data)
    if state is None:
        shown = clean_provider_text(data.get("status"), limit=40) or "missing"
        raise KieProtocolError(f"kie.ai reported an unknown Suno status ({shown}) for {task_id}.")
    urls = _song_urls(data.get("response"))
    if state is TaskState.FAIL and urls and data.get("status") == "CALLBACK_EXCEPTION":
        state = TaskState.SUCCESS  # only the delivery to our callback URL failed
    if state is TaskState.SUCCESS and not urls:
        raise KieProtocolError(f"kie.ai reported Suno task {task_id} done but sent no songs.")
    failed = state is TaskState.FAIL
    status = data.get("status")
    return TaskSnapshot(
        task_id=task_id,
        state=state,
        result_urls=urls if state is TaskState.SUCCESS else (),
        fail_code=(clean_fail_code(data.get("errorCode")) or str(status)) if failed else None,
        fail_message=(clean_provider_text(data.get("errorMessage")) or None) if failed else None,
        progress=_PROGRESS.get(status) if isinstance(status, str) else None,
    )


def callback_state(data: Mapping[str, Any]) -> TaskState | None:
    """The state a Suno callback's `callbackType` claims: `complete` success, `error` failure;
    `text` and `first` are intermediate stages (None)."""
    raw = data.get("callbackType")
    return _CALLBACK_STATES.get(raw.strip().lower()) if isinstance(raw, str) else None


def map_error(error: KieError) -> KieError:
    """Suno's own reading of the codes kie.ai shares with the other families."""
    said = f' kie.ai said: "{error.provider_message}"' if error.provider_message else ""
    code = error.code
    if code == 429:
        return KieCreditsError(
            f"kie.ai says the account has too few credits for Suno (429).{said}",
            code=code,
            provider_message=error.provider_message,
        )
    if code in (405, 430):
        return KieRateLimitError(
            f"kie.ai says Suno calls come too often ({code}). Wait a little and retry.{said}",
            code=code,
            provider_message=error.provider_message,
        )
    if code == 413:
        return KieValidationError(
            f"kie.ai says the Suno prompt or style is too long (413). Shorten it.{said}",
            code=code,
            provider_message=error.provider_message,
        )
    return error


def _song_urls(response: object) -> tuple[str, ...]:
    if not isinstance(response, Mapping):
        return ()
    songs = response.get("sunoData")
    if not isinstance(songs, list):
        return ()
    found = [song.get("audioUrl") for song in songs if isinstance(song, Mapping)]
    return url_list([url for url in found if isinstance(url, str) and url])
