"""Question 2, webhook ingest: authentic callbacks persisted per second, and p99 latency at a
fixed 200 requests/s, against a bare Starlette endpoint under the same uvicorn settings.

Three processes share the 2 cores: the product (open_runtime in real mode, its sidecar
checking each callback's token and HMAC signature and committing it to the inbox before the
200), the simulator, and this load generator (a minimal keep-alive HTTP/1.1 client, so the
client is not the bottleneck). Every callback is the one the simulator would send for a
finished task, signed, for a distinct job, so each takes the first-delivery path: persisted,
acknowledged, then verified against the simulator and downloaded in the background, in the
same process. The jobs are videos: the reconciler's safety-net poll of a webhook job comes
180 s after it was created, after this run, so only the callbacks finish them.

The burst goes to the two servers in parts, taking turns (BURST_ROUNDS), so that the ratio
compares them over the same minutes; the fixed-rate runs follow, the product's first.

Lost means acknowledged (HTTP 200) but not in the store's inbox afterwards.

``--backend=postgresql`` runs the product on a throwaway PostgreSQL server (scripts/postgres,
which runs it with fsync off: nothing in it outlives the run) instead of its SQLite file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from harness import (
    BENCH_DIR,
    HMAC_KEY,
    Result,
    Row,
    SandboxProcess,
    bound_socket,
    cpu_seconds,
    emit,
    free_port,
    ms,
    parse_args,
    percentile,
    reset_peak_memory,
    sandbox_process,
    serve_asgi,
    server_settings,
    setup,
    short,
    stdin_closed,
    stop_child,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mcp_server_kie.catalog import get_model, validate_request
from mcp_server_kie.domain import MediaKind
from mcp_server_kie.sandbox import sign
from mcp_server_kie.sandbox.cdn import CDN_PREFIX
from mcp_server_kie.server.runtime import open_runtime, run
from mcp_server_kie.storage import Store

FIXED_RATE = 200.0
# The burst is sent in this many parts to each server, taking turns (bare, product, product,
# bare, ...), so both are measured over the same minutes: this VM's speed can change by half
# from one minute to the next, and a ratio of two runs minutes apart would show that instead.
BURST_ROUNDS = 4
# Seconds over which the product's CPU per background-processed job is measured, afterwards.
PROCESSING_WINDOW = 3.0
VIDEO_MODEL = "kling-2.6/text-to-video"


# ---------------------------------------------------------------------- the two servers


async def serve_product(
    sandbox_url: str, data_dir: Path, jobs: int, database_url: str | None
) -> None:
    """Child process: the product, with ``jobs`` running video jobs waiting for callbacks."""
    port = free_port()
    settings = server_settings(
        data_dir,
        sandbox_url,
        port=port,
        public_url=f"http://127.0.0.1:{port}",
        create_limit=100_000,  # only to set the jobs up quickly; status reads keep kie's pace
        database_url=database_url,
    )
    async with open_runtime(settings) as runtime:
        spec = get_model(VIDEO_MODEL, MediaKind.VIDEO)
        limit = asyncio.Semaphore(16)

        async def submit(index: int) -> None:
            prompt = f"ingest benchmark video {index}"
            async with limit:
                await runtime.engine.submit(
                    MediaKind.VIDEO, validate_request(spec, prompt, {}), prompt
                )

        await asyncio.gather(*(submit(i) for i in range(jobs)))
        print(json.dumps({"url": runtime.sidecar_url}), flush=True)
        await stdin_closed()


async def serve_bare() -> None:
    """Child process: the baseline, a Starlette endpoint that answers 200 and does nothing."""

    async def ok(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/webhooks/kie/{job_id}", ok, methods=["POST"])])
    async with serve_asgi(app, bound_socket()) as url:
        print(json.dumps({"url": url}), flush=True)
        await stdin_closed()


async def start_child(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(BENCH_DIR / "webhook_ingest.py"),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout=300)
    if not line:
        raise RuntimeError(f"the {args[0]} process did not start")
    return process, json.loads(line)["url"]


# ---------------------------------------------------------------------- the load generator


@dataclass(frozen=True)
class Callback:
    target: str  # path and query, token included
    body: bytes
    task_id: str

    def request(self, port: int) -> bytes:
        """The raw HTTP request, signed now (the signature is valid for 300 s)."""
        stamp = int(time.time())
        head = (
            f"POST {self.target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\n"
            f"X-Webhook-Timestamp: {stamp}\r\n"
            f"X-Webhook-Signature: {sign(HMAC_KEY, self.task_id, stamp)}\r\n"
            f"Content-Length: {len(self.body)}\r\n\r\n"
        )
        return head.encode() + self.body


class Connection:
    """One keep-alive HTTP/1.1 connection that sends a request and reads the status."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                await self.reader.readexactly(int(value))
        return status

    def close(self) -> None:
        self.writer.close()


async def send_counted(conn: Connection, request: bytes, statuses: Counter[int]) -> None:
    try:
        statuses[await conn.send(request)] += 1
    except (OSError, asyncio.IncompleteReadError):
        statuses[0] += 1  # no answer: not acknowledged


async def closed_loop(
    port: int, requests: Sequence[bytes], concurrency: int
) -> tuple[float, Counter[int]]:
    """Send everything as fast as ``concurrency`` connections allow; (seconds, statuses)."""
    statuses: Counter[int] = Counter()
    queue = iter(requests)
    connections = [await Connection.open(port) for _ in range(concurrency)]

    async def worker(conn: Connection) -> None:
        for request in queue:
            await send_counted(conn, request, statuses)

    started = time.perf_counter()
    await asyncio.gather(*(worker(conn) for conn in connections))
    elapsed = time.perf_counter() - started
    for conn in connections:
        conn.close()
    return elapsed, statuses


async def open_loop(
    port: int, requests: Sequence[bytes], rate: float, connections: int
) -> tuple[list[float], Counter[int]]:
    """Send request i at start + i/rate whether or not earlier ones were answered; latency
    counts from the scheduled moment, so a server that falls behind shows it."""
    statuses: Counter[int] = Counter()
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await Connection.open(port))
    latencies: list[float] = []
    start = time.perf_counter() + 0.05

    async def one(index: int, request: bytes) -> None:
        due = start + index / rate
        await asyncio.sleep(max(due - time.perf_counter(), 0))
        conn = await pool.get()
        await send_counted(conn, request, statuses)
        latencies.append(time.perf_counter() - due)
        pool.put_nowait(conn)

    await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)))
    while not pool.empty():
        pool.get_nowait().close()
    return latencies, statuses


@dataclass
class BurstRun:
    """The burst's parts added up, per server; ``product_cpu`` is the product's CPU seconds
    during its own parts, ``product_cpu_meanwhile`` during the bare endpoint's."""

    product_seconds: float = 0.0
    bare_seconds: float = 0.0
    product_statuses: Counter[int] = field(default_factory=Counter)
    bare_statuses: Counter[int] = field(default_factory=Counter)
    product_cpu: float = 0.0
    product_cpu_meanwhile: float = 0.0
    product_windows: list[tuple[float, float]] = field(default_factory=list)  # Unix times


async def interleaved_bursts(
    product_pid: int, port: int, bare_port: int, callbacks: Sequence[Callback], rounds: int
) -> BurstRun:
    """Send ``callbacks`` to the product and the same requests to the bare endpoint, in
    ``rounds`` parts each, the two taking turns in the order bare, product, product, bare, ...
    (so a drift in the machine's speed weighs on both alike). The product is stopped
    (SIGSTOP) during the bare endpoint's parts: the backlog it processes in the background
    would otherwise take CPU from the baseline."""
    run = BurstRun()
    size = -(-len(callbacks) // rounds)
    parts = [callbacks[i : i + size] for i in range(0, len(callbacks), size)]
    for index, part in enumerate(parts):
        for to_product in (index % 2 == 1, index % 2 == 0):
            target = port if to_product else bare_port
            requests = [c.request(target) for c in part]
            cpu_before, began = cpu_seconds(product_pid), time.time()
            # The bare endpoint's part: its background processing must not take that CPU.
            with contextlib.nullcontext() if to_product else stopped(product_pid):
                seconds, statuses = await closed_loop(target, requests, concurrency=32)
            cpu = cpu_seconds(product_pid) - cpu_before
            if to_product:
                run.product_windows.append((began, time.time()))
                run.product_seconds += seconds
                run.product_statuses.update(statuses)
                run.product_cpu += cpu
            else:
                run.bare_seconds += seconds
                run.bare_statuses.update(statuses)
                run.product_cpu_meanwhile += cpu
    return run


@contextlib.contextmanager
def stopped(pid: int) -> Iterator[None]:
    """The process is stopped (SIGSTOP) for the block, and continued after it however it ends."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


async def downloads(sandbox: SandboxProcess) -> int:
    """How many result files the simulator's CDN has served: callbacks fully processed."""
    counts = await sandbox.requests()
    return sum(n for path, n in counts.items() if path.startswith(CDN_PREFIX))


async def downloads_within(sandbox: SandboxProcess, windows: Sequence[tuple[float, float]]) -> int:
    """Result files the simulator's CDN served within the windows (Unix times): the jobs the
    product processed in the background during them."""
    served = [at for _, path, _, at in await sandbox.log() if path.startswith(CDN_PREFIX)]
    return sum(1 for at in served if any(start <= at <= end for start, end in windows))


async def processing_cost(pid: int, sandbox: SandboxProcess, seconds: float) -> tuple[float, int]:
    """The product's CPU seconds per job processed in the background, measured over
    ``seconds`` with no callbacks arriving (the backlog is processed at kie's pace), and
    how many jobs that was."""
    cpu_before, served_before = cpu_seconds(pid), await downloads(sandbox)
    await asyncio.sleep(seconds)
    jobs = await downloads(sandbox) - served_before
    return (cpu_seconds(pid) - cpu_before) / max(jobs, 1), jobs


# ---------------------------------------------------------------------- the run


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A new database on a throwaway PostgreSQL server (scripts/postgres); its URL."""
    script = str(BENCH_DIR.parent / "scripts" / "postgres")
    started = await asyncio.to_thread(
        subprocess.run, ["bash", script, "start"], capture_output=True, text=True, check=True
    )
    server_url, folder = started.stdout.split()
    try:
        name = "bench_" + secrets.token_hex(6)
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}".encode())
        yield f"{server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        await asyncio.to_thread(
            subprocess.run, ["bash", script, "stop", folder], capture_output=True, check=False
        )


async def measure(smoke: bool, backend: str) -> Result:
    if backend == "postgresql":
        async with postgres_database() as url:
            return await measure_on(smoke, url)
    return await measure_on(smoke, None)


async def measure_on(smoke: bool, database_url: str | None) -> Result:
    burst, fixed_count = (60, 20) if smoke else (2000, 1000)
    on = "PostgreSQL" if database_url else "SQLite"
    result = Result(2, f"Webhook ingest ({on})", smoke)
    rounds = 2 if smoke else BURST_ROUNDS
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    bare, bare_url = await start_child("--role=bare")
    bare_port = urlsplit(bare_url).port or 80
    try:
        async with sandbox_process(
            image_seconds=1, video_seconds=0.5, send_callbacks=False
        ) as sandbox:
            product, url = await start_child(
                "--role=product", f"--sandbox-url={sandbox.base_url}", f"--data-dir={data_dir}",
                f"--jobs={burst + fixed_count}", f"--database-url={database_url or ''}",
            )  # fmt: skip
            try:
                tasks = await sandbox.tasks()
                # kie.ai calls back once a task is done: let the last one finish first.
                await asyncio.sleep(max(t["completed_at"] for t in tasks) - time.time() + 0.1)
                callbacks = [
                    Callback(
                        _target(t["callback_url"]),
                        json.dumps(t["callback_body"]).encode(),
                        t["task_id"],
                    )
                    for t in tasks
                ]
                port = urlsplit(url).port or 80
                reset_peak_memory(product.pid)
                rss_before = memory_mb(product.pid, "VmRSS")
                run_started = time.perf_counter()
                burst_run = await interleaved_bursts(
                    product.pid, port, bare_port, callbacks[:burst], rounds
                )
                after_burst = await downloads(sandbox)
                fixed_lat, fixed_statuses = await open_loop(
                    port, [c.request(port) for c in callbacks[burst:]], FIXED_RATE, 32
                )
                processed = await downloads(sandbox)
                run_seconds = time.perf_counter() - run_started
                peak_growth = memory_mb(product.pid, "VmHWM") - rss_before
                in_parts = await downloads_within(sandbox, burst_run.product_windows)
                per_job, cost_jobs = await processing_cost(
                    product.pid, sandbox, 1.0 if smoke else PROCESSING_WINDOW
                )
            finally:
                await stop_child(product)
        store = await Store.connect(
            database_url, server_settings(data_dir, "http://unused").database_path
        )
        try:
            persisted = await kept_deliveries(store, callbacks)
        finally:
            await store.close()
        bare_lat, bare_fixed_statuses = await open_loop(
            bare_port, [c.request(bare_port) for c in callbacks[burst:]], FIXED_RATE, 32
        )
    finally:
        await stop_child(bare)
        shutil.rmtree(data_dir, ignore_errors=True)

    tp_seconds, tp_statuses = burst_run.product_seconds, burst_run.product_statuses
    bare_seconds, bare_statuses = burst_run.bare_seconds, burst_run.bare_statuses
    busy = burst_run.product_cpu / tp_seconds
    meanwhile = burst_run.product_cpu_meanwhile / bare_seconds
    acked = tp_statuses[200] + fixed_statuses[200]
    ours_rate = tp_statuses[200] / tp_seconds
    bare_rate = bare_statuses[200] / bare_seconds
    ours_p99, bare_p99 = ms(percentile(fixed_lat, 99)), ms(percentile(bare_lat, 99))
    ratio = ours_rate / bare_rate
    cpu_per_callback = busy / ours_rate * 1000
    # Of the product's CPU in its parts, what processing the backlog took; the rest acknowledged.
    processing_share = min(in_parts * per_job / burst_run.product_cpu, 1.0)
    ack_cpu = cpu_per_callback * (1 - processing_share)
    absolute = (
        short(round(ours_rate), 2000, "/s")
        if ours_rate < 2000
        else f"{ours_rate:,.0f}/s meets the 2,000/s"
    )
    result.rows += [
        Row(
            f"Authentic callbacks persisted + acknowledged per second ({burst} callbacks, "
            f"32 connections, {on})",
            round(ours_rate),
            "/s",
            "bare Starlette endpoint returning 200",
            round(bare_rate),
            round(ratio, 2),
            "ours ÷ bare",
            "≥ 2,000/s and ≥ 0.30× bare",
            ours_rate >= 2000 and ratio >= 0.30,
            f"{absolute}; {ratio:.3g}× bare against 0.30×",
            f"each callback cost the product {cpu_per_callback:.2f} ms of CPU ({busy:.0%} of a "
            f"core at {ours_rate:.0f}/s, threads included); at 2,000/s that is "
            f"{2 * cpu_per_callback:.1f} cores. Part of it was processing, which runs "
            f"behind the acknowledgements at kie's pace: {in_parts} jobs were downloaded "
            f"during the product's parts, at {per_job * 1000:.1f} ms of CPU each (measured "
            f"over {cost_jobs} jobs with no callbacks arriving), {processing_share:.0%} of its "
            f"CPU there. The rest, {ack_cpu:.2f} ms per callback, is the acknowledgement path: "
            "the HTTP server, the checks (token, HMAC, strict JSON, redaction) and the "
            "callback's share of a group commit. "
            f"Both servers parse HTTP with httptools: 0.30× the bare endpoint is "
            f"{0.3 * bare_rate:,.0f}/s here, {1000 / (0.3 * bare_rate):.2f} ms of one core per "
            "durable callback.",
        ),
        Row(
            f"Latency at a fixed {FIXED_RATE:g} req/s, p99 (p50 "
            f"{ms(percentile(fixed_lat, 50))} ms, {fixed_count} callbacks, {on})",
            ours_p99,
            "ms",
            f"bare endpoint, p99 (p50 {ms(percentile(bare_lat, 50))} ms)",
            bare_p99,
            round(ours_p99 / bare_p99, 1),
            "ours ÷ bare",
            "≤ 10 ms",
            ours_p99 <= 10,
            f"{ours_p99 - 10:.4g} ms over the limit ({ours_p99 / 10:.1f}× it)",
            "the fixed-rate run starts right after the burst, while its backlog is processed "
            "in the background: an acknowledgement that waits behind that processing's CPU or "
            "its writes shows here.",
        ),
        Row(
            f"Lost: acknowledged {acked}, in the store's inbox or finished {persisted}",
            max(0, acked - persisted),
            "callbacks",
            target="0 lost",
            ok=acked <= persisted,
        ),
    ]
    refused = {
        "product_burst": dict(tp_statuses),
        "product_fixed": dict(fixed_statuses),
        "bare_burst": dict(bare_statuses),
        "bare_fixed": dict(bare_fixed_statuses),
    }
    result.notes.append(
        f"The burst went to each server in {rounds} parts, the two taking turns (bare, "
        "product, product, bare, ...), so that both were measured over the same minutes: "
        f"bare {bare_seconds:.2f} s, product {tp_seconds:.2f} s in all. During its parts the "
        f"product process used {busy:.0%} of one core; during the bare endpoint's it was "
        f"stopped (SIGSTOP: {meanwhile:.0%} of a core), so that its background work took no "
        "CPU from the baseline. Processing (the "
        "verifying status read, the download, completing the job) follows each acknowledgement "
        "in the background at kie's pace of 10 status reads per second, so a burst leaves a "
        f"backlog: {after_burst} jobs were saved when the burst ended and {processed} of "
        f"{acked} when the fixed-rate run ended, {run_seconds:.0f} s after the burst began; the "
        "rest wait their turn (none is dropped: every delivery is in the inbox). The fixed-rate "
        "run started right after the burst, with that backlog in the background. Jobs were set "
        "up with the create limit raised, so setting up took seconds. Statuses by run "
        "(0 = no answer): " + json.dumps(refused) + f". The product's peak memory during both "
        f"runs was {peak_growth:.0f} MB above its {rss_before:.0f} MB at the start (VmHWM): "
        "processing runs on a bounded pool of workers and at most 1,000 job ids wait in memory; "
        "a larger backlog waits in the inbox."
    )
    result.details = {
        "product_burst_seconds": round(tp_seconds, 3),
        "bare_burst_seconds": round(bare_seconds, 3),
        "saved_after_burst": after_burst,
        "saved_at_end": processed,
        "product_rss_mb_at_start": round(rss_before, 1),
        "product_peak_growth_mb": round(peak_growth, 1),
        "product_cpu_share_during_burst": round(busy, 2),
        "product_cpu_share_during_bare_burst": round(meanwhile, 2),
        "jobs_processed_during_product_parts": in_parts,
        "processing_cpu_ms_per_job": round(per_job * 1000, 2),
        "processing_cost_jobs": cost_jobs,
        "ack_cpu_ms_per_callback": round(ack_cpu, 3),
        "burst_rounds": rounds,
        "statuses": refused,
    }
    return result


async def kept_deliveries(store: Store, callbacks: list[Callback]) -> int:
    """Callbacks whose delivery the store still accounts for: in the inbox, or their job has
    finished (the bounded inbox prunes a finished job's processed rows and does not store a
    delivery that arrives after the job is done). One callback per job in this benchmark."""
    rows = await store.db.fetch_all("SELECT DISTINCT job_id AS job_id FROM webhook_inbox")
    in_inbox = {str(row["job_id"]) for row in rows}
    kept = 0
    for callback in callbacks:
        job_id = urlsplit(callback.target).path.rstrip("/").rsplit("/", 1)[-1]
        job = await store.get_job(job_id)
        if job_id in in_inbox or (job is not None and job.status.terminal):
            kept += 1
    return kept


def memory_mb(pid: int, field: str) -> float:
    """A /proc/<pid>/status memory field (VmRSS, VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no {field} for process {pid}")


def _target(callback_url: str) -> str:
    parts = urlsplit(callback_url)
    return f"{parts.path}?{parts.query}"


async def main() -> None:
    args = parse_args(
        __doc__,
        [
            ("--role", {"choices": ["load", "product", "bare"], "default": "load"}),
            ("--sandbox-url", {"default": ""}),
            ("--data-dir", {"default": ""}),
            ("--jobs", {"type": int, "default": 0}),
            ("--database-url", {"default": ""}),
            ("--backend", {"choices": ["sqlite", "postgresql"], "default": "sqlite"}),
        ],
    )
    started = setup()
    if args.role == "product":
        await serve_product(
            args.sandbox_url, Path(args.data_dir), args.jobs, args.database_url or None
        )
    elif args.role == "bare":
        await serve_bare()
    else:
        emit(await measure(args.smoke, args.backend), started)


if __name__ == "__main__":
    run(main())
