"""Callback bodies as the engine accepts them: strict JSON, bounded, or a clear rejection.

Python's json module is lenient where an attacker can use it: it accepts NaN and Infinity
(and turns 1e999 into inf), keeps the last of duplicate keys (so a signature checked against
one `taskId` could be processed with another), accepts lone surrogate escapes, and only a
RecursionError stops deep nesting. Each of these is refused here with a 400.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

MAX_CALLBACK_BYTES = 64 * 1024
# Inbox rows one job may hold: kie sends one callback per task (a few for multi-stage
# models); past this a delivery is acknowledged but not stored (the poller still finishes
# the job), so replays cannot grow the database.
MAX_DELIVERIES_PER_JOB = 32
# kie's callbacks nest three levels deep; anything past this is not a callback.
MAX_DEPTH = 32
# Digits in one JSON number: millisecond timestamps and credit balances need far fewer.
MAX_NUMBER_DIGITS = 32


class CallbackRejected(Exception):
    """A delivery refused with no state change. ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


# The ValueErrors below carry no text: decode_callback turns every one into the same 400.


def _refuse_constant(name: str) -> Any:
    raise ValueError  # NaN, Infinity, -Infinity: Python's json accepts them, JSON does not


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_DIGITS:
        raise ValueError  # more than MAX_NUMBER_DIGITS
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS:
        raise ValueError  # more than MAX_NUMBER_DIGITS
    value = float(text)
    if not math.isfinite(value):
        raise ValueError  # beyond a float's range
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError  # a repeated key
    return result


def _check_tree(payload: object) -> None:
    """Refuse nesting deeper than MAX_DEPTH and strings holding lone surrogates. Iterative,
    so a hostile tree cannot exhaust the stack here either."""
    stack: list[tuple[object, int]] = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            value.encode()  # UnicodeEncodeError (a ValueError) on a lone surrogate
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ValueError  # deeper than MAX_DEPTH
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    key.encode()
                stack.append((item, depth + 1))


def decode_callback(body: bytes) -> Mapping[str, Any]:
    """Parse a callback body: a UTF-8 JSON object with unique keys, finite numbers of sane
    length, no lone surrogates, bounded size and nesting. CallbackRejected otherwise."""
    if len(body) > MAX_CALLBACK_BYTES:
        raise CallbackRejected(413, "body too large")
    try:
        payload = _DECODER.decode(body.decode())
        if _may_break_the_tree_rules(body):
            _check_tree(payload)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        raise CallbackRejected(400, "body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise CallbackRejected(400, "body is not a JSON object")
    return payload


# One decoder for every body (as json.loads keeps one for its defaults): building one per call
# costs more than decoding a callback.
_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_keys,
    parse_constant=_refuse_constant,
    parse_int=_parse_int,
    parse_float=_parse_float,
)


def _may_break_the_tree_rules(body: bytes) -> bool:
    """Whether the decoded tree needs walking (_check_tree). Strict UTF-8 decoding refuses
    encoded surrogates, so a lone one can only come from a \\u escape of D800-DFFF; and a
    tree nests no deeper than the text has opening brackets. A body with neither (every
    callback kie sends) is within both rules without the walk."""
    return b"\\ud" in body or b"\\uD" in body or body.count(b"{") + body.count(b"[") > MAX_DEPTH
