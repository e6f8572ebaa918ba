"""The sandbox itself: its tasks, uploads, balance and logs, and the operations the routes call.

Every family (market, 4o Image, Flux Kontext, Veo and its extend/4K, Runway and its extend,
Aleph, Suno) goes through the same create path: faults, the shared create rate limit, the
family's validation (an extend or upgrade: against the finished task it names), input URLs
on this sandbox checked to exist, then credits. A create is refused (402; Suno: 429) unless
the balance, less what unfinished tasks may still cost, covers the price; the price is taken
only when a task succeeds. Settling happens lazily whenever anything looks at the state.
"""

from __future__ import annotations

import logging
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.applications import Starlette

from mcp_server_kie.sandbox.app import FAMILIES, LoggedRequest, build_app
from mcp_server_kie.sandbox.callbacks import CallbackAttempt, CallbackDelivery
from mcp_server_kie.sandbox.cdn import MediaCache, Renderer, output_url, path_of, renderer, task_of
from mcp_server_kie.sandbox.config import Faults, SandboxConfig
from mcp_server_kie.sandbox.discovery import ModelShelf
from mcp_server_kie.sandbox.errors import ApiError, message_for
from mcp_server_kie.sandbox.journal import TaskJournal
from mcp_server_kie.sandbox.market import MARKET
from mcp_server_kie.sandbox.media import MediaFile
from mcp_server_kie.sandbox.tasks import FAIL_DIRECTIVE, SLOW_DIRECTIVE, Family, Follower, SimTask
from mcp_server_kie.sandbox.uploads import UPLOAD_PREFIX, Upload, UploadStore, decode_base64
from mcp_server_kie.sandbox.veo import VEO

logger = logging.getLogger(__name__)

DOWNLOAD_URL_SECONDS = 20 * 60
INPUT_FETCH_FAILED = "failed to fetch the input image"


class Sandbox:
    """A kie.ai simulator. `app` serves the API and the CDN; `start()` turns on callbacks."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.base_url = "http://sandbox.invalid"
        self.faults = Faults()
        self.shelf = ModelShelf()  # the Market models offered now; tests add/retire/reprice
        self.tasks: dict[str, SimTask] = {}
        self.requests: list[LoggedRequest] = []
        self.callbacks: list[CallbackAttempt] = []
        self.media = MediaCache()
        self._files = UploadStore()
        self._balance = self.config.initial_credits
        self._unsettled: set[str] = set()
        self._callback_queue: deque[SimTask] = deque()
        self._recent_creates: deque[float] = deque()
        self._resetter: Callable[[object], bool] | None = None
        self._delivery = CallbackDelivery(
            self.config,
            take_due=self._take_callbacks,
            dropping=lambda: self.faults.drop_callbacks,
            record=lambda attempt: self.callbacks.append(attempt),
        )
        path = self.config.state_path
        self._journal = TaskJournal(path, FAMILIES) if path is not None else None
        self.app: Starlette = build_app(self)

    def clock(self) -> float:
        return self.config.clock()

    def set_base_url(self, url: str) -> None:
        self.base_url = url.rstrip("/")

    def set_connection_resetter(self, resetter: Callable[[object], bool]) -> None:
        """How the server running this sandbox drops a client's connection (see `serve`)."""
        self._resetter = resetter

    def reset_connection(self, client: object) -> bool:
        """Drop the connection of `client` (an ASGI scope's client address) without an answer.
        False when the sandbox runs in-process, where there is no connection to drop."""
        return self._resetter is not None and self._resetter(client)

    async def start(self) -> None:
        """Restore the tasks a previous run saved (with a `state_path`), start callbacks."""
        saved = self._journal.load(self.base_url) if self._journal is not None else None
        if saved is not None:
            self.tasks.update(saved.tasks)
            self._balance = saved.balance
            for task in saved.tasks.values():
                if not task.settled:
                    self._unsettled.add(task.task_id)
                elif task.callback_url is not None and not task.callback_done:
                    self._callback_queue.append(task)
            logger.info("sandbox restored %d task(s)", len(saved.tasks))
        await self._delivery.start()

    async def close(self) -> None:
        await self._delivery.close()
        self._save()

    def _save(self) -> None:
        if self._journal is not None:
            self._journal.save(self.tasks.values(), self._balance)

    @property
    def credits(self) -> float:
        self.settle()
        return self._balance

    @credits.setter
    def credits(self, value: float) -> None:
        self.settle()
        self._balance = value

    @property
    def uploads(self) -> list[Upload]:
        """Every upload so far, in order (a file uploaded twice appears twice)."""
        return self._files.uploads

    @property
    def pending_callbacks(self) -> int:
        """Callbacks due or being delivered (including retries still to come)."""
        self.settle()
        return len(self._callback_queue) + self._delivery.in_flight

    def count(self, path_suffix: str) -> int:
        return sum(1 for request in self.requests if request.path.endswith(path_suffix))

    def served_sha256(self, url: str) -> str | None:
        """The SHA-256 of the bytes served at `url` (rendering them if need be), or None."""
        path = path_of(url)
        source = self._source(path)
        if source is None or isinstance(source, MediaFile):
            return None if source is None else source.sha256
        return self.media.get_blocking(path, source).sha256

    # --- operations behind the routes -------------------------------------------------------

    def create(self, family: Family, body: object) -> SimTask:
        status = self.faults.create_status
        if status is not None:
            self.faults.create_status = None
            raise ApiError(status)
        now = self.clock()
        self._admit(now)
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object")
        order = (
            family.parse_from(body, self.tasks, now)  # an extend or upgrade of a finished task
            if isinstance(family, Follower)
            else MARKET.parse(body, self.shelf.models)
            if family is MARKET
            else family.parse(body)
        )
        if not all(self._fetchable(url) for url in order.input_urls):
            raise ApiError(422, INPUT_FETCH_FAILED)
        self.settle()
        held = sum(self.tasks[task_id].price for task_id in self._unsettled)
        if self._balance - held < order.price:
            raise ApiError(family.no_credits, message_for(402))
        task_id = family.new_task_id()
        seconds = self.config.image_seconds if order.kind == "image" else self.config.video_seconds
        task = SimTask(
            task_id=task_id,
            family=family,
            order=order,
            created_at=now,
            duration=seconds * (10 if SLOW_DIRECTIVE in order.prompt else 1),
            will_fail=FAIL_DIRECTIVE in order.prompt,
            outputs=tuple(
                replace(output, url=output_url(self.base_url, task_id, output))
                for output in order.outputs
            ),
        )
        self.tasks[task_id] = task
        self._unsettled.add(task_id)
        self._save()
        logger.debug("sandbox created %s task %s for %s", family.name, task_id, order.model)
        return task

    def record(self, family: Family, task_id: str) -> dict[str, Any]:
        task = self._task(family, task_id)
        self.settle()
        return task.record(self.clock())

    def veo_1080p(self, task_id: str, index: str) -> dict[str, str]:
        task = self._task(VEO, task_id)
        self.settle()
        answer = VEO.hd_video(task, index, self.clock())
        self._save()
        return answer

    def upload(
        self,
        data: bytes,
        upload_path: object,
        file_name: object,
        declared_type: str | None = None,
        original_name: str | None = None,
    ) -> dict[str, object]:
        now = self.clock()
        reply = self._files.put(
            self.base_url, now, data, upload_path, file_name, declared_type, original_name
        )
        logger.debug("sandbox stored an upload of %d bytes", len(data))
        return reply

    def upload_base64(self, body: object) -> dict[str, object]:
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object")
        data, declared = decode_base64(body.get("base64Data"))
        return self.upload(data, body.get("uploadPath"), body.get("fileName"), declared)

    def download_url(self, url: object) -> str:
        if not isinstance(url, str) or not url.startswith(self.base_url + "/"):
            raise ApiError(422, "Only files hosted by kie.ai can be downloaded")
        if self._source(path_of(url)) is None:
            raise ApiError(422, "The URL is not a known kie.ai file")
        expires = int(self.clock()) + DOWNLOAD_URL_SECONDS
        raw_path = urlsplit(url).path
        return f"{self.base_url}{raw_path}?expires={expires}&token={secrets.token_hex(8)}"

    async def cdn_file(self, path: str, expires: str | None) -> MediaFile | None:
        """The file at a CDN path, or None if there is none (or the signed link expired)."""
        if self._expired(expires):
            return None
        source = self._source(path)
        if source is None or isinstance(source, MediaFile):
            return source
        return await self.media.get(path, source)

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
        if done:
            self._save()

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

    def _task(self, family: Family, task_id: str) -> SimTask:
        task = self.tasks.get(task_id)
        if task is None or task.family.record_path != family.record_path:
            if family is MARKET:  # kie's live answer for an unknown Market task (issue 12)
                raise ApiError(422, "recordInfo is null")
            raise ApiError(422, "record is null")  # the legacy query endpoints' wording
        return task

    def _source(self, path: str) -> MediaFile | Renderer | None:
        """What a CDN path serves now: an uploaded file, a task file to render, or nothing."""
        now = self.clock()
        if path.startswith(UPLOAD_PREFIX):
            return self._files.get(path, now)
        task = self.tasks.get(task_of(path) or "")
        if task is None:
            return None
        for output in task.outputs:
            if path_of(output.url) == path and task.serves(output, now):
                return renderer(task.task_id, task.prompt, output)
        return None

    def _fetchable(self, url: str) -> bool:
        """An input URL kie could fetch: anything elsewhere, or a file this sandbox serves."""
        if not url.startswith(self.base_url + "/"):
            return True
        expires = parse_qs(urlsplit(url).query).get("expires", [None])[0]
        return not self._expired(expires) and self._source(path_of(url)) is not None

    def _expired(self, expires: str | None) -> bool:
        """Whether a download link's `expires` (Unix seconds; None for a plain URL) has passed."""
        return expires is not None and (not expires.isdigit() or int(expires) < self.clock())
