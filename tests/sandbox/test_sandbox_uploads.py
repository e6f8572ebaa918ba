"""The file upload API (reference §5.4) on the sandbox: stream and base64 uploads, the reply in
both documented shapes, serving the bytes, limits, and uploaded files as model inputs."""

from __future__ import annotations

import base64
import io
from datetime import datetime

import pytest
from PIL import Image
from sandbox_checks import image_facts, sha256

from mcp_server_kie.sandbox import Sandbox, SandboxConfig, Upload

STREAM = "/api/file-stream-upload"
BASE64 = "/api/file-base64-upload"
URL_UPLOAD = "/api/file-url-upload"
DOWNLOAD = "/api/v1/common/download-url"


def make(clock, **overrides) -> Sandbox:
    return Sandbox(SandboxConfig(clock=clock, **overrides))


def picture(fmt: str = "PNG", colour: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 36), colour).save(buffer, fmt)
    return buffer.getvalue()


async def stream_upload(http, data: bytes, upload_path="images/user-uploads", **fields) -> dict:
    form = {"uploadPath": upload_path, **fields} if upload_path is not None else fields
    files = {"file": (fields.get("fileName", "local.png"), data, "image/png")}
    return (await http.post(STREAM, data=form, files=files)).json()


def seconds(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


async def test_stream_upload_round_trip_in_both_reply_shapes(clock, client):
    sandbox = make(clock)
    png = picture()
    async with client(sandbox) as http:
        answer = await stream_upload(http, png, fileName="frame.png")
        data = answer["data"]
        served = await http.get(data["downloadUrl"])
        via_file_url = await http.get(data["fileUrl"])
    assert (answer["success"], answer["code"]) == (True, 200)
    assert isinstance(answer["msg"], str)
    url = f"{sandbox.base_url}/cdn/uploads/images/user-uploads/frame.png"
    assert data["downloadUrl"] == url
    assert data["fileUrl"] == url
    assert data["fileName"] == "frame.png"
    assert data["originalName"] == "frame.png"
    assert data["filePath"] == "images/user-uploads/frame.png"
    assert data["uploadPath"] == "images/user-uploads"
    assert data["fileSize"] == len(png)
    assert data["mimeType"] == "image/png"
    assert data["fileId"]
    assert seconds(data["uploadedAt"]) == pytest.approx(clock.now)
    assert data["uploadTime"] == data["uploadedAt"]
    assert seconds(data["expiresAt"]) - seconds(data["uploadedAt"]) == pytest.approx(86_400)
    assert served.status_code == 200
    assert served.content == png
    assert served.headers["content-type"] == "image/png"
    assert via_file_url.content == png
    assert sandbox.served_sha256(url) == sha256(png)
    assert sandbox.uploads == [
        Upload(
            name="frame.png",
            path="images/user-uploads/frame.png",
            size=len(png),
            sha256=sha256(png),
            mime_type="image/png",
            uploaded_at=clock.now,
            url=url,
        )
    ]


@pytest.mark.parametrize("as_data_url", [True, False])
async def test_base64_upload_accepts_a_data_url_or_bare_base64(clock, client, as_data_url):
    sandbox = make(clock)
    jpeg = picture("JPEG")
    encoded = base64.b64encode(jpeg).decode()
    body = {
        "base64Data": f"data:image/jpeg;base64,{encoded}" if as_data_url else encoded,
        "uploadPath": "images",
    }
    async with client(sandbox) as http:
        answer = (await http.post(BASE64, json=body)).json()
        served = await http.get(answer["data"]["downloadUrl"])
    assert (answer["success"], answer["code"]) == (True, 200)
    data = answer["data"]
    assert data["mimeType"] == "image/jpeg"
    assert data["fileSize"] == len(jpeg)
    assert data["fileName"].endswith(".jpg"), "a random name with the right extension"
    assert data["filePath"] == f"images/{data['fileName']}"
    assert served.content == jpeg
    assert image_facts(served.content) == ("JPEG", (64, 36))
    [upload] = sandbox.uploads
    assert (upload.size, upload.sha256) == (len(jpeg), sha256(jpeg))


async def test_uploads_need_the_key(clock, client):
    sandbox = make(clock)
    async with client(sandbox, auth=False) as http:
        stream = await stream_upload(http, picture())
        b64 = (await http.post(BASE64, json={"base64Data": "AAAA", "uploadPath": "a"})).json()
    for answer in (stream, b64):
        assert answer == {
            "success": False,
            "code": 401,
            "msg": "You do not have access permissions",
            "data": None,
        }
    assert sandbox.uploads == []


async def test_base64_over_ten_megabytes_is_code_400(clock, client):
    sandbox = make(clock)
    big = base64.b64encode(b"\0" * (10 * 1024 * 1024 + 1)).decode()
    async with client(sandbox) as http:
        answer = (await http.post(BASE64, json={"base64Data": big, "uploadPath": "big"})).json()
    assert (answer["success"], answer["code"]) == (False, 400)
    assert "10 MB" in answer["msg"]
    assert sandbox.uploads == []


@pytest.mark.parametrize(
    ("upload_path", "fields", "needle"),
    [
        (None, {}, "uploadPath is required"),
        ("/images", {}, "uploadPath"),
        ("images/", {}, "uploadPath"),
        ("a/../b", {}, "uploadPath"),
        ("images", {"fileName": "a/b.png"}, "fileName"),
    ],
)
async def test_bad_upload_fields_are_code_400(clock, client, upload_path, fields, needle):
    sandbox = make(clock)
    async with client(sandbox) as http:
        answer = await stream_upload(http, picture(), upload_path=upload_path, **fields)
    assert (answer["success"], answer["code"]) == (False, 400)
    assert needle in answer["msg"]
    assert sandbox.uploads == []


async def test_malformed_uploads_are_code_400_and_url_upload_is_not_simulated(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        no_file = (await http.post(STREAM, data={"uploadPath": "x"}, files={"other": b"1"})).json()
        not_form = (await http.post(STREAM, json={"uploadPath": "x"})).json()
        empty = await stream_upload(http, b"")
        not_b64 = (await http.post(BASE64, json={"base64Data": "@@@", "uploadPath": "x"})).json()
        by_url = (
            await http.post(
                URL_UPLOAD, json={"fileUrl": "https://example.com/a.png", "uploadPath": "x"}
            )
        ).json()
    assert [a["code"] for a in (no_file, not_form, empty, not_b64)] == [400] * 4
    assert "file is required" in no_file["msg"]
    assert (by_url["success"], by_url["code"]) == (False, 422)
    assert "not supported in the sandbox" in by_url["msg"]
    assert sandbox.uploads == []


async def test_same_name_overwrites_and_files_expire_after_a_day(clock, client):
    sandbox = make(clock)
    first, second = picture(colour=(1, 2, 3)), picture(colour=(200, 10, 10))
    async with client(sandbox) as http:
        url = (await stream_upload(http, first, fileName="my photo.png"))["data"]["downloadUrl"]
        again = (await stream_upload(http, second, fileName="my photo.png"))["data"]
        served = (await http.get(url)).content
        clock.advance(86_400 + 1)
        expired = await http.get(url)
    assert "my%20photo.png" in url
    assert again["downloadUrl"] == url
    assert served == second
    assert [u.sha256 for u in sandbox.uploads] == [sha256(first), sha256(second)]
    assert expired.status_code == 404
    assert sandbox.served_sha256(url) is None


async def test_download_url_works_for_uploaded_files(clock, client):
    sandbox = make(clock)
    png = picture()
    async with client(sandbox) as http:
        url = (await stream_upload(http, png))["data"]["downloadUrl"]
        answer = (await http.post(DOWNLOAD, json={"url": url})).json()
        served = await http.get(answer["data"])
    assert answer["code"] == 200
    assert answer["data"].startswith(url + "?expires=")
    assert served.content == png


def market_edit(url: str) -> dict:
    return {"model": "google/nano-banana-edit", "input": {"prompt": "p", "image_urls": [url]}}


def market_i2v(url: str) -> dict:
    return {"model": "hailuo/2-3-image-to-video-pro", "input": {"prompt": "p", "image_url": url}}


FAMILY_INPUTS = {
    "market edit": ("/api/v1/jobs/createTask", market_edit),
    "market i2v": ("/api/v1/jobs/createTask", market_i2v),
    "4o": ("/api/v1/gpt4o-image/generate", lambda url: {"size": "1:1", "filesUrl": [url]}),
    "veo": ("/api/v1/veo/generate", lambda url: {"prompt": "p", "imageUrls": [url]}),
    "runway": (
        "/api/v1/runway/generate",
        lambda url: {"prompt": "p", "duration": 5, "quality": "720p", "imageUrl": url},
    ),
}


@pytest.mark.parametrize("family", list(FAMILY_INPUTS))
async def test_an_uploaded_url_is_an_image_input_for_every_family(clock, client, family):
    sandbox = make(clock)
    path, body_for = FAMILY_INPUTS[family]
    async with client(sandbox) as http:
        url = (await stream_upload(http, picture(), fileName="in.png"))["data"]["downloadUrl"]
        accepted = (await http.post(path, json=body_for(url))).json()
        missing = (await http.post(path, json=body_for(url.replace("in.png", "no.png")))).json()
        clock.advance(86_400 + 1)
        expired = (await http.post(path, json=body_for(url))).json()
    assert accepted["code"] == 200, accepted
    assert (missing["code"], missing["msg"]) == (422, "failed to fetch the input image")
    assert expired["code"] == 422
    assert len(sandbox.tasks) == 1
