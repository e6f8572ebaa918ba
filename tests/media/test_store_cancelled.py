"""A download into the media store that is cancelled (an early download not needed, a shutdown)
leaves nothing behind, wherever the cancellation lands: a file's move into place runs in a
thread that finishes regardless, so what it published is still known, and removed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from scripted_http import Reply, Request, ScriptedServer, fast_limits, leftovers, loopback_policy
from test_previews import PHOTO, job

from mcp_server_kie.domain import MediaKind
from mcp_server_kie.jobs import OutputStore
from mcp_server_kie.media import Fetcher, open_media_store
from media_backends import contents

# Far more event-loop turns than a small file's whole download takes.
MAX_TURNS = 5_000


async def test_a_cancelled_store_all_leaves_nothing(tmp_path: Path, media_url: str | None) -> None:
    media = open_media_store(media_url, tmp_path / "media", tmp_path / "staging")

    async def serve(request: Request, reply: Reply) -> None:
        await reply.send(200, PHOTO, content_type="image/jpeg")

    cancelled_at: list[int] = []
    async with ScriptedServer(serve).running() as cdn:
        fetcher = Fetcher(loopback_policy(cdn), fast_limits())
        outputs = OutputStore(fetcher, media)
        try:
            # Cancel after 0, 1, 2, ... turns of the loop, until the download finishes first.
            for turns in range(MAX_TURNS):
                storing = asyncio.ensure_future(
                    outputs.store_all(job(MediaKind.IMAGE), [cdn.url("/0.jpg")])
                )
                for _ in range(turns):
                    await asyncio.sleep(0)
                if storing.done():
                    await outputs.discard(storing.result())
                    break
                storing.cancel()
                await asyncio.wait({storing})
                if not storing.cancelled():  # it finished on the turn the cancel was sent
                    await outputs.discard(storing.result())
                cancelled_at.append(turns)
                assert await contents(media) == [], f"left behind when cancelled at turn {turns}"
        finally:
            await fetcher.aclose()
    assert len(cancelled_at) > 10  # the sweep cancelled the download at many points
    assert leftovers(tmp_path) == []
