"""kie.ai wire primitives shared by every API family: the `{code, msg, data}` envelope,
provider text cleaning, task ids, loose numbers, Retry-After, result URL lists, failure fields,
and the snake_case -> wire-name mapping of create bodies. Pure, no I/O."""

from __future__ import annotations

import json
import logging
import math
import re
import time
import unicodedata
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from mcp_server_kie.domain import TaskState, strip_terminal_sequences
from mcp_server_kie.kie.errors import (
    BASE_URL_HINT,
    KieProtocolError,
    KieUncertainError,
    error_for_code,
)

logger = logging.getLogger(__name__)

PROVIDER_TEXT_LIMIT = 300
MAX_URL_LENGTH = 4096
MAX_RESULT_URLS = 100
_TASK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}")
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_SPACE_CATEGORIES = frozenset({"Zs", "Zl", "Zp"})


def clean_provider_text(
    value: object, *, limit: int = PROVIDER_TEXT_LIMIT, redact: Iterable[str] = ()
) -> str:
    """Make text from kie.ai safe to show a model or a log: no control, format (bidi,
    zero-width) or unassigned characters, whitespace collapsed, secrets redacted, capped."""
    if not isinstance(value, str):
        return ""
    kept: list[str] = []
    for char in strip_terminal_sequences(value[: limit * 8]):
        category = unicodedata.category(char)
        if char in "\t\n\r" or category in _SPACE_CATEGORIES:
            kept.append(" ")
        elif category not in _DROP_CATEGORIES:
            kept.append(char)
    text = " ".join("".join(kept).split())
    for secret in redact:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def clean_task_id(value: object) -> str | None:
    """A task id as kie.ai issues them (hex, UUID, `task_…`), or None for anything else."""
    if isinstance(value, str) and _TASK_ID.fullmatch(value):
        return value
    return None


def created_task_id(data: object) -> str | None:
    """The task id in a create reply's `data` (every family answers `data.taskId`; a market
    `recordId`, when present, is ignored)."""
    return clean_task_id(data.get("taskId")) if isinstance(data, Mapping) else None


def record_task_id(data: object) -> str:
    """The `taskId` of a status record; KieProtocolError when the record is unusable."""
    if not isinstance(data, Mapping):
        raise KieProtocolError("kie.ai's task record had the wrong shape (expected an object).")
    task_id = clean_task_id(data.get("taskId"))
    if task_id is None:
        raise KieProtocolError("kie.ai's task record has no usable taskId.")
    return task_id


def is_http_url(url: object) -> bool:
    """A plain absolute http(s) URL: ASCII, printable, no spaces, with a host."""
    if (
        not isinstance(url, str)
        or not url
        or len(url) > MAX_URL_LENGTH
        or not url.isascii()
        or not url.isprintable()
        or " " in url
    ):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def parse_number(value: object) -> float | None:
    """A finite number from an int, float or numeric string; None otherwise (bool included)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def url_list(value: object) -> tuple[str, ...]:
    """Plain http(s) URLs from a list, a JSON list string, the unquoted "[http://a, http://b]"
    form of kie's Veo callback schema, or one bare URL string. Anything else is dropped."""
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("["):
            value = [text] if text else []
        elif isinstance(decoded := load_json(text), list):
            value = decoded
        else:
            inner = text[1:-1] if text.endswith("]") else ""
            value = [part.strip().strip("\"'") for part in inner.split(",") if part.strip()]
    if not isinstance(value, list | tuple):
        return ()
    urls: list[str] = []
    for item in value[:MAX_RESULT_URLS]:
        url = item.strip() if isinstance(item, str) else ""
        if is_http_url(url):
            urls.append(url)
        else:
            logger.warning("ignoring a result URL that is not a plain http(s) URL")
    return tuple(urls)


def clean_fail_code(value: object) -> str | None:
    """A failure code (`failCode`, `errorCode`) as a short clean string, None when empty."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return clean_provider_text(value, limit=40) or None


def parse_progress(value: object) -> float | None:
    """Progress as a 0..1 fraction from 0..1 numbers, numeric strings ("0.48") or percents."""
    number = parse_number(value)
    if number is None or number < 0:
        return None
    if number <= 1:
        return number
    return number / 100 if number <= 100 else None


def map_fields(
    input: Mapping[str, Any], table: Mapping[str, str], *, family: str
) -> dict[str, Any]:
    """Rename our snake_case input keys to a family's wire names with an explicit table.

    None values are left out (kie's own default applies). An unknown key is a programming error
    (ValueError) and nothing is sent.
    """
    if not isinstance(input, Mapping):
        raise TypeError(f"{family} input must be a mapping of snake_case fields")
    unknown = sorted(repr(key) for key in input if key not in table)
    if unknown:
        raise ValueError(
            f"{family} takes no input field {', '.join(unknown)}; known: {', '.join(table)}"
        )
    return {table[key]: value for key, value in input.items() if value is not None}


def add_callback_url(body: dict[str, Any], callback_url: str | None) -> dict[str, Any]:
    """Set `callBackUrl` when there is one (checked to be an http(s) URL); else leave it out."""
    if callback_url:
        if not is_http_url(callback_url):
            raise ValueError("callback_url must be an http(s) URL")
        body["callBackUrl"] = callback_url
    return body


def load_json(raw: str | bytes) -> Any:
    """json.loads that reports hostile or broken input as None instead of raising."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def parse_retry_after(header: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), capped at 1 h."""
    if not header:
        return None
    seconds = parse_number(header.strip())
    if seconds is None:
        try:
            moment = parsedate_to_datetime(header).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        seconds = moment - (time.time() if now is None else now)
    return min(max(seconds, 0.0), 3600.0)


def unwrap_envelope(
    status: int,
    body: bytes,
    *,
    what: str,
    content_type: str = "",
    retry_after: str | None = None,
    redact: Iterable[str] = (),
    may_have_created: bool = False,
) -> Any:
    """Return `data` from a kie.ai reply, or raise the mapped KieError.

    Business errors arrive either as HTTP 200 + body `code` or with the same HTTP status; the
    body code wins. Without a body code, a bare HTTP status maps the same way, except 2xx/3xx
    and 404 (a wrong route or proxy: KieProtocolError). `may_have_created` (create calls) turns
    a body-less 502/504 from a gateway into KieUncertainError.
    """
    envelope = load_json(body)
    wait = parse_retry_after(retry_after)
    if not isinstance(envelope, Mapping) or (code := body_code(envelope)) is None:
        if status == 404 or status < 400:
            shape = "was not JSON" if envelope is None else "had no kie.ai envelope"
            kind = f", {clean_provider_text(content_type, limit=60)}" if content_type else ""
            raise KieProtocolError(
                f"kie.ai's reply {shape} (HTTP {status}{kind}) while {what}. {BASE_URL_HINT}"
            )
        if may_have_created and status in (502, 504):
            raise KieUncertainError(
                f"A gateway answered HTTP {status} while {what}; kie.ai may or may not have "
                "created the task. Do not resubmit blindly: check for a callback or the job "
                "history first.",
                code=status,
            )
        note = " (the reply had no kie.ai envelope)"
        raise error_for_code(status, what=what, retry_after=wait, note=note)
    raw_message = next((envelope[k] for k in ("msg", "message") if envelope.get(k)), "")
    text = clean_provider_text(raw_message, redact=redact)
    if code == 200 and 200 <= status < 300:
        if envelope.get("success") is False:  # upload replies add `success`
            said = f' kie.ai said: "{text}"' if text else ""
            raise KieProtocolError(
                f"kie.ai answered code 200 but success=false while {what}.{said}",
                code=200,
                provider_message=text,
            )
        return envelope.get("data")
    raise error_for_code(
        code if code != 200 else status, what=what, provider_message=text, retry_after=wait
    )


def body_code(envelope: Mapping[str, Any]) -> int | None:
    """The envelope's business `code` as an int (digit strings accepted), else None."""
    code = envelope.get("code")
    if isinstance(code, str) and code.isascii() and code.isdigit() and len(code) <= 4:
        return int(code)
    if isinstance(code, int) and not isinstance(code, bool) and 0 <= code <= 9999:
        return code
    return None


# `successFlag` on every family's record: 0 while running, 1 success, 2 and 3 failure (which
# of the two a family uses for which failure differs, and both mean the task is over).
SUCCESS_FLAGS: Mapping[int, TaskState] = {
    0: TaskState.GENERATING,
    1: TaskState.SUCCESS,
    2: TaskState.FAIL,
    3: TaskState.FAIL,
}


def state_from_flag(data: Mapping[str, Any]) -> TaskState | None:
    """The state a record's numeric `successFlag` names, or None when missing or unknown."""
    flag = parse_number(data.get("successFlag"))
    if flag is not None and flag.is_integer():
        return SUCCESS_FLAGS.get(int(flag))
    return None
