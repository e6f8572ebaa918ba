"""One server runtime as a child process, driven over stdin, for the kill -9 and two-process runs.

It opens the real runtime (`open_runtime`, real mode, settings from the `KIE_*` environment) and
prints JSON lines to stdout: `{"event": "ready", ...}` once the runtime is open (start-up
recovery done), then one answer per command read from stdin:

    submit <n> [image|video] [model] [knob=value ...]
                               start n jobs at once -> {"event": "submitted", "jobs": [...]}
    wait <seconds> <job>...    wait for jobs        -> {"event": "waited", "status": {...},
                                                     "at": {job: Unix time its wait ended}}
    call <n> <tool> <json>     n concurrent MCP tool calls with the JSON arguments
                               -> {"event": "called", "results": [{"job_id"|"error": ...}]}

End of stdin closes the runtime and exits 0. Logs go to stderr.

`--ack-before-commit` is the deliberately broken variant (the negative control): callbacks reach
the sidecar through an ASGI wrapper that answers 200 at once and only hands the request to the
real sidecar app a little later, so a kill in between loses an acknowledged delivery. The
wrapper listens on `KIE_WEBHOOK_PORT`; the runtime's own sidecar then listens on any free port.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import uvicorn
from mcp import Client
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_server_kie.catalog import DEFAULT_MODEL, get_model, validate_request
from mcp_server_kie.config import Settings
from mcp_server_kie.domain import MediaKind
from mcp_server_kie.jobs.engine import SubmitError
from mcp_server_kie.server.app import build_server
from mcp_server_kie.server.runtime import Runtime, open_runtime, run
from mcp_server_kie.server.sidecar import create_sidecar

log = logging.getLogger("killstorm.child")


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


class AckBeforeCommit:
    """The bug under test: a POST is answered 200 before the inner app has stored it."""

    def __init__(self, inner: ASGIApp, delay: float) -> None:
        self._inner = inner
        self._delay = delay
        self._later: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self._inner(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"ok": true}'})
        task = asyncio.create_task(self._handle_later(scope, body))
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    async def _handle_later(self, scope: Scope, body: bytes) -> None:
        await asyncio.sleep(self._delay)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def discard(message: Message) -> None:
            return None

        await self._inner(scope, replay, discard)


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def broken_front(runtime: Runtime, port: int, delay: float) -> AsyncIterator[None]:
    app = AckBeforeCommit(create_sidecar(runtime.engine), delay)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            if task.done():
                await task
                raise RuntimeError("the ack-before-commit front did not start")
            await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task


async def submit(
    runtime: Runtime, count: int, kind: MediaKind, model: str | None, knobs: dict[str, Any]
) -> list[str]:
    spec = get_model(model or DEFAULT_MODEL[kind], kind)

    async def one(number: int) -> str | None:
        prompt = f"kill storm {kind.value} {number}"
        try:
            job = await runtime.engine.submit(kind, validate_request(spec, prompt, knobs), prompt)
        except SubmitError as exc:
            log.warning("submit failed: %s", exc)
            return exc.job.id if exc.job else None
        return job.id

    ids = await asyncio.gather(*(one(n) for n in range(count)))
    return [job_id for job_id in ids if job_id]


async def wait(
    runtime: Runtime, seconds: float, job_ids: list[str]
) -> tuple[dict[str, str | None], dict[str, float]]:
    """Each job's status once it ended (or the wait ran out), and when its waiter returned."""

    async def one(job_id: str) -> tuple[str | None, float]:
        job = await runtime.engine.wait(job_id, seconds)
        return (job.status.value if job else None), time.time()

    ended = await asyncio.gather(*(one(j) for j in job_ids))
    return (
        {j: status for j, (status, _) in zip(job_ids, ended, strict=True)},
        {j: at for j, (_, at) in zip(job_ids, ended, strict=True)},
    )


async def call(client: Client, count: int, tool: str, arguments: dict[str, Any]) -> list[Any]:
    """Call an MCP tool ``count`` times at once, as that many clients of this server would."""

    async def one() -> dict[str, Any]:
        result = await client.call_tool(tool, arguments)
        if result.is_error:
            return {"error": " ".join(getattr(c, "text", "") for c in result.content)}
        return {"job_id": (result.structured_content or {}).get("job_id")}

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def serve(runtime: Runtime) -> None:
    async with Client(build_server(runtime.tools)) as client:
        emit("ready", sidecar_url=runtime.sidecar_url)
        while line := await asyncio.to_thread(sys.stdin.readline):
            await command(runtime, client, line)


async def command(runtime: Runtime, client: Client, line: str) -> None:
    name, *args = line.split(maxsplit=3 if line.startswith("call ") else -1)
    if name == "call":
        emit("called", results=await call(client, int(args[0]), args[1], json.loads(args[2])))
    elif name == "submit":
        kind = MediaKind(args[1]) if len(args) > 1 else MediaKind.IMAGE
        model = args[2] if len(args) > 2 else None
        knobs = {k: json.loads(v) for k, v in (a.split("=", 1) for a in args[3:])}
        emit("submitted", jobs=await submit(runtime, int(args[0]), kind, model, knobs))
    elif name == "wait":
        status, at = await wait(runtime, float(args[0]), args[1:])
        emit("waited", status=status, at=at)
    else:
        raise SystemExit(f"unknown command {name!r}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ack-before-commit", action="store_true", help="the broken variant")
    parser.add_argument("--commit-delay", type=float, default=0.3)
    args = parser.parse_args()
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx2", "httpcore2", "uvicorn.error"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = Settings()
    if not args.ack_before_commit:
        async with open_runtime(settings) as runtime:
            await serve(runtime)
        return
    front_port = settings.webhook_port
    async with open_runtime(settings.model_copy(update={"webhook_port": 0})) as runtime:
        async with broken_front(runtime, front_port, args.commit_delay):
            await serve(runtime)


if __name__ == "__main__":
    run(main())
