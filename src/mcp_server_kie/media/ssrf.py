"""Which URLs and addresses a result download may reach.

Result URLs come from kie.ai, but a forged callback, a redirect or a DNS answer could point them
at this machine, the LAN or a cloud metadata service. The policy has two halves: ``check_url``
refuses a URL before any I/O (scheme, userinfo, port, odd numeric hosts, literal addresses), and
``addresses`` resolves a host once and checks every answer; the transport then connects to
exactly those addresses (see ``media.pinning``), so a second, different DNS answer never counts.
Hosts on the allow list (the kie API origin, ``KIE_MEDIA_ALLOW_HOSTS``) skip both checks.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx2

from mcp_server_kie.media.special_addresses import refusal

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Hosts written as numbers (2130706433, 0x7f.1, 127.1): resolvers turn them into addresses.
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)")
_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")


class BlockedError(Exception):
    """A URL or address the policy refuses; the message says which rule."""


@dataclass(frozen=True, slots=True)
class AllowedHost:
    host: str
    port: int | None = None  # None: any port

    def matches(self, host: str, port: int) -> bool:
        return self.host == host and self.port in (None, port)


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host``, as text, in its order (once each:
    getaddrinfo repeats an address per socket type; the port does not change the addresses)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True, slots=True)
class SsrfPolicy:
    """https on port 443 to public addresses only, except for the allowed hosts."""

    allow_hosts: frozenset[AllowedHost] = frozenset()
    resolver: Resolver = system_resolver
    ports: frozenset[int] = field(default_factory=lambda: frozenset({443}))

    def allows(self, host: str, port: int) -> bool:
        host = host.lower()
        return any(entry.matches(host, port) for entry in self.allow_hosts)

    def check_url(self, url: httpx2.URL) -> None:
        """Refuse a URL the policy forbids, before anything is sent."""
        if url.scheme not in DEFAULT_PORTS:
            raise BlockedError(f"the {url.scheme or 'missing'} scheme is not allowed")
        if url.userinfo:
            raise BlockedError("URLs with a user name or password are not allowed")
        host = url.raw_host.decode().lower()  # IDNA-encoded: ASCII
        if not host:
            raise BlockedError("the URL has no host")
        port = url.port or DEFAULT_PORTS[url.scheme]
        if self.allows(host, port):
            return
        if url.scheme != "https":
            raise BlockedError("only https URLs are allowed")
        if port not in self.ports:
            raise BlockedError(f"port {port} is not allowed")
        literal = _literal(host)
        if literal is not None:
            check_address(literal)
        elif not _HOST_NAME.fullmatch(host):
            raise BlockedError("the host is not a valid name")
        elif all(_NUMERIC_LABEL.fullmatch(label) for label in host.rstrip(".").split(".")):
            raise BlockedError("numeric host names are not allowed")

    async def addresses(self, host: str, port: int) -> list[str]:
        """Resolve ``host`` once and return the addresses to connect to, all of them checked."""
        found = [host] if _literal(host) is not None else list(await self.resolver(host, port))
        if not found:
            raise BlockedError(f"{host} has no address")
        if not self.allows(host, port):
            for address in found:
                check_address(address)
        return found


def check_address(address: IPAddress | str) -> None:
    """Raise BlockedError unless ``address`` is a public unicast address: in no block of the
    IANA special-purpose tables (``media.special_addresses``). IPv4 carried inside IPv6
    (mapped, NAT64, 6to4) is unwrapped and checked itself, so NAT64 of a public address
    passes and NAT64 of loopback does not.
    """
    ip = _literal(address)
    if ip is None:
        raise BlockedError(f"{address!r} is not an IP address")
    checked = _embedded_ipv4(ip) or ip
    reason = refusal(checked)
    if reason is not None:
        raise BlockedError(f"the address {address} is not a public address: {reason}")


def parse_allow_hosts(entries: Iterable[str]) -> frozenset[AllowedHost]:
    """``host`` or ``host:port`` entries (IPv6 in brackets); raises ValueError on a bad one."""
    allowed = set()
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        try:
            parts = urlsplit(f"//{entry}")
            host, port = parts.hostname, parts.port
        except ValueError:
            host = None
        if not host or parts.username is not None or parts.path or parts.query:
            raise ValueError(f"{entry!r} is not a host or host:port")
        allowed.add(AllowedHost(httpx2.URL(f"http://{parts.netloc}").raw_host.decode(), port))
    return frozenset(allowed)


def origin_of(url: str) -> AllowedHost:
    """The host and port of a base URL such as ``https://api.kie.ai``."""
    parsed = httpx2.URL(url)
    return AllowedHost(
        parsed.raw_host.decode("ascii").lower(), parsed.port or DEFAULT_PORTS[parsed.scheme]
    )


def _literal(host: str | IPAddress) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour
