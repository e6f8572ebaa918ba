"""Slowloris against the sidecar: /healthz latency and a webhook while 1,000 connections from
one address hold half-sent request heads (some trickling a byte at a time).

Usage: python bench/slowloris.py [--smoke] [--connections 1000] [--seconds 12] [--data-dir DIR]

Loopback only and bounded: the attack comes from 127.0.0.2, the legitimate probes from
127.0.0.1; a /healthz probe every 100 ms before the attack (the baseline) and for the whole
attack (long enough to cross the guard's 10 s head timeout once, so attackers are seen being
cut off and reconnecting), then one real webhook. Prints one JSON object (bench/harness.py):
the /healthz p99 with and without the attack, their ratio, and whether every probe was a 200
within 1 s and the webhook was accepted. --smoke: 50 connections for 2 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2

from mcp_server_kie.server.runtime import run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from harness import Result, Row, emit, over, parse_args, percentile, setup

from support import sandbox_and_runtime
from test_webhook_security import task_of
from test_webhook_sidecar import callback_body, start_job

ATTACKER = "127.0.0.2"
HEAD = b"POST /webhooks/kie/job_000000000000000000000000 HTTP/1.1\r\nHost: x\r\n"


async def attacker(port: int, stop: asyncio.Event, trickle: bool) -> int:
    """One slowloris connection, reopened whenever the server closes it; opens counted."""
    opened = 0
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, local_addr=(ATTACKER, 0)
            )
        except OSError:
            await asyncio.sleep(0.2)
            continue
        opened += 1
        with contextlib.suppress(OSError, RuntimeError):
            writer.write(HEAD)
        while not stop.is_set() and not reader.at_eof():
            if trickle:
                with contextlib.suppress(OSError, RuntimeError):
                    writer.write(b"X")
            with contextlib.suppress(TimeoutError, OSError):
                await asyncio.wait_for(reader.read(1), timeout=1.0)
        writer.close()
    return opened


async def probe(http: httpx2.AsyncClient, seconds: float) -> list[tuple[float, int]]:
    results = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        try:
            status = (await http.get("/healthz")).status_code
        except httpx2.HTTPError:
            status = 0
        results.append((time.perf_counter() - start, status))
        await asyncio.sleep(0.1)
    return results


async def measure(connections: int, seconds: float, data_dir: Path) -> dict[str, Any]:
    async with sandbox_and_runtime(data_dir, image_seconds=600) as (sandbox, rt):
        sandbox.faults.drop_callbacks = True
        job_id = await start_job(rt)
        task = task_of(sandbox, job_id)
        assert rt.sidecar_url and task.callback_url
        port = httpx2.URL(rt.sidecar_url).port or 0
        async with httpx2.AsyncClient(base_url=rt.sidecar_url, timeout=5) as http:
            quiet = await probe(http, 2.0)
            # The attack runs in its own process, as an attacker's would: its reconnect loop
            # must not share (and slow) the server's event loop.
            attack = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--attack", str(port),
                "--connections", str(connections), "--seconds", str(seconds + 2),
                stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            await asyncio.sleep(1.0)  # let the attack build up
            loud = await probe(http, seconds)
            body = json.dumps(callback_body(task.task_id, "generating")).encode()
            webhook = await http.post(
                task.callback_url, content=body, headers={"content-type": "application/json"}
            )
            out, _ = await attack.communicate()
            opened = int(out.decode().strip() or 0)
    quiet_ms = [t * 1000 for t, _ in quiet]
    loud_ms = [t * 1000 for t, _ in loud]
    return {
        "connections": connections,
        "attack_opens": opened,
        "probes": len(loud),
        "probe_statuses": sorted({s for _, s in loud}),
        "healthz_p50_ms_quiet": round(statistics.median(quiet_ms), 2),
        "healthz_p99_ms_quiet": round(percentile(quiet_ms, 99), 2),
        "healthz_p50_ms_attack": round(statistics.median(loud_ms), 2),
        "healthz_p99_ms_attack": round(percentile(loud_ms, 99), 2),
        "healthz_max_ms_attack": round(max(loud_ms), 2),
        "all_probes_200_within_1s": all(s == 200 and t < 1.0 for t, s in loud),
        "webhook_status": webhook.status_code,
    }


def report(numbers: dict[str, Any], seconds: float, smoke: bool) -> Result:
    result = Result(9, "Slowloris (issue #15)", smoke)
    p99, quiet_p99 = numbers["healthz_p99_ms_attack"], numbers["healthz_p99_ms_quiet"]
    held = numbers["all_probes_200_within_1s"]
    accepted = numbers["webhook_status"] == 200
    result.rows += [
        Row(
            f"/healthz p99 under {numbers['connections']:,} half-open connections from one "
            f"address ({numbers['probes']} probes, statuses {numbers['probe_statuses']}, max "
            f"{numbers['healthz_max_ms_attack']} ms)",
            p99,
            "ms",
            "no attack, p99",
            quiet_p99,
            round(p99 / quiet_p99, 2) if quiet_p99 else None,
            "attack ÷ no attack",
            "≤ 1 s, every probe a 200",
            held and p99 <= 1000,
            over(p99, 1000, "ms"),
            "the edge guard (server/edge.py) should cap one address's connections and cut "
            "off slow heads; probes that wait or fail mean it no longer does.",
        ),
        Row(
            "A legitimate webhook sent at the end of the attack, HTTP status",
            numbers["webhook_status"],
            "",
            target="200 (accepted)",
            ok=accepted,
            gap=f"answered {numbers['webhook_status']}",
            remedy="kie's address must still get a connection while one address floods.",
        ),
    ]
    result.notes.append(
        f"{numbers['connections']:,} connections from 127.0.0.2 hold half-sent request heads "
        f"(one in ten trickles a byte a second) for {seconds:g} s and reopen when cut off "
        f"({numbers['attack_opens']:,} opens in all); probes of /healthz every 100 ms from "
        "127.0.0.1, first 2 s without the attack (the baseline), then during it; the webhook "
        "is a real callback for a running job."
    )
    result.details = numbers
    return result


async def attack_only(port: int, connections: int, seconds: float) -> int:
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(attacker(port, stop, trickle=i % 10 == 0)) for i in range(connections)
    ]
    await asyncio.sleep(seconds)
    stop.set()
    return sum(await asyncio.gather(*tasks))


def main() -> None:
    args = parse_args(
        __doc__,
        [
            ("--attack", {"type": int, "help": "internal: run only the attack on PORT"}),
            ("--connections", {"type": int, "default": 1000}),
            ("--seconds", {"type": float, "default": 12.0}),
            ("--data-dir", {"type": Path}),
        ],
    )
    if args.attack:
        print(run(attack_only(args.attack, args.connections, args.seconds)))
        return
    started = setup()
    connections, seconds = (50, 2.0) if args.smoke else (args.connections, args.seconds)
    with tempfile.TemporaryDirectory(prefix="bench-slowloris-") as tmp:
        numbers = run(measure(connections, seconds, args.data_dir or Path(tmp)))
    emit(report(numbers, seconds, args.smoke), started)


if __name__ == "__main__":
    main()
