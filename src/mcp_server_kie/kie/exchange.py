"""One HTTP exchange with kie.ai: headers, no redirects, a capped read, network failures and
the reply envelope mapped to the KieError family. Used by KieClient for both hosts.

Never retries. Network failures on a create (`creates=True`) after the request may have left
are KieUncertainError (the task may exist and be charged); before anything was sent, and on
every other call, they are a retryable KieUnavailableError.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import httpx2

from mcp_server_kie.kie.errors import (
    BASE_URL_HINT,
    KieProtocolError,
    KieUnavailableError,
    KieUncertainError,
)
from mcp_server_kie.kie.wire import unwrap_envelope

logger = logging.getLogger(__name__)

MAX_REPLY_BYTES = 2 * 1024 * 1024

_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout, httpx2.ProxyError)
_UNUSABLE_REQUEST = (httpx2.UnsupportedProtocol, httpx2.LocalProtocolError)

Files = Mapping[str, tuple[str, bytes, str]]


async def exchange(
    http: httpx2.AsyncClient,
    method: str,
    url: str,
    *,
    key: str,
    what: str,
    body: Mapping[str, Any] | None = None,
    params: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
    files: Files | None = None,
    creates: bool = False,
) -> Any:
    """Send one request (JSON `body`, or multipart `form` + `files`); return the envelope's
    `data` or raise a KieError. The key goes only into the Authorization header."""
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    content = None
    if body is not None:
        content = json.dumps(body, allow_nan=False).encode()
        headers["Content-Type"] = "application/json"
    try:
        async with http.stream(
            method,
            url,
            params=params,
            content=content,
            data=dict(form) if form is not None else None,
            files=dict(files) if files is not None else None,
            headers=headers,
            follow_redirects=False,
        ) as response:
            raw = await _read_capped(response, what=what, creates=creates)
    except _UNUSABLE_REQUEST as exc:
        raise KieProtocolError(
            f"Could not send the request while {what} ({type(exc).__name__}). {BASE_URL_HINT}"
        ) from exc
    except _NOT_SENT as exc:
        raise KieUnavailableError(
            f"Could not connect to kie.ai while {what} ({type(exc).__name__}); "
            "nothing was sent. Try again shortly."
        ) from exc
    except httpx2.RequestError as exc:
        name = type(exc).__name__
        if creates:
            raise KieUncertainError(
                f"The connection failed after the request was sent while {what} ({name}); "
                "kie.ai may or may not have created the task. Do not resubmit blindly."
            ) from exc
        raise KieUnavailableError(
            f"kie.ai did not answer in time or the connection dropped while {what} "
            f"({name}). Try again shortly."
        ) from exc
    logger.debug("kie.ai %s %s -> HTTP %s", method, response.url.path, response.status_code)
    return unwrap_envelope(
        response.status_code,
        raw,
        what=what,
        content_type=response.headers.get("content-type", ""),
        retry_after=response.headers.get("retry-after"),
        redact=(key,),
        may_have_created=creates,
    )


async def _read_capped(response: httpx2.Response, *, what: str, creates: bool) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_REPLY_BYTES:
            message = f"kie.ai's reply was larger than {MAX_REPLY_BYTES} bytes while {what}."
            if creates:
                raise KieUncertainError(message + " The task may exist; do not resubmit blindly.")
            raise KieProtocolError(message)
        chunks.append(chunk)
    return b"".join(chunks)
