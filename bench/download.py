"""Question 4, download: a 100 MB video through the product's media Fetcher (SSRF-checked,
pinned connection, size-capped, typed, hashed, fsynced, checked for truncation, renamed into
place) against a raw httpx2 stream-to-file copy of the same URL, in the same run, and the
peak memory growth of the process doing it.

The simulator's CDN renders small files only, so a CDN stand-in in its own process serves a
100 MB MP4 (an ftyp box and one media-data box of incompressible bytes) over HTTP on
127.0.0.1; the Fetcher's SSRF policy allows that host as the product allows the configured
kie and KIE_MEDIA_ALLOW_HOSTS origins. The two downloads alternate, five times each; the
medians are compared.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx2
from harness import (
    BENCH_DIR,
    Result,
    Row,
    bound_socket,
    emit,
    over,
    parse_args,
    peak_growth,
    serve_asgi,
    setup,
    short,
    stdin_closed,
    stop_child,
)
from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.routing import Route

from mcp_server_kie.domain import MediaKind
from mcp_server_kie.media import Fetcher
from mcp_server_kie.media.ssrf import SsrfPolicy, origin_of
from mcp_server_kie.server.runtime import run

FTYP = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


def make_video(path: Path, size: int) -> None:
    """``size`` bytes of well-formed MP4 boxes: ftyp, then an mdat of random bytes."""
    with path.open("wb") as out:
        out.write(FTYP)
        out.write((size - len(FTYP)).to_bytes(4, "big") + b"mdat")
        left = size - len(FTYP) - 8
        block = os.urandom(1 << 20)
        while left > 0:
            out.write(block[:left])
            left -= len(block)


async def serve_file(path: Path) -> None:
    """Child process: the CDN stand-in."""

    async def video(request: object) -> FileResponse:
        return FileResponse(path, media_type="video/mp4")

    app = Starlette(routes=[Route("/video.mp4", video)])
    async with serve_asgi(app, bound_socket()) as url:
        print(json.dumps({"url": f"{url}/video.mp4"}), flush=True)
        await stdin_closed()


async def raw_copy(http: httpx2.AsyncClient, url: str, dest: Path) -> int:
    """The baseline: stream the body to a file, nothing else."""
    size = 0
    async with http.stream("GET", url) as response:
        response.raise_for_status()
        with dest.open("wb") as out:
            async for chunk in response.aiter_raw():
                out.write(chunk)
                size += len(chunk)
    return size


async def main() -> None:
    args = parse_args(
        __doc__, [("--role", {"choices": ["load", "cdn"], "default": "load"}), ("--file", {})]
    )
    started = setup()
    if args.role == "cdn":
        await serve_file(Path(args.file))
        return
    size, rounds = (4 << 20, 1) if args.smoke else (100 << 20, 5)
    result = Result(4, "Download", args.smoke)
    with tempfile.TemporaryDirectory(prefix="bench-download-") as tmp:
        source = Path(tmp, "source.mp4")
        make_video(source, size)
        cdn = await asyncio.create_subprocess_exec(
            sys.executable,
            str(BENCH_DIR / "download.py"),
            "--role=cdn",
            f"--file={source}",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert cdn.stdout is not None
            url = json.loads(await asyncio.wait_for(cdn.stdout.readline(), 30))["url"]
            policy = SsrfPolicy(allow_hosts=frozenset({origin_of(url)}))
            async with (
                httpx2.AsyncClient(
                    timeout=httpx2.Timeout(30.0, connect=10.0), follow_redirects=False
                ) as http,
                Fetcher(policy) as fetcher,
            ):
                raw_seconds: list[float] = []
                ours_seconds: list[float] = []
                growth = {"raw": 0.0, "fetcher": 0.0}
                for round_ in range(rounds):
                    dest = Path(tmp, f"raw-{round_}.mp4")
                    with peak_growth() as memory:
                        t0 = time.perf_counter()
                        copied = await raw_copy(http, url, dest)
                        raw_seconds.append(time.perf_counter() - t0)
                    growth["raw"] = max(growth["raw"], memory["growth_mb"])
                    await asyncio.to_thread(dest.unlink)
                    assert copied == size
                    with peak_growth() as memory:
                        t0 = time.perf_counter()
                        stored = await fetcher.fetch(
                            url, Path(tmp, f"ours-{round_}"), MediaKind.VIDEO
                        )
                        ours_seconds.append(time.perf_counter() - t0)
                    growth["fetcher"] = max(growth["fetcher"], memory["growth_mb"])
                    assert stored.bytes == size and stored.mime_type == "video/mp4"
                    await asyncio.to_thread(stored.path.unlink)
        finally:
            await stop_child(cdn)
    mb = size / (1 << 20)
    raw_rate = mb / statistics.median(raw_seconds)
    ours_rate = mb / statistics.median(ours_seconds)
    ratio = ours_rate / raw_rate
    result.rows += [
        Row(
            f"{mb:g} MB video through the Fetcher, MB/s (median of {rounds})",
            round(ours_rate, 1),
            "MB/s",
            "raw httpx2 stream-to-file of the same URL",
            round(raw_rate, 1),
            round(ratio, 2),
            "Fetcher ÷ raw",
            "≥ 0.50× raw",
            ratio >= 0.5,
            short(round(ratio, 2), 0.5, "× raw"),
            "the Fetcher's extra work per chunk (SHA-256, the size cap) and at the end (fsyncs, "
            "the truncation check) runs on the event loop; hashing in a thread as chunks arrive "
            "(hashlib releases the GIL on large buffers) would bring it to the raw copy's speed.",
        ),
        Row(
            "Peak memory growth of the process during the Fetcher download",
            growth["fetcher"],
            "MB",
            "raw copy",
            growth["raw"],
            target="< 64 MB",
            ok=growth["fetcher"] < 64,
            gap=over(growth["fetcher"], 64, "MB"),
            remedy="the Fetcher should hold at most a chunk at a time; something buffers.",
        ),
    ]
    result.notes.append(
        "The Fetcher also checks the address, hashes (SHA-256), checks the size cap, the type "
        "and the MP4's box structure, fsyncs the file and its folder and renames it into "
        "place; the raw copy only writes. Peak memory is the process's VmHWM (reset before each "
        "download) minus its RSS at the start."
    )
    result.details = {
        "raw_seconds": [round(s, 3) for s in raw_seconds],
        "fetcher_seconds": [round(s, 3) for s in ours_seconds],
        "bytes": size,
    }
    emit(result, started)


if __name__ == "__main__":
    run(main())
