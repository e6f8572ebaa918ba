"""Who may use the local routes (media files, live events, the gallery).

The webhook route is meant to be reached from the internet through a tunnel or reverse proxy,
and such a tunnel connects from 127.0.0.1 too. So "local" means more than a loopback peer: the
Host must be a loopback name and no proxy may have added forwarding headers. When
``KIE_HTTP_TOKEN`` is set, the token is required instead, from anywhere.
"""

from __future__ import annotations

import ipaddress
import secrets
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

_FORWARDING_HEADERS = (
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "cf-connecting-ip",
    "true-client-ip",
    "x-original-forwarded-for",
)
# Header names: Starlette matches them in any case.
_AUTHORIZATION = "authorization"
_HOST = "host"
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
TOKEN_COOKIE = "kie_token"  # noqa: S105 - the cookie's name, not a secret


class LocalAccess:
    def __init__(self, token: str | None) -> None:
        self._token = token or None

    def refusal(self, conn: HTTPConnection) -> int | None:
        """None if the request may proceed, else the status to answer: 401 for a missing or
        wrong token, 404 for a request that is not local (as if the route did not exist)."""
        if self._token is not None:
            return None if self._presented_token_ok(conn) else 401
        return None if is_local(conn) else 404

    @property
    def token_required(self) -> bool:
        return self._token is not None

    def is_token(self, presented: str | None) -> bool:
        """Whether ``presented`` is the configured token (never true when none is set)."""
        if self._token is None or not presented:
            return False
        return secrets.compare_digest(presented.encode(), self._token.encode())

    def _presented_token_ok(self, conn: HTTPConnection) -> bool:
        candidates = [
            bearer_token(conn),
            conn.cookies.get(TOKEN_COOKIE),
            conn.query_params.get("token"),
        ]
        return any(self.is_token(candidate) for candidate in candidates)


def bearer_token(conn: HTTPConnection) -> str:
    """The token of an ``Authorization: Bearer ...`` header, or ""."""
    header = conn.headers.get(_AUTHORIZATION)
    if header is None:
        return ""
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def is_direct(conn: HTTPConnection) -> bool:
    """From a loopback peer that is not a proxy (no forwarding headers)."""
    if conn.client is None or not _is_loopback(conn.client.host):
        return False
    return not any(name in conn.headers for name in _FORWARDING_HEADERS)


def is_local(conn: HTTPConnection) -> bool:
    """A request made on this machine, directly: loopback peer, loopback Host, not proxied."""
    if not is_direct(conn):
        return False
    header = conn.headers.get(_HOST)
    if header is None:
        return False
    try:
        host = urlsplit(f"//{header}").hostname
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return False
    return host is not None and host.lower() in _LOOPBACK_NAMES


def _is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback
