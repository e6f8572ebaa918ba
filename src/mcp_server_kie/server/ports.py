"""Who gets the sidecar's port, decided before anything else starts.

The sidecar (webhooks, /media, /events, the gallery, and /mcp with --http) listens on
``KIE_WEBHOOK_PORT``. When that port is taken:

- with ``--http`` there is no point carrying on: one sentence, and the CLI exits non-zero;
- by another mcp-server-kie on the SAME data folder: this one starts no sidecar (the other
  serves the same library and receives the callbacks for both) and links to the other's;
- by anything else (another program, or an instance on another data folder, such as a
  sandbox next to a real one): this one listens on a free port instead, so its files, events
  and gallery stay its own, and says so in its first log line.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from pathlib import Path

import httpx2

from mcp_server_kie.config import Settings
from mcp_server_kie.server.sidecar import instance_id

log = logging.getLogger(__name__)


class PortTakenError(Exception):
    """The port --http must listen on is taken; the message is one sentence for the user."""


@dataclass
class SidecarPort:
    """A bound socket for the sidecar (None: another instance on this data folder serves it),
    and the URL this instance's links use."""

    sock: socket.socket | None
    url: str
    note: str | None = None  # why the port differs from KIE_WEBHOOK_PORT, if it does


def url_for(host: str, port: int) -> str:
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio disables Nagle only on sockets that say TCP, and uvicorn
    # writes a response's head and body apart, so each answer would wait ~40 ms for an ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


async def owner_of(url: str) -> str | None:
    """The instance id answering /healthz at ``url`` (None: not an mcp-server-kie)."""
    try:
        async with httpx2.AsyncClient(timeout=2, follow_redirects=False) as http:
            answer = (await http.get(f"{url}/healthz")).json()
    except (httpx2.HTTPError, ValueError):
        return None
    if isinstance(answer, dict) and answer.get("service") == "mcp-server-kie":
        owner = answer.get("instance")
        return owner if isinstance(owner, str) else None
    return None


def describe_owner(owner: str | None, database_path: Path) -> str:
    if owner is None:
        return "another program"
    if owner == instance_id(database_path):
        return "another mcp-server-kie on this data folder"
    return "another mcp-server-kie on a different data folder"


async def claim_sidecar_port(settings: Settings, *, required: bool) -> SidecarPort:
    """Bind the sidecar's socket, or decide what to do instead (see the module docstring)."""
    host, port = settings.webhook_host, settings.webhook_port
    try:
        sock = _bind(host, port)
    except OSError as exc:
        if required:
            raise PortTakenError(
                f"mcp-server-kie: cannot listen on {host}:{port} ({exc.strerror}): "
                "another program (perhaps a server your desktop app already started) uses it; "
                "choose another port with --port or KIE_WEBHOOK_PORT."
            ) from None
        taken = url_for(host, port)
        owner = await owner_of(taken)
        if owner is not None and owner == instance_id(settings.database_path):
            log.warning(
                "webhook sidecar not started: %s:%s is served by another mcp-server-kie on "
                "this data folder, which receives the callbacks for both; links use %s",
                host,
                port,
                taken,
            )
            return SidecarPort(None, taken, "shared with another instance on this data folder")
        sock = _bind(host, 0)
        url = url_for(host, sock.getsockname()[1])
        note = (
            f"{host}:{port} is taken by {describe_owner(owner, settings.database_path)}; "
            f"this instance's sidecar and gallery listen on {url} instead"
        )
        callbacks = (
            " (KIE_PUBLIC_URL points at the taken port, so kie's callbacks will not reach "
            "this instance: its jobs finish by polling)"
            if settings.public_url
            else ""
        )
        log.warning("%s%s", note, callbacks)
        return SidecarPort(sock, url, note)
    return SidecarPort(sock, url_for(host, sock.getsockname()[1]))
