"""The pinned transport's own promises, through real sockets on 127.0.0.1: the connection pool's
limits (at most 8 connections, 4 kept alive, idle ones expired), name resolution bounded by the
connect timeout and named in its errors, every resolved address tried in turn, and TLS trust
that ignores SSL_CERT_FILE from the environment."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import pytest
import trustme
from scripted_http import PUBLIC_IP, Network, Reply, Request, ScriptedServer, StubResolver

from mcp_server_kie.media import SsrfPolicy, parse_allow_hosts
from mcp_server_kie.media.pinning import PinnedTransport

BOUND = 10.0  # seconds any wait on a condition may take before the test fails


@dataclass
class KeepAliveServer:
    """HTTP/1.1 with keep-alive: many requests per connection, each answered "ok" once
    ``release`` is set. Counts connections and the requests waiting to be answered."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    connections: int = 0
    waiting: int = 0
    port: int = 0

    @asynccontextmanager
    async def running(self) -> AsyncIterator[KeepAliveServer]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        async with server:
            yield self
            server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                await reader.readuntil(b"\r\n\r\n")
                await self._count(+1)
                await self.release.wait()
                await self._count(-1)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        writer.close()

    async def _count(self, step: int) -> None:
        async with self.changed:
            self.waiting += step
            self.changed.notify_all()

    async def until_waiting(self, count: int) -> None:
        """Wait (bounded) until ``count`` requests are waiting for an answer."""
        async with asyncio.timeout(BOUND), self.changed:
            await self.changed.wait_for(lambda: self.waiting == count)


def client_for(
    port: int, *, pool_timeout: float = BOUND, **transport: object
) -> httpx2.AsyncClient:
    policy = SsrfPolicy(allow_hosts=parse_allow_hosts([f"127.0.0.1:{port}"]))
    return httpx2.AsyncClient(
        transport=PinnedTransport(policy, **transport),  # type: ignore[arg-type]
        base_url=f"http://127.0.0.1:{port}",
        timeout=httpx2.Timeout(BOUND, pool=pool_timeout),
    )


async def test_the_pool_opens_at_most_eight_connections_and_keeps_four_alive() -> None:
    async with (
        KeepAliveServer().running() as server,
        client_for(server.port, pool_timeout=0.3) as http,
    ):
        first = [asyncio.create_task(http.get(f"/{i}")) for i in range(8)]
        await server.until_waiting(8)
        assert server.connections == 8
        # A ninth request finds the pool full and times out waiting for a connection.
        with pytest.raises(httpx2.PoolTimeout):
            await http.get("/ninth")
        assert server.connections == 8
        server.release.set()
        assert [r.text for r in await asyncio.gather(*first)] == ["ok"] * 8
        # Four idle connections were kept; eight more requests reuse them and open four more.
        again = await asyncio.gather(*(http.get(f"/again/{i}") for i in range(8)))
        assert [r.status_code for r in again] == [200] * 8
        assert server.connections == 12


async def test_an_idle_connection_is_reused_until_its_keepalive_expires() -> None:
    async with KeepAliveServer().running() as server:
        server.release.set()
        async with client_for(server.port) as http:
            await http.get("/1")
            await http.get("/2")
        assert server.connections == 1  # kept alive (5 s by default)
        expiring = httpx2.Limits(max_connections=8, max_keepalive_connections=4, keepalive_expiry=0)
        async with client_for(server.port, limits=expiring) as http:
            await http.get("/1")
            await http.get("/2")
        assert server.connections == 3  # expired at once: each request opened its own


async def test_resolving_is_bounded_by_the_connect_timeout_and_named_in_errors() -> None:
    async def never_answers(host: str, port: int) -> Sequence[str]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    policy = SsrfPolicy(resolver=never_answers, ports=frozenset({443}))
    async with httpx2.AsyncClient(
        transport=PinnedTransport(policy), timeout=httpx2.Timeout(BOUND, connect=0.2)
    ) as http:
        with pytest.raises(httpx2.ConnectTimeout, match=r"resolving stuck\.example timed out"):
            await http.get("https://stuck.example/x.png")

    policy = SsrfPolicy(resolver=StubResolver({}), ports=frozenset({443}))
    async with httpx2.AsyncClient(transport=PinnedTransport(policy)) as http:
        with pytest.raises(
            httpx2.ConnectError, match=r"cannot resolve gone\.example: no such host"
        ):
            await http.get("https://gone.example/x.png")


async def test_every_resolved_address_is_tried_in_turn_with_the_timeout() -> None:
    async def ok(request: Request, reply: Reply) -> None:
        await reply.send(200, b"ok", content_type="text/plain")

    second_ip, third_ip = "93.184.215.15", "93.184.215.16"
    async with ScriptedServer(ok).running() as server:
        closed = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        refused = closed.sockets[0].getsockname()[1]
        closed.close()
        await closed.wait_closed()
        answers = [PUBLIC_IP, second_ip, third_ip]
        tried = [(address, 80) for address in answers]
        resolver = StubResolver({"cdn.example": [answers]})
        policy = SsrfPolicy(resolver=resolver, ports=frozenset({80}))
        network = Network(
            routes={(PUBLIC_IP, 80): refused, (second_ip, 80): refused, (third_ip, 80): server.port}
        )
        async with httpx2.AsyncClient(
            transport=PinnedTransport(policy, network=network),
            timeout=httpx2.Timeout(BOUND, connect=3.5),
        ) as http:
            # check_url would refuse plain http; the transport itself only pins addresses.
            response = await http.get("http://cdn.example/x")
        assert response.text == "ok"
        assert network.connected == tried
        assert network.timeouts == [3.5, 3.5, 3.5]
        assert resolver.calls == ["cdn.example"]

        # A timeout is passed over like a refusal.
        network = Network(routes={(third_ip, 80): server.port}, stalled=frozenset(tried[:2]))
        async with httpx2.AsyncClient(transport=PinnedTransport(policy, network=network)) as http:
            assert (await http.get("http://cdn.example/x")).text == "ok"
        assert network.connected == tried

        # When every address fails, the last failure is what the caller sees.
        network = Network(routes={address: refused for address in tried})
        async with httpx2.AsyncClient(transport=PinnedTransport(policy, network=network)) as http:
            with pytest.raises(httpx2.ConnectError):
                await http.get("http://cdn.example/x")
        assert network.connected == tried


async def test_tls_trust_ignores_ssl_cert_file_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)

    async def ok(request: Request, reply: Reply) -> None:
        await reply.send(200, b"ok", content_type="text/plain")

    async with ScriptedServer(ok, tls=context).running() as server:
        async with client_for(server.port) as http:
            with pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.get(server.url("/x"))
        trusting = ssl.create_default_context()
        ca.configure_trust(trusting)
        async with client_for(server.port, verify=trusting) as http:
            assert (await http.get(server.url("/x"))).text == "ok"
