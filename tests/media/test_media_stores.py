"""The media store seam, one behaviour suite over both backends (a local folder; a bucket on a
real S3-compatible server through obstore): write-once publishing, reads, ranges, deletes,
probes and the temporary-file sweep."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mcp_server_kie.media import MediaStore, MediaStoreError, MissingMedia, open_media_store
from mcp_server_kie.media.local import publish_file
from mcp_server_kie.media.s3 import SINGLE_PUT_BYTES
from mcp_server_kie.media.tempfiles import held, temp_path
from media_backends import stored


@pytest.fixture
def media(media_url: str | None, tmp_path: Path) -> MediaStore:
    return open_media_store(media_url, tmp_path / "media", tmp_path / "staging")


async def test_a_published_name_is_never_replaced(media: MediaStore, tmp_path: Path) -> None:
    location = await media.publish(b"first", "2026/01/02/job_a/0-aaaa.png", "image/png")
    with pytest.raises(MediaStoreError, match="never change"):
        await media.publish(b"second", "2026/01/02/job_a/0-aaaa.png", "image/png")
    assert await stored(media, location) == b"first"
    assert await media.size(location) == 5
    assert location.startswith(media.root)


async def test_files_stream_in_ranges_and_read_within_a_limit(
    media: MediaStore, tmp_path: Path
) -> None:
    data = os.urandom(300_000)
    staging = media.staging("2026/01/02/job_b")
    staging.mkdir(parents=True, exist_ok=True)  # (the download that writes there makes it)
    source = staging / "source.bin"
    source.write_bytes(data)
    location = await media.publish(source, "2026/01/02/job_b/0-bbbb.mp4", "video/mp4")
    assert source.read_bytes() == data  # publishing leaves the staged file to its owner
    chunks = [chunk async for chunk in media.stream(location, 1000, 200_000)]
    assert b"".join(chunks) == data[1000:200_000]
    assert await media.read(location, len(data) - 1) is None
    assert await media.read(location, len(data)) == data
    if media.backend == "local":
        assert media.local_path(location) == Path(location).resolve()
    else:
        assert media.local_path(location) is None


async def test_a_large_file_goes_up_in_parts(media: MediaStore, tmp_path: Path) -> None:
    data = os.urandom(SINGLE_PUT_BYTES + 3 * 1024 * 1024)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    location = await media.publish(source, "2026/01/02/job_c/0-cccc.mp4", "video/mp4")
    assert await media.size(location) == len(data)
    assert await stored(media, location) == data


async def test_remove_frees_only_what_it_names(media: MediaStore) -> None:
    keep = await media.publish(b"keep", "2026/01/02/job_d/0-aaaa.png", "image/png")
    drop = await media.publish(b"drop!", "2026/01/02/job_d/0-bbbb.png", "image/png")
    assert await media.remove([drop, drop + ".missing"]) == (1, 5)
    assert await stored(media, drop) is None
    assert await stored(media, keep) == b"keep"
    with pytest.raises(MissingMedia):
        await media.size(drop)
    assert await media.remove([keep]) == (1, 4)


async def test_locations_outside_the_store_are_neither_read_nor_removed(
    media: MediaStore, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_bytes(b"secret")
    for location in (str(outside), "s3://other-bucket/media/x.png", "/etc/passwd"):
        assert await stored(media, location) is None
        assert await media.remove([location]) == (0, 0)
    assert outside.read_bytes() == b"secret"


async def test_probe_writes_reads_and_deletes(media: MediaStore) -> None:
    await media.probe(write=False)
    await media.probe(write=True)


async def test_a_missing_bucket_fails_the_probe_with_a_sentence(
    media_url: str | None, tmp_path: Path
) -> None:
    if media_url is None:
        blocked = tmp_path / "file"
        blocked.write_text("not a folder")
        media = open_media_store(str(blocked / "media"), tmp_path / "m", tmp_path / "s")
    else:
        media = open_media_store("s3://no-such-bucket-here/media", tmp_path / "m", tmp_path / "s")
    with pytest.raises(MediaStoreError, match="not usable"):
        await media.probe(write=True)


async def test_the_sweep_removes_only_unheld_temporary_files(media: MediaStore) -> None:
    folder = media.staging("2026/01/02/job_e")
    folder.mkdir(parents=True, exist_ok=True)
    abandoned = temp_path(folder / "0-aaaa")
    abandoned.write_bytes(b"left by a crash")
    live = temp_path(folder / "0-bbbb")
    with held(live):
        assert media.sweep() == 1
        assert live.exists() and not abandoned.exists()


def test_an_unknown_scheme_is_refused_with_the_choices(tmp_path: Path) -> None:
    with pytest.raises(MediaStoreError, match="s3://bucket/prefix"):
        open_media_store("gs://bucket/media", tmp_path / "m", tmp_path / "s")


def test_a_linked_file_is_synced_once_named_and_removed_when_that_fails(tmp_path: Path) -> None:
    """A download's bytes are synced after its link (one journal commit makes the name and
    the bytes durable) and before publish_file returns; if that sync fails, the new name goes
    and the publish fails."""
    source = tmp_path / "download.part"
    source.write_bytes(b"downloaded bytes")
    final = tmp_path / "0-aaaa.png"
    seen: list[bool] = []
    publish_file(source, final, lambda: seen.append(final.exists()))
    assert seen == [True]  # called once, with the name in place
    assert final.read_bytes() == b"downloaded bytes"

    def broken_disk() -> None:
        raise OSError(5, "Input/output error")

    other = tmp_path / "1-bbbb.png"
    with pytest.raises(MediaStoreError, match="could not be written"):
        publish_file(source, other, broken_disk)
    assert not other.exists()
    assert source.read_bytes() == b"downloaded bytes"


def test_without_hard_links_a_file_is_copied_into_an_exclusive_name(tmp_path: Path) -> None:
    """Across filesystems (here tmpfs to disk) os.link fails; the copy keeps write-once."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.fail("this test needs /dev/shm on another filesystem than the temp folder")
    source = shm / f"kie-test-{os.getpid()}-{tmp_path.name}"
    source.write_bytes(b"bytes from another filesystem")
    try:
        final = tmp_path / "0-aaaa.png"
        publish_file(source, final)
        assert final.read_bytes() == source.read_bytes()
        assert os.stat(final).st_ino != os.stat(source).st_ino  # a copy, not a link
        with pytest.raises(MediaStoreError, match="never change"):
            publish_file(source, final)
        assert final.read_bytes() == b"bytes from another filesystem"
    finally:
        source.unlink()


async def test_an_object_gone_mid_serving_ends_the_stream_short_and_says_why(
    tmp_path: Path, bucket_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    media = open_media_store(bucket_url, tmp_path / "media", tmp_path / "staging")
    location = await media.publish(b"0123456789", "2026/01/02/job_f/0-aaaa.png", "image/png")
    assert b"".join([c async for c in media.stream(location, 2, 6)]) == b"2345"
    await media.remove([location])
    assert [c async for c in media.stream(location, 0, 10)] == []
    assert "failed" in caplog.text and "0-aaaa.png" in caplog.text
