"""The sandbox's tasks on disk, so a simulated job outlives the process that started it.

kie.ai keeps a task after the client that created it quits; the embedded sandbox (``--sandbox``
over stdio, where the host may quit at any moment) does the same when its config names a
`state_path`: every task and the balance are written there (atomically, as JSON) whenever they
change, and read back when the sandbox starts. Output URLs are derived again from the new
base URL, since a restarted sandbox listens on another port.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mcp_server_kie.sandbox.cdn import output_url
from mcp_server_kie.sandbox.tasks import Family, Order, Output, SimTask

logger = logging.getLogger(__name__)

VERSION = 1
KEEP_FINISHED = 1000  # finished tasks kept in the file (kie keeps records for a while too)


@dataclass
class Saved:
    """What a journal holds: the tasks (by id) and the balance."""

    tasks: dict[str, SimTask]
    balance: float


def _output(output: Output) -> dict[str, Any]:
    return {
        "role": output.role,
        "index": output.index,
        "extension": output.extension,
        "aspect_ratio": output.aspect_ratio,
        "seconds": output.seconds,
        "label": output.label,
    }


def _task(task: SimTask) -> dict[str, Any]:
    order = task.order
    return {
        "task_id": task.task_id,
        "family": task.family.name,
        "order": {
            "model": order.model,
            "kind": order.kind,
            "request": order.request,
            "callback_url": order.callback_url,
            "price": order.price,
            "prompt": order.prompt,
            "input_urls": list(order.input_urls),
            "outputs": [_output(output) for output in order.outputs],
        },
        "created_at": task.created_at,
        "duration": task.duration,
        "will_fail": task.will_fail,
        "settled": task.settled,
        "remained_credits": task.remained_credits,
        "callback_done": task.callback_done,
        "hd_requests": task.hd_requests,
        "hd_ready": task.hd_ready,
    }


def _restore(raw: Mapping[str, Any], families: Mapping[str, Family], base_url: str) -> SimTask:
    spec = raw["order"]
    outputs = tuple(Output(**output) for output in spec["outputs"])
    order = Order(
        model=spec["model"],
        kind=spec["kind"],
        request=spec["request"],
        callback_url=spec["callback_url"],
        price=float(spec["price"]),
        prompt=spec["prompt"],
        outputs=outputs,
        input_urls=tuple(spec["input_urls"]),
    )
    task_id = raw["task_id"]
    return SimTask(
        task_id=task_id,
        family=families[raw["family"]],
        order=order,
        created_at=float(raw["created_at"]),
        duration=float(raw["duration"]),
        will_fail=bool(raw["will_fail"]),
        settled=bool(raw["settled"]),
        remained_credits=raw["remained_credits"],
        callback_done=bool(raw["callback_done"]),
        hd_requests=int(raw["hd_requests"]),
        hd_ready=bool(raw["hd_ready"]),
        outputs=tuple(
            replace(output, url=output_url(base_url, task_id, output)) for output in outputs
        ),
    )


class TaskJournal:
    """Reads and writes one sandbox's state file."""

    def __init__(self, path: Path, families: Iterable[Family]) -> None:
        self.path = path
        self._families = {family.name: family for family in families}

    def _raw_tasks(self) -> list[dict[str, Any]]:
        try:
            tasks = json.loads(self.path.read_text(encoding="utf-8"))["tasks"]
        except (OSError, ValueError, KeyError, TypeError):
            return []
        return [raw for raw in tasks if isinstance(raw, dict) and "task_id" in raw]

    def load(self, base_url: str) -> Saved | None:
        """The saved state, with URLs on ``base_url``; None when there is none (or it is
        unreadable, which is logged: the sandbox then starts empty, as a fresh kie would)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            tasks = [_restore(raw, self._families, base_url) for raw in data["tasks"]]
            balance = float(data["balance"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("sandbox: ignoring unreadable task file %s (%s)", self.path, exc)
            return None
        return Saved({task.task_id: task for task in tasks}, balance)

    def save(self, tasks: Iterable[SimTask], balance: float) -> None:
        """Write ``tasks`` over what the file holds (another process on the same folder may
        have added its own: they stay), keeping every unfinished task and the newest
        finished ones."""
        merged = {raw["task_id"]: raw for raw in self._raw_tasks()}
        merged.update((task.task_id, _task(task)) for task in tasks)
        newest = sorted(merged.values(), key=lambda raw: raw["created_at"], reverse=True)
        kept = [raw for i, raw in enumerate(newest) if i < KEEP_FINISHED or not raw["settled"]]
        body = {"version": VERSION, "balance": balance, "tasks": kept}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".sandbox-tasks-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(body, out, separators=(",", ":"))
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
