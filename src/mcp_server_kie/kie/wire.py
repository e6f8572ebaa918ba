"""kie.ai wire primitives shared by every API family: the `{code, msg, data}` envelope,
provider text cleaning, task ids, loose numbers, Retry-After. Pure, no I/O."""

from __future__ import annotations

import json
import math
import re
import time
import unicodedata
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from mcp_server_kie.kie.errors import (
    BASE_URL_HINT,
    KieProtocolError,
    KieUncertainError,
    error_for_code,
)

PROVIDER_TEXT_LIMIT = 300
MAX_URL_LENGTH = 4096
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
    for char in value[: limit * 8]:
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
    if not isinstance(envelope, Mapping) or (code := _body_code(envelope)) is None:
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
    if code == 200 and 200 <= status < 300:
        return envelope.get("data")
    raw_message = next((envelope[k] for k in ("msg", "message") if envelope.get(k)), "")
    text = clean_provider_text(raw_message, redact=redact)
    raise error_for_code(
        code if code != 200 else status, what=what, provider_message=text, retry_after=wait
    )


def _body_code(envelope: Mapping[str, Any]) -> int | None:
    code = envelope.get("code")
    if isinstance(code, str) and code.isascii() and code.isdigit() and len(code) <= 4:
        return int(code)
    if isinstance(code, int) and not isinstance(code, bool) and 0 <= code <= 9999:
        return code
    return None
