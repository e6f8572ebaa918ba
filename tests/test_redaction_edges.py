"""Redaction edges scripts/mutation found unguarded: a secret holding "/" is caught in its
fully percent-encoded form too, and a stored body keeps its exact bytes around the markers
(including bytes that are not UTF-8)."""

from __future__ import annotations

from mcp_server_kie.redaction import REDACTED, redact_body, redact_text


def test_a_secret_with_a_slash_is_caught_fully_percent_encoded() -> None:
    secret = "ab/cd+ef"
    assert redact_text("k=ab%2Fcd%2Bef;", secret) == f"k={REDACTED};"
    assert redact_body(b"k=ab%2Fcd%2Bef;", secret) == f"k={REDACTED};".encode()


def test_a_body_keeps_every_byte_but_the_credentials() -> None:
    body = b'{"u":"https://h/w?token=s3cr3t&x=1","h":"Bearer s3cr3t","raw":"\xff\xfe"}'
    marker = REDACTED.encode()
    assert redact_body(body) == (
        b'{"u":"https://h/w?token=' + marker + b'&x=1","h":"Bearer ' + marker
        + b'","raw":"\xff\xfe"}'
    )  # fmt: skip
