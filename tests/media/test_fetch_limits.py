"""Cases 11-14 and 16: expired links, lying and oversized lengths, a gzip bomb, content-type
lies, slow and stalled servers, transient errors. Each failure has its stable category and
leaves no file behind (final or temporary)."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
import zlib
from collections.abc import Awaitable
from pathlib import Path

import pytest
from scripted_http import (
    Network,
    Reply,
    Request,
    ScriptedServer,
    fast_limits,
    image_bytes,
    iso_media,
    leftovers,
    loopback_policy,
    webm_bytes,
)

from mcp_server_kie.domain import MediaKind
from mcp_server_kie.media import DownloadError, Fetcher, FetchLimits, Refresh, StoredFile

PNG = image_bytes("PNG", (96, 64), noise=True)
MIB = 1024 * 1024


async def fetch_from(
    server: ScriptedServer,
    path: str,
    dest: Path,
    *,
    kind: MediaKind = MediaKind.IMAGE,
    limits: FetchLimits | None = None,
    network: Network | None = None,
    refresh: Refresh | None = None,
) -> StoredFile:
    fetcher = Fetcher(loopback_policy(server), limits or fast_limits(), network=network)
    try:
        return await fetcher.fetch(server.url(path), dest / "0", kind, refresh)
    finally:
        await fetcher.aclose()


async def expect_failure(
    category: str, tmp_path: Path, download: Awaitable[object]
) -> DownloadError:
    with pytest.raises(DownloadError) as caught:
        await download
    assert caught.value.category == category, caught.value.message
    assert leftovers(tmp_path) == []
    return caught.value


# ----------------------------------------------------------------------------- case 11


async def test_expired_link_is_refreshed_once_then_succeeds(tmp_path: Path) -> None:
    async def serve(request: Request, reply: Reply) -> None:
        if request.target == "/fresh.png":
            await reply.send(200, PNG)
        else:
            await reply.send(403, b"AccessDenied", content_type="text/plain")

    asked: list[str] = []
    async with ScriptedServer(serve).running() as cdn:

        async def refresh(url: str) -> str:
            asked.append(url)
            return cdn.url("/fresh.png")

        stored = await fetch_from(cdn, "/old.png", tmp_path, refresh=refresh)
    assert stored.path.read_bytes() == PNG
    assert asked == [cdn.url("/old.png")]
    assert [r.target for r in cdn.requests] == ["/old.png", "/fresh.png"]


@pytest.mark.parametrize("status", [403, 404, 410])
async def test_a_second_expiry_fails_as_expired(status: int, tmp_path: Path) -> None:
    async def serve(request: Request, reply: Reply) -> None:
        await reply.send(status, b"gone", content_type="text/plain")

    asked: list[str] = []
    async with ScriptedServer(serve).running() as cdn:

        async def refresh(url: str) -> str:
            asked.append(url)
            return cdn.url("/fresh.png")

        error = await expect_failure(
            "expired", tmp_path, fetch_from(cdn, "/old.png", tmp_path, refresh=refresh)
        )
    assert not error.retryable
    assert len(asked) == 1
    assert [r.target for r in cdn.requests] == ["/old.png", "/fresh.png"]  # no retries


async def test_expiry_without_a_refresher_fails_at_once(tmp_path: Path) -> None:
    async def serve(request: Request, reply: Reply) -> None:
        await reply.send(404, b"", content_type="text/plain")

    async with ScriptedServer(serve).running() as cdn:
        await expect_failure("expired", tmp_path, fetch_from(cdn, "/old.png", tmp_path))
    assert len(cdn.requests) == 1


# ----------------------------------------------------------------------------- case 12


async def test_declared_length_over_the_cap_is_refused_before_reading(tmp_path: Path) -> None:
    body = PNG + bytes(3 * MIB)

    async def serve(request: Request, reply: Reply) -> None:
        await reply.send(200, body)

    network = Network()
    async with ScriptedServer(serve).running() as cdn:
        limits = fast_limits(max_image_bytes=MIB)
        await expect_failure(
            "too_large",
            tmp_path,
            fetch_from(cdn, "/big.png", tmp_path, limits=limits, network=network),
        )
    assert len(cdn.requests) == 1  # not retried
    assert network.bytes_read < MIB


async def test_chunked_body_over_the_cap_stops_at_the_cap(tmp_path: Path) -> None:
    chunk = bytes(64 * 1024)

    async def serve(request: Request, reply: Reply) -> None:
        await reply.head(200, {"Content-Type": "image/png", "Transfer-Encoding": "chunked"})
        await reply.body(b"%x\r\n%s\r\n" % (len(PNG), PNG))
        for _ in range(200):  # 12.5 MiB unless the client hangs up
            await reply.body(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        await reply.body(b"0\r\n\r\n")

    network = Network()
    async with ScriptedServer(serve).running() as cdn:
        limits = fast_limits(max_image_bytes=MIB)
        await expect_failure(
            "too_large",
            tmp_path,
            fetch_from(cdn, "/endless.png", tmp_path, limits=limits, network=network),
        )
    assert len(cdn.requests) == 1
    assert network.bytes_read <= MIB + 2 * 64 * 1024  # the cap, one chunk, framing


async def test_content_length_smaller_than_the_body_is_a_length_mismatch(tmp_path: Path) -> None:
    async def serve(request: Request, reply: Reply) -> None:
        await reply.head(200, {"Content-Type": "image/png", "Content-Length": str(len(PNG) // 2)})
        await reply.body(PNG)

    async with ScriptedServer(serve).running() as cdn:
        error = await expect_failure(
            "length_mismatch", tmp_path, fetch_from(cdn, "/short.png", tmp_path)
        )
    assert "truncated" in error.message


async def test_content_length_larger_than_the_body_never_stores_a_part(tmp_path: Path) -> None:
    async def serve(request: Request, reply: Reply) -> None:
        await reply.head(200, {"Content-Type": "image/png", "Content-Length": str(len(PNG) * 2)})
        await reply.body(PNG)  # then the connection closes

    async with ScriptedServer(serve).running() as cdn:
        limits = fast_limits(attempts=3)
        error = await expect_failure(
            "network", tmp_path, fetch_from(cdn, "/long.png", tmp_path, limits=limits)
        )
    assert error.retryable
    assert len(cdn.requests) == 3


# ----------------------------------------------------------------------------- case 13


async def test_gzip_bomb_is_refused_without_inflating(tmp_path: Path) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    parts = [packer.compress(PNG[:64])]
    parts += [packer.compress(bytes(MIB)) for _ in range(200)]
    bomb = b"".join([*parts, packer.flush()])
    assert len(bomb) < 300 * 1024
    assert inflated_size(bomb) > 200 * MIB

    async def serve(request: Request, reply: Reply) -> None:
        await reply.send(200, bomb, Content_Encoding="gzip")

    async with ScriptedServer(serve).running() as cdn:
        tracemalloc.start()
        try:
            error = await expect_failure(
                "bad_type", tmp_path, fetch_from(cdn, "/bomb.png", tmp_path)
            )
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert "gzip" in error.message
    assert peak < 16 * MIB


def inflated_size(data: bytes) -> int:
    inflater, total = zlib.decompressobj(31), 0
    while data:
        total += len(inflater.decompress(data, MIB))
        data = inflater.unconsumed_tail
    return total


# ----------------------------------------------------------------------------- case 14


@pytest.mark.parametrize(
    ("body", "label", "kind"),
    [
        (b"<!DOCTYPE html><html><body>Access denied</body></html>" * 4, "image/png", "image"),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
            "image/png",
            "image",
        ),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'></svg>" * 2,
            "image/svg+xml",
            "image",
        ),
        (b"just some text, not a picture at all, long enough to sniff", "image/png", "image"),
        (image_bytes("PNG"), "video/mp4", "video"),
        (iso_media(4096), "image/png", "image"),
        (b"tiny", "image/png", "image"),
    ],
)
async def test_content_type_lies_are_refused(
    body: bytes, label: str, kind: str, tmp_path: Path
) -> None:
    async def serve(request: Request, reply: Reply) -> None:
        await reply.send(200, body, content_type=label)

    async with ScriptedServer(serve).running() as cdn:
        await expect_failure(
            "bad_type", tmp_path, fetch_from(cdn, "/lie", tmp_path, kind=MediaKind(kind))
        )
    assert len(cdn.requests) == 1


@pytest.mark.parametrize(
    ("body", "kind", "mime_type", "extension"),
    [
        (image_bytes("PNG"), "image", "image/png", ".png"),
        (image_bytes("JPEG"), "image", "image/jpeg", ".jpg"),
        (image_bytes("WEBP"), "image", "image/webp", ".webp"),
        (image_bytes("GIF"), "image", "image/gif", ".gif"),
        (iso_media(2048), "video", "video/mp4", ".mp4"),
        (iso_media(2048, brand=b"qt  "), "video", "video/quicktime", ".mov"),
        (webm_bytes(), "video", "video/webm", ".webm"),
    ],
)
async def test_the_bytes_decide_the_type(
    body: bytes, kind: str, mime_type: str, extension: str, tmp_path: Path
) -> None:
    async def serve(request: Request, reply: Reply) -> None:
        await reply.send(200, body, content_type="application/octet-stream")

    async with ScriptedServer(serve).running() as cdn:
        stored = await fetch_from(cdn, "/file", tmp_path, kind=MediaKind(kind))
    assert stored.mime_type == mime_type
    assert stored.path.name == "0" + extension
    assert stored.path.read_bytes() == body
    assert leftovers(tmp_path) == ["0" + extension]


# ----------------------------------------------------------------------------- case 16


async def test_slow_drip_hits_the_overall_deadline(tmp_path: Path) -> None:
    async def serve(request: Request, reply: Reply) -> None:
        await reply.head(200, {"Content-Type": "image/png", "Content-Length": str(len(PNG))})
        for byte in PNG:
            await reply.body(bytes([byte]))
            await asyncio.sleep(0.25)  # the server's pace: four bytes a second

    async with ScriptedServer(serve).running() as cdn:
        limits = fast_limits(image_seconds=1.5, read_timeout=1.0)
        started = time.monotonic()
        error = await expect_failure(
            "timeout", tmp_path, fetch_from(cdn, "/drip.png", tmp_path, limits=limits)
        )
        elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 1.5 + 5  # without the deadline the drip would take over an hour
    assert error.retryable
    assert len(cdn.requests) == 1  # reads kept arriving, so only the deadline could stop it


async def test_stall_mid_body_is_retried_until_the_deadline(tmp_path: Path) -> None:
    async def serve(request: Request, reply: Reply) -> None:
        await reply.head(200, {"Content-Type": "image/png", "Content-Length": str(len(PNG))})
        await reply.body(PNG[:1000])
        await asyncio.sleep(30)  # stalls; the client gives up first

    async with ScriptedServer(serve).running() as cdn:
        limits = fast_limits(image_seconds=1.5, read_timeout=0.3)
        started = time.monotonic()
        error = await expect_failure(
            "timeout", tmp_path, fetch_from(cdn, "/stall.png", tmp_path, limits=limits)
        )
        elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 5  # the server stalls for 30 s
    assert error.retryable
    assert len(cdn.requests) >= 2  # read timeouts were retried within the deadline


# ----------------------------------------------------------------------------- retries


async def test_transient_statuses_are_retried(tmp_path: Path) -> None:
    statuses = iter([502, 503, 500])

    async def serve(request: Request, reply: Reply) -> None:
        status = next(statuses, 200)
        await reply.send(status, PNG if status == 200 else b"busy")

    async with ScriptedServer(serve).running() as cdn:
        stored = await fetch_from(cdn, "/flaky.png", tmp_path)
    assert stored.path.read_bytes() == PNG
    assert len(cdn.requests) == 4


async def test_retry_after_is_honoured(tmp_path: Path) -> None:
    seen: list[float] = []

    async def serve(request: Request, reply: Reply) -> None:
        seen.append(time.monotonic())
        if len(seen) == 1:
            await reply.send(429, b"slow down", content_type="text/plain", Retry_After="1")
        else:
            await reply.send(200, PNG)

    async with ScriptedServer(serve).running() as cdn:
        await fetch_from(cdn, "/busy.png", tmp_path)
    assert len(seen) == 2
    assert seen[1] - seen[0] >= 1.0  # the backoff alone would be ~0.01 s


async def test_other_client_errors_are_not_retried(tmp_path: Path) -> None:
    async def serve(request: Request, reply: Reply) -> None:
        await reply.send(400, b"bad", content_type="text/plain")

    async with ScriptedServer(serve).running() as cdn:
        error = await expect_failure("http_status", tmp_path, fetch_from(cdn, "/x.png", tmp_path))
    assert not error.retryable
    assert len(cdn.requests) == 1


async def test_the_request_names_its_host_and_asks_for_the_bytes_as_they_are(
    tmp_path: Path,
) -> None:
    """The fetcher speaks to the connection pool itself (no client layer adds headers): the
    request still carries its Host and asks for no content coding, so a server that would
    compress answers plain bytes instead of an encoded body the fetcher must refuse."""

    async def serve(request: Request, reply: Reply) -> None:
        await reply.send(200, PNG)

    async with ScriptedServer(serve).running() as cdn:
        stored = await fetch_from(cdn, "/0.png?sig=a%2Fb", tmp_path)
    (request,) = cdn.requests
    assert request.target == "/0.png?sig=a%2Fb"
    assert request.headers["host"] == f"127.0.0.1:{cdn.port}"
    assert request.headers["accept-encoding"] == "identity"
    assert stored.path.read_bytes() == PNG
