"""The sandbox CDN serves real, decodable files whose bytes it can vouch for."""

from __future__ import annotations

import hashlib
import io
import time

import av
import pytest
from PIL import Image

from mcp_server_kie.sandbox import Sandbox, SandboxConfig
from mcp_server_kie.sandbox.media import render_video


async def finished_task(http, clock, model: str, inputs: dict) -> tuple[str, str]:
    """Create a task, move the clock past its end; return (task id, first result URL)."""
    answer = (
        await http.post("/api/v1/jobs/createTask", json={"model": model, "input": inputs})
    ).json()
    assert answer["code"] == 200, answer
    task_id = answer["data"]["taskId"]
    clock.advance(60.0)
    data = (await http.get("/api/v1/jobs/recordInfo", params={"taskId": task_id})).json()["data"]
    assert data["state"] == "success"
    return task_id, data["response"]["resultUrls"][0]


@pytest.mark.parametrize(
    ("model", "inputs", "size", "ext", "mime", "pil_format"),
    [
        ("google/nano-banana", {"aspect_ratio": "16:9"}, (1024, 576), "png", "image/png", "PNG"),
        ("google/nano-banana", {"aspect_ratio": "9:16"}, (576, 1024), "png", "image/png", "PNG"),
        ("google/nano-banana", {"aspect_ratio": "auto"}, (1024, 1024), "png", "image/png", "PNG"),
        ("google/nano-banana", {"image_size": "4:5"}, (819, 1024), "png", "image/png", "PNG"),
        (
            "google/nano-banana",
            {"aspect_ratio": "3:2", "output_format": "jpeg"},
            (1024, 683),
            "jpg",
            "image/jpeg",
            "JPEG",
        ),
        (
            "seedream/4.5-text-to-image",
            {"aspect_ratio": "21:9"},
            (1024, 439),
            "png",
            "image/png",
            "PNG",
        ),
        ("seedream/4.5-text-to-image", {}, (1024, 1024), "png", "image/png", "PNG"),
    ],
)
async def test_images_open_at_the_requested_shape_and_match_served_sha256(
    clock, client, model, inputs, size, ext, mime, pil_format
):
    sandbox = Sandbox(SandboxConfig(clock=clock))
    async with client(sandbox) as http:
        task_id, url = await finished_task(http, clock, model, {"prompt": "a lighthouse", **inputs})
        response = await http.get(url)
        again = await http.get(url)
    assert url == f"{sandbox.base_url}/cdn/{task_id}/0.{ext}"
    assert response.status_code == 200
    assert response.headers["content-type"] == mime
    assert int(response.headers["content-length"]) == len(response.content)
    image = Image.open(io.BytesIO(response.content))
    assert image.format == pil_format
    assert image.size == size
    digest = hashlib.sha256(response.content).hexdigest()
    assert sandbox.served_sha256(url) == digest
    assert again.content == response.content


async def test_image_is_not_blank(clock, client):
    sandbox = Sandbox(SandboxConfig(clock=clock))
    async with client(sandbox) as http:
        _, url = await finished_task(http, clock, "google/nano-banana", {"prompt": "words " * 200})
        image = Image.open(io.BytesIO((await http.get(url)).content)).convert("L")
    low, high = image.getextrema()
    assert high - low > 100, "gradient plus white text"


async def test_served_sha256_is_known_before_the_first_download(clock, client):
    sandbox = Sandbox(SandboxConfig(clock=clock))
    async with client(sandbox) as http:
        _, url = await finished_task(http, clock, "google/nano-banana", {"prompt": "early"})
        expected = sandbox.served_sha256(url)
        body = (await http.get(url)).content
    assert expected == hashlib.sha256(body).hexdigest()


async def test_cdn_refuses_unknown_unfinished_and_malformed_paths(clock, client):
    sandbox = Sandbox(SandboxConfig(clock=clock))
    async with client(sandbox, auth=False) as http:
        answer = await http.post(
            "/api/v1/jobs/createTask",
            json={"model": "google/nano-banana", "input": {"prompt": "x"}},
            headers={"Authorization": "Bearer sandbox-key"},
        )
        task_id = answer.json()["data"]["taskId"]
        unfinished = await http.get(f"/cdn/{task_id}/0.png")
        clock.advance(60.0)
        finished = await http.get(f"/cdn/{task_id}/0.png")
        wrong_ext = await http.get(f"/cdn/{task_id}/0.jpg")
        wrong_index = await http.get(f"/cdn/{task_id}/1.png")
        unknown = await http.get(f"/cdn/{'a' * 32}/0.png")
        malformed = await http.get("/cdn/../etc/passwd")
    assert unfinished.status_code == 404
    assert finished.status_code == 200, "the CDN needs no API key"
    assert [r.status_code for r in (wrong_ext, wrong_index, unknown, malformed)] == [404] * 4
    assert sandbox.served_sha256(f"{sandbox.base_url}/cdn/{'a' * 32}/0.png") is None
    assert sandbox.served_sha256("https://example.com/x.png") is None


@pytest.mark.parametrize(
    ("aspect", "duration", "size", "seconds"),
    [("9:16", "5", (180, 320), 5), ("16:9", "10", (320, 180), 10), ("1:1", None, (320, 320), 5)],
)
async def test_video_is_a_real_h264_mp4(clock, client, aspect, duration, size, seconds):
    sandbox = Sandbox(SandboxConfig(clock=clock))
    inputs = {"prompt": "surf at dawn", "aspect_ratio": aspect}
    if duration is not None:
        inputs["duration"] = duration
    async with client(sandbox) as http:
        task_id, url = await finished_task(http, clock, "kling-2.6/text-to-video", inputs)
        response = await http.get(url)
    assert url.endswith(f"/cdn/{task_id}/0.mp4")
    assert response.headers["content-type"] == "video/mp4"
    assert int(response.headers["content-length"]) == len(response.content)
    assert sandbox.served_sha256(url) == hashlib.sha256(response.content).hexdigest()
    with av.open(io.BytesIO(response.content)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == size
        assert stream.average_rate == 12
        frames = list(container.decode(stream))
        assert len(frames) == seconds * 12
        assert frames[0].format.name == "yuv420p"
        first = bytes(frames[0].planes[0])
        last = bytes(frames[-1].planes[0])
    assert first != last, "frames visibly change"


def test_rendering_a_video_takes_a_fraction_of_a_simulated_job():
    """Tests simulate videos that take 4 s: the file must be ready well within that (it takes
    ~0.35 s here; the bound leaves room for a busy CI machine)."""
    started = time.perf_counter()
    media = render_video("seed", "timing", "16:9", 10)
    elapsed = time.perf_counter() - started
    assert media.content_type == "video/mp4"
    assert elapsed < 3.0, f"rendering a 10 s video took {elapsed:.2f}s"
