"""Callback delivery: POST the terminal task to its callBackUrl, signed when an HMAC key is set.

A background loop looks for newly finished tasks every 20 ms (against the sandbox clock).
Each delivery is tried up to `callback_attempts` times: again after a non-2xx answer or a
network error, with a short backoff (0.2 s, 0.5 s, 1 s).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass

import httpx2

from mcp_server_kie.sandbox.config import SandboxConfig
from mcp_server_kie.sandbox.tasks import SimTask

logger = logging.getLogger(__name__)

TICK_SECONDS = 0.02
BACKOFF_SECONDS = (0.2, 0.5, 1.0)


@dataclass(frozen=True, slots=True)
class CallbackAttempt:
    """One POST attempt: `status` is the receiver's HTTP status, or None with `error` set."""

    url: str
    task_id: str
    attempt: int
    status: int | None
    error: str | None
    time: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def sign(key: str, task_id: str, timestamp: int) -> str:
    """kie's documented signature: base64(HMAC-SHA256(key, f"{taskId}.{timestamp}"))."""
    message = f"{task_id}.{timestamp}".encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class CallbackDelivery:
    """Owns the delivery loop, the in-flight deliveries and the HTTP client they use."""

    def __init__(
        self,
        config: SandboxConfig,
        take_due: Callable[[], list[SimTask]],
        dropping: Callable[[], bool],
        record: Callable[[CallbackAttempt], None],
    ) -> None:
        self._config = config
        self._take_due = take_due
        self._dropping = dropping
        self._record = record
        self._client: httpx2.AsyncClient | None = None
        self._loop: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()

    @property
    def in_flight(self) -> int:
        return len(self._deliveries)

    async def start(self) -> None:
        if self._loop is not None:
            return
        self._client = httpx2.AsyncClient(
            timeout=self._config.callback_timeout, follow_redirects=False
        )
        self._loop = asyncio.create_task(self._run(), name="sandbox-callbacks")

    async def close(self) -> None:
        tasks = [t for t in (self._loop, *self._deliveries) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loop = None
        self._deliveries.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        while True:
            for task in self._take_due():
                if self._dropping():
                    logger.info("sandbox dropped the callback for task %s", task.task_id)
                    continue
                delivery = asyncio.create_task(self._deliver(task))
                self._deliveries.add(delivery)
                delivery.add_done_callback(self._deliveries.discard)
            await asyncio.sleep(TICK_SECONDS)

    async def _deliver(self, task: SimTask) -> None:
        url = task.callback_url
        if url is None:
            return
        body = task.callback_body(self._config.clock())
        attempts = max(self._config.callback_attempts, 1)
        for attempt in range(1, attempts + 1):
            status, error = await self._post(url, task.task_id, body)
            self._record(
                CallbackAttempt(url, task.task_id, attempt, status, error, self._config.clock())
            )
            if status is not None and 200 <= status < 300:
                task.callback_done = True
                return
            # The URL (and error text that may quote it) can carry a callback token: not logged.
            outcome = f"HTTP {status}" if status is not None else (error or "").split(":")[0]
            logger.info(
                "sandbox callback for task %s failed (attempt %d): %s",
                task.task_id,
                attempt,
                outcome,
            )
            if attempt < attempts:
                await asyncio.sleep(BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS)) - 1])

    async def _post(
        self, url: str, task_id: str, body: dict[str, object]
    ) -> tuple[int | None, str | None]:
        assert self._client is not None
        headers = {"Content-Type": "application/json"}
        key = self._config.hmac_key
        if key:
            timestamp = int(self._config.clock())
            headers["X-Webhook-Timestamp"] = str(timestamp)
            headers["X-Webhook-Signature"] = sign(key, task_id, timestamp)
        try:
            response = await self._client.post(url, json=body, headers=headers)
        except (httpx2.HTTPError, httpx2.InvalidURL) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None
