"""Wire primitives: provider text cleaning, task ids, numbers, Retry-After, code mapping,
URL lists, failure fields, progress, snake -> wire field mapping."""

from __future__ import annotations

import pytest

from mcp_server_kie.kie.errors import (
    KieProtocolError,
    KieRateLimitError,
    KieUnavailableError,
    error_for_code,
)
from mcp_server_kie.kie.wire import (
    clean_fail_code,
    clean_provider_text,
    clean_task_id,
    map_fields,
    parse_number,
    parse_progress,
    parse_retry_after,
    unwrap_envelope,
    url_list,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain text", "plain text"),
        ("  lots \n\n of\twhite   space ", "lots of white space"),
        ("bidi \u202eevil\u202c and \u2066isolate\u2069", "bidi evil and isolate"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("ansi \x1b[31mred\x1b[0m bell\x07", "ansi red bell"),
        ("line\u2028sep", "line sep"),
        ("emoji 🦊 stays, 中文 stays", "emoji 🦊 stays, 中文 stays"),
        (None, ""),
        (42, ""),
    ],
)
def test_clean_provider_text(raw: object, clean: str) -> None:
    assert clean_provider_text(raw) == clean


def test_clean_provider_text_caps_and_redacts() -> None:
    text = clean_provider_text("secret-abc " + "z" * 1000, redact=("secret-abc",))
    assert text.startswith("[redacted] z")
    assert len(text) == 300
    assert text.endswith("…")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("e989621f54392584b05867f87b160672", "e989621f54392584b05867f87b160672"),
        ("ee603959-debb-48d1-98c4-a6d1c717eba6", "ee603959-debb-48d1-98c4-a6d1c717eba6"),
        ("task_bytedance_1765177777132", "task_bytedance_1765177777132"),
        ("", None),
        (" abc", None),
        ("abc/def", None),
        ("a" * 129, None),
        (12345, None),
        (None, None),
    ],
)
def test_clean_task_id(raw: object, expected: str | None) -> None:
    assert clean_task_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (3, 3.0),
        (0.8, 0.8),
        ("120.59", 120.59),
        (True, None),
        ("nan", None),
        ("inf", None),
        ("1e400", None),
        (10**400, None),
        ([], None),
        (None, None),
    ],
)
def test_parse_number(raw: object, expected: float | None) -> None:
    assert parse_number(raw) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("3", 3.0),
        ("0.5", 0.5),
        ("-2", 0.0),
        ("999999", 3600.0),
        ("Thu, 01 Jan 2026 00:00:10 GMT", 10.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, now=1767225600.0) == expected


def test_error_for_code_wording() -> None:
    error = error_for_code(429, what="reading task t1", retry_after=4.0)
    assert isinstance(error, KieRateLimitError)
    assert error.message == (
        "kie.ai is rate-limiting this account (429) while reading task t1. Wait 4 s and try again."
    )


def test_unknown_codes() -> None:
    assert type(error_for_code(599, what="x")) is KieUnavailableError
    assert type(error_for_code(302, what="x")) is KieProtocolError


def test_string_body_code_is_accepted() -> None:
    with pytest.raises(KieUnavailableError):
        unwrap_envelope(200, b'{"code": "455", "msg": "maintenance"}', what="x")
    assert unwrap_envelope(200, b'{"code": "200", "data": 7}', what="x") == 7


@pytest.mark.parametrize(
    "body",
    [b"", b"null", b"[" * 100_000, b'{"code": true}', b'{"code": 1e3}', b"\xff\xfe"],
)
def test_hostile_bodies_are_protocol_errors(body: bytes) -> None:
    with pytest.raises(KieProtocolError):
        unwrap_envelope(200, body, what="x")


def test_body_code_200_with_error_status_is_an_error() -> None:
    with pytest.raises(KieUnavailableError):
        unwrap_envelope(500, b'{"code": 200, "msg": "success", "data": 1}', what="x")


@pytest.mark.parametrize(
    ("value", "urls"),
    [
        (["https://a/1.png", "https://a/2.png"], ("https://a/1.png", "https://a/2.png")),
        (("https://a/1.png",), ("https://a/1.png",)),
        ('["https://a/1.png"]', ("https://a/1.png",)),
        ("[http://example.com/video1.mp4]", ("http://example.com/video1.mp4",)),
        ("[ 'https://a/1.png' , https://a/2.png ]", ("https://a/1.png", "https://a/2.png")),
        ("https://a/1.png", ("https://a/1.png",)),
        ("[]", ()),
        ("", ()),
        ("[unclosed", ()),
        (None, ()),
        ({"url": "https://a/1.png"}, ()),
        (["https://a/1.png", "file:///etc/passwd", 3, None], ("https://a/1.png",)),
        (["https://a/x.png"] * 500, ("https://a/x.png",) * 100),
    ],
)
def test_url_list(value: object, urls: tuple[str, ...]) -> None:
    assert url_list(value) == urls


def test_map_fields() -> None:
    table = {"aspect_ratio": "aspectRatio", "prompt": "prompt"}
    assert map_fields({"aspect_ratio": "1:1", "prompt": None}, table, family="F") == {
        "aspectRatio": "1:1"
    }
    with pytest.raises(ValueError, match=r"F takes no input field 'aspectRatio', 'z'"):
        map_fields({"z": 1, "aspectRatio": "1:1"}, table, family="F")
    with pytest.raises(TypeError):
        map_fields(["prompt"], table, family="F")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"), [(400, "400"), ("  451 ", "451"), (None, None), ("", None), (True, None)]
)
def test_clean_fail_code(value: object, expected: str | None) -> None:
    assert clean_fail_code(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.48", 0.48), ("1.00", 1.0), ("0.00", 0.0), (48, 0.48), (-1, None), (101, None), ("", None)],
)
def test_parse_progress(value: object, expected: float | None) -> None:
    assert parse_progress(value) == expected


def test_success_false_with_code_200_is_refused() -> None:
    body = b'{"success": false, "code": 200, "msg": "nope", "data": {}}'
    with pytest.raises(KieProtocolError) as caught:
        unwrap_envelope(200, body, what="uploading")
    assert caught.value.provider_message == "nope"
    assert unwrap_envelope(200, b'{"success": true, "code": 200, "data": 1}', what="x") == 1
