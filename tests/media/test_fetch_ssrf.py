"""Case 15: the SSRF set. Every trick is refused with category "blocked", a loopback canary
listening on the very port the URLs name receives no connection, and no file is left.

The canary's port is allowed by the policy in these tests, so only the address rules stand
between a URL and the canary. "Public" hosts resolve (through a stub resolver) to a global
address that the test network routes to a TLS server on loopback, certified for the name.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from scripted_http import (
    PUBLIC_IP,
    Canary,
    Network,
    Reply,
    Request,
    ScriptedServer,
    StubResolver,
    fast_limits,
    image_bytes,
    leftovers,
)

from mcp_server_kie.config import Settings
from mcp_server_kie.domain import MediaKind
from mcp_server_kie.media import DownloadError, Fetcher, SsrfPolicy, parse_allow_hosts
from mcp_server_kie.media.ssrf import BlockedError, check_address

PNG = image_bytes()

BLOCKED_ADDRESSES = [
    "127.0.0.1",
    "::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback (is_loopback is False on 3.11)
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1 (is_global is True on 3.11)
    "::127.0.0.1",  # IPv4-compatible
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "169.254.169.254",  # cloud metadata
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "224.0.0.1",  # multicast
    "ff02::1",
    "fe80::1",
    "fc00::1",
    "240.0.0.1",  # reserved
]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def canary() -> AsyncIterator[Canary]:
    async with Canary().listening() as listening:
        yield listening


def tls_server_context(ca: trustme.CA, name: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(name).configure_cert(context)
    return context


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def expect_blocked(fetcher: Fetcher, url: str, tmp_path: Path) -> DownloadError:
    with pytest.raises(DownloadError) as caught:
        await fetcher.fetch(url, tmp_path / "out" / "0", MediaKind.IMAGE)
    assert caught.value.category == "blocked", caught.value.message
    assert leftovers(tmp_path) == []
    return caught.value


@pytest.mark.parametrize("address", BLOCKED_ADDRESSES)
def test_address_rules(address: str) -> None:
    with pytest.raises(BlockedError):
        check_address(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::1111", "64:ff9b::808:808"])
def test_public_addresses_pass(address: str) -> None:
    check_address(address)  # NAT64 of a public IPv4 address is as public as the address


@pytest.mark.parametrize("address", BLOCKED_ADDRESSES)
async def test_literal_addresses_are_refused_before_connecting(
    address: str, canary: Canary, tmp_path: Path
) -> None:
    resolver = StubResolver({})
    policy = SsrfPolicy(resolver=resolver, ports=frozenset({canary.port}))
    fetcher = Fetcher(policy, fast_limits())
    host = f"[{address}]" if ":" in address else address
    try:
        await expect_blocked(fetcher, f"https://{host}:{canary.port}/x.png", tmp_path)
    finally:
        await fetcher.aclose()
    assert canary.hits == 0
    assert resolver.calls == []


@pytest.mark.parametrize("address", BLOCKED_ADDRESSES)
async def test_resolved_addresses_are_checked_at_connect_time(
    address: str, canary: Canary, tmp_path: Path
) -> None:
    resolver = StubResolver({"cdn.example": [[address]]})
    network = Network()
    policy = SsrfPolicy(resolver=resolver, ports=frozenset({canary.port}))
    fetcher = Fetcher(policy, fast_limits(), network=network)
    try:
        error = await expect_blocked(fetcher, f"https://cdn.example:{canary.port}/x.png", tmp_path)
    finally:
        await fetcher.aclose()
    assert address in error.message
    assert resolver.calls == ["cdn.example"]
    assert network.connected == []
    assert canary.hits == 0


async def test_the_system_resolver_is_checked_too(canary: Canary, tmp_path: Path) -> None:
    """The default resolver (getaddrinfo) answers "localhost" with loopback: refused."""
    fetcher = Fetcher(SsrfPolicy(ports=frozenset({canary.port})), fast_limits())
    try:
        error = await expect_blocked(fetcher, f"https://localhost:{canary.port}/x.png", tmp_path)
    finally:
        await fetcher.aclose()
    assert "not a public address" in error.message
    assert canary.hits == 0


async def test_one_bad_answer_among_good_ones_blocks_the_host(
    canary: Canary, tmp_path: Path
) -> None:
    resolver = StubResolver({"cdn.example": [[PUBLIC_IP, "127.0.0.1"]]})
    network = Network()
    policy = SsrfPolicy(resolver=resolver, ports=frozenset({canary.port}))
    fetcher = Fetcher(policy, fast_limits(), network=network)
    try:
        await expect_blocked(fetcher, f"https://cdn.example:{canary.port}/x.png", tmp_path)
    finally:
        await fetcher.aclose()
    assert network.connected == []
    assert canary.hits == 0


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://2130706433/", "only https"),
        ("https://2130706433/", "numeric"),
        ("https://0x7f.1/", "numeric"),
        ("https://127.1/", "numeric"),
        ("https://kie.ai@127.0.0.1/", "user name"),
        ("https://kie.ai:pw@cdn.example/", "user name"),
        ("http://cdn.example/x.png", "https"),
        ("https://cdn.example:8080/x.png", "port 8080"),
        ("file:///etc/passwd", "scheme"),
        ("ftp://cdn.example/x.png", "scheme"),
        ("https://exa mple/", "not a valid name"),
        ("https://a%2fb.example/", "not a valid name"),
        ("https://127.0.0.1./", "numeric"),
        ("https://exa\x00mple/", "valid URL"),
    ],
)
async def test_url_tricks_are_refused_before_any_lookup(
    url: str, reason: str, tmp_path: Path
) -> None:
    resolver = StubResolver({"cdn.example": [[PUBLIC_IP]]})
    network = Network()
    fetcher = Fetcher(SsrfPolicy(resolver=resolver), fast_limits(), network=network)
    try:
        error = await expect_blocked(fetcher, url, tmp_path)
    finally:
        await fetcher.aclose()
    assert reason in error.message
    assert resolver.calls == []
    assert network.connected == []


async def test_dns_answer_switching_to_loopback_never_reaches_it(
    ca: trustme.CA, canary: Canary, tmp_path: Path
) -> None:
    """The name first resolves to a public address, then (rebinding) to loopback. The fetcher
    resolves once, connects to exactly the address it checked, and keeps TLS and Host on the
    name: the certificate for cdn.example verifies and the server sees that Host."""

    async def serve(request: Request, reply: Reply) -> None:
        await reply.send(200, PNG)

    resolver = StubResolver({"cdn.example": [[PUBLIC_IP], ["127.0.0.1"]]})
    cdn = ScriptedServer(serve, tls=tls_server_context(ca, "cdn.example"))
    async with cdn.running():
        network = Network(routes={(PUBLIC_IP, canary.port): cdn.port})
        policy = SsrfPolicy(resolver=resolver, ports=frozenset({canary.port}))
        fetcher = Fetcher(policy, fast_limits(), network=network, verify=trusting(ca))
        try:
            url = f"https://cdn.example:{canary.port}/x.png"
            stored = await fetcher.fetch(url, tmp_path / "0", MediaKind.IMAGE)
        finally:
            await fetcher.aclose()
    assert stored.path.read_bytes() == PNG
    assert resolver.calls == ["cdn.example"]  # the switched answer was never asked for
    assert network.connected == [(PUBLIC_IP, canary.port)]
    assert network.tls_names == ["cdn.example"]
    assert cdn.requests[0].headers["host"] == f"cdn.example:{canary.port}"
    assert canary.hits == 0


@pytest.mark.parametrize(
    "target",
    [
        "https://127.0.0.1:{canary}/x.png",
        "https://[::ffff:127.0.0.1]:{canary}/x.png",
        "https://internal.example:{canary}/x.png",
        "http://cdn.example:{canary}/x.png",
        "https://kie.ai@127.0.0.1:{canary}/x.png",
    ],
)
async def test_public_to_private_redirect_is_refused(
    target: str, ca: trustme.CA, canary: Canary, tmp_path: Path
) -> None:
    async def serve(request: Request, reply: Reply) -> None:
        await reply.send(302, b"", location=target.format(canary=canary.port))

    resolver = StubResolver({"cdn.example": [[PUBLIC_IP]], "internal.example": [["10.1.2.3"]]})
    cdn = ScriptedServer(serve, tls=tls_server_context(ca, "cdn.example"))
    async with cdn.running():
        network = Network(routes={(PUBLIC_IP, canary.port): cdn.port})
        policy = SsrfPolicy(resolver=resolver, ports=frozenset({canary.port}))
        fetcher = Fetcher(policy, fast_limits(), network=network, verify=trusting(ca))
        try:
            await expect_blocked(fetcher, f"https://cdn.example:{canary.port}/a", tmp_path)
        finally:
            await fetcher.aclose()
    assert len(cdn.requests) == 1
    assert network.connected == [(PUBLIC_IP, canary.port)]
    assert canary.hits == 0


async def test_redirects_are_limited(ca: trustme.CA, canary: Canary, tmp_path: Path) -> None:
    async def serve(request: Request, reply: Reply) -> None:
        hop = int(request.target.rsplit("/", 1)[1])
        await reply.send(302, b"", location=f"/r/{hop + 1}")

    resolver = StubResolver({"cdn.example": [[PUBLIC_IP]]})
    cdn = ScriptedServer(serve, tls=tls_server_context(ca, "cdn.example"))
    async with cdn.running():
        network = Network(routes={(PUBLIC_IP, canary.port): cdn.port})
        policy = SsrfPolicy(resolver=resolver, ports=frozenset({canary.port}))
        fetcher = Fetcher(policy, fast_limits(), network=network, verify=trusting(ca))
        try:
            error = await expect_blocked(
                fetcher, f"https://cdn.example:{canary.port}/r/0", tmp_path
            )
        finally:
            await fetcher.aclose()
    assert "redirects" in error.message
    assert [r.target for r in cdn.requests] == [f"/r/{i}" for i in range(6)]


async def test_allowed_hosts_skip_the_policy_for_that_host_only(
    canary: Canary, tmp_path: Path
) -> None:
    async def serve(request: Request, reply: Reply) -> None:
        await reply.send(200, PNG)

    async with ScriptedServer(serve).running() as local:
        policy = SsrfPolicy(allow_hosts=parse_allow_hosts([f"127.0.0.1:{local.port}", "x.test"]))
        fetcher = Fetcher(policy, fast_limits())
        try:
            stored = await fetcher.fetch(local.url("/ok.png"), tmp_path / "0", MediaKind.IMAGE)
            assert stored.path.read_bytes() == PNG
            other_port = f"http://127.0.0.1:{canary.port}/x.png"
            await expect_blocked(fetcher, other_port, tmp_path / "other")
        finally:
            await fetcher.aclose()
    assert canary.hits == 0


def test_allow_host_entries_are_validated() -> None:
    assert {(h.host, h.port) for h in parse_allow_hosts(["CDN.test", " [::1]:9000", ""])} == {
        ("cdn.test", None),
        ("::1", 9000),
    }
    for bad in ["http://x.test", "x.test/path", "user@x.test", "x.test:99999"]:
        with pytest.raises(ValueError, match="not a host"):
            parse_allow_hosts([bad])
    with pytest.raises(ValueError, match="not a host"):
        Settings(media_allow_hosts="ok.test, http://bad.test")
