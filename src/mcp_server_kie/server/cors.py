"""CORS for browser pages on listed origins (``KIE_HTTP_CORS_ORIGINS``): /mcp, /events, /media.

Only exact origins are allowed, never ``*``, and nothing else changes: a cross-origin request
meets the same token rules as any other (with ``KIE_HTTP_TOKEN`` set, the page must send it
as a bearer token). Preflights answer before any access check, as browsers send them without
credentials. The webhook, health and gallery routes get no CORS headers.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

CORS_PATHS = ("/mcp", "/events", "/media/")
# What an MCP client sends over streamable HTTP, and what an EventSource resumes with.
REQUEST_HEADERS = (
    "Accept",
    "Authorization",
    "Content-Type",
    "Last-Event-ID",
    "Mcp-Method",
    "Mcp-Name",
    "Mcp-Protocol-Version",
    "Mcp-Session-Id",
)
EXPOSED_HEADERS = ("Mcp-Session-Id", "Mcp-Protocol-Version", "WWW-Authenticate")


class PathCors:
    """CORSMiddleware for the paths browsers may reach from another origin; others pass."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self._app = app
        self._cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=["GET", "HEAD", "POST", "DELETE", "OPTIONS"],
            allow_headers=list(REQUEST_HEADERS),
            expose_headers=list(EXPOSED_HEADERS),
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == "/mcp" or path.startswith(CORS_PATHS):
            await self._cors(scope, receive, send)
        else:
            await self._app(scope, receive, send)
