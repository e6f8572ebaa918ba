"""Describe every file: a small JPEG thumbnail for images, a poster frame for videos, both
within 512 px and 64 KB; a file that cannot be previewed still downloads. Real media come from
the sandbox's renderer, so they are the kind of files the library really stores."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import av
import pytest
from PIL import Image
from scripted_http import (
    Reply,
    Request,
    ScriptedServer,
    fast_limits,
    image_bytes,
    iso_media,
    leftovers,
    loopback_policy,
)

from mcp_server_kie.domain import Asset, Job, JobStatus, MediaKind
from mcp_server_kie.jobs import OutputStore
from mcp_server_kie.media import DownloadError, Fetcher, open_media_store
from mcp_server_kie.media.integrity import is_complete
from mcp_server_kie.media.thumbnail import MAX_BYTES, MAX_SIDE, preview_jpeg, write_preview
from mcp_server_kie.sandbox.media import render_image, render_video
from media_backends import contents, stored

VIDEO = render_video("seed", "a river at dusk", "16:9", 2).data
PHOTO = render_image("seed", "a red fox in snow", "21:9", "jpeg").data


def check_preview(path: Path | None) -> tuple[int, int]:
    assert path is not None and path.name.endswith(".thumb.jpg")
    return check_jpeg(path.read_bytes())


def check_jpeg(data: bytes) -> tuple[int, int]:
    assert len(data) <= MAX_BYTES
    with Image.open(io.BytesIO(data)) as preview:
        assert preview.format == "JPEG"
        assert max(preview.size) <= MAX_SIDE
        return preview.size


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_image_thumbnail_is_small(fmt: str, tmp_path: Path) -> None:
    source = tmp_path / "0.img"
    source.write_bytes(image_bytes(fmt, (1600, 900)))
    mime = Image.MIME[fmt]
    width, height = check_preview(write_preview(source, mime, tmp_path / "0.thumb.jpg"))
    assert (width, height) == (512, 288)  # aspect ratio kept


def test_noise_still_fits_the_byte_budget(tmp_path: Path) -> None:
    source = tmp_path / "0.png"
    source.write_bytes(image_bytes("PNG", (2048, 2048), noise=True))
    check_preview(write_preview(source, "image/png", tmp_path / "0.thumb.jpg"))


def test_transparent_image_is_flattened_on_white(tmp_path: Path) -> None:
    source = tmp_path / "0.png"
    Image.new("RGBA", (800, 600), (0, 0, 0, 0)).save(source)
    path = write_preview(source, "image/png", tmp_path / "0.thumb.jpg")
    check_preview(path)
    with Image.open(path) as preview:
        assert preview.getpixel((10, 10)) >= (250, 250, 250)


def hd_video(frames: int = 3) -> bytes:
    """A 1280x720 H.264 MP4, larger than the preview bound (the sandbox's are 320 px)."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        picture = Image.linear_gradient("L").resize((1280, 720)).convert("RGB")
        for index in range(frames):
            frame = av.VideoFrame.from_image(picture).reformat(format="yuv420p")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "size"), [(hd_video(), (512, 288)), (VIDEO, (320, 180))])
def test_video_poster_frame(data: bytes, size: tuple[int, int], tmp_path: Path) -> None:
    source = tmp_path / "0.mp4"
    source.write_bytes(data)
    assert check_preview(write_preview(source, "video/mp4", tmp_path / "0.thumb.jpg")) == size


@pytest.mark.parametrize(
    ("data", "mime"), [(image_bytes("PNG")[:60], "image/png"), (iso_media(100), "video/mp4")]
)
def test_undecodable_file_gets_no_preview(data: bytes, mime: str, tmp_path: Path) -> None:
    source = tmp_path / "0.bin"
    source.write_bytes(data)
    assert write_preview(source, mime, tmp_path / "0.thumb.jpg") is None
    assert leftovers(tmp_path) == ["0.bin"]


def test_real_files_are_complete_and_cut_ones_are_not(tmp_path: Path) -> None:
    samples = {
        "image/png": render_image("s", "p", "1:1", "png").data,
        "image/jpeg": PHOTO,
        "image/webp": image_bytes("WEBP", (300, 200), noise=True),
        "image/gif": image_bytes("GIF", (300, 200)),
        "video/mp4": VIDEO,
    }
    for mime, data in samples.items():
        whole, cut = tmp_path / "whole", tmp_path / "cut"
        whole.write_bytes(data)
        cut.write_bytes(data[: len(data) * 2 // 3])
        assert is_complete(whole, mime), mime
        assert not is_complete(cut, mime), mime


def job(kind: MediaKind) -> Job:
    return Job(
        id=f"job_{kind.value}",
        kind=kind,
        model="m",
        prompt="p",
        params={},
        status=JobStatus.PROCESSING,
        created_at=1_700_000_000.0,
        updated_at=1_700_000_000.0,
    )


async def with_preview(outputs: OutputStore, owner: Job, asset: Asset) -> Asset:
    return replace(asset, thumbnail_path=await outputs.preview(owner, asset, preview_jpeg))


async def test_store_all_describes_and_previews_every_file(
    tmp_path: Path, media_url: str | None
) -> None:
    media = open_media_store(media_url, tmp_path / "media", tmp_path / "staging")
    files = {"/0.jpg": PHOTO, "/clip.mp4": VIDEO, "/undecodable.mp4": iso_media(4096)}

    async def serve(request: Request, reply: Reply) -> None:
        await reply.send(200, files[request.target], content_type="application/octet-stream")

    async with ScriptedServer(serve).running() as cdn:
        fetcher = Fetcher(loopback_policy(cdn), fast_limits())
        outputs = OutputStore(fetcher, media)
        try:
            image = await outputs.store_all(job(MediaKind.IMAGE), [cdn.url("/0.jpg")])
            videos = await outputs.store_all(
                job(MediaKind.VIDEO), [cdn.url("/clip.mp4"), cdn.url("/undecodable.mp4")]
            )
        finally:
            await fetcher.aclose()
    # The job completes without previews; each is made after, from the stored file.
    assert all(a.preview_pending and a.thumbnail_path is None for a in [*image, *videos])
    image = [await with_preview(outputs, job(MediaKind.IMAGE), a) for a in image]
    videos = [await with_preview(outputs, job(MediaKind.VIDEO), a) for a in videos]

    (photo,) = image
    with Image.open(io.BytesIO(PHOTO)) as served:
        assert (photo.width, photo.height) == served.size
    assert photo.mime_type == "image/jpeg"
    stem, extension = photo.path.rsplit(".", 1)  # ".../0-<writer>": the preview sits beside it
    assert stem.rsplit("/", 1)[1].startswith("0-") and extension == "jpg"
    assert photo.path.startswith(media.root + "/2023/11/14/job_image/")
    assert photo.thumbnail_path is not None
    assert photo.thumbnail_path.startswith(f"{stem}.")
    assert photo.thumbnail_path.endswith(".thumb.jpg")
    check_jpeg(await stored(media, photo.thumbnail_path) or b"")
    clip, undecodable = videos
    assert clip.duration is not None and clip.duration > 1
    assert clip.thumbnail_path is not None
    check_jpeg(await stored(media, clip.thumbnail_path) or b"")
    assert undecodable.thumbnail_path is None  # a preview failure does not fail the download
    assert await stored(media, undecodable.path) == files["/undecodable.mp4"]

    await outputs.discard([*image, *videos])
    assert await contents(media) == []
    assert leftovers(tmp_path / "staging") == []


async def test_store_all_keeps_nothing_when_one_output_fails(
    tmp_path: Path, media_url: str | None
) -> None:
    media = open_media_store(media_url, tmp_path / "media", tmp_path / "staging")

    async def serve(request: Request, reply: Reply) -> None:
        body = PHOTO if request.target == "/0.jpg" else b"<html>nope</html>" * 4
        await reply.send(200, body, content_type="image/jpeg")

    async with ScriptedServer(serve).running() as cdn:
        fetcher = Fetcher(loopback_policy(cdn), fast_limits())
        try:
            with pytest.raises(DownloadError):
                await OutputStore(fetcher, media).store_all(
                    job(MediaKind.IMAGE), [cdn.url("/0.jpg"), cdn.url("/1.jpg")]
                )
        finally:
            await fetcher.aclose()
    assert await contents(media) == []
    assert leftovers(tmp_path) == []
