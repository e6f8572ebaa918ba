"""redact_body finds credential-shaped parameters without running the slow pattern over every
byte; it must redact exactly what the pattern (``redaction._PARAM``, as redact_text applies
it) redacts, on bodies built from the pieces that decide a match."""

from __future__ import annotations

import random
import re

from mcp_server_kie.redaction import _BEARER, _PARAM, REDACTED, redact_body

PIECES = [
    "token", "TOKEN", "Access_Token", "accesstoken", "api_key", "APIKEY", "key", "monkey",
    "secret", "signature", "sig", "xsig", "design", "=", "=", "%3D", "%3d", "%3F", "%26",
    "%3f", "&", "?", " ", '"', "'", "\\\\", "#", "<", ">", "/", "_", "-", "a", "Z", "9",
    "bearer ", "Bearer  ", "é", "\\n",
]  # fmt: skip


def by_the_pattern(body: bytes) -> bytes:
    marker = REDACTED.encode()
    body = re.sub(_PARAM.encode(), rb"\1\2" + marker, body)
    return re.sub(_BEARER.encode(), rb"\1" + marker, body)


def test_fast_redaction_matches_the_pattern_on_random_bodies() -> None:
    rng = random.Random(16)
    for _ in range(20_000):
        body = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 14))).encode()
        assert redact_body(body) == by_the_pattern(body), body


def test_fast_redaction_on_a_real_callback_body() -> None:
    body = (
        b'{"code":200,"data":{"taskId":"t1","param":"{\\"callBackUrl\\":'
        b'\\"http://h/webhooks/kie/job_1?token=abc&x=1\\",\\"sig\\":\\"key%3Dv\\"}"}}'
    )
    assert redact_body(body) == by_the_pattern(body)
    assert b"abc" not in redact_body(body) and b"%3Dv" not in redact_body(body)
