"""kie.ai's callbacks, answered at the ASGI level in front of the sidecar's Starlette app.

``POST /webhooks/kie/{job_id}`` is the route a storm of callbacks hits, and its whole work is
a few checks and one commit (the engine's). Starlette's layers around a route (two exception
middlewares, the router, a Request and a JSONResponse) cost more per callback than the checks
themselves (~27 against ~4 us), so this lane takes the route's requests before them; every
other request goes on to the app. The answers are the same JSON (`{"ok": true}`, or
`{"error": ...}` with a 4xx), and a failure of the store is explained as the app explains it.

A callback is authenticated (per-job token, and kie's HMAC signature when a key is set),
checked, and committed to the inbox before the 200 goes out; processing (fetch-to-verify,
downloads) runs afterwards in the background. Anything unauthentic or malformed gets a 4xx
and changes nothing; a body over the limit is refused from its Content-Length, unread.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_server_kie.jobs import CallbackRejected, Engine
from mcp_server_kie.jobs.callbacks import MAX_CALLBACK_BYTES
from mcp_server_kie.kie.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER

log = logging.getLogger(__name__)

WEBHOOK_PREFIX = "/webhooks/kie/"
_JOB_ID = re.compile(r"job_[0-9a-f]{24}")
_SIGNATURE = SIGNATURE_HEADER.lower().encode()
_TIMESTAMP = TIMESTAMP_HEADER.lower().encode()

Answer = tuple[int, dict[str, object]]
Failed = Callable[[str, Exception], Answer]  # (path, exception) -> the answer


class WebhookLane:
    """ASGI: the webhook route's requests are answered here, everything else by ``app``.
    ``failed(path, exc)``: the answer when the store (or anything else) fails."""

    def __init__(self, app: ASGIApp, engine: Engine, failed: Failed) -> None:
        self._app = app
        self._engine = engine
        self._failed = failed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(WEBHOOK_PREFIX):
            await self._app(scope, receive, send)
            return
        job_id = path[len(WEBHOOK_PREFIX) :]
        if not job_id or "/" in job_id:  # not this route's shape: the app answers (404)
            await self._app(scope, receive, send)
            return
        if scope["method"] != "POST":
            await _answer(send, (405, {"error": "use POST"}), allow=b"POST")
            return
        try:
            answer = await self._webhook(job_id, scope, receive)
        except Exception as exc:
            log.exception("%s failed", path)
            answer = self._failed(path, exc)
        await _answer(send, answer)

    async def _webhook(self, job_id: str, scope: Scope, receive: Receive) -> Answer:
        if not _JOB_ID.fullmatch(job_id):
            return _reject(404, "unknown job")
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        content_type = next((v for k, v in headers if k == b"content-type"), b"")
        if content_type.split(b";")[0].strip().lower() != b"application/json":
            return _reject(415, "expected application/json")
        declared = next((v for k, v in headers if k == b"content-length"), b"")
        if declared.isdigit() and int(declared) > MAX_CALLBACK_BYTES:
            return _reject(413, "body too large")
        try:
            body = await _read_limited(receive, MAX_CALLBACK_BYTES)
            await self._engine.accept_callback(
                job_id,
                _query_value(scope, "token"),
                body,
                timestamp=_single_header(headers, _TIMESTAMP),
                signature=_single_header(headers, _SIGNATURE),
                process=True,
            )
        except CallbackRejected as exc:
            log.info("callback for %s rejected: %s", job_id, exc.reason)
            return _reject(exc.status, exc.reason)
        return 200, {"ok": True}


async def _read_limited(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise CallbackRejected(400, "client went away")
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise CallbackRejected(413, "body too large")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _query_value(scope: Scope, name: str) -> str | None:
    """The query parameter's last value (as Starlette reads it), or None."""
    query = scope.get("query_string", b"").decode("latin-1")
    return dict(parse_qsl(query, keep_blank_values=True)).get(name) if query else None


def _single_header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    """A header sent exactly once; None when missing or repeated (ambiguous, so unusable)."""
    values = [value for key, value in headers if key == name]
    return values[0].decode("latin-1") if len(values) == 1 else None


def _reject(status: int, reason: str) -> Answer:
    return status, {"error": reason}


async def _answer(send: Send, answer: Answer, *, allow: bytes | None = None) -> None:
    status, content = answer
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
    if allow is not None:
        headers.append((b"allow", allow))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
