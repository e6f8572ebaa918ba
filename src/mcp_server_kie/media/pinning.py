"""An httpx2 transport whose sockets only ever reach addresses the SSRF policy checked.

The check happens where the socket is opened: the network backend asks the policy to resolve
the host (once) and check every answer, then connects to one of exactly those addresses. TLS
still runs on the host name, because httpcore passes the URL's host as the server name for
SNI and certificate checks and the URL itself is never rewritten.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Iterable

import httpcore2
import httpx2

from mcp_server_kie.media.ssrf import SsrfPolicy

# Downloads at once per fetcher, idle connections kept, and for how long (httpx2's default 5 s).
DOWNLOAD_LIMITS = httpx2.Limits(max_connections=8, max_keepalive_connections=4)


class PinnedBackend(httpcore2.AsyncNetworkBackend):
    """Resolve and check through the policy, then open the socket with ``network``."""

    def __init__(
        self, policy: SsrfPolicy, network: httpcore2.AsyncNetworkBackend | None = None
    ) -> None:
        self._policy = policy
        self._network = network if network is not None else httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore calls us with it
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._policy.addresses(host, port)
        except TimeoutError:
            raise httpcore2.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError as exc:  # socket.gaierror: no such name, resolver down
            raise httpcore2.ConnectError(f"cannot resolve {host}: {exc}") from None
        # Each address in turn; the last one's failure is the caller's (never empty: see
        # addresses()). The pool sets no local address or socket options, so none are passed.
        for address in addresses[:-1]:
            with contextlib.suppress(httpcore2.ConnectError, httpcore2.ConnectTimeout):
                return await self._network.connect_tcp(address, port, timeout=timeout)
        return await self._network.connect_tcp(addresses[-1], port, timeout=timeout)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore calls us with it
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise httpcore2.ConnectError("downloads never use Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


class PinnedTransport(httpx2.AsyncHTTPTransport):
    """httpx2's own transport (request mapping, exception mapping) on a pinned connection pool.

    httpx2 2.16 has no argument for a network backend (encode/httpx#3749 proposes one), so this
    builds the pool the base class's ``__init__`` would (that is all it does), on
    ``PinnedBackend``: no proxies and no .netrc from the environment. Certificates are those of
    ``verify``: the server passes the context its kie.ai client uses (SSL_CERT_FILE honoured);
    ``True`` builds one from the system's store alone.
    """

    def __init__(
        self,
        policy: SsrfPolicy,
        *,
        network: httpcore2.AsyncNetworkBackend | None = None,
        verify: ssl.SSLContext | bool = True,
        limits: httpx2.Limits = DOWNLOAD_LIMITS,
    ) -> None:
        self._pool = pinned_pool(policy, network=network, verify=verify, limits=limits)


def pinned_pool(
    policy: SsrfPolicy,
    *,
    network: httpcore2.AsyncNetworkBackend | None = None,
    verify: ssl.SSLContext | bool = True,
    limits: httpx2.Limits = DOWNLOAD_LIMITS,
) -> httpcore2.AsyncConnectionPool:
    """httpcore2's connection pool on ``PinnedBackend``: what PinnedTransport sends through,
    and what the fetcher uses as it is (without httpx2's client layers, ~0.3 ms a request)."""
    return httpcore2.AsyncConnectionPool(
        ssl_context=httpx2.create_ssl_context(verify=verify, trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=PinnedBackend(policy, network),
    )
