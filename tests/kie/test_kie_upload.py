"""File Upload API: the multipart form, the upload host, both documented reply shapes."""

from __future__ import annotations

import email.policy
import hashlib
from collections.abc import Callable
from email.message import Message
from email.parser import BytesParser
from typing import Any

import httpx2
import pytest

from mcp_server_kie.kie.client import KieClient
from mcp_server_kie.kie.errors import KieAuthError, KieProtocolError, KieUnavailableError
from mcp_server_kie.kie.upload import build_form, safe_file_name, uploaded_url

Load = Callable[[str], Any]
Handler = Callable[[httpx2.Request], httpx2.Response]
KEY = "sk-test-9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PREFIX = hashlib.sha256(PNG).hexdigest()[:16]


def client_for(handler: Handler, **kwargs: str) -> KieClient:
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    return KieClient(http, api_key=KEY, **kwargs)


def reply(body: Any, status: int = 200) -> Handler:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, json=body)

    return handler


def form_parts(request: httpx2.Request) -> dict[str, Message]:
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    assert message.is_multipart()
    return {
        str(part.get_param("name", header="content-disposition")): part
        for part in message.iter_parts()
    }


async def test_upload_sends_multipart_to_the_upload_host(load_fixture: Load) -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=load_fixture("upload_quickstart_response.json"))

    link = await client_for(handler).upload_file(PNG, "cat photo.png", "image/png", "refs/cats")
    assert link == "https://kieai.redpandaai.co/download/file_abc123456"
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "https://kieai.redpandaai.co/api/file-stream-upload"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    parts = form_parts(request)
    assert set(parts) == {"file", "uploadPath", "fileName"}
    assert parts["file"].get_payload(decode=True) == PNG
    assert parts["file"].get_content_type() == "image/png"
    assert parts["file"].get_filename() == f"{PREFIX}-cat-photo.png"
    assert parts["uploadPath"].get_payload() == "refs/cats"
    assert parts["fileName"].get_payload() == f"{PREFIX}-cat-photo.png"


async def test_default_upload_path_and_configurable_host(load_fixture: Load) -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=load_fixture("upload_stream_response.json"))

    client = client_for(handler, upload_base_url="http://127.0.0.1:9/up/")
    link = await client.upload_file(PNG, "a.png", "image/png")
    assert link == "https://tempfile.redpandaai.co/xxx/images/user-uploads/uploaded-image.png"
    assert str(seen[0].url) == "http://127.0.0.1:9/up/api/file-stream-upload"
    assert form_parts(seen[0])["uploadPath"].get_payload() == "mcp-server-kie"


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("upload_quickstart_response.json", "https://kieai.redpandaai.co/download/file_abc123456"),
        (
            "upload_stream_response.json",
            "https://tempfile.redpandaai.co/xxx/images/user-uploads/uploaded-image.png",
        ),
        (
            "upload_derived_fileurl_only.json",
            "https://kieai.redpandaai.co/files/images/my-image.jpg",
        ),
    ],
)
async def test_both_documented_reply_shapes(
    load_fixture: Load, fixture: str, expected: str
) -> None:
    client = client_for(reply(load_fixture(fixture)))
    assert await client.upload_file(PNG, "a.png", "image/png") == expected


@pytest.mark.parametrize(
    "data", [None, {}, {"downloadUrl": "", "fileUrl": "ftp://x/y"}, {"fileUrl": 5}, "https://x/y"]
)
def test_reply_without_a_usable_url(data: Any) -> None:
    with pytest.raises(KieProtocolError, match="no usable file URL"):
        uploaded_url(data, what="uploading a.png")


async def test_success_false_is_an_error() -> None:
    body = {"success": False, "code": 200, "msg": "storage full", "data": None}
    with pytest.raises(KieProtocolError, match="storage full"):
        await client_for(reply(body)).upload_file(PNG, "a.png", "image/png")


@pytest.mark.parametrize("status", [200, 401])
async def test_upload_errors_never_carry_the_key(status: int) -> None:
    body = {"success": False, "code": 401, "msg": f"bad token {KEY}"}
    with pytest.raises(KieAuthError) as caught:
        await client_for(reply(body, status)).upload_file(PNG, "a.png", "image/png")
    for text in (str(caught.value), repr(caught.value), caught.value.provider_message):
        assert KEY not in text


async def test_upload_timeout_is_retryable() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.WriteTimeout("simulated", request=request)

    with pytest.raises(KieUnavailableError) as caught:
        await client_for(handler).upload_file(PNG, "a.png", "image/png")
    assert caught.value.retryable is True
    assert KEY not in str(caught.value)


async def test_redirects_from_the_upload_host_are_not_followed() -> None:
    hosts: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        hosts.append(request.url.host)
        return httpx2.Response(307, headers={"location": "https://evil.example/steal"})

    with pytest.raises(KieProtocolError):
        await client_for(handler).upload_file(PNG, "a.png", "image/png")
    assert hosts == ["kieai.redpandaai.co"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("cat.png", "cat.png"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\Désolé été.JPG", "Desole-ete.JPG"),
        ("..hidden", "file.hidden"),
        ("猫.png", "file.png"),
        ("", "file"),
        ("notes", "notes"),
        ("a" * 300 + ".webp", "a" * 95 + ".webp"),
    ],
)
def test_safe_file_name(name: str, expected: str) -> None:
    assert safe_file_name(PNG, name) == f"{PREFIX}-{expected}"


def test_same_bytes_same_name_different_bytes_different_name() -> None:
    assert safe_file_name(PNG, "a.png") == safe_file_name(PNG, "a.png")
    assert safe_file_name(PNG, "a.png") != safe_file_name(PNG + b"x", "a.png")


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((b"", "a.png", "image/png", "p"), "data"),
        (("text", "a.png", "image/png", "p"), "data"),
        ((PNG, "a.png", "png", "p"), "mime_type"),
        ((PNG, "a.png", "image/png; x=1", "p"), "mime_type"),
        ((PNG, "a.png", "image/png", "/lead"), "upload_path"),
        ((PNG, "a.png", "image/png", "trail/"), "upload_path"),
        ((PNG, "a.png", "image/png", "a/../b"), "upload_path"),
        ((PNG, "a.png", "image/png", "a//b"), "upload_path"),
        ((PNG, "a.png", "image/png", ""), "upload_path"),
        ((PNG, "a.png", "image/png", "sp ace"), "upload_path"),
    ],
)
def test_build_form_refuses_unusable_input(args: tuple[Any, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build_form(*args)


def test_build_form_lowercases_the_mime_type() -> None:
    form, files = build_form(PNG, "a.png", "Image/PNG", "images/user-uploads")
    assert form == {"uploadPath": "images/user-uploads", "fileName": f"{PREFIX}-a.png"}
    assert files == {"file": (f"{PREFIX}-a.png", PNG, "image/png")}


def test_constructor_checks_the_upload_base_url() -> None:
    with pytest.raises(ValueError, match="upload base URL"):
        KieClient(httpx2.AsyncClient(), api_key=KEY, upload_base_url="kieai.redpandaai.co")
    client = KieClient(httpx2.AsyncClient(), api_key=KEY)
    assert "kieai.redpandaai.co" in repr(client)
    assert KEY not in repr(client)
