"""The sidecar answers without Nagle's delay.

Found by the benchmarks: the sidecar's hand-made listening socket did not say TCP, so asyncio
left Nagle's algorithm on, and every response on a kept-alive connection waited for the
client's delayed ACK (~40 ms): a webhook sender reusing its connection got ~25 answers a second.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx2

from support import sandbox_and_runtime


async def test_keep_alive_responses_do_not_wait_for_delayed_acks(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path) as (_sandbox, runtime):
        assert runtime.sidecar_url is not None
        async with httpx2.AsyncClient(base_url=runtime.sidecar_url) as client:
            await client.get("/healthz")  # connect
            took = []
            for _ in range(10):
                started = time.perf_counter()
                response = await client.get("/healthz")
                took.append(time.perf_counter() - started)
                assert response.status_code == 200
    # With Nagle on, every answer waits for the delayed ACK (at least 40 ms on Linux); without,
    # a few ms. The fastest of ten, so one stall of a busy machine cannot fail the test.
    assert min(took) < 0.03, (
        f"the fastest of ten keep-alive requests took {min(took) * 1000:.0f} ms"
    )
