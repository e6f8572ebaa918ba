"""Secrets out of everything we store or log.

kie.ai echoes the request it was given inside its callbacks and status records (the Market
`param`/`paramJson` fields carry the callback URL, and with it the job's callback token).
Every webhook body is passed through `redact_body` before it is stored, and every log line
through `RedactingFormatter`, so a token never rests in the database or a log file in clear.

Two layers: the exact secret, when the caller knows it (the token the delivery came with),
in clear and percent-encoded form; and a pattern for anything shaped like a credential in a
URL or a header (`token=...`, `key=...`, `Bearer ...`), whatever its value.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

REDACTED = "[redacted]"

# A credential-named URL parameter, plain or percent-encoded (`token%3D`), inside a URL,
# a query string or JSON text that quotes one; its value runs until a delimiter.
_PARAM = (
    r"(?i)(?:(?<![A-Za-z0-9])|(?<=%3F)|(?<=%26))"
    r"((?:access_?)?token|api_?key|key|secret|signature|sig)(=|%3D)[^&\s\"'\\#<>]+"
)
_BEARER = r"(?i)(?<![A-Za-z0-9])(bearer\s+)[A-Za-z0-9._~+/=-]+"
_PARAM_TEXT = re.compile(_PARAM)
_BEARER_TEXT = re.compile(_BEARER)
_BEARER_BYTES = re.compile(_BEARER.encode())


def redact_text(text: str, *secrets: str | None) -> str:
    """``text`` with each known secret and anything credential-shaped replaced."""
    for secret in secrets:
        if secret:
            for form in {secret, quote(secret, safe="")}:
                text = text.replace(form, REDACTED)
    text = _PARAM_TEXT.sub(rf"\1\2{REDACTED}", text)
    return _BEARER_TEXT.sub(rf"\1{REDACTED}", text)


def redact_body(body: bytes, *secrets: str | None) -> bytes:
    """A webhook body fit to store: the same bytes with secrets replaced. JSON stays valid
    (the replacement needs no escaping) and fields we read (task id, state) are untouched.
    Same result as ``redact_text``'s patterns, found faster (this runs on every callback)."""
    marker = REDACTED.encode()
    for secret in secrets:
        if secret:
            for form in {secret, quote(secret, safe="")}:
                body = body.replace(form.encode(), marker)
    lowered = body.lower()  # ASCII only: every byte keeps its place
    body = _redact_param_values(body, lowered)
    if b"bearer" not in lowered:
        return body
    return _BEARER_BYTES.sub(rb"\1" + marker, body)


# The _PARAM pattern, taken apart: a separator ("=" or "%3d", found with bytes.find, which
# is fast, and rare in a body), right after a credential name (one of _ENDINGS ends every
# name of _NAMES), then the checks the pattern makes before the name and after the separator.
_SEPARATORS = (b"=", b"%3d")
_ENDINGS = (b"token", b"key", b"secret", b"signature", b"sig")
_NAMES = b"access_token accesstoken token api_key apikey key secret signature sig".split()
_VALUE = re.compile(rb"[^&\s\"'\\#<>]+")


def _redact_param_values(body: bytes, lowered: bytes) -> bytes:
    parts: list[bytes] = []
    kept = 0  # body[:kept] is settled
    for separator, end in _separators(lowered):
        # Past a value already redacted (a value stops at a delimiter, so no name before this
        # separator reaches back into it), right after a name's ending, with a value after it.
        if separator < kept or not lowered.endswith(_ENDINGS, 0, separator):
            continue
        value = _VALUE.match(lowered, end)
        if value is None or not any(
            lowered.endswith(name, 0, separator) and _starts_a_name(lowered, separator - len(name))
            for name in _NAMES
        ):
            continue
        parts += [body[kept:end], REDACTED.encode()]
        kept = value.end()
    return b"".join([*parts, body[kept:]]) if parts else body


def _separators(lowered: bytes) -> list[tuple[int, int]]:
    """Where each separator starts and ends, in order (the two never overlap)."""
    found: list[tuple[int, int]] = []
    for separator in _SEPARATORS:
        at = lowered.find(separator)
        while at >= 0:
            found.append((at, at + len(separator)))
            at = lowered.find(separator, at + len(separator))
    found.sort()
    return found


def _starts_a_name(lowered: bytes, at: int) -> bool:
    """No letter or digit right before ``at``, or a percent-encoded "?" or "&"."""
    before = lowered[at - 1 : at] if at > 0 else b""
    return not (before.isascii() and before.isalnum()) or lowered[max(at - 3, 0) : at] in (
        b"%3f",
        b"%26",
    )


class RedactingFormatter(logging.Formatter):
    """A formatter whose output (message, arguments, traceback) never holds a credential."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))
