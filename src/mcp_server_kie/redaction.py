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
    (the replacement needs no escaping) and fields we read (task id, state) are untouched;
    bytes that are not UTF-8 pass through as they are."""
    text = body.decode(errors="surrogateescape")
    return redact_text(text, *secrets).encode(errors="surrogateescape")


class RedactingFormatter(logging.Formatter):
    """A formatter whose output (message, arguments, traceback) never holds a credential."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))
