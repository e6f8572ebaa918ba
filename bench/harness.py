"""What every benchmark script shares: arguments, one JSON result on stdout, percentiles, the
machine, memory readings, server settings, an embedded uvicorn, and a sandbox in its own process.

Scripts measure the product through its public entry points (open_runtime, the MCP client, the
sidecar's HTTP routes, Store) against the sandbox on 127.0.0.1, never kie.ai, and run on the
event loop the server runs on (``runtime.run``: uvloop where installed); the simulator's own
process keeps the standard loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import math
import os
import platform
import socket
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from mcp_server_kie.config import Settings

BENCH_DIR = Path(__file__).resolve().parent
KEY = "bench-sandbox-key"
# Callbacks are signed and checked, as recommended for production (KIE_WEBHOOK_HMAC_KEY).
HMAC_KEY = "bench-webhook-hmac-key"

# The sidecar's uvicorn settings (server/sidecar_server.py `serve_sidecar`), reused wherever a bench
# serves an app that is compared with the sidecar or stands in for it.
SIDECAR_UVICORN: dict[str, Any] = {
    "http": "httptools",
    "log_config": None,
    "access_log": False,
    "lifespan": "off",
    "timeout_keep_alive": 5,
    "limit_concurrency": 1000,
}


# ---------------------------------------------------------------------- arguments and output


def parse_args(description: str | None, extra: Sequence[tuple[str, dict[str, Any]]] = ()) -> Any:
    """--smoke (tiny sizes, seconds) plus any script-specific options."""
    parser = argparse.ArgumentParser(description=(description or "").split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script works")
    for name, options in extra:
        parser.add_argument(name, **options)
    return parser.parse_args()


def setup() -> float:
    """Quiet logs on stderr, no KIE_* settings leaking in from the shell; returns the start."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
    for name in [n for n in os.environ if n.startswith("KIE_")]:
        del os.environ[name]
    return time.monotonic()


@dataclass
class Row:
    """One line of the BENCHMARKS.md table. ``ratio`` is defined by ``ratio_means``. A row
    that misses its target says by how much (``gap``) and what would close it (``remedy``)."""

    measure: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    ratio: float | None = None
    ratio_means: str | None = None
    target: str | None = None
    ok: bool | None = None
    gap: str | None = None
    remedy: str | None = None

    def __post_init__(self) -> None:
        if self.ok is not False:  # only a miss needs explaining
            self.gap = self.remedy = None


def over(value: float, limit: float, unit: str) -> str:
    """How far a value is above an upper limit."""
    return f"{_amount(value - limit, unit)} over the limit ({value / limit:.2g}× it)"


def short(value: float, floor: float, unit: str) -> str:
    """How far a value is below a floor."""
    return f"{_amount(floor - value, unit)} short ({value / floor:.0%} of the target)"


def _amount(number: float, unit: str) -> str:
    return f"{number:.4g}{'' if unit.startswith(('×', '/')) else ' '}{unit}"


@dataclass
class Result:
    question: int
    title: str
    smoke: bool
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def emit(result: Result, started: float) -> None:
    """The script's one line of JSON on stdout (bench scripts may print; the server never)."""
    payload = {
        "question": result.question,
        "title": result.title,
        "smoke": result.smoke,
        "seconds": round(time.monotonic() - started, 1),
        "rows": [vars(row) for row in result.rows],
        "notes": result.notes,
        "details": result.details,
        "machine": machine(),
    }
    print(json.dumps(payload), flush=True)


# ---------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: the smallest value with at least q% of the samples at or below."""
    if not values:
        raise ValueError("no samples")
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


# ---------------------------------------------------------------------- the machine and memory


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gb": round(_meminfo_kb("MemTotal") / 1024 / 1024, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "mcp": version("mcp"),
        "event_loop": _event_loop(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _event_loop() -> str:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return "none"
    return f"{type(loop).__module__}.{type(loop).__name__}"


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _meminfo_kb(key: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def memory_mb(pid: int | str = "self") -> tuple[float, float]:
    """(current RSS, peak RSS since start or the last reset) of a process, in MB (Linux)."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(rest.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak_memory(pid: int | str = "self") -> None:
    """Set the process's peak RSS back to its current RSS (Linux: clear_refs, value 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@contextlib.contextmanager
def gc_pauses() -> Iterator[dict[str, list[float]]]:
    """Durations (seconds) of the cyclic garbage collector's passes meanwhile, by generation:
    each pass stops this process's event loop."""
    pauses: dict[str, list[float]] = {"0": [], "1": [], "2": []}
    began = 0.0

    def observe(phase: str, info: dict[str, int]) -> None:
        nonlocal began
        if phase == "start":
            began = time.perf_counter()
        else:
            pauses[str(info["generation"])].append(time.perf_counter() - began)

    gc.callbacks.append(observe)
    try:
        yield pauses
    finally:
        gc.callbacks.remove(observe)


def pause_summary(pauses: dict[str, list[float]]) -> dict[str, float]:
    full = pauses["2"]
    return {
        "full_passes": len(full),
        "full_max_ms": ms(max(full, default=0.0)),
        "all_passes_total_ms": ms(sum(sum(p) for p in pauses.values())),
    }


@contextlib.contextmanager
def peak_growth() -> Iterator[dict[str, float]]:
    """Measures how far this process's RSS peaks above where it stood at the start."""
    reading: dict[str, float] = {}
    reset_peak_memory()
    before, _ = memory_mb()
    try:
        yield reading
    finally:
        _, peak = memory_mb()
        reading["before_mb"] = round(before, 1)
        reading["peak_mb"] = round(peak, 1)
        reading["growth_mb"] = round(peak - before, 1)


# ---------------------------------------------------------------------- the server side


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bound_socket() -> socket.socket:
    """A listening-ready loopback socket on a free port (no window for another taker). Made
    as a TCP socket explicitly: asyncio turns Nagle's algorithm off only on sockets whose
    protocol says TCP, and uvicorn writes a response's head and body separately, so without it
    every keep-alive response waits ~40 ms for a delayed ACK."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def server_settings(
    data_dir: Path,
    base_url: str,
    *,
    port: int = 0,
    public_url: str | None = None,
    **overrides: Any,
) -> Settings:
    """Real (non-sandbox) mode pointed at a sandbox: exactly how production talks to kie.ai,
    at kie's default pace (20 creates per 10 s, 10 status reads per s) unless ``overrides``
    raise it. ``public_url`` None means no callbacks: jobs finish by polling."""
    return Settings(
        api_key=KEY,  # type: ignore[arg-type]
        base_url=base_url,
        upload_base_url=base_url,
        data_dir=data_dir,
        webhook_port=port,
        public_url=public_url,
        webhook_hmac_key=HMAC_KEY,  # type: ignore[arg-type]
        max_wait_seconds=55,
        **overrides,
    )


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def serve_asgi(app: ASGIApp, sock: socket.socket) -> AsyncIterator[str]:
    """Serve ``app`` on ``sock`` in this event loop with the sidecar's uvicorn settings."""
    server = _QuietServer(uvicorn.Config(app, **SIDECAR_UVICORN))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(10):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    host, port = sock.getsockname()[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task


# ---------------------------------------------------------------------- a sandbox process


class SandboxProcess:
    """A sandbox running in a child process (bench/sandbox_process.py), so the simulator's CPU
    is not charged to the server being measured. Talks over the child's stdin/stdout."""

    def __init__(self, process: asyncio.subprocess.Process, base_url: str) -> None:
        self.process = process
        self.base_url = base_url

    async def ask(self, command: str) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout=60)
        if not line:
            raise RuntimeError(f"the sandbox process exited while asked {command!r}")
        return json.loads(line)

    async def tasks(self) -> list[dict[str, Any]]:
        """Every task: task_id, completed_at (Unix time), callback_url, callback_body."""
        tasks: list[dict[str, Any]] = await self.ask("tasks")
        return tasks

    async def log(self) -> list[tuple[str, str, dict[str, str], float]]:
        """Every request the sandbox received: method, path, query, Unix time."""
        entries: list[tuple[str, str, dict[str, str], float]] = [
            (method, path, query, at) for method, path, query, at in await self.ask("log")
        ]
        return entries

    async def requests(self) -> dict[str, int]:
        """How many requests the sandbox received, by path."""
        counts: dict[str, int] = await self.ask("requests")
        return counts


@asynccontextmanager
async def sandbox_process(
    *,
    image_seconds: float,
    image_spread: float = 0.0,
    video_seconds: float = 3.0,
    one_file_cdn: bool = True,
    send_callbacks: bool = True,
) -> AsyncIterator[SandboxProcess]:
    """Start a sandbox process (create rate limit lifted, callbacks signed with HMAC_KEY) and
    stop it afterwards."""
    args = [
        str(BENCH_DIR / "sandbox_process.py"),
        f"--hmac-key={HMAC_KEY}",
        f"--image-seconds={image_seconds}",
        f"--image-spread={image_spread}",
        f"--video-seconds={video_seconds}",
    ]
    if one_file_cdn:
        args.append("--one-file-cdn")
    if not send_callbacks:
        args.append("--drop-callbacks")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=1 << 28,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        if not line:
            raise RuntimeError("the sandbox process did not start")
        yield SandboxProcess(process, json.loads(line)["base_url"])
    finally:
        await stop_child(process)


async def stop_child(process: asyncio.subprocess.Process, grace: float = 20) -> None:
    """Close the child's stdin (its signal to finish), then wait; kill it if it hangs."""
    if process.stdin is not None and not process.stdin.is_closing():
        process.stdin.close()
    try:
        await asyncio.wait_for(process.wait(), timeout=grace)
    except TimeoutError:
        process.kill()
        await process.wait()


async def stdin_closed() -> None:
    """In a child process: return once the parent closes our stdin."""
    while await asyncio.to_thread(sys.stdin.readline):
        pass


# ---------------------------------------------------------------------- the product over stdio

LEGACY_PROTOCOL = "2025-11-25"  # what today's desktop hosts speak


class StdioServer:
    """The product as a desktop host runs it (``python -m mcp_server_kie serve``), spoken to in
    raw JSON-RPC over its stdin/stdout, so timings hold no client-side work (the SDK client
    would also re-validate every result against the tool's output schema)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._next_id = 0

    @classmethod
    async def start(cls, env: dict[str, str], stderr: Path) -> StdioServer:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
        full_env.update(env)
        with stderr.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "mcp_server_kie",
                "serve",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                env=full_env,
                limit=1 << 26,
            )
        return cls(process)

    async def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        await self.process.stdin.drain()

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Send a request and return its result (notifications in between are skipped)."""
        self._next_id += 1
        await self.send({"jsonrpc": "2.0", "id": self._next_id, "method": method,
                         "params": params or {}})  # fmt: skip
        assert self.process.stdout is not None
        while True:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout=120)
            if not line:
                raise RuntimeError(f"the server exited during {method}")
            message = json.loads(line)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method} failed: {message['error']}")
                return message["result"]

    async def initialize(self) -> None:
        await self.request(
            "initialize",
            {
                "protocolVersion": LEGACY_PROTOCOL,
                "capabilities": {},
                "clientInfo": {"name": "bench", "version": "1"},
            },
        )
        await self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self.request(
            "tools/call", {"name": name, "arguments": arguments}
        )
        if result.get("isError"):
            raise RuntimeError(f"{name} failed: {result.get('content')}")
        return result

    async def close(self) -> None:
        await stop_child(self.process)


def stdio_env(data_dir: Path, base_url: str = "http://127.0.0.1:9") -> dict[str, str]:
    """Real mode, no public URL; the default base URL has nothing listening (nothing is sent)."""
    return {
        "KIE_API_KEY": KEY,
        "KIE_BASE_URL": base_url,
        "KIE_DATA_DIR": str(data_dir),
        "KIE_WEBHOOK_PORT": str(free_port()),
        "KIE_LOG_LEVEL": "WARNING",
    }
