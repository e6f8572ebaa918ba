"""Local reference images: only from allowed folders, only images, checked before sending."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from mcp_server_kie.catalog import get_model, validate_request
from mcp_server_kie.domain import MediaKind, UserInputError
from mcp_server_kie.jobs.references import LocalImage, ReferenceResolver
from mcp_server_kie.media import open_media_store


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buffer, "PNG")
    return buffer.getvalue()


def request_with(first_frame: str):  # type: ignore[no-untyped-def]
    spec = get_model("kling-2.6/image-to-video", MediaKind.VIDEO)
    return validate_request(spec, "it moves", {"first_frame": first_frame})


@pytest.fixture
def allowed(tmp_path: Path) -> Path:
    folder = tmp_path / "allowed"
    folder.mkdir()
    (folder / "cat.png").write_bytes(png_bytes())
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_https_urls_pass_through(allowed: Path) -> None:
    checked = ReferenceResolver([allowed]).check(request_with("https://example.com/a.png"))
    assert checked == {"image_urls": ["https://example.com/a.png"]}


@pytest.mark.parametrize("form", ["path", "file_url"])
def test_local_image_in_allowed_folder_is_accepted(allowed: Path, form: str) -> None:
    path = allowed / "cat.png"
    value = str(path) if form == "path" else path.as_uri()
    [item] = ReferenceResolver([allowed]).check(request_with(value))["image_urls"]
    assert item == LocalImage(path.resolve(), "image/png")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{outside}/secret.png", "outside the folders"),
        ("{allowed}/../secret.png", "outside the folders"),
        ("{allowed}/link.png", "outside the folders"),
        ("{allowed}/notes.txt", "not a PNG"),
        ("{allowed}/missing.png", "does not exist"),
        ("relative/cat.png", "full path"),
        ("ftp://example.com/a.png", "https URLs or local image files"),
    ],
)
def test_refused_paths(allowed: Path, tmp_path: Path, value: str, message: str) -> None:
    (tmp_path / "secret.png").write_bytes(png_bytes())
    os.symlink(tmp_path / "secret.png", allowed / "link.png")
    value = value.format(outside=tmp_path, allowed=allowed)
    with pytest.raises(UserInputError, match=message):
        ReferenceResolver([allowed]).check(request_with(value))


async def test_resolve_uploads_local_files_and_keeps_urls(allowed: Path) -> None:
    uploads: list[tuple[int, str, str]] = []

    async def upload(data: bytes, name: str, mime: str) -> str:
        uploads.append((len(data), name, mime))
        return f"https://uploads.example/{name}"

    spec = get_model("nano-banana-pro", MediaKind.IMAGE)
    request = validate_request(
        spec, "combine", {"reference_images": [str(allowed / "cat.png"), "https://x/b.png"]}
    )
    resolved = await ReferenceResolver([allowed]).resolve(request, upload)
    assert resolved.input["image_input"] == ["https://uploads.example/cat.png", "https://x/b.png"]
    assert uploads == [(len(png_bytes()), "cat.png", "image/png")]


async def test_an_earlier_output_in_a_bucket_is_read_back_and_uploaded(
    tmp_path: Path, bucket_url: str
) -> None:
    media = open_media_store(bucket_url, tmp_path / "media", tmp_path / "staging")
    image = await media.publish(png_bytes(), "2026/01/02/job_a/0-aaaa.png", "image/png")
    text = await media.publish(b"not an image at all", "2026/01/02/job_a/1-aaaa.png", "image/png")
    uploads: list[tuple[bytes, str, str]] = []

    async def upload(data: bytes, name: str, mime: str) -> str:
        uploads.append((data, name, mime))
        return f"https://uploads.example/{name}"

    resolver = ReferenceResolver([tmp_path], media=media)
    resolved = await resolver.resolve(request_with(image), upload)
    assert resolved.input["image_urls"] == ["https://uploads.example/0-aaaa.png"]
    assert uploads == [(png_bytes(), "0-aaaa.png", "image/png")]

    for location, hint in [
        (text, "is not a PNG"),
        (image.replace("0-aaaa", "9-gone"), "not in the media library"),
        ("s3://another-bucket/media/x.png", "not s3:"),
    ]:
        with pytest.raises(UserInputError, match=hint):
            await resolver.resolve(request_with(location), upload)
    assert len(uploads) == 1
