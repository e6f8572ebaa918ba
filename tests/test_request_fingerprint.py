"""The idempotency fingerprint of a generate call: stored with the job, so its format is fixed
(a retry after an upgrade must still match), independent of argument order, blind to
arguments left unset, and different for any change the caller made."""

from __future__ import annotations

import hashlib
from pathlib import Path

from mcp_server_kie.domain import MediaKind
from mcp_server_kie.jobs.budget import request_fingerprint

MODEL = "google/nano-banana"


def test_the_fingerprint_is_the_sha256_of_one_canonical_json_text() -> None:
    canonical = (
        '{"arguments":{"aspect_ratio":"1:1","n":2},"kind":"image",'
        '"model":"google/nano-banana","prompt":"a fox"}'
    )
    expected = hashlib.sha256(canonical.encode()).hexdigest()
    given = {"n": 2, "seed": None, "aspect_ratio": "1:1"}
    assert request_fingerprint(MediaKind.IMAGE, "a fox", MODEL, given) == expected


def test_order_and_unset_arguments_do_not_matter_but_every_given_value_does() -> None:
    base = request_fingerprint(MediaKind.IMAGE, "a fox", MODEL, {"n": 2, "aspect_ratio": "1:1"})
    same = request_fingerprint(
        MediaKind.IMAGE, "a fox", MODEL, {"aspect_ratio": "1:1", "seed": None, "n": 2}
    )
    assert same == base
    square = {"n": 2, "aspect_ratio": "1:1"}
    others = [
        request_fingerprint(MediaKind.VIDEO, "a fox", MODEL, square),
        request_fingerprint(MediaKind.IMAGE, "a cat", MODEL, square),
        request_fingerprint(MediaKind.IMAGE, "a fox", None, square),
        request_fingerprint(MediaKind.IMAGE, "a fox", MODEL, {**square, "n": 3}),
        request_fingerprint(MediaKind.IMAGE, "a fox", MODEL, {"n": 2}),
        request_fingerprint(MediaKind.IMAGE, "a fox", MODEL, {**square, "seed": 0}),
    ]
    assert base not in others and len(set(others)) == len(others)


def test_values_json_cannot_hold_are_fingerprinted_as_text() -> None:
    path = Path("/refs/a.png")
    with_path = request_fingerprint(MediaKind.IMAGE, "a fox", MODEL, {"image": path})
    assert with_path == request_fingerprint(MediaKind.IMAGE, "a fox", MODEL, {"image": str(path)})
