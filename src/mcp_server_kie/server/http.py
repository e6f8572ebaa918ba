"""MCP over streamable HTTP, mounted in the sidecar app next to the webhook and media routes.

Three guards, outermost first: with ``KIE_HTTP_TOKEN`` set, a bearer token (401 without it);
without one, only direct requests from this machine (a proxied or remote request gets 404);
then the SDK's DNS-rebinding defence, which answers a foreign Host with 421 and a foreign
Origin with 403.
"""

from __future__ import annotations

from collections.abc import Sequence

from mcp.server import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_server_kie.server.access import LocalAccess, bearer_token, is_direct
from mcp_server_kie.server.stream_events import MemoryEventStore

MCP_PATH = "/mcp"
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="mcp-server-kie"'}


def mcp_http_route(
    server: MCPServer,
    *,
    token: str | None,
    extra_hosts: list[str],
    cors_origins: Sequence[str] = (),
) -> tuple[BaseRoute, StreamableHTTPSessionManager]:
    """The catch-all mount serving ``/mcp`` (add it after every other route) and the session
    manager the host app must run."""
    hosts = [*_LOOPBACK, *extra_hosts]
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[pattern for host in hosts for pattern in (host, f"{host}:*")],
        allowed_origins=[
            pattern
            for host in hosts
            for scheme in ("http", "https")
            for pattern in (f"{scheme}://{host}", f"{scheme}://{host}:*")
        ]
        + list(cors_origins),  # pages KIE_HTTP_CORS_ORIGINS lets in
    )
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        transport_security=security,
        event_store=MemoryEventStore(),  # SSE event ids; resume with Last-Event-ID
    )
    return Mount("/", app=_Guard(app, LocalAccess(token))), server.session_manager


class _Guard:
    def __init__(self, app: ASGIApp, access: LocalAccess) -> None:
        self._app = app
        self._access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self._refusal(HTTPConnection(scope)) if scope["type"] == "http" else None
        await (refusal or self._app)(scope, receive, send)

    def _refusal(self, conn: HTTPConnection) -> JSONResponse | None:
        if self._access.token_required:
            if self._access.is_token(bearer_token(conn)):  # bearer only: no cookies
                return None
            return JSONResponse(
                {"error": "a bearer token is required (KIE_HTTP_TOKEN)"},
                status_code=401,
                headers=_CHALLENGE,
            )
        return None if is_direct(conn) else JSONResponse({"error": "not found"}, status_code=404)
