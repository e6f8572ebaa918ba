"""The kie.ai HTTP client: one attempt per call, replies mapped to domain words or KieError.

It takes the application's shared `httpx2.AsyncClient` (its timeouts apply to every request)
and never retries: the caller decides, guided by `KieError.retryable`. It does pace itself:
creates and status queries wait for a slot under kie's rate limits (see `limits`), and a 429
holds back further requests of that kind for the Retry-After (or one window). Redirects are never
followed, so the API key is only ever sent to the two configured hosts (the API base URL and
the file-upload base URL).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx2

from mcp_server_kie.domain import ApiFamily, TaskSnapshot, TaskState
from mcp_server_kie.kie import upload, veo
from mcp_server_kie.kie.errors import (
    BASE_URL_HINT,
    KieError,
    KieNotFoundError,
    KieProtocolError,
    KieRateLimitError,
    KieUncertainError,
    KieValidationError,
)
from mcp_server_kie.kie.exchange import Files, exchange
from mcp_server_kie.kie.families import family_api
from mcp_server_kie.kie.limits import KieLimits, Pace, Paces, SlidingWindow, Spaced
from mcp_server_kie.kie.wire import (
    clean_provider_text,
    clean_task_id,
    is_http_url,
    parse_number,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.kie.ai"
DEFAULT_UPLOAD_BASE_URL = upload.DEFAULT_UPLOAD_BASE_URL
CREDITS_PATH = "/api/v1/chat/credit"
DOWNLOAD_URL_PATH = "/api/v1/common/download-url"
MAX_HD_INDEX = 99
# How the legacy families' status endpoints say a task is unknown (HTTP 200, code 422).
# A Market recordInfo for an unknown task answers {"code":422,"msg":"recordInfo is null"}.
_UNKNOWN_RECORD = ("record is null", "recordinfo is null", "only records within 14 days")


class KieClient:
    """Talks to kie.ai for one API key. Holds no connection of its own, but does hold the
    rate limiters: build one per process and share it."""

    def __init__(
        self,
        http: httpx2.AsyncClient,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        upload_base_url: str = DEFAULT_UPLOAD_BASE_URL,
        limits: KieLimits | None = None,
        paces: Paces | None = None,
    ) -> None:
        """``paces``: the create and status limits to keep (default: this process's own,
        sized by ``limits``)."""
        key = api_key.strip() if isinstance(api_key, str) else ""
        if not key or not key.isascii() or not key.isprintable() or " " in key:
            raise ValueError("The kie.ai API key must be a non-empty, printable ASCII string.")
        self._http = http
        self._key = key
        self._base = _checked_base(base_url, "base URL", DEFAULT_BASE_URL)
        self._upload_base = _checked_base(
            upload_base_url, "upload base URL", DEFAULT_UPLOAD_BASE_URL
        )
        limits = limits or KieLimits()
        paces = paces or Paces(
            SlidingWindow(limits.creates, limits.create_window),
            SlidingWindow(limits.status_queries, limits.status_window),
        )
        self._creates: Pace = paces.creates
        # Status reads follow callbacks and the poller, whose backlogs the window would let
        # through in clusters: spaced (creates are the user's own bursts, left as they come).
        self._queries: Pace = Spaced(paces.status_queries, limits.status_queries)
        self._discovery = SlidingWindow(1, 1.0)  # kie: 1 request/s across the four endpoints

    def __repr__(self) -> str:
        return f"KieClient(base_url={self._base!r}, upload_base_url={self._upload_base!r})"

    async def create_task(
        self,
        family: ApiFamily,
        model: str,
        input: Mapping[str, Any],
        callback_url: str | None,
    ) -> str:
        """Submit a task of any API family and return its task id. Single attempt, after
        waiting for a slot under kie's create limit.

        `input` holds our snake_case keys (Market: kie's own input object); an unknown key is a
        ValueError and nothing is sent. KieUncertainError means the request may have created
        (and charged) a task: do not resubmit blindly. KieRateLimitError means it did not.
        """
        api = family_api(family)
        body = api.create_body(model, input, callback_url)
        shown_model = clean_provider_text(model, limit=100)
        what = f"creating a {api.label} task for model {shown_model}"
        async with _paced(self._creates):
            try:
                if api.create_method == "GET":
                    query = {key: str(value) for key, value in body.items()}
                    data = await self._call("GET", api.create_path, what=what, params=query)
                else:
                    data = await self._call(
                        "POST", api.create_path, what=what, body=body, creates=True
                    )
            except KieError as exc:
                if not api.pending(exc):
                    raise api.map_error(exc) from exc.__cause__
                data = None  # accepted; the result is not ready yet
        task_id = api.created_id(data, body)
        if task_id is None:
            raise KieUncertainError(
                f"kie.ai accepted the request while {what} but returned no usable task id; "
                "the task may exist. Do not resubmit blindly.",
                code=200,
            )
        logger.info("kie.ai created %s task %s for model %s", api.label, task_id, shown_model)
        return task_id

    async def get_task(self, family: ApiFamily, task_id: str) -> TaskSnapshot:
        """Read a task's status record from its family's endpoint. Single attempt, after
        waiting for a slot under kie's status-query limit. `task_unknown(error)` tells
        whether an error means kie.ai has no such task."""
        api = family_api(family)
        checked = _checked_task_id(task_id)
        what = f"reading {api.label} task {checked}"
        async with _paced(self._queries):
            try:
                data = await self._call(
                    "GET", api.record_path, what=what, params=api.record_params(checked)
                )
            except KieError as exc:
                if api.pending(exc):
                    return TaskSnapshot(task_id=checked, state=TaskState.GENERATING)
                raise api.map_error(exc) from exc.__cause__
        if isinstance(data, Mapping) and data.get("taskId") is None:
            data = {**data, "taskId": checked}
        snapshot = api.parse_record(data)
        if snapshot.task_id != checked:
            raise KieProtocolError(
                f"kie.ai answered about task {snapshot.task_id} while {what}. {BASE_URL_HINT}"
            )
        return snapshot

    async def discovery(
        self, path: str, *, what: str, params: Mapping[str, str] | None = None
    ) -> Any:
        """GET one of kie's model discovery endpoints (`/api/v1/models...`, reference §2.8),
        at most one request per second. Returns the reply's `data`."""
        if not path.startswith("/api/v1/models"):
            raise ValueError("not a model discovery path")
        async with _paced(self._discovery):
            return await self._call("GET", path, what=what, params=params)

    async def create_market_task(
        self, model: str, input: Mapping[str, Any], callback_url: str | None
    ) -> str:
        """`create_task` for the Market family."""
        return await self.create_task(ApiFamily.MARKET, model, input, callback_url)

    async def get_market_task(self, task_id: str) -> TaskSnapshot:
        """`get_task` for the Market family."""
        return await self.get_task(ApiFamily.MARKET, task_id)

    async def get_veo_1080p_url(self, task_id: str, index: int = 0) -> str | None:
        """The 1080p link of a successful Veo task's video `index`, or None while kie.ai says
        it is still being made (typically 1-3 minutes after success; ask again in 20-30 s).
        Any other answer raises the mapped KieError."""
        checked = _checked_task_id(task_id)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= MAX_HD_INDEX:
            raise ValueError(f"index must be an integer from 0 to {MAX_HD_INDEX}")
        what = f"fetching the 1080p video of Veo task {checked}"
        params = {"taskId": checked, "index": str(index)}
        try:
            async with _paced(self._queries):
                data = await self._call("GET", veo.HD_PATH, what=what, params=params)
        except KieError as exc:
            if veo.still_processing(exc):
                logger.debug("the 1080p video of Veo task %s is not ready yet", checked)
                return None
            raise
        return veo.hd_video_url(data)

    async def upload_file(
        self,
        data: bytes,
        file_name: str,
        mime_type: str,
        upload_path: str = upload.DEFAULT_UPLOAD_PATH,
    ) -> str:
        """Upload a file to kie.ai's temporary storage and return the URL to put into model
        inputs. The stored name is made unique per content (see `upload`). Single attempt; a
        retry is safe (the same bytes land under the same name)."""
        form, files = upload.build_form(data, file_name, mime_type, upload_path)
        what = f"uploading {form['fileName']}"
        reply = await self._call(
            "POST", upload.STREAM_PATH, what=what, form=form, files=files, base=self._upload_base
        )
        return upload.uploaded_url(reply, what=what)

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
        form: Mapping[str, str] | None = None,
        files: Files | None = None,
        creates: bool = False,
        base: str | None = None,
    ) -> Any:
        return await exchange(
            self._http,
            method,
            (base or self._base) + path,
            key=self._key,
            what=what,
            body=body,
            params=params,
            form=form,
            files=files,
            creates=creates,
        )


def task_unknown(error: KieError) -> bool:
    """Whether a status query's error says kie.ai has no such task: a 404, a Market 422
    "recordInfo is null", or a legacy family's 422 "record is null" / "only records within 14
    days are supported"."""
    if isinstance(error, KieNotFoundError):
        return True
    said = error.provider_message.lower()
    return (
        type(error) is KieValidationError
        and error.code == 422
        and any(words in said for words in _UNKNOWN_RECORD)
    )


@contextlib.asynccontextmanager
async def _paced(window: Pace) -> AsyncIterator[None]:
    """Hold a slot of `window` for one request; on a 429, hold back the requests after it."""
    async with window.slot():
        try:
            yield
        except KieRateLimitError as exc:
            await window.hold_back(
                exc.retry_after if exc.retry_after is not None else window.window
            )
            raise


def _checked_base(url: str, name: str, example: str) -> str:
    parts = urlsplit(url) if isinstance(url, str) else urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ValueError(f"The kie.ai {name} must be an http(s) URL like {example}")
    return url.rstrip("/")


def _checked_task_id(task_id: str) -> str:
    checked = clean_task_id(task_id)
    if checked is None:
        raise ValueError("Not a kie.ai task id.")
    return checked
