"""kie.ai webhook signatures (opt-in "webhookHmacKey"). Pure, no I/O.

When the key is enabled, every callback carries `X-Webhook-Timestamp` (integer Unix seconds)
and `X-Webhook-Signature` = base64(HMAC-SHA256(key, f"{task_id}.{timestamp}")). Only the task
id and the timestamp are signed, not the body. kie.ai states no replay window; we allow
+/- 300 s by default.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re

DEFAULT_TOLERANCE = 300.0
# Canonical positive integer seconds, no sign, no leading zero, at most 12 digits (year 33658).
_TIMESTAMP = re.compile(r"[1-9][0-9]{0,11}")
# Standard base64 of a 32-byte digest: 43 characters and one "=" pad.
_SIGNATURE = re.compile(r"[A-Za-z0-9+/]{43}=")


# The headers a signed callback carries (lower case, as ASGI servers present them).
TIMESTAMP_HEADER = "x-webhook-timestamp"
SIGNATURE_HEADER = "x-webhook-signature"


def _digest(key: str, task_id: str, timestamp: str) -> bytes:
    message = f"{task_id}.{timestamp}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).digest()


def sign(key: str, task_id: str, timestamp: int) -> str:
    """The `X-Webhook-Signature` value kie.ai sends for this task id and timestamp."""
    return base64.b64encode(_digest(key, task_id, str(int(timestamp)))).decode()


def verify_signature(
    key: str,
    task_id: str,
    timestamp_header: str | None,
    signature_header: str | None,
    *,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
) -> bool:
    """True only for a well-formed, fresh, correctly signed callback. Never raises.

    Strict on purpose: the timestamp must be a plain positive integer (no sign, spaces,
    decimals, exponent, "nan" or leading zero) within `tolerance` seconds of `now` in either
    direction; the signature must be exactly one standard base64 SHA-256 digest.
    """
    if not (isinstance(key, str) and key and isinstance(task_id, str) and task_id):
        return False
    if not (isinstance(timestamp_header, str) and isinstance(signature_header, str)):
        return False
    if not (_TIMESTAMP.fullmatch(timestamp_header) and _SIGNATURE.fullmatch(signature_header)):
        return False
    if not (isinstance(now, int | float) and isinstance(tolerance, int | float)):
        return False
    if not (math.isfinite(now) and math.isfinite(tolerance)):
        return False
    if abs(now - int(timestamp_header)) > tolerance:
        return False
    try:
        provided = base64.b64decode(signature_header)  # _SIGNATURE admitted only base64
        expected = _digest(key, task_id, timestamp_header)
    except (binascii.Error, ValueError):  # UnicodeEncodeError (lone surrogates) is a ValueError
        return False
    return hmac.compare_digest(expected, provided)
