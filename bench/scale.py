"""Question 7, scale: 1,000 concurrent image jobs end to end through the simulator, with
webhooks: all started at once through the MCP client, each awaited by a get_status.

Checked afterwards: every job completed, each with its one file on disk at the size and hash
the store recorded, every simulated task accounted for (none lost, none doubled). Measured:
wall time from the first start to the last job completed, and the server process's peak memory
growth. The baseline is one job alone, end to end, in the same server just before. The
simulator runs in its own process, its CDN serving one pre-rendered PNG.

This measures the server, not kie.ai's quota: the simulated account and the server's pace
(KIE_CREATE_LIMIT, KIE_STATUS_LIMIT) are raised to 1,000 creates per 10 s and 1,000 status
reads per second. At kie's defaults (20 per 10 s, 10 per s) the same 1,000 jobs take at least
500 s just to start, by design: they wait for a slot rather than fail.

Then the same on replicas (bench/replicas.py): 1 and 3 replicas on one PostgreSQL behind
haproxy, jobs per second and the callback → waiter latency across replicas, each as a ratio
against one replica.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import (
    Result,
    Row,
    emit,
    free_port,
    ms,
    parse_args,
    peak_growth,
    percentile,
    sandbox_process,
    server_settings,
    setup,
)
from mcp import Client
from replicas import Measured, measure, postgres_server

from mcp_server_kie.domain import Asset
from mcp_server_kie.server.app import build_server
from mcp_server_kie.server.runtime import open_runtime, run


def verified(assets: list[Asset]) -> int:
    """How many stored files exist with the size and SHA-256 the store recorded."""
    good = 0
    for asset in assets:
        data = Path(asset.path).read_bytes()
        good += len(data) == asset.bytes and hashlib.sha256(data).hexdigest() == asset.sha256
    return good


async def run_jobs(client: Client, count: int, tag: str) -> list[tuple[str, str]]:
    """Start ``count`` jobs at once and wait for each; (job_id, final status) per job."""

    async def one(index: int) -> tuple[str, str]:
        started = await client.call_tool(
            "generate_image", {"prompt": f"scale {tag} {index}", "wait_seconds": 0}
        )
        assert started.structured_content is not None, started.content
        job_id = str(started.structured_content["job_id"])
        while True:
            result = await client.call_tool("get_status", {"job_id": job_id, "wait_seconds": 50})
            assert result.structured_content is not None, result.content
            status = str(result.structured_content["status"])
            if status in ("completed", "failed"):
                return job_id, status

    return await asyncio.gather(*(one(i) for i in range(count)))


async def main() -> None:
    args = parse_args(__doc__)
    started = setup()
    jobs = 20 if args.smoke else 1000
    image_seconds = 1.0 if args.smoke else 5.0
    result = Result(7, "Scale", args.smoke)
    checks: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        async with sandbox_process(image_seconds=image_seconds) as sandbox:
            port = free_port()
            settings = server_settings(
                Path(tmp),
                sandbox.base_url,
                port=port,
                public_url=f"http://127.0.0.1:{port}",
                create_limit=1000,
                status_limit=1000,
            )
            async with (
                open_runtime(settings) as runtime,
                Client(build_server(runtime.tools)) as client,
            ):
                t0 = time.perf_counter()
                await run_jobs(client, 1, "alone")
                single = time.perf_counter() - t0
                with peak_growth() as memory:
                    t0 = time.perf_counter()
                    outcomes = await run_jobs(client, jobs, "crowd")
                    wall = time.perf_counter() - t0
                store = runtime.engine.store
                assets: list[Asset] = []
                for job_id, _status in outcomes:
                    job = await store.get_job(job_id)
                    assert job is not None
                    assets += job.assets
                files_ok = await asyncio.to_thread(verified, assets)
                checks["jobs_in_store"] = await store.count("jobs")
            tasks = await sandbox.tasks()
    completed = sum(status == "completed" for _, status in outcomes)
    distinct = len({job_id for job_id, _ in outcomes})
    checks.update(
        completed=completed,
        distinct_jobs=distinct,
        files_verified=files_ok,
        simulator_tasks=len(tasks),
    )
    all_ok = (
        completed == jobs
        and distinct == jobs
        and files_ok == jobs
        and checks["jobs_in_store"] == jobs + 1
        and len(tasks) == jobs + 1
    )
    result.rows += [
        Row(
            f"{jobs:,} concurrent jobs: completed / files verified / simulator tasks "
            f"({completed} / {files_ok} / {len(tasks) - 1})",
            completed,
            "jobs",
            target=f"all {jobs:,} complete, none lost",
            ok=all_ok,
            gap=f"{jobs - completed} not completed; checks: {checks}",
            remedy="see the failed jobs' errors in the store (get_status) and the server log.",
        ),
        Row(
            f"Wall time, first start → last completed (each task takes {image_seconds:g} s)",
            round(wall, 1),
            "s",
            "one job alone, end to end",
            round(single, 2),
            round(wall / single, 1),
            "crowd ÷ alone",
        ),
        Row(
            f"Peak memory growth of the server process (RSS {memory['before_mb']:.0f} → "
            f"peak {memory['peak_mb']:.0f} MB)",
            memory["growth_mb"],
            "MB",
        ),
    ]
    result.notes.append(
        f"{jobs:,} generate_image calls at once through the MCP client, each followed by a "
        "waiting get_status, with webhooks (HMAC-signed). The server's kie.ai pace is raised "
        "to 1,000 creates per 10 s and 1,000 status reads per s (a raised account); at kie's "
        "defaults starting 1,000 jobs takes at least 500 s. The server process also hosts the "
        "MCP client (1,000 pending tool calls), which over stdio would be another process; "
        "the simulator runs in its own process and does not count."
    )
    result.details = {"checks": checks, "single_job_seconds": round(single, 3)}
    one, three = await on_replicas(args.smoke)
    result.rows += replica_rows(one, three)
    result.notes.append(
        f"Replicas: {one.jobs} generate_image calls at once spread over the replicas (each "
        "awaited where it started), then callback → waiter samples in batches of 5, on 1 and "
        "on 3 replicas (bench/killstorm_child.py processes) sharing one PostgreSQL "
        "(scripts/postgres) and one media folder, behind haproxy, which hands each of the "
        "simulator's callbacks to a random replica. With 3 replicas every latency sample is "
        "a waiter on one replica woken by a completion on another (LISTEN/NOTIFY); with 1 it "
        "is the same process. All replicas and the simulator share this machine's cores."
    )
    result.details["replicas"] = {
        str(m.replicas): {"jobs": m.jobs, "completed": m.completed, "seconds": round(m.seconds, 2),
                          "latency_samples": len(m.latencies)}
        for m in (one, three)
    }  # fmt: skip
    emit(result, started)


async def on_replicas(smoke: bool) -> tuple[Measured, Measured]:
    """1 replica, then 3, on one PostgreSQL server and one simulator."""
    jobs, batches = (12, 1) if smoke else (150, 6)
    with tempfile.TemporaryDirectory(prefix="bench-replicas-") as tmp:
        async with (
            postgres_server() as server,
            sandbox_process(image_seconds=1.5, image_spread=1.0) as sandbox,
        ):
            one = await measure(sandbox, server, Path(tmp) / "one", 1, jobs, batches)
            three = await measure(sandbox, server, Path(tmp) / "three", 3, jobs, batches)
    return one, three


def replica_rows(one: Measured, three: Measured) -> list[Row]:
    rows = []
    for m in (one, three):
        rows.append(
            Row(
                f"{m.replicas} replica{'s' if m.replicas > 1 else ''} on PostgreSQL: {m.jobs} "
                f"jobs at once, jobs per second ({m.completed} / {m.jobs} completed)",
                round(m.per_second, 1),
                "jobs/s",
                None if m is one else "1 replica",
                None if m is one else round(one.per_second, 1),
                None if m is one else round(m.per_second / one.per_second, 2),
                None if m is one else "3 replicas ÷ 1",
                target=f"all {m.jobs} complete",
                ok=m.completed == m.jobs,
                gap=f"{m.jobs - m.completed} not completed",
                remedy="see the replica logs (replica*.log) for the failed jobs.",
            )
        )
    measures = (
        ("Callback → waiter p{q}, waiter on replica A woken by a completion on B", "latencies"),
        ("Completion stored on B → waiter on A returns p{q} (the wake-up alone)", "wakes"),
    )
    for title, name in measures:
        for q in (50, 95) if name == "latencies" else (50,):
            base = ms(percentile(getattr(one, name), q))
            across = ms(percentile(getattr(three, name), q))
            rows.append(
                Row(
                    f"{title.format(q=q)} ({len(getattr(three, name))} samples)",
                    across,
                    "ms",
                    "1 replica (same process)",
                    base,
                    round(across / base, 2) if base else None,
                    "3 replicas ÷ 1",
                )
            )
    return rows


if __name__ == "__main__":
    run(main())
