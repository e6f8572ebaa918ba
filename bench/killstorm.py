"""kill -9 harness (reliability-security.md §5.6, case 18): crash the server, restart, check.

A sandbox (simulated kie.ai) runs in this process and delivers callbacks, with kie's retries,
to each job's callback URL. The server runs as a child process (`killstorm_child.py`: the real
runtime in real mode, pointed at the sandbox, one data directory across restarts). Each
iteration starts the child, has it submit a few jobs, and SIGKILLs it at a chosen moment:

- `ack`: just after the sandbox got a 200 for a callback (the inbox row is fresh, its
  processing has just begun);
- `download`: just after the child began downloading a result from the sandbox CDN (mid
  download, around the fsync and `os.replace`, or around the commit that follows);
- `random`: at a random time after the start (start-up recovery, submits, anything).

After every kill: `PRAGMA integrity_check` is ok and every callback the sandbox got a 200 for
is in `webhook_inbox`. After every restart: no `.part-*` temp file the kill left behind remains.
At the end the child runs until every job is terminal (the reconciler finishes what callbacks
did not), each completed asset's file matches its stored SHA-256 (and the bytes the sandbox
served), and no job that is not completed has files in its directory.

`--broken` runs the negative control (the child answers 200 before committing; killed right
after acknowledgements) and passes only if the harness catches it: lost > 0.

Prints a JSON report on stdout; exit status 0 when the run shows what it should.

    PYTHONPATH=src python bench/killstorm.py --iterations 100
    PYTHONPATH=src python bench/killstorm.py --iterations 20 --broken
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_server_kie.sandbox import Sandbox, SandboxConfig
from mcp_server_kie.sandbox.cdn import CDN_PREFIX

ROOT = Path(__file__).resolve().parents[1]
CHILD = Path(__file__).resolve().with_name("killstorm_child.py")
API_KEY = "killstorm-key"
MODES = ("ack", "download", "random")
# Upper bound of the random delay between a trigger and the kill. A result takes ~0.1-0.15 s to
# download from the slowed CDN, so `download` kills land mid-stream, around the rename and
# around the commit that follows.
KILL_DELAY = {"ack": 0.005, "download": 0.15}
CDN_CHUNK_BYTES = 1024
CDN_CHUNK_PAUSE = 0.01
TRIGGER_TIMEOUT = 8.0
EVENT_TIMEOUT = 30.0
OPEN = ("pending", "processing")


@dataclass
class Options:
    iterations: int
    broken: bool
    modes: tuple[str, ...]
    jobs_per_start: int
    video_share: float
    settle_timeout: float
    seed: int
    data_dir: Path
    commit_delay: float


def child_env(sandbox: Sandbox, data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    env.update(
        KIE_API_KEY=API_KEY,
        KIE_BASE_URL=sandbox.base_url,
        KIE_UPLOAD_BASE_URL=sandbox.base_url,
        KIE_DATA_DIR=str(data_dir),
        KIE_WEBHOOK_PORT=str(port),
        KIE_PUBLIC_URL=f"http://127.0.0.1:{port}",
        # Result downloads come from the sandbox on loopback; allow it wherever the media
        # policy reads an allow-list (settings that do not exist are ignored).
        KIE_MEDIA_ALLOW_HOSTS="127.0.0.1",
    )
    return env


class Child:
    """One child server process: its stdout events, its stdin commands, and kill -9."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, args: list[str], env: dict[str, str], log: Any) -> Child:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(CHILD),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            env=env,
        )
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            with contextlib.suppress(ValueError):
                self._events.put_nowait(json.loads(line))
        self._events.put_nowait(None)

    async def event(self, name: str) -> dict[str, Any] | None:
        """The next event called `name`, or None once the child has gone."""
        async with asyncio.timeout(EVENT_TIMEOUT):
            while (event := await self._events.get()) is not None:
                if event.get("event") == name:
                    return event
        self._events.put_nowait(None)
        return None

    async def send(self, line: str) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(ConnectionError):
            self.process.stdin.write(line.encode() + b"\n")
            await self.process.stdin.drain()

    async def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGKILL)
        await self.process.wait()
        await self._reader

    async def close(self) -> int:
        """End of stdin: the child closes its runtime and exits."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        code = await asyncio.wait_for(self.process.wait(), EVENT_TIMEOUT)
        await self._reader
        return code


@dataclass
class Storm:
    options: Options
    sandbox: Sandbox
    env: dict[str, str]
    rng: random.Random
    log: Any
    kills: Counter[str] = field(default_factory=Counter)
    integrity_failures: list[str] = field(default_factory=list)
    lost_after_kill: int = 0
    unprocessed_at_kill: int = 0
    temp_files_at_kill: int = 0
    temp_files_left: int = 0
    _orphans: set[Path] = field(default_factory=set)

    @property
    def database(self) -> Path:
        return self.options.data_dir / "kie.sqlite3"

    @property
    def media(self) -> Path:
        return self.options.data_dir / "media"

    def child_args(self) -> list[str]:
        if not self.options.broken:
            return []
        return ["--ack-before-commit", "--commit-delay", str(self.options.commit_delay)]

    async def iteration(self) -> None:
        mode = self.rng.choice(self.options.modes)
        child = await Child.start(self.child_args(), self.env, self.log)
        driver = asyncio.create_task(self._drive(child))
        if mode == "random":
            await asyncio.sleep(self.rng.uniform(0.0, 3.0))
            moment = mode
        else:
            await asyncio.wait([driver], timeout=EVENT_TIMEOUT)
            moment = mode if await self._trigger(mode) else f"{mode} (no trigger)"
            await asyncio.sleep(self.rng.uniform(0.0, KILL_DELAY[mode]))
        await child.kill()
        driver.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await driver
        self.kills[moment] += 1
        self.after_kill()

    async def _drive(self, child: Child) -> None:
        if await child.event("ready") is None:
            return
        self.after_restart()
        kind = "video" if self.rng.random() < self.options.video_share else "image"
        await child.send(f"submit {self.options.jobs_per_start} {kind}")
        await child.event("submitted")

    async def _trigger(self, mode: str) -> bool:
        """Wait for the moment a kill matters: a fresh acknowledgement or download."""
        seen = len(self.sandbox.callbacks) if mode == "ack" else len(self.sandbox.requests)
        happened: Callable[[], bool]
        if mode == "ack":

            def happened() -> bool:
                return any(a.ok for a in self.sandbox.callbacks[seen:])
        else:

            def happened() -> bool:
                return any(r.path.startswith(CDN_PREFIX) for r in self.sandbox.requests[seen:])

        deadline = time.monotonic() + TRIGGER_TIMEOUT
        while not happened():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.001)
        return True

    def check_integrity(self) -> None:
        integrity = self.integrity()
        if integrity != "ok":
            self.integrity_failures.append(integrity)

    def after_kill(self) -> None:
        """The data directory exactly as the kill left it (read-only, so SQLite's recovery
        of the write-ahead log is left to the restarted server)."""
        if not self.database.exists():
            return  # killed before it created the database
        self.check_integrity()
        self.lost_after_kill = max(self.lost_after_kill, self.lost())
        self.unprocessed_at_kill += len(
            self.query("SELECT id FROM webhook_inbox WHERE processed_at IS NULL")
        )
        left = set(self.temp_files()) - self._orphans
        self.temp_files_at_kill += len(left)
        self._orphans |= left

    def after_restart(self) -> None:
        """Once a restarted child is ready: a sound database, and no temp file the last kill
        left behind."""
        self.check_integrity()
        self.temp_files_left += sum(1 for path in self._orphans if path.exists())
        self._orphans.clear()

    # --- reading the data directory, read-only ----------------------------------------------

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        uri = f"file:{self.database}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as conn:
            return conn.execute(sql).fetchall()

    def integrity(self) -> str:
        return str(self.query("PRAGMA integrity_check")[0][0])

    def acknowledged(self) -> Counter[str]:
        """Callbacks the sandbox got a 2xx for, per job id (from the callback URL's path)."""
        return Counter(
            urlsplit(a.url).path.rsplit("/", 1)[-1] for a in self.sandbox.callbacks if a.ok
        )

    def lost(self) -> int:
        """Acknowledged callbacks of a job still running that left no row in the inbox. A
        delivery for a job that has ended, or identical to one stored, needs no row (the
        inbox is bounded), so only a running job without one has lost its callback."""
        inbox = Counter(job_id for (job_id,) in self.query("SELECT job_id FROM webhook_inbox"))
        ended = {
            job_id for (job_id,) in self.query(f"SELECT id FROM jobs WHERE status NOT IN {OPEN}")
        }
        return sum(
            n for job, n in self.acknowledged().items() if job not in ended and not inbox[job]
        )

    def temp_files(self) -> list[Path]:
        return list(self.media.rglob(".*.part-*")) if self.media.exists() else []

    def open_jobs(self) -> int:
        return len(self.query(f"SELECT id FROM jobs WHERE status IN {OPEN}"))

    def open_work(self) -> int:
        """Open jobs, plus finished jobs' previews still to be made (they follow completion
        and write temporary files of their own)."""
        pending = self.query("SELECT id FROM assets WHERE preview_pending = 1")
        return self.open_jobs() + len(pending)

    async def settle(self) -> dict[str, Any]:
        """Run the child until every job is terminal, then check files and hashes."""
        child = await Child.start(self.child_args(), self.env, self.log)
        ready = await child.event("ready")
        assert ready is not None, "the child did not start; see its log"
        self.after_restart()
        deadline = time.monotonic() + self.options.settle_timeout
        while time.monotonic() < deadline:
            if not self.open_work():
                break
            await asyncio.sleep(0.5)
        # Every job is terminal and previewed, so nothing is being written: any temp file now
        # is an orphan.
        still_open = self.open_jobs()
        temp_at_end = len(self.temp_files()) if not self.open_work() else None
        exit_code = await child.close()
        return {
            "child_exit_code": exit_code,
            "still_open": still_open,
            "temp_at_end": temp_at_end,
            **self.check_files(),
        }

    def check_files(self) -> dict[str, Any]:
        assets = self.query("SELECT path, sha256, source_url FROM assets")
        mismatches = 0
        for path, sha256, url in assets:
            file = Path(path)
            actual = hashlib.sha256(file.read_bytes()).hexdigest() if file.exists() else None
            if actual != sha256 or self.sandbox.served_sha256(url) != sha256:
                mismatches += 1
        completed = {j for (j,) in self.query("SELECT id FROM jobs WHERE status = 'completed'")}
        strays = [
            path
            for path in (self.media.rglob("job_*/*") if self.media.exists() else [])
            if not path.name.startswith(".") and path.parent.name not in completed
        ]
        statuses = Counter(
            f"{status}:{category}" if category else status
            for status, category in self.query("SELECT status, error_category FROM jobs")
        )
        return {
            "assets": len(assets),
            "hash_mismatches": mismatches,
            "files_of_unfinished_jobs": len(strays),
            "jobs_by_status": dict(statuses),
        }


class SlowCdn:
    """Serves the sandbox's CDN files in small timed chunks, so a download lasts long enough
    for a kill to land in the middle of it."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(CDN_PREFIX):
            await self._app(scope, receive, send)
            return

        async def trickle(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
                return
            body = message.get("body", b"")
            for start in range(0, len(body), CDN_CHUNK_BYTES):
                chunk = body[start : start + CDN_CHUNK_BYTES]
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await asyncio.sleep(CDN_CHUNK_PAUSE)
            await send({**message, "body": b""})

        await self._app(scope, receive, trickle)


@contextlib.asynccontextmanager
async def serve_slow_sandbox(config: SandboxConfig) -> AsyncIterator[Sandbox]:
    """A sandbox on a loopback port, its CDN slowed by `SlowCdn`, callbacks running."""
    sandbox = Sandbox(config)
    server = uvicorn.Server(
        uvicorn.Config(
            SlowCdn(sandbox.app),
            host="127.0.0.1",
            port=0,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
    )
    serving = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            if serving.done():
                await serving
                raise RuntimeError("the sandbox did not start")
            await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    sandbox.set_base_url(f"http://127.0.0.1:{port}")
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.close()
        server.should_exit = True
        await serving


async def run(options: Options) -> dict[str, Any]:
    started = time.monotonic()
    config = SandboxConfig(
        api_key=API_KEY, image_seconds=1.0, video_seconds=1.5, create_rate_limit=100_000
    )
    options.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = options.data_dir / "child.log"
    with log_path.open("ab") as log:
        async with serve_slow_sandbox(config) as sandbox:
            port = _free_port()
            storm = Storm(
                options,
                sandbox,
                child_env(sandbox, options.data_dir, port),
                random.Random(options.seed),
                log,
            )
            for _ in range(options.iterations):
                await storm.iteration()
            settled = await storm.settle() if options.settle_timeout > 0 else {}
            lost = max(storm.lost_after_kill, storm.lost())
            integrity = storm.integrity()
            acknowledged = sum(storm.acknowledged().values())
            inbox = storm.query("SELECT count(*), count(processed_at) FROM webhook_inbox")[0]
    log_text = log_path.read_text(errors="replace")
    report: dict[str, Any] = {
        "variant": "ack-before-commit" if options.broken else "real",
        "iterations": options.iterations,
        "seed": options.seed,
        "kills_by_mode": dict(storm.kills),
        "jobs": storm.query("SELECT count(*) FROM jobs")[0][0],
        "jobs_terminal": storm.query(f"SELECT count(*) FROM jobs WHERE status NOT IN {OPEN}")[0][0],
        "acknowledged_callbacks": acknowledged,
        "callback_attempts": len(sandbox.callbacks),
        "inbox_rows": inbox[0],
        "inbox_unprocessed": inbox[0] - inbox[1],
        "lost": lost,
        "integrity": "ok" if integrity == "ok" and not storm.integrity_failures else "FAILED",
        "integrity_failures": storm.integrity_failures[:5],
        "unprocessed_deliveries_at_kill": storm.unprocessed_at_kill,
        "temp_files_at_kill": storm.temp_files_at_kill,
        "temp_files_left_after_restart": storm.temp_files_left,
        "database_locked_in_logs": log_text.count("database is locked"),
        "tracebacks_in_logs": log_text.count("Traceback"),
        **settled,
        "seconds": round(time.monotonic() - started, 1),
        "data_dir": str(options.data_dir),
    }
    report["ok"] = verdict(report, options)
    return report


def verdict(report: dict[str, Any], options: Options) -> bool:
    """The real server must lose nothing; the broken variant must be caught."""
    if options.broken:
        return bool(report["lost"] > 0)
    clean = (
        report["lost"] == 0
        and report["integrity"] == "ok"
        and report["temp_files_left_after_restart"] == 0
        and report["database_locked_in_logs"] == 0
        and report["tracebacks_in_logs"] == 0
    )
    if options.settle_timeout > 0:
        clean = clean and (
            report["still_open"] == 0
            and report["temp_at_end"] == 0
            and report["hash_mismatches"] == 0
            and report["files_of_unfinished_jobs"] == 0
            and report["child_exit_code"] == 0
        )
    return bool(clean)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description="kill -9 the server during a callback storm.")
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--broken", action="store_true", help="run the negative control")
    parser.add_argument(
        "--modes",
        default=",".join(MODES),
        help=f"kill moments to draw from (comma-separated subset of {', '.join(MODES)})",
    )
    parser.add_argument("--jobs-per-start", type=int, default=2)
    parser.add_argument("--video-share", type=float, default=0.25)
    parser.add_argument(
        "--settle-timeout",
        type=float,
        default=240.0,
        help="seconds to let the last run finish every job (0: skip the final checks). The "
        "reconciler is a safety net: a video whose callbacks were all lost is first polled "
        "180 s after it started, and a job killed before kie took it is given up after 120 s",
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--commit-delay", type=float, default=0.3, help="broken variant only")
    args = parser.parse_args(argv)
    modes = tuple(m for m in args.modes.split(",") if m)
    unknown = set(modes) - set(MODES)
    if unknown or not modes:
        parser.error(f"unknown modes {sorted(unknown)}; choose from {', '.join(MODES)}")
    if args.broken:
        modes = ("ack",)  # the bug only shows right after an acknowledgement
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="killstorm-"))
    return Options(
        iterations=args.iterations,
        broken=args.broken,
        modes=modes,
        jobs_per_start=args.jobs_per_start,
        video_share=args.video_share,
        settle_timeout=args.settle_timeout,
        seed=seed,
        data_dir=data_dir,
        commit_delay=args.commit_delay,
    )


def main() -> None:
    options = parse_args()
    report = asyncio.run(run(options))
    print(json.dumps(report, indent=2))
    sys.exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    main()
