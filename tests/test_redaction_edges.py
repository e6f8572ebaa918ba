"""Redaction edges scripts/mutation found unguarded: a secret holding "/" is caught in its
fully percent-encoded form too, and a stored body keeps its exact bytes around the markers
(including bytes that are not UTF-8); and redact_body's fast path redacts a credential name
only where it starts a name (body start, a delimiter, "%3F" or "%26"), before "=" or "%3D",
with a value, every parameter of a body."""

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


# The fast path's boundaries, each pinned by the exact output (scripts/mutation survivors of
# _redact_param_values and _starts_a_name). R is the marker as bytes.
R = REDACTED.encode()


def test_a_name_at_the_very_start_of_the_body_is_redacted() -> None:
    assert redact_body(b"token=abc") == b"token=" + R
    assert redact_body(b"Key=abc&x=1") == b"Key=" + R + b"&x=1"
    assert redact_body(b"%3Ftoken=abc") == b"%3Ftoken=" + R


def test_a_name_inside_a_longer_word_is_left_alone() -> None:
    for body in (b"xtoken=abc", b"/xtoken=abc", b"ab monkey=abc", b"monkey=abc", b"design=v"):
        assert redact_body(body) == body, body
    assert redact_text("xtoken=abc monkey=abc") == "xtoken=abc monkey=abc"


def test_a_name_after_a_delimiter_is_redacted_in_any_case() -> None:
    assert redact_body(b"/w?TOKEN=abc") == b"/w?TOKEN=" + R
    assert redact_body(b"a Api_Key=abc") == b"a Api_Key=" + R
    assert redact_body(b"x.Access_Token=abc") == b"x.Access_Token=" + R


def test_a_percent_encoded_separator_is_redacted() -> None:
    assert redact_body(b"token%3Dabc") == b"token%3D" + R
    assert redact_body(b"q sig%3dabc&x") == b"q sig%3d" + R + b"&x"


def test_a_percent_encoded_question_mark_or_ampersand_starts_a_name() -> None:
    url = b"https%3A%2F%2Fh%2Fw%3Ftoken%3Dabc%26key%3Ddef"
    assert redact_body(url) == b"https%3A%2F%2Fh%2Fw%3Ftoken%3D" + R
    assert redact_body(b"u%3Ftoken=abc") == b"u%3Ftoken=" + R
    assert redact_body(b"u%26token=abc") == b"u%26token=" + R
    assert redact_body(b"u%3Etoken=abc") == b"u%3Etoken=abc"  # %3E is no separator


def test_every_parameter_of_a_body_is_redacted() -> None:
    body = b"token=a&key=b&x=1&secret=c"
    assert redact_body(body) == b"token=" + R + b"&key=" + R + b"&x=1&secret=" + R


def test_a_name_with_no_value_is_left_as_it_is() -> None:
    for body in (b"token=", b"token=&x=1", b"a?token=&key=v"[:9], b'"token="'):
        assert redact_body(body) == body, body
    assert redact_body(b"token=&key=v") == b"token=&key=" + R


def test_a_json_escaped_callback_url_as_kie_echoes_it() -> None:
    body = b'{"param":"{\\"callBackUrl\\":\\"http://h/webhooks/kie/j1?token=abc\\"}"}'
    assert redact_body(body) == (
        b'{"param":"{\\"callBackUrl\\":\\"http://h/webhooks/kie/j1?token=' + R + b'\\"}"}'
    )
