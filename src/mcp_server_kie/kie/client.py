"""The kie.ai HTTP client: one attempt per call, replies mapped to TaskSnapshot or KieError.

It takes the application's shared `httpx2.AsyncClient` (its timeouts apply to every request)
and never retries: the caller decides, guided by `KieError.retryable`. Redirects are never
followed, so the API key is only ever sent to the configured base URL.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx2

from mcp_server_kie.domain import TaskSnapshot
from mcp_server_kie.kie import market
from mcp_server_kie.kie.errors import (
    BASE_URL_HINT,
    KieProtocolError,
    KieUnavailableError,
    KieUncertainError,
)
from mcp_server_kie.kie.wire import (
    clean_provider_text,
    clean_task_id,
    is_http_url,
    parse_number,
    unwrap_envelope,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.kie.ai"
CREDITS_PATH = "/api/v1/chat/credit"
DOWNLOAD_URL_PATH = "/api/v1/common/download-url"
MAX_REPLY_BYTES = 2 * 1024 * 1024

_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout, httpx2.ProxyError)
_UNUSABLE_REQUEST = (httpx2.UnsupportedProtocol, httpx2.LocalProtocolError)


class KieClient:
    """Talks to kie.ai for one API key. Cheap to build; holds no connection of its own."""

    def __init__(
        self, http: httpx2.AsyncClient, *, api_key: str, base_url: str = DEFAULT_BASE_URL
    ) -> None:
        key = api_key.strip() if isinstance(api_key, str) else ""
        if not key or not key.isascii() or not key.isprintable() or " " in key:
            raise ValueError("The kie.ai API key must be a non-empty, printable ASCII string.")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError("The kie.ai base URL must be an http(s) URL like https://api.kie.ai")
        self._http = http
        self._key = key
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}

    def __repr__(self) -> str:
        return f"KieClient(base_url={self._base!r})"

    async def create_market_task(
        self, model: str, input: Mapping[str, Any], callback_url: str | None
    ) -> str:
        """Submit a Market task and return its task id. Single attempt, never retried.

        KieUncertainError means the request may have created (and charged) a task: do not
        resubmit blindly.
        """
        body = market.create_body(model, input, callback_url)
        shown_model = clean_provider_text(model, limit=100)
        what = f"creating a task for model {shown_model}"
        data = await self._call("POST", market.CREATE_PATH, what=what, body=body, creates=True)
        task_id = market.created_task_id(data)
        if task_id is None:
            raise KieUncertainError(
                f"kie.ai accepted the request while {what} but returned no usable task id; "
                "the task may exist. Do not resubmit blindly.",
                code=200,
            )
        logger.info("kie.ai created task %s for model %s", task_id, shown_model)
        return task_id

    async def get_market_task(self, task_id: str) -> TaskSnapshot:
        """Read a Market task's record (recordInfo). Single attempt."""
        checked = clean_task_id(task_id)
        if checked is None:
            raise ValueError("Not a kie.ai task id.")
        what = f"reading task {checked}"
        data = await self._call("GET", market.RECORD_PATH, what=what, params={"taskId": checked})
        if isinstance(data, Mapping) and data.get("taskId") is None:
            data = {**data, "taskId": checked}
        snapshot = market.parse_record(data)
        if snapshot.task_id != checked:
            raise KieProtocolError(
                f"kie.ai answered about task {snapshot.task_id} while {what}. {BASE_URL_HINT}"
            )
        return snapshot

    async def get_credits(self) -> float:
        """The account's remaining credit balance (fractional)."""
        what = "reading the credit balance"
        balance = parse_number(await self._call("GET", CREDITS_PATH, what=what))
        if balance is None:
            raise KieProtocolError(f"kie.ai's reply had no numeric balance while {what}.")
        return balance

    async def get_download_url(self, url: str) -> str:
        """Exchange a kie-hosted file URL for a direct link valid for about 20 minutes."""
        if not isinstance(url, str) or not url:
            raise ValueError("url must be a kie.ai file URL")
        what = "asking for a download link"
        link = await self._call("POST", DOWNLOAD_URL_PATH, what=what, body={"url": url})
        if not isinstance(link, str) or not is_http_url(link):
            raise KieProtocolError(f"kie.ai's reply had no usable link while {what}.")
        return link

    async def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        creates: bool = False,
    ) -> Any:
        """One request; returns the envelope's `data` or raises a KieError."""
        headers = dict(self._headers)
        content = None
        if body is not None:
            content = json.dumps(body, allow_nan=False).encode()
            headers["Content-Type"] = "application/json"
        try:
            async with self._http.stream(
                method,
                self._base + path,
                params=params,
                content=content,
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
        logger.debug("kie.ai %s %s -> HTTP %s", method, path, response.status_code)
        return unwrap_envelope(
            response.status_code,
            raw,
            what=what,
            content_type=response.headers.get("content-type", ""),
            retry_after=response.headers.get("retry-after"),
            redact=(self._key,),
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
