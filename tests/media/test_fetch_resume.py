"""Case 17: the connection drops at 60 % of a large video. With ``Accept-Ranges`` the download
resumes with a verified 206 and transfers little more than the file; without, it starts over.
Either way the stored file is byte-for-byte the served one."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from scripted_http import Reply, Request, ScriptedServer, fast_limits, iso_media, loopback_policy

from mcp_server_kie.domain import MediaKind
from mcp_server_kie.media import Fetcher, StoredFile

VIDEO = iso_media(12 * 1024 * 1024)
ETAG = '"v1-' + hashlib.sha256(VIDEO).hexdigest()[:16] + '"'
DROP_AT = int(len(VIDEO) * 0.6)


def video_server(*, ranges: bool, content_range: str | None = None) -> ScriptedServer:
    """Serves VIDEO; the first response breaks off at 60 %. With ``ranges`` it honours
    ``Range: bytes=N-`` (with a matching If-Range); ``content_range`` forces a wrong header."""
    state = {"dropped": False}

    async def serve(request: Request, reply: Reply) -> None:
        common = {"Content-Type": "video/mp4", "ETag": ETAG}
        if ranges:
            common["Accept-Ranges"] = "bytes"
        wanted = re.fullmatch(r"bytes=(\d+)-", request.headers.get("range", ""))
        if ranges and wanted and request.headers.get("if-range") == ETAG:
            start = int(wanted[1])
            header = content_range or f"bytes {start}-{len(VIDEO) - 1}/{len(VIDEO)}"
            await reply.send(206, VIDEO[start:], Content_Range=header, **common)
            return
        await reply.head(200, {**common, "Content-Length": str(len(VIDEO))})
        if state["dropped"]:
            await reply.body(VIDEO)
            return
        state["dropped"] = True
        await reply.body(VIDEO[:DROP_AT])
        reply.drop()

    return ScriptedServer(serve)


async def download(server: ScriptedServer, dest: Path) -> StoredFile:
    fetcher = Fetcher(loopback_policy(server), fast_limits())
    try:
        return await fetcher.fetch(server.url("/v.mp4"), dest / "0", MediaKind.VIDEO)
    finally:
        await fetcher.aclose()


async def test_resumes_with_a_range_request(tmp_path: Path) -> None:
    async with video_server(ranges=True).running() as cdn:
        stored = await download(cdn, tmp_path)
    assert stored.sha256 == hashlib.sha256(VIDEO).hexdigest()
    assert stored.path.read_bytes() == VIDEO
    assert len(cdn.requests) == 2
    resumed_from = int(cdn.requests[1].headers["range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_from <= DROP_AT
    assert cdn.body_bytes <= 1.1 * len(VIDEO)
    assert [p.name for p in tmp_path.iterdir()] == ["0.mp4"]


async def test_restarts_when_the_server_has_no_ranges(tmp_path: Path) -> None:
    async with video_server(ranges=False).running() as cdn:
        stored = await download(cdn, tmp_path)
    assert stored.sha256 == hashlib.sha256(VIDEO).hexdigest()
    assert "range" not in cdn.requests[1].headers
    assert cdn.body_bytes == DROP_AT + len(VIDEO)
    assert [p.name for p in tmp_path.iterdir()] == ["0.mp4"]


@pytest.mark.parametrize("wrong", ["bytes 0-{last}/{size}", "bytes {start}-{last}/*", "nonsense"])
async def test_an_inconsistent_206_makes_it_start_over(wrong: str, tmp_path: Path) -> None:
    header = wrong.format(start=DROP_AT, last=len(VIDEO) - 1, size=len(VIDEO))
    async with video_server(ranges=True, content_range=header).running() as cdn:
        stored = await download(cdn, tmp_path)
    assert stored.sha256 == hashlib.sha256(VIDEO).hexdigest()
    assert len(cdn.requests) == 3  # dropped, rejected 206, full restart
    assert "range" not in cdn.requests[2].headers
