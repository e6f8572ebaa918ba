"""The webhook sidecar: receives kie.ai callbacks and answers health checks.

A callback is authenticated (per-job token, and kie's HMAC signature when a key is set),
checked, and committed to the inbox before the 200 goes out; processing (fetch-to-verify,
downloads) runs afterwards in the background. Anything unauthentic or malformed gets a 4xx
and changes nothing; a body over the limit is refused from its Content-Length, unread.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from mcp_server_kie.jobs import CallbackRejected, Engine
from mcp_server_kie.jobs.callbacks import MAX_CALLBACK_BYTES
from mcp_server_kie.kie.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER
from mcp_server_kie.media import MediaStore, MediaStoreError
from mcp_server_kie.storage.failures import explain_storage_failure

log = logging.getLogger(__name__)

_JOB_ID = re.compile(r"job_[0-9a-f]{24}")
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
) -> Starlette:
    """The webhook and health routes, plus ``local_routes`` (media, events), which guard
    themselves with the local access policy. ``/healthz`` names the media backend and whether
    it answers (a read-only probe, bounded in time), never its folder or bucket."""

    async def webhook(request: Request) -> JSONResponse:
        job_id = request.path_params["job_id"]
        if not _JOB_ID.fullmatch(job_id):
            return _reject(404, "unknown job")
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            return _reject(415, "expected application/json")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_CALLBACK_BYTES:
            return _reject(413, "body too large")
        try:
            body = await _read_limited(request, MAX_CALLBACK_BYTES)
        except CallbackRejected as exc:
            return _reject(exc.status, exc.reason)
        except ClientDisconnect:
            return _reject(400, "client went away")
        try:
            await engine.accept_callback(
                job_id,
                request.query_params.get("token"),
                body,
                timestamp=_single_header(request, TIMESTAMP_HEADER),
                signature=_single_header(request, SIGNATURE_HEADER),
                process=True,
            )
        except CallbackRejected as exc:
            log.info("callback for %s rejected: %s", job_id, exc.reason)
            return _reject(exc.status, exc.reason)
        return JSONResponse({"ok": True})

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

    async def failed(request: Request, exc: Exception) -> JSONResponse:
        explained = explain_storage_failure(exc, database) if database is not None else None
        return JSONResponse(
            {
                "error": explained
                or f"{request.url.path} failed unexpectedly ({type(exc).__name__}); the "
                "server's log (stderr) has the details."
            },
            status_code=503 if explained else 500,
        )

    return Starlette(
        exception_handlers={Exception: failed},
        routes=[
            Route("/webhooks/kie/{job_id}", webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            *local_routes,
        ],
    )


async def _answers(media: MediaStore) -> bool:
    try:
        async with asyncio.timeout(_MEDIA_PROBE_SECONDS):
            await media.probe()  # read-only
    except (MediaStoreError, TimeoutError) as exc:
        log.warning("media store check failed: %s", exc)
        return False
    return True


async def _read_limited(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise CallbackRejected(413, "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _single_header(request: Request, name: str) -> str | None:
    """A header sent exactly once; None when missing or repeated (ambiguous, so unusable)."""
    values = request.headers.getlist(name)
    return values[0] if len(values) == 1 else None


def _reject(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)
