"""The scale benchmark on replicas: 1 and then 3 server replicas on one PostgreSQL, behind
haproxy, the way README "Running for a team" runs them (bench/scale.py adds these rows).

Each replica is a real server runtime in its own process (bench/killstorm_child.py, driven over
its stdin), on a database of a PostgreSQL server the project's own ``scripts/postgres`` starts
(initdb into a temporary folder, a free port), sharing one media folder. The simulator runs in
its own process and sends its callbacks through haproxy, which hands each to a random replica.

Measured for each size:
- jobs per second: ``jobs`` generate_image calls at once, spread evenly over the replicas, each
  awaited on the replica it was started through; jobs ÷ (last wait ended - first call sent);
- callback → waiter: jobs started through one replica in small batches while a waiter on
  replica A waits on each; the clock starts when the simulator gets the 200 for the job's
  callback and stops when A's wait returns. With 3 replicas the jobs' callbacks go to a
  second haproxy front that excludes A, so every sample is a waiter on A woken by a
  completion on another replica (PostgreSQL LISTEN/NOTIFY); with 1 replica, the same replica
  completes and wakes (in process).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import psycopg
from harness import BENCH_DIR, HMAC_KEY, KEY, SandboxProcess, free_port, stop_child

from mcp_server_kie.storage import Store

REPO = BENCH_DIR.parent
CHILD = BENCH_DIR / "killstorm_child.py"
CALL = 'call {n} generate_image {{"prompt": "scale on replicas {tag}", "wait_seconds": 0}}'


@dataclass
class Measured:
    replicas: int
    jobs: int
    completed: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # callback answered -> waiter, s
    wakes: list[float] = field(default_factory=list)  # job completed (stored) -> waiter, s

    @property
    def per_second(self) -> float:
        return self.jobs / self.seconds if self.seconds else 0.0


@asynccontextmanager
async def postgres_server() -> AsyncIterator[str]:
    """A throwaway PostgreSQL server (scripts/postgres); its maintenance database's URL."""
    script = str(REPO / "scripts" / "postgres")
    started = await asyncio.to_thread(
        subprocess.run, ["bash", script, "start"], capture_output=True, text=True, check=True
    )
    url, folder = started.stdout.split()
    try:
        yield url
    finally:
        await asyncio.to_thread(
            subprocess.run, ["bash", script, "stop", folder], capture_output=True, check=False
        )


def new_database(server_url: str) -> str:
    name = "bench_" + secrets.token_hex(6)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}".encode())
    return f"{server_url.rsplit('/', 1)[0]}/{name}"


class Replica:
    """A server runtime in a child process: commands on its stdin, JSON events on stdout."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, env: dict[str, str], log: Path) -> Replica:
        with log.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable, str(CHILD), stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=stderr, env=env, limit=1 << 24,
            )  # fmt: skip
        return cls(process)

    async def event(self, name: str) -> dict[str, Any]:
        assert self.process.stdout is not None
        async with asyncio.timeout(120):
            while line := await self.process.stdout.readline():
                event: dict[str, Any] = json.loads(line)
                if event["event"] == name:
                    return event
        raise RuntimeError(f"a replica exited before {name!r}")

    async def ask(self, command: str, answer: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()
        return await self.event(answer)

    async def start_jobs(self, count: int, tag: str) -> list[str]:
        answer = await self.ask(CALL.format(n=count, tag=tag), "called")
        errors = [r["error"] for r in answer["results"] if "error" in r]
        if errors:
            raise RuntimeError(f"generate_image failed: {errors[0]}")
        return [str(r["job_id"]) for r in answer["results"]]


def haproxy_config(fronts: dict[int, list[int]]) -> str:
    """One frontend per port, each balancing at random over its replicas' sidecar ports."""
    parts = ["global\n    maxconn 2000\ndefaults\n    mode http\n    timeout connect 2s\n"
             "    timeout client 30s\n    timeout server 30s\n    retries 3\n"]  # fmt: skip
    for front, ports in fronts.items():
        servers = "".join(f"    server r{p} 127.0.0.1:{p}\n" for p in ports)
        parts.append(
            f"frontend f{front}\n    bind 127.0.0.1:{front}\n    default_backend b{front}\n"
            f"backend b{front}\n    balance random\n{servers}"
        )
    return "".join(parts)


@asynccontextmanager
async def haproxy(folder: Path, fronts: dict[int, list[int]]) -> AsyncIterator[None]:
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    (folder / "haproxy.cfg").write_text(haproxy_config(fronts))
    with (folder / "haproxy.log").open("wb") as log:
        proxy = await asyncio.create_subprocess_exec(
            binary, "-db", "-f", str(folder / "haproxy.cfg"), stdout=log, stderr=log
        )
    try:
        async with httpx2.AsyncClient() as client:
            for front in fronts:
                for _ in range(200):
                    try:
                        if (await client.get(f"http://127.0.0.1:{front}/healthz")).is_success:
                            break
                    except httpx2.TransportError:
                        pass
                    await asyncio.sleep(0.05)
                else:
                    raise RuntimeError("haproxy did not answer")
        yield
    finally:
        proxy.kill()
        await proxy.wait()


def replica_env(data: Path, database: str, base_url: str, port: int, public: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "src"), env.get("PYTHONPATH")) if p)
    env.update(
        KIE_API_KEY=KEY, KIE_BASE_URL=base_url, KIE_UPLOAD_BASE_URL=base_url,
        KIE_DATA_DIR=str(data), KIE_DATABASE_URL=database, KIE_WEBHOOK_PORT=str(port),
        KIE_PUBLIC_URL=f"http://127.0.0.1:{public}", KIE_WEBHOOK_HMAC_KEY=HMAC_KEY,
        KIE_CREATE_LIMIT="1000", KIE_STATUS_LIMIT="1000", KIE_LOG_LEVEL="WARNING",
    )  # fmt: skip
    return env


async def measure(
    sandbox: SandboxProcess, server_url: str, folder: Path, count: int, jobs: int, batches: int
) -> Measured:
    """Start ``count`` replicas, measure, stop them."""
    await asyncio.to_thread(folder.mkdir)
    database = new_database(server_url)
    ports = [free_port() for _ in range(count)]
    everyone, others = free_port(), free_port()
    fronts = {everyone: ports, others: ports[1:] or ports}
    # Replica 0 waits in the latency part; the jobs it waits on start through the last
    # replica, whose callbacks go to the front without replica 0 (with 3 replicas).
    publics = [everyone] * (count - 1) + [others if count > 1 else everyone]
    measured = Measured(count, jobs)
    async with AsyncExitStack() as stack:
        replicas = []
        for n, (port, public) in enumerate(zip(ports, publics, strict=True)):
            env = replica_env(folder / "data", database, sandbox.base_url, port, public)
            replica = await Replica.start(env, folder / f"replica{n}.log")
            stack.push_async_callback(stop_child, replica.process, 20)
            replicas.append(replica)
        await asyncio.gather(*(r.event("ready") for r in replicas))
        await stack.enter_async_context(haproxy(folder, fronts))
        await replicas[-1].start_jobs(1, "warm-up")

        shares = [jobs // count + (n < jobs % count) for n in range(count)]  # one per replica
        began = asyncio.get_running_loop().time()
        started = await asyncio.gather(
            *(
                r.start_jobs(k, f"r{n}")
                for n, (r, k) in enumerate(zip(replicas, shares, strict=True))
            )
        )
        waited = await asyncio.gather(
            *(
                r.ask(f"wait 120 {' '.join(ids)}", "waited")
                for r, ids in zip(replicas, started, strict=True)
            )
        )
        measured.seconds = asyncio.get_running_loop().time() - began
        measured.completed = sum(
            status == "completed" for w in waited for status in w["status"].values()
        )
        measured.latencies, measured.wakes = await latencies(sandbox, database, replicas, batches)
    return measured


async def latencies(
    sandbox: SandboxProcess, database: str, replicas: list[Replica], batches: int
) -> tuple[list[float], list[float]]:
    """For jobs started through the last replica in batches of 5 while replica 0 waits on
    them: callback answered -> wait returned, and job completed (its last update in the
    store) -> wait returned, in seconds."""
    ended: dict[str, float] = {}
    for batch in range(batches):
        ids = await replicas[-1].start_jobs(5, f"latency {batch}")
        waited = await replicas[0].ask(f"wait 60 {' '.join(ids)}", "waited")
        done = {j for j, status in waited["status"].items() if status == "completed"}
        ended.update({j: at for j, at in waited["at"].items() if j in done})
    store = await Store.connect(database)
    try:
        jobs = [job for job_id in ended if (job := await store.get_job(job_id)) is not None]
    finally:
        await store.close()
    answered: dict[str, float] = {}
    for task_id, at, ok in await sandbox.ask("callbacks"):
        if ok and task_id not in answered:
            answered[task_id] = at
    pairs = [
        (ended[job.id] - answered[job.task_id], ended[job.id] - job.updated_at)
        for job in jobs
        if job.task_id in answered
    ]
    return [total for total, _ in pairs], [wake for _, wake in pairs]
