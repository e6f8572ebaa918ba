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
            started = time.perf_counter()
            for _ in range(10):
                response = await client.get("/healthz")
                assert response.status_code == 200
            elapsed = time.perf_counter() - started
    # With Nagle on, each answer takes at least 40 ms (400 ms for ten); without, a few ms.
    assert elapsed < 0.3, f"ten keep-alive requests took {elapsed * 1000:.0f} ms"
