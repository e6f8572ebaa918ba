"""Callback bodies as the engine accepts them: strict JSON, bounded, or a clear rejection."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

MAX_CALLBACK_BYTES = 64 * 1024


class CallbackRejected(Exception):
    """A delivery refused with no state change. ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode_callback(body: bytes) -> Mapping[str, Any]:
    """Parse a callback body: UTF-8 JSON object, no NaN/Infinity, bounded size and nesting."""
    if len(body) > MAX_CALLBACK_BYTES:
        raise CallbackRejected(413, "body too large")
    try:
        text = body.decode("utf-8")
        payload = json.loads(text, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise CallbackRejected(400, "body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise CallbackRejected(400, "body is not a JSON object")
    return payload
