"""Every market model the project uses: accepted with its defaults, priced per the reference's
§6, rendered as a real file of the right kind and shape, and validated like kie (enums, types,
required image inputs, item limits, input URLs). Expectations are written out from the
reference, not read from the sandbox's table."""

from __future__ import annotations

import json

import pytest
from sandbox_checks import image_facts, sha256, video_facts

from mcp_server_kie.sandbox import MODELS, Sandbox, SandboxConfig

CREATE = "/api/v1/jobs/createTask"
RECORD = "/api/v1/jobs/recordInfo"
EXT = "https://example.com/input.png"
P = "a quiet harbour at dawn"

# model -> (minimal input, credits at defaults, (ext, size, seconds), a bad enum value)
CASES: dict[str, tuple[dict, float, tuple[str, tuple[int, int], int], tuple[str, object]]] = {
    "google/nano-banana": ({}, 4, ("png", (1024, 1024), 0), ("aspect_ratio", "7:5")),
    "google/nano-banana-edit": (
        {"image_urls": [EXT]},
        4,
        ("png", (1024, 1024), 0),
        ("output_format", "webp"),
    ),
    "nano-banana-pro": ({}, 18, ("png", (1024, 1024), 0), ("resolution", "8K")),
    "nano-banana-2": ({}, 8, ("jpg", (1024, 1024), 0), ("aspect_ratio", "5:3")),
    "seedream/4.5-text-to-image": ({}, 6.5, ("png", (1024, 1024), 0), ("quality", "ultra")),
    "seedream/4.5-edit": (
        {"image_urls": [EXT]},
        6.5,
        ("png", (1024, 1024), 0),
        ("aspect_ratio", "auto"),
    ),
    "seedream/5-lite-text-to-image": ({}, 5.5, ("png", (1024, 1024), 0), ("quality", "max")),
    "bytedance/seedream": ({}, 3.5, ("png", (1024, 1024), 0), ("image_size", "portrait_3_2")),
    "z-image": ({}, 0.8, ("png", (1024, 1024), 0), ("aspect_ratio", "21:9")),
    "gpt-image-2-text-to-image": ({}, 6, ("png", (1024, 1024), 0), ("resolution", "8K")),
    "flux-2/pro-text-to-image": ({}, 5, ("png", (1024, 1024), 0), ("resolution", "4K")),
    "google/imagen4": ({}, 8, ("png", (1024, 1024), 0), ("aspect_ratio", "21:9")),
    "google/imagen4-fast": ({}, 4, ("png", (1024, 576), 0), ("aspect_ratio", "2:3")),
    "google/imagen4-ultra": ({}, 12, ("png", (1024, 1024), 0), ("aspect_ratio", "3:2")),
    "kling-2.6/text-to-video": ({}, 55, ("mp4", (320, 320), 5), ("duration", "15")),
    "kling-2.6/image-to-video": (
        {"image_urls": [EXT]},
        55,
        ("mp4", (320, 180), 5),
        ("duration", "7"),
    ),
    "kling-3.0/video": ({}, 90, ("mp4", (320, 180), 5), ("mode", "8K")),
    "kling/v2-5-turbo-text-to-video-pro": (
        {},
        42,
        ("mp4", (320, 180), 5),
        ("aspect_ratio", "4:3"),
    ),
    "kling/v2-5-turbo-image-to-video-pro": (
        {"image_url": EXT},
        42,
        ("mp4", (320, 180), 5),
        ("duration", "15"),
    ),
    "hailuo/2-3-image-to-video-pro": (
        {"image_url": EXT},
        45,
        ("mp4", (320, 180), 6),
        ("resolution", "720P"),
    ),
    "hailuo/2-3-image-to-video-standard": (
        {"image_url": EXT},
        30,
        ("mp4", (320, 180), 6),
        ("duration", "5"),
    ),
    "wan/2-6-text-to-video": ({}, 104.5, ("mp4", (320, 180), 5), ("resolution", "4k")),
    "wan/2-6-image-to-video": (
        {"image_urls": [EXT]},
        104.5,
        ("mp4", (320, 180), 5),
        ("duration", "20"),
    ),
    "bytedance/seedance-2": ({}, 205, ("mp4", (320, 180), 5), ("resolution", "2k")),
    "sora-2-text-to-video": ({}, 30, ("mp4", (320, 180), 10), ("aspect_ratio", "square")),
    "sora-2-image-to-video": (
        {"image_urls": [EXT]},
        30,
        ("mp4", (320, 180), 10),
        ("n_frames", "25"),
    ),
}

NEEDS_AN_IMAGE = {
    "google/nano-banana-edit": "image_urls",
    "seedream/4.5-edit": "image_urls",
    "kling-2.6/image-to-video": "image_urls",
    "kling/v2-5-turbo-image-to-video-pro": "image_url",
    "hailuo/2-3-image-to-video-pro": "image_url",
    "hailuo/2-3-image-to-video-standard": "image_url",
    "wan/2-6-image-to-video": "image_urls",
    "sora-2-image-to-video": "image_urls",
}


def make(clock, **overrides) -> Sandbox:
    return Sandbox(SandboxConfig(clock=clock, **overrides))


async def create(http, model: str, inputs: dict) -> dict:
    return (await http.post(CREATE, json={"model": model, "input": inputs})).json()


async def finish(http, clock, model: str, inputs: dict) -> dict:
    answer = await create(http, model, inputs)
    assert answer["code"] == 200, answer
    clock.advance(60.0)
    record = await http.get(RECORD, params={"taskId": answer["data"]["taskId"]})
    return record.json()["data"]


def test_the_sandbox_knows_every_model_the_project_needs():
    assert set(CASES) <= set(MODELS)


@pytest.mark.parametrize("model", list(CASES))
async def test_model_accepts_its_defaults_and_serves_a_real_file(clock, client, model):
    inputs, price, (ext, size, seconds), _ = CASES[model]
    sandbox = make(clock)
    async with client(sandbox) as http:
        data = await finish(http, clock, model, {"prompt": P, **inputs})
        [url] = data["response"]["resultUrls"]
        served = await http.get(url)
    assert data["state"] == "success"
    assert data["creditsConsumed"] == pytest.approx(price)
    assert sandbox.credits == pytest.approx(10_000 - price)
    assert url.endswith(f".{ext}")
    assert served.status_code == 200
    assert sandbox.served_sha256(url) == sha256(served.content)
    if ext == "mp4":
        assert served.headers["content-type"] == "video/mp4"
        facts = video_facts(served.content)
        assert (facts.codec, facts.size, facts.frames) == ("h264", size, seconds * 12)
    else:
        assert image_facts(served.content) == ({"png": "PNG", "jpg": "JPEG"}[ext], size)


@pytest.mark.parametrize("model", list(CASES))
async def test_model_refuses_a_value_outside_its_enum(clock, client, model):
    inputs, _, _, (field, bad) = CASES[model]
    sandbox = make(clock)
    async with client(sandbox) as http:
        answer = await create(http, model, {"prompt": P, **inputs, field: bad})
    assert answer["code"] == 422
    assert field in answer["msg"]
    assert "must be one of" in answer["msg"]
    assert sandbox.tasks == {}


@pytest.mark.parametrize(("model", "field"), list(NEEDS_AN_IMAGE.items()))
async def test_edit_and_image_to_video_models_require_their_image(clock, client, model, field):
    sandbox = make(clock)
    async with client(sandbox) as http:
        missing = await create(http, model, {"prompt": P})
        empty = await create(http, model, {"prompt": P, field: [] if field.endswith("s") else ""})
    assert missing["code"] == 422
    assert f"{field} is required" in missing["msg"]
    assert empty["code"] == 422
    assert sandbox.tasks == {}


@pytest.mark.parametrize(
    ("model", "inputs", "needle"),
    [
        ("google/nano-banana-edit", {"image_urls": [EXT] * 11}, "at most 10"),
        ("kling-2.6/image-to-video", {"image_urls": [EXT, EXT]}, "at most 1"),
        ("seedream/4.5-edit", {"image_urls": [EXT] * 15}, "at most 14"),
        ("google/nano-banana-edit", {"image_urls": EXT}, "array"),
        ("google/nano-banana-edit", {"image_urls": ["ftp://example.com/a.png"]}, "http"),
        ("kling/v2-5-turbo-image-to-video-pro", {"image_url": "file:///etc/passwd"}, "http"),
        ("wan/2-6-text-to-video", {"duration": 5}, "string"),
        ("kling-3.0/video", {"duration": 5}, "string"),
        ("bytedance/seedance-2", {"duration": "5"}, "integer"),
        ("bytedance/seedance-2", {"duration": 16}, "at most 15"),
        ("bytedance/seedance-2", {"prompt": "ab"}, "shorter than 3"),
        ("bytedance/seedance-2", {"reference_video_urls": [EXT] * 4}, "at most 3"),
        ("kling-2.6/text-to-video", {"prompt": "x" * 1001}, "1000"),
        ("z-image", {"prompt": "x" * 1001}, "1000"),
        ("kling/v2-5-turbo-text-to-video-pro", {"cfg_scale": 1.5}, "at most 1"),
        ("bytedance/seedream", {"guidance_scale": 0.5}, "at least 1"),
        ("google/imagen4-fast", {"seed": "42"}, "integer"),
        ("kling-3.0/video", {"multi_shots": True}, "multi_prompt"),
        ("kling-3.0/video", {"kling_elements": [{}, {}, {}, {}]}, "at most 3"),
        (
            "hailuo/2-3-image-to-video-pro",
            {"image_url": EXT, "resolution": "1080P", "duration": "10"},
            "must be 6",
        ),
        ("sora-2-text-to-video", {"remove_watermark": "yes"}, "boolean"),
    ],
)
async def test_types_limits_and_combinations_are_checked(clock, client, model, inputs, needle):
    sandbox = make(clock)
    async with client(sandbox) as http:
        answer = await create(http, model, {"prompt": P, **inputs})
    assert answer["code"] == 422, answer
    assert needle in answer["msg"]
    assert model in answer["msg"]


@pytest.mark.parametrize(
    ("model", "inputs", "price"),
    [
        ("nano-banana-pro", {"resolution": "2K"}, 18),
        ("nano-banana-pro", {"resolution": "4K"}, 24),
        ("nano-banana-2", {"resolution": "2K"}, 12),
        ("nano-banana-2", {"resolution": "4K"}, 18),
        ("gpt-image-2-text-to-image", {"resolution": "2K"}, 10),
        ("gpt-image-2-text-to-image", {"resolution": "4K"}, 16),
        ("flux-2/pro-text-to-image", {"resolution": "2K"}, 7),
        ("kling-2.6/image-to-video", {"image_urls": [EXT], "duration": "10", "sound": True}, 220),
        ("kling-3.0/video", {"mode": "std", "duration": "10"}, 140),
        ("kling-3.0/video", {"mode": "std", "sound": True, "duration": "3"}, 60),
        ("kling-3.0/video", {"mode": "pro", "sound": True, "duration": "10"}, 270),
        ("kling-3.0/video", {"mode": "4K", "duration": "4"}, 268),
        ("kling/v2-5-turbo-text-to-video-pro", {"duration": "10"}, 84),
        ("hailuo/2-3-image-to-video-pro", {"image_url": EXT, "duration": "10"}, 90),
        ("hailuo/2-3-image-to-video-pro", {"image_url": EXT, "resolution": "1080P"}, 80),
        ("hailuo/2-3-image-to-video-standard", {"image_url": EXT, "duration": "10"}, 50),
        ("hailuo/2-3-image-to-video-standard", {"image_url": EXT, "resolution": "1080P"}, 50),
        ("wan/2-6-text-to-video", {"resolution": "720p", "duration": "15"}, 210),
        ("wan/2-6-text-to-video", {"duration": "10"}, 209.5),
        ("bytedance/seedance-2", {"resolution": "480p", "duration": 4}, 76),
        ("bytedance/seedance-2", {"resolution": "1080p", "duration": 6}, 612),
        (
            "bytedance/seedance-2",
            {"resolution": "1080p", "duration": 6, "reference_video_urls": [EXT]},
            372,
        ),
        ("bytedance/seedance-2", {"resolution": "4k", "duration": 4}, 832),
    ],
)
async def test_prices_follow_the_price_list(clock, client, model, inputs, price):
    sandbox = make(clock, initial_credits=1_000)
    async with client(sandbox) as http:
        data = await finish(http, clock, model, {"prompt": P, **inputs})
    assert data["creditsConsumed"] == pytest.approx(price)
    assert sandbox.credits == pytest.approx(1_000 - price)


@pytest.mark.parametrize(
    ("model", "inputs", "size", "seconds"),
    [
        ("sora-2-text-to-video", {"n_frames": "15", "aspect_ratio": "portrait"}, (180, 320), 15),
        ("bytedance/seedance-2", {"duration": 4, "aspect_ratio": "9:16"}, (180, 320), 4),
        ("kling-3.0/video", {"duration": "3", "aspect_ratio": "1:1"}, (320, 320), 3),
        ("wan/2-6-text-to-video", {"duration": "10"}, (320, 180), 10),
    ],
)
async def test_video_length_and_shape_follow_the_input(clock, client, model, inputs, size, seconds):
    sandbox = make(clock)
    async with client(sandbox) as http:
        data = await finish(http, clock, model, {"prompt": P, **inputs})
        content = (await http.get(data["response"]["resultUrls"][0])).content
    facts = video_facts(content, decode_all=True)
    assert (facts.size, facts.frames) == (size, seconds * 12)


@pytest.mark.parametrize(
    ("model", "inputs", "size"),
    [
        ("bytedance/seedream", {"image_size": "landscape_16_9"}, (1024, 576)),
        ("bytedance/seedream", {"image_size": "portrait_4_3"}, (768, 1024)),
        ("gpt-image-2-text-to-image", {"aspect_ratio": "2:1"}, (1024, 512)),
        ("nano-banana-2", {"aspect_ratio": "1:4", "output_format": "png"}, (256, 1024)),
    ],
)
async def test_image_shape_follows_the_input(clock, client, model, inputs, size):
    sandbox = make(clock)
    async with client(sandbox) as http:
        data = await finish(http, clock, model, {"prompt": P, **inputs})
        content = (await http.get(data["response"]["resultUrls"][0])).content
    assert image_facts(content)[1] == size


async def test_input_urls_on_the_sandbox_must_exist_others_are_taken_on_trust(clock, client):
    sandbox = make(clock)
    edit = "google/nano-banana-edit"
    async with client(sandbox) as http:
        source = await finish(http, clock, "google/nano-banana", {"prompt": "a source"})
        [own] = source["response"]["resultUrls"]
        ghost = own.replace(source["taskId"], "f" * 32)
        running = (await create(http, "google/nano-banana", {"prompt": "unfinished"}))["data"]
        unfinished = f"{sandbox.base_url}/cdn/{running['taskId']}/0.png"
        answers = {
            "own": await create(http, edit, {"prompt": P, "image_urls": [own]}),
            "external": await create(http, edit, {"prompt": P, "image_urls": [EXT]}),
            "ghost": await create(http, edit, {"prompt": P, "image_urls": [EXT, ghost]}),
            "unfinished": await create(http, edit, {"prompt": P, "image_urls": [unfinished]}),
            "upload": await create(
                http, edit, {"prompt": P, "image_urls": [f"{sandbox.base_url}/cdn/uploads/a/b.png"]}
            ),
            "frame": await create(
                http, "bytedance/seedance-2", {"prompt": P, "first_frame_url": ghost}
            ),
        }
    codes = {name: answer["code"] for name, answer in answers.items()}
    assert codes == {
        "own": 200,
        "external": 200,
        "ghost": 422,
        "unfinished": 422,
        "upload": 422,
        "frame": 422,
    }
    assert answers["ghost"]["msg"] == "failed to fetch the input image"


async def test_param_echoes_the_input_as_sent_not_with_defaults(clock, client):
    sandbox = make(clock)
    inputs = {"prompt": P, "image_urls": [EXT]}
    async with client(sandbox) as http:
        answer = await create(http, "kling-2.6/image-to-video", inputs)
        data = (await http.get(RECORD, params={"taskId": answer["data"]["taskId"]})).json()["data"]
    assert json.loads(json.loads(data["param"])["input"]) == inputs
    assert data["model"] == "kling-2.6/image-to-video"
