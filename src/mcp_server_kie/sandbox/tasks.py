"""One simulated market task and its life, computed from the clock.

A task never "runs": its state at any moment follows from when it was created and how long it
takes. waiting for the first 10% of the duration, queuing to 30%, generating to 100%, then
success or fail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mcp_server_kie.sandbox.models import ModelSpec

FAIL_DIRECTIVE = "[sandbox:fail]"
SLOW_DIRECTIVE = "[sandbox:slow]"
FAIL_MESSAGE = "The sandbox was asked to fail this task."

_PHASES = (("waiting", 0.0), ("queuing", 0.1), ("generating", 0.3))
_SUCCESS_FLAGS = {"waiting": 0, "queuing": 0, "generating": 0, "success": 1, "fail": 3}


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


@dataclass(slots=True)
class SimTask:
    """A task as the sandbox holds it. Times are clock seconds."""

    task_id: str
    spec: ModelSpec
    inputs: dict[str, Any]
    callback_url: str | None
    created_at: float
    duration: float
    price: float
    will_fail: bool
    result_urls: tuple[str, ...]
    settled: bool = False
    remained_credits: float | None = None
    callback_done: bool = False

    @property
    def model(self) -> str:
        return self.spec.id

    @property
    def prompt(self) -> str:
        prompt = self.inputs.get("prompt")
        return prompt if isinstance(prompt, str) else ""

    @property
    def completed_at(self) -> float:
        return self.created_at + self.duration

    def state(self, now: float) -> str:
        if self.terminal(now):
            return "fail" if self.will_fail else "success"
        fraction = self._fraction(now)
        current = "waiting"
        for name, start in _PHASES:
            if fraction >= start:
                current = name
        return current

    def _fraction(self, now: float) -> float:
        if self.duration <= 0:
            return 1.0 if now >= self.created_at else 0.0
        return (now - self.created_at) / self.duration

    def terminal(self, now: float) -> bool:
        """Finished: due by the clock, or already settled (a task never un-finishes)."""
        return self.settled or now >= self.completed_at

    def succeeded(self, now: float) -> bool:
        return self.state(now) == "success"

    def updated_at(self, now: float) -> float:
        """When the state last changed (the time of the latest phase boundary passed)."""
        if self.terminal(now):
            return self.completed_at
        fraction = self._fraction(now)
        start = max((s for _, s in _PHASES if fraction >= s), default=0.0)
        return self.created_at + start * self.duration

    def param(self) -> str:
        """The create request echoed back, with `input` double-encoded (the live quirk)."""
        request: dict[str, Any] = {"model": self.model, "input": _compact(self.inputs)}
        if self.callback_url is not None:
            request["callBackUrl"] = self.callback_url
        return _compact(request)

    def result_json(self, now: float) -> str | None:
        if not self.succeeded(now):
            return None
        return _compact({"resultUrls": list(self.result_urls)})

    def charge(self, now: float) -> float:
        return self.price if self.succeeded(now) else 0.0

    def record(self, now: float) -> dict[str, Any]:
        """The `data` of a recordInfo answer at time `now`."""
        state = self.state(now)
        terminal = self.terminal(now)
        result_json = self.result_json(now)
        failed = state == "fail"
        param = self.param()
        return {
            "taskId": self.task_id,
            "model": self.model,
            "state": state,
            "param": param,
            "paramJson": param,
            "resultJson": result_json,
            "response": json.loads(result_json) if result_json is not None else None,
            "successFlag": _SUCCESS_FLAGS[state],
            "creditsConsumed": self.charge(now) if terminal else None,
            "failCode": "500" if failed else None,
            "failMsg": FAIL_MESSAGE if failed else None,
            "costTime": round(self.duration) if state == "success" else 0,
            "createTime": _ms(self.created_at),
            "updateTime": _ms(self.updated_at(now)),
            "completeTime": _ms(self.completed_at) if terminal else None,
            "progress": None,
        }

    def callback_body(self, now: float) -> dict[str, Any]:
        """The JSON body POSTed to callBackUrl once the task is terminal."""
        data = self.record(now)
        data.pop("creditsConsumed")
        data["consumeCredits"] = self.charge(now)
        data["remainedCredits"] = self.remained_credits
        if data["state"] == "success":
            return {"code": 200, "msg": "Playground task completed successfully.", "data": data}
        return {"code": 501, "msg": "Playground task failed.", "data": data}


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
