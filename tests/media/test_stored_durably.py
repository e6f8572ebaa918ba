"""A result's bytes are synced where their durability lives, once: a local folder's file after
its name is given (media/local.py); an object store's upload never from a synced copy (the
store keeps the bytes; a temporary file left by a crash is swept at start-up). A gigabyte of
video synced only to be uploaded and deleted is seconds of disk time for nothing."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from scripted_http import Reply, Request, ScriptedServer, fast_limits, loopback_policy
from test_previews import PHOTO, job

from mcp_server_kie.domain import MediaKind
from mcp_server_kie.jobs import OutputStore
from mcp_server_kie.media import Fetcher, open_media_store


def count_file_syncs(monkeypatch: pytest.MonkeyPatch, under: Path) -> list[str]:
    """Names of the regular files under ``under`` that os.fsync is called on from now."""
    synced: list[str] = []
    real: Callable[[int], None] = os.fsync

    def fsync(fd: int) -> None:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            name = os.readlink(f"/proc/self/fd/{fd}")
            if name.startswith(str(under)):
                synced.append(Path(name).name)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return synced


async def test_a_result_is_synced_once_in_a_folder_and_never_for_an_upload(
    tmp_path: Path, media_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not Path("/proc/self/fd").is_dir():
        pytest.fail("this test reads open files' names from /proc (Linux)")
    media = open_media_store(media_url, tmp_path / "media", tmp_path / "staging")

    async def serve(request: Request, reply: Reply) -> None:
        await reply.send(200, PHOTO, content_type="image/jpeg")

    async with ScriptedServer(serve).running() as cdn:
        fetcher = Fetcher(loopback_policy(cdn), fast_limits())
        try:
            synced = count_file_syncs(monkeypatch, tmp_path)
            [asset] = await OutputStore(fetcher, media).store_all(
                job(MediaKind.IMAGE), [cdn.url("/0.jpg")]
            )
        finally:
            await fetcher.aclose()
    assert asset.bytes == len(PHOTO)
    if media_url is None:  # the temporary file, once, with its final name given
        [name] = synced
        assert ".part-" in name
        assert Path(asset.path).read_bytes() == PHOTO
    else:
        assert synced == []
