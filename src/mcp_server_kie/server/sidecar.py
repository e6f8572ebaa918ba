"""The webhook sidecar: receives kie.ai callbacks (server/webhook_lane.py, in front of the
app) and answers health checks, plus the local routes it is given (media, events).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from mcp_server_kie.jobs import Engine
from mcp_server_kie.media import MediaStore, MediaStoreError
from mcp_server_kie.server.webhook_lane import WebhookLane
from mcp_server_kie.storage.failures import explain_storage_failure

log = logging.getLogger(__name__)

_MEDIA_PROBE_SECONDS = 3.0


def instance_id(database_path: Path) -> str:
    """Names the data directory a sidecar serves (without revealing it), so a probe through
    a public URL can tell it reached a sidecar that shares this store."""
    return hashlib.sha256(str(database_path.resolve()).encode()).hexdigest()[:16]


def create_sidecar(
    engine: Engine,
    local_routes: Sequence[BaseRoute] = (),
    *,
    instance: str = "",
    database: Path | None = None,
    media: MediaStore | None = None,
) -> ASGIApp:
    """The webhook and health routes, plus ``local_routes`` (media, events), which guard
    themselves with the local access policy. ``/healthz`` names the media backend and whether
    it answers (a read-only probe, bounded in time), never its folder or bucket."""

    async def healthz(request: Request) -> JSONResponse:
        """Up, and whether the database (and the media store) answer. A database that does
        not answer makes it 503, so a load balancer takes the replica out of rotation."""
        store = engine.store
        answers = await store.answers()
        answer: dict[str, object] = {
            "status": "ok" if answers else "degraded",
            "service": "mcp-server-kie",
            "instance": instance,
            "database": {"backend": store.backend_kind, "answers": answers},
        }
        if media is not None:
            ok = await _answers(media)
            answer["media"] = {"backend": media.backend, "ok": ok}
            if not ok:
                answer["status"] = "degraded"
        return JSONResponse(answer, status_code=200 if answers else 503)

    def explain(path: str, exc: Exception) -> tuple[int, dict[str, object]]:
        explained = explain_storage_failure(exc, database) if database is not None else None
        message = explained or (
            f"{path} failed unexpectedly ({type(exc).__name__}); the server's log (stderr) "
            "has the details."
        )
        return (503 if explained else 500), {"error": message}

    async def failed(request: Request, exc: Exception) -> JSONResponse:
        status, content = explain(request.url.path, exc)
        return JSONResponse(content, status_code=status)

    app = Starlette(
        exception_handlers={Exception: failed},
        routes=[Route("/healthz", healthz, methods=["GET"]), *local_routes],
    )
    return WebhookLane(app, engine, explain)


async def _answers(media: MediaStore) -> bool:
    try:
        async with asyncio.timeout(_MEDIA_PROBE_SECONDS):
            await media.probe()  # read-only
    except (MediaStoreError, TimeoutError) as exc:
        log.warning("media store check failed: %s", exc)
        return False
    return True
