"""The URL rules of the download policy, each refusal in its own sentence (they reach the user
as "download refused: ..."), checked before any lookup or connection."""

from __future__ import annotations

import httpx2
import pytest

from mcp_server_kie.media import SsrfPolicy
from mcp_server_kie.media.ssrf import BlockedError


@pytest.mark.parametrize(
    ("url", "sentence"),
    [
        ("ftp://cdn.example/x.png", "the ftp scheme is not allowed"),
        ("//cdn.example/x.png", "the missing scheme is not allowed"),
        ("https://user:pw@cdn.example/x.png", "URLs with a user name or password are not allowed"),
        ("http://cdn.example/x.png", "only https URLs are allowed"),
        ("https://cdn.example:8443/x.png", "port 8443 is not allowed"),
        (
            "https://127.0.0.1/x.png",
            "the address 127.0.0.1 is not a public address: 127.0.0.0/8 is Loopback (RFC 1122)",
        ),
        ("https://cdn..example/x.png", "the host is not a valid name"),
        ("https://2130706433./x.png", "numeric host names are not allowed"),
    ],
)
def test_each_url_rule_refuses_in_its_own_sentence(url: str, sentence: str) -> None:
    with pytest.raises(BlockedError) as refused:
        SsrfPolicy().check_url(httpx2.URL(url))
    assert str(refused.value) == sentence


def test_a_public_https_url_passes() -> None:
    SsrfPolicy().check_url(httpx2.URL("https://cdn.example/x.png"))
    SsrfPolicy().check_url(httpx2.URL("https://93.184.215.14/x.png"))
