"""The sandbox itself: its tasks, its balance, its logs, and the operations the routes call.

Credits follow the documented rule: a create is refused (402) unless the balance, less what
unfinished tasks may still cost, covers the price; the price is taken only when a task
succeeds. Settling happens lazily against the clock whenever anything looks at the state.
"""

from __future__ import annotations

import logging
import secrets
from collections import deque
from collections.abc import Mapping
from typing import Any

from starlette.applications import Starlette

from mcp_server_kie.sandbox.app import LoggedRequest, build_app
from mcp_server_kie.sandbox.callbacks import CallbackAttempt, CallbackDelivery
from mcp_server_kie.sandbox.cdn import (
    MediaCache,
    file_extension,
    parse_path,
    path_of,
    result_urls,
)
from mcp_server_kie.sandbox.config import Faults, SandboxConfig
from mcp_server_kie.sandbox.errors import ApiError
from mcp_server_kie.sandbox.media import MediaFile
from mcp_server_kie.sandbox.models import MODELS
from mcp_server_kie.sandbox.tasks import FAIL_DIRECTIVE, SLOW_DIRECTIVE, SimTask

logger = logging.getLogger(__name__)

DOWNLOAD_URL_SECONDS = 20 * 60


class Sandbox:
    """A kie.ai simulator. `app` serves the API and the CDN; `start()` turns on callbacks."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.base_url = "http://sandbox.invalid"
        self.faults = Faults()
        self.tasks: dict[str, SimTask] = {}
        self.requests: list[LoggedRequest] = []
        self.callbacks: list[CallbackAttempt] = []
        self.media = MediaCache()
        self._balance = self.config.initial_credits
        self._unsettled: set[str] = set()
        self._callback_queue: deque[SimTask] = deque()
        self._recent_creates: deque[float] = deque()
        self._delivery = CallbackDelivery(
            self.config,
            take_due=self._take_callbacks,
            dropping=lambda: self.faults.drop_callbacks,
            record=lambda attempt: self.callbacks.append(attempt),
        )
        self.app: Starlette = build_app(self)

    def clock(self) -> float:
        return self.config.clock()

    def set_base_url(self, url: str) -> None:
        self.base_url = url.rstrip("/")

    async def start(self) -> None:
        await self._delivery.start()

    async def close(self) -> None:
        await self._delivery.close()

    @property
    def credits(self) -> float:
        self.settle()
        return self._balance

    @credits.setter
    def credits(self, value: float) -> None:
        self.settle()
        self._balance = value

    @property
    def pending_callbacks(self) -> int:
        """Callbacks due or being delivered (including retries still to come)."""
        self.settle()
        return len(self._callback_queue) + self._delivery.in_flight

    def count(self, path_suffix: str) -> int:
        return sum(1 for request in self.requests if request.path.endswith(path_suffix))

    def served_sha256(self, url: str) -> str | None:
        path = path_of(url)
        cached = self.media.cached(path)
        if cached is not None:
            return cached.sha256
        found = self._cdn_target(path)
        if found is None:
            return None
        return self.media.get_blocking(path, *found).sha256

    # --- operations behind the routes -------------------------------------------------------

    def create_task(self, body: object) -> SimTask:
        status = self.faults.create_status
        if status is not None:
            self.faults.create_status = None
            raise ApiError(status)
        now = self.clock()
        self._admit(now)
        if not isinstance(body, Mapping):
            raise ApiError(400, "The request body must be a JSON object")
        model, inputs, callback_url = _parse_create(body)
        spec = MODELS.get(model)
        if spec is None:
            raise ApiError(422, f"The model {model!r} is not supported")
        problem = spec.validate(inputs)
        if problem is not None:
            raise ApiError(422, problem)
        price = spec.price_for(inputs)
        self.settle()
        held = sum(self.tasks[task_id].price for task_id in self._unsettled)
        if self._balance - held < price:
            raise ApiError(402)
        task_id = secrets.token_hex(16)
        prompt = str(inputs.get("prompt", ""))
        duration = self.config.image_seconds if spec.kind == "image" else self.config.video_seconds
        task = SimTask(
            task_id=task_id,
            spec=spec,
            inputs=dict(inputs),
            callback_url=callback_url,
            created_at=now,
            duration=duration * (10 if SLOW_DIRECTIVE in prompt else 1),
            price=price,
            will_fail=FAIL_DIRECTIVE in prompt,
            result_urls=result_urls(self.base_url, task_id, file_extension(spec, inputs)),
        )
        self.tasks[task_id] = task
        self._unsettled.add(task_id)
        logger.debug("sandbox created task %s for %s", task_id, model)
        return task

    def record_info(self, task_id: str) -> dict[str, Any]:
        task = self.tasks.get(task_id)
        if task is None:
            raise ApiError(404, f"The task {task_id} does not exist")
        self.settle()
        return task.record(self.clock())

    def download_url(self, url: object) -> str:
        if not isinstance(url, str) or not url.startswith(self.base_url + "/"):
            raise ApiError(422, "Only files hosted by kie.ai can be downloaded")
        path = path_of(url)
        if self._cdn_target(path) is None:
            raise ApiError(422, "The URL is not a known kie.ai file")
        expires = int(self.clock()) + DOWNLOAD_URL_SECONDS
        return f"{self.base_url}{path}?expires={expires}&token={secrets.token_hex(8)}"

    async def cdn_file(self, path: str, expires: str | None) -> MediaFile | None:
        """The file at a CDN path, or None if there is none (or the signed link expired)."""
        if expires is not None and (not expires.isdigit() or int(expires) < self.clock()):
            return None
        found = self._cdn_target(path)
        if found is None:
            return None
        return await self.media.get(path, *found)

    # --- state ------------------------------------------------------------------------------

    def settle(self) -> None:
        """Charge and release every task that has become terminal, in completion order."""
        now = self.clock()
        done = [self.tasks[t] for t in self._unsettled if self.tasks[t].terminal(now)]
        for task in sorted(done, key=lambda t: t.completed_at):
            self._unsettled.discard(task.task_id)
            self._balance -= task.charge(now)
            task.remained_credits = self._balance
            task.settled = True
            if task.callback_url is not None:
                self._callback_queue.append(task)

    def _take_callbacks(self) -> list[SimTask]:
        self.settle()
        due = list(self._callback_queue)
        self._callback_queue.clear()
        return due

    def _admit(self, now: float) -> None:
        window = self.config.create_rate_window
        while self._recent_creates and self._recent_creates[0] <= now - window:
            self._recent_creates.popleft()
        if len(self._recent_creates) >= self.config.create_rate_limit:
            raise ApiError(429)
        self._recent_creates.append(now)

    def _cdn_target(self, path: str) -> tuple[SimTask, str] | None:
        parsed = parse_path(path)
        if parsed is None:
            return None
        task_id, index, extension = parsed
        task = self.tasks.get(task_id)
        if task is None or not task.succeeded(self.clock()) or index >= len(task.result_urls):
            return None
        if path_of(task.result_urls[index]) != path:
            return None
        return task, extension


def _parse_create(body: Mapping[str, Any]) -> tuple[str, dict[str, Any], str | None]:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(422, "model is required")
    inputs = body.get("input", {})
    if not isinstance(inputs, dict):
        raise ApiError(422, "input must be a JSON object")
    callback_url = body.get("callBackUrl")
    if callback_url is not None and not isinstance(callback_url, str):
        raise ApiError(422, "callBackUrl must be a string")
    return model, inputs, callback_url or None
