"""A sandbox (the kie.ai simulator) in its own process, driven by a benchmark over pipes.

Prints {"base_url": ...} once listening, then answers one command per stdin line with one JSON
line: "tasks" (every task, with its callback URL and the callback body kie would send when it
finishes), "requests" (requests received, by path), "log" (every request: method, path,
query, time) or "callbacks" (every callback POST: task id, when its answer came, whether it
was a 2xx). Exits when stdin closes.

The create rate limit (20 per 10 s, as on kie.ai) is lifted and the balance is ample: the
benchmarks measure this server, not kie's quota or our wallet. Options:
--one-file-cdn: the CDN renders one file per type and serves it for every task (the simulator
  spends ~60 ms of CPU rendering each PNG, which a real CDN does not);
--drop-callbacks: the sandbox sends no callbacks (the benchmark sends them itself);
--image-spread S: each image task takes a random time between --image-seconds and S more, so
  completions fall at every phase of a poller's schedule, as real generation times do.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from collections import Counter
from typing import Any

from harness import KEY, parse_args, setup

from mcp_server_kie.sandbox import Family, Sandbox, SandboxConfig, SimTask, serve_sandbox
from mcp_server_kie.sandbox.cdn import MediaCache, Renderer
from mcp_server_kie.sandbox.media import MediaFile


class OneFileCdn(MediaCache):
    """Every task's file of a given type is the same bytes, rendered once."""

    async def get(self, path: str, render: Renderer) -> MediaFile:
        return await super().get("/shared." + path.rsplit(".", 1)[-1], render)


def spread_image_times(sandbox: Sandbox, low: float, spread: float) -> None:
    """Give each new image task its own duration, uniform in [low, low + spread]."""
    create = sandbox.create
    rng = random.Random(1)

    def create_with_spread(family: Family, body: object) -> SimTask:
        sandbox.config.image_seconds = low + rng.uniform(0, spread)
        return create(family, body)

    sandbox.create = create_with_spread  # type: ignore[method-assign]


def describe_tasks(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [
        {
            "task_id": task.task_id,
            "kind": task.order.kind,
            "completed_at": task.completed_at,
            "callback_url": task.callback_url,
            "callback_body": task.callback_body(task.completed_at),
        }
        for task in list(sandbox.tasks.values())
    ]


async def main() -> None:
    args = parse_args(
        __doc__,
        [
            ("--image-seconds", {"type": float, "default": 1.0}),
            ("--video-seconds", {"type": float, "default": 3.0}),
            ("--one-file-cdn", {"action": "store_true"}),
            ("--image-spread", {"type": float, "default": 0.0}),
            ("--hmac-key", {"default": None}),
            ("--drop-callbacks", {"action": "store_true"}),
        ],
    )
    setup()
    config = SandboxConfig(
        api_key=KEY,
        image_seconds=args.image_seconds,
        video_seconds=args.video_seconds,
        hmac_key=args.hmac_key,
        create_rate_limit=10**9,
        initial_credits=1e12,
    )
    async with serve_sandbox(config) as sandbox:
        sandbox.faults.drop_callbacks = args.drop_callbacks
        if args.image_spread:
            spread_image_times(sandbox, args.image_seconds, args.image_spread)
        if args.one_file_cdn:
            sandbox.media = OneFileCdn()
        print(json.dumps({"base_url": sandbox.base_url}), flush=True)
        while command := (await asyncio.to_thread(sys.stdin.readline)).strip():
            if command == "tasks":
                answer: object = describe_tasks(sandbox)
            elif command == "requests":
                answer = Counter(request.path for request in sandbox.requests)
            elif command == "log":
                answer = [[r.method, r.path, r.query, r.time] for r in sandbox.requests]
            elif command == "callbacks":
                answer = [[c.task_id, c.time, c.ok] for c in sandbox.callbacks]
            else:
                answer = {"error": f"unknown command {command!r}"}
            print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
