"""One simulated task and its life, computed from the clock; what every family has in common.

A task never "runs": its phase at any moment follows from when it was created and how long it
takes. waiting for the first 10% of the duration, queuing to 30%, generating to 100%, then
success or fail. Each API family (`market`, `gpt4o`, `veo`, `runway`) turns a create body
into an `Order` and renders the task's record and callback in its own wire shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from mcp_server_kie.sandbox.errors import ApiError
from mcp_server_kie.sandbox.models import Kind

FAIL_DIRECTIVE = "[sandbox:fail]"
SLOW_DIRECTIVE = "[sandbox:slow]"
FAIL_MESSAGE = "The sandbox was asked to fail this task."

Phase = Literal["waiting", "queuing", "generating", "success", "fail"]
Role = Literal["result", "cover", "origin", "1080p"]

_PHASES: tuple[tuple[Phase, float], ...] = (
    ("waiting", 0.0),
    ("queuing", 0.1),
    ("generating", 0.3),
)


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def ms(seconds: float) -> int:
    return round(seconds * 1000)


@dataclass(frozen=True, slots=True)
class Output:
    """One file a task serves from the CDN once it succeeds (a 1080p file: once it is ready).

    `role` "result" files are the task's result URLs; the others are extras a family reports
    elsewhere (a Runway cover image, a Veo original or 1080p video). `url` is set when the task
    gets its id.
    """

    role: Role
    index: int
    extension: str
    aspect_ratio: str
    seconds: int = 0
    label: str = ""
    url: str = ""

    @property
    def name(self) -> str:
        suffix = "" if self.role == "result" else f"-{self.role}"
        return f"{self.index}{suffix}.{self.extension}"


@dataclass(frozen=True, slots=True)
class Order:
    """A validated create request: what the task is, what it costs and what it will serve."""

    model: str
    kind: Kind
    request: dict[str, Any]
    callback_url: str | None
    price: float
    prompt: str
    outputs: tuple[Output, ...]
    input_urls: tuple[str, ...] = ()


class Family(Protocol):
    """An API family: its paths, its task ids and its wire shapes."""

    name: str
    create_path: str
    record_path: str
    no_credits: int  # the business code for "not enough credits" (Suno's differs)

    def new_task_id(self) -> str: ...

    def parse(self, body: dict[str, Any]) -> Order:
        """Validate a create body (raising ApiError) and describe the task it asks for."""
        ...

    def created(self, task: SimTask) -> dict[str, Any]:
        """The `data` of the create answer."""
        ...

    def record(self, task: SimTask, now: float) -> dict[str, Any]:
        """The `data` of the family's record (query) answer at time `now`."""
        ...

    def callback_body(self, task: SimTask, now: float) -> dict[str, Any]:
        """The JSON body POSTed to callBackUrl once the task is terminal."""
        ...


@runtime_checkable
class Follower(Family, Protocol):
    """A family whose tasks continue or upgrade an earlier task, named by the body's `taskId`
    (Veo extend and 4K, Runway extend)."""

    sources: frozenset[str]  # names of the families whose tasks it takes

    def parse_from(self, body: dict[str, Any], tasks: Mapping[str, SimTask], now: float) -> Order:
        """Validate a create body for the finished task it names (`source_task`; raising
        ApiError)."""
        ...


def source_task(
    family: Follower, body: dict[str, Any], tasks: Mapping[str, SimTask], now: float
) -> SimTask:
    """The finished task an extend or upgrade names in `taskId`, or kie's refusal (422 with
    the legacy query endpoints' wording)."""
    source_id = body.get("taskId")
    if not isinstance(source_id, str) or not source_id.strip():
        raise ApiError(422, "taskId is required")
    source = tasks.get(source_id)
    if source is None or source.family.name not in family.sources:
        raise ApiError(422, "record is null")
    if not source.succeeded(now):
        raise ApiError(422, "record status is not success")
    return source


@dataclass(slots=True)
class SimTask:
    """A task as the sandbox holds it. Times are clock seconds."""

    task_id: str
    family: Family
    order: Order
    created_at: float
    duration: float
    will_fail: bool
    settled: bool = False
    remained_credits: float | None = None
    callback_done: bool = False
    hd_requests: int = 0  # Veo: how often its 1080p video was asked for
    hd_ready: bool = False  # Veo: the 1080p video has been handed out and is served
    outputs: tuple[Output, ...] = field(default=())

    @property
    def model(self) -> str:
        return self.order.model

    @property
    def inputs(self) -> dict[str, Any]:
        return self.order.request

    @property
    def prompt(self) -> str:
        return self.order.prompt

    @property
    def price(self) -> float:
        return self.order.price

    @property
    def callback_url(self) -> str | None:
        return self.order.callback_url

    @property
    def result_urls(self) -> tuple[str, ...]:
        return self.urls("result")

    @property
    def result(self) -> Output:
        """The first result file (its shape and length)."""
        return next(output for output in self.outputs if output.role == "result")

    def urls(self, role: Role) -> tuple[str, ...]:
        return tuple(output.url for output in self.outputs if output.role == role)

    @property
    def completed_at(self) -> float:
        return self.created_at + self.duration

    def phase(self, now: float) -> Phase:
        if self.terminal(now):
            return "fail" if self.will_fail else "success"
        fraction = self.fraction(now)
        current: Phase = "waiting"
        for name, start in _PHASES:
            if fraction >= start:
                current = name
        return current

    def fraction(self, now: float) -> float:
        """How far along the task is, from 0 (created) to 1 (finished)."""
        if self.terminal(now):
            return 1.0
        if self.duration <= 0:
            return 0.0
        return min(max((now - self.created_at) / self.duration, 0.0), 1.0)

    def terminal(self, now: float) -> bool:
        """Finished: due by the clock, or already settled (a task never un-finishes)."""
        return self.settled or now >= self.completed_at

    def succeeded(self, now: float) -> bool:
        return self.phase(now) == "success"

    def serves(self, output: Output, now: float) -> bool:
        return self.succeeded(now) and (output.role != "1080p" or self.hd_ready)

    def updated_at(self, now: float) -> float:
        """When the phase last changed (the time of the latest phase boundary passed)."""
        if self.terminal(now):
            return self.completed_at
        fraction = self.fraction(now)
        start = max((s for _, s in _PHASES if fraction >= s), default=0.0)
        return self.created_at + start * self.duration

    def charge(self, now: float) -> float:
        return self.price if self.succeeded(now) else 0.0

    def record(self, now: float) -> dict[str, Any]:
        return self.family.record(self, now)

    def callback_body(self, now: float) -> dict[str, Any]:
        return self.family.callback_body(self, now)
