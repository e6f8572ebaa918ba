"""Slowloris against the sidecar: /healthz latency and a webhook while 1,000 connections from
one address hold half-sent request heads (some trickling a byte at a time).

Usage: python bench/slowloris.py [--connections 1000] [--seconds 12] [--data-dir DIR]

Loopback only and bounded: the attack comes from 127.0.0.2, the legitimate probes from
127.0.0.1; a /healthz probe every 100 ms for the whole attack (long enough to cross the
guard's 10 s head timeout once, so attackers are seen being cut off and reconnecting), then
one real webhook. Prints one JSON object: latencies without and with the attack, their ratio,
the worst probe, and whether every probe was a 200 within 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

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


async def main(connections: int, seconds: float, data_dir: Path) -> dict[str, object]:
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
    p50_quiet, p50_loud = statistics.median(quiet_ms), statistics.median(loud_ms)
    return {
        "connections": connections,
        "attack_opens": opened,
        "probes": len(loud),
        "probe_statuses": sorted({s for _, s in loud}),
        "healthz_p50_ms_quiet": round(p50_quiet, 2),
        "healthz_p50_ms_attack": round(p50_loud, 2),
        "healthz_p99_ms_attack": round(sorted(loud_ms)[int(len(loud_ms) * 0.99) - 1], 2),
        "healthz_max_ms_attack": round(max(loud_ms), 2),
        "ratio_p50_attack_to_quiet": round(p50_loud / p50_quiet, 2),
        "webhook_status": webhook.status_code,
        "ok": all(s == 200 and t < 1.0 for t, s in loud) and webhook.status_code == 200,
    }


async def attack_only(port: int, connections: int, seconds: float) -> int:
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(attacker(port, stop, trickle=i % 10 == 0)) for i in range(connections)
    ]
    await asyncio.sleep(seconds)
    stop.set()
    return sum(await asyncio.gather(*tasks))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--attack", type=int, help="internal: run only the attack on PORT")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    if args.attack:
        print(asyncio.run(attack_only(args.attack, args.connections, args.seconds)))
        sys.exit(0)
    with tempfile.TemporaryDirectory() as tmp:
        report = asyncio.run(main(args.connections, args.seconds, args.data_dir or Path(tmp)))
    print(json.dumps(report, indent=2))
    sys.exit(0 if report["ok"] else 1)
