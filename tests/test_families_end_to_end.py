"""Every API family and every catalogue model, through the MCP tools, against the sandbox."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from PIL import Image

from mcp_server_kie.catalog import CATALOG
from mcp_server_kie.config import Settings
from mcp_server_kie.sandbox import Sandbox, SandboxConfig, serve_sandbox
from mcp_server_kie.server.app import build_server
from mcp_server_kie.server.runtime import open_runtime
from support import SANDBOX_KEY, free_port

FAMILY_MODELS = {
    "market": ("generate_image", "google/nano-banana"),
    "4o-image": ("generate_image", "gpt-4o-image"),
    "veo": ("generate_video", "veo3_fast"),
    "runway": ("generate_video", "runway"),
    "suno": ("generate_audio", "suno/V5"),
}


@asynccontextmanager
async def mcp_client(
    tmp_path: Path, *, webhooks: bool, credits: float = 100_000
) -> AsyncIterator[tuple[Sandbox, Client, Path]]:
    inputs = tmp_path / "inputs"
    inputs.mkdir(exist_ok=True)
    config = SandboxConfig(
        api_key=SANDBOX_KEY, image_seconds=0.2, video_seconds=0.4, initial_credits=credits
    )
    async with serve_sandbox(config) as sandbox:
        port = free_port()
        settings = Settings(
            api_key=SANDBOX_KEY,  # type: ignore[arg-type]
            base_url=sandbox.base_url,
            upload_base_url=sandbox.base_url,
            data_dir=tmp_path / "data",
            webhook_port=port,
            public_url=f"http://127.0.0.1:{port}" if webhooks else None,
            input_dirs=str(inputs),
        )
        async with open_runtime(settings) as runtime, Client(build_server(runtime.tools)) as c:
            yield sandbox, c, inputs


async def finished(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, {**args, "wait_seconds": 0})
    assert not result.is_error, result.content
    job = dict(result.structured_content or {})
    for _ in range(10):
        if job["status"] in ("completed", "failed"):
            break
        status = await client.call_tool("get_status", {"job_id": job["job_id"], "wait_seconds": 5})
        job = dict(status.structured_content or {})
    assert job["status"] == "completed", job
    return job


def assert_stored_as_served(sandbox: Sandbox, job: dict[str, Any]) -> None:
    assert job["outputs"], job
    for output in job["outputs"]:
        data = Path(output["path"]).read_bytes()
        served = {
            sandbox.served_sha256(url)
            for task in sandbox.tasks.values()
            for url in task.result_urls
        }
        assert output["sha256"] in served
        assert len(data) == output["bytes"]


@pytest.mark.parametrize("webhooks", [True, False], ids=["webhook", "polling"])
async def test_every_family_completes(tmp_path: Path, webhooks: bool) -> None:
    async with mcp_client(tmp_path, webhooks=webhooks) as (sandbox, client, _inputs):
        jobs = await asyncio.gather(
            *(
                finished(client, tool, {"prompt": f"a {family} test", "model": model})
                for family, (tool, model) in FAMILY_MODELS.items()
            )
        )
        for job in jobs:
            assert_stored_as_served(sandbox, job)
        delivered = [c for c in sandbox.callbacks if c.status == 200]
        assert len(delivered) == (len(FAMILY_MODELS) if webhooks else 0)


def write_png(folder: Path, name: str = "frame.png") -> Path:
    path = folder / name
    buffer = io.BytesIO()
    Image.new("RGB", (64, 36), (30, 120, 200)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize("model", [spec.id for spec in CATALOG])
async def test_every_catalogue_model_runs_with_its_defaults(tmp_path: Path, model: str) -> None:
    spec = next(s for s in CATALOG if s.id == model)
    async with mcp_client(tmp_path, webhooks=True) as (sandbox, client, inputs):
        args: dict[str, Any] = {"prompt": "a quiet harbour at dawn", "model": model}
        image = str(write_png(inputs))
        required = {
            name
            for name, info in spec.input_model.model_fields.items()
            if info.is_required() and name != "prompt"
        }
        for knob, field in spec.knobs.items():
            if field in required:
                args[knob] = [image] if knob == "reference_images" else image
        tool = f"generate_{spec.kind.value}"
        job = await finished(client, tool, args)
        assert_stored_as_served(sandbox, job)
        assert job["model"] == model
        assert all(o["mime_type"].startswith(f"{spec.kind.value}/") for o in job["outputs"])
        if required & spec.image_fields:
            assert len(sandbox.uploads) == 1, "the local image was not uploaded"


async def test_image_to_video_from_a_local_file(tmp_path: Path) -> None:
    async with mcp_client(tmp_path, webhooks=False) as (sandbox, client, inputs):
        frame = write_png(inputs)
        job = await finished(
            client,
            "generate_video",
            {
                "prompt": "the sea starts to move",
                "model": "kling-2.6/image-to-video",
                "first_frame": str(frame),
            },
        )
        [upload] = sandbox.uploads
        assert upload.size == frame.stat().st_size
        [task] = sandbox.tasks.values()
        assert task.inputs["image_urls"] == [upload.url]
        assert_stored_as_served(sandbox, job)


async def test_path_outside_allowed_folders_is_refused_before_any_request(
    tmp_path: Path,
) -> None:
    async with mcp_client(tmp_path, webhooks=False) as (sandbox, client, _inputs):
        secret = write_png(tmp_path, "secret.png")
        result = await client.call_tool(
            "generate_video",
            {"prompt": "x", "model": "kling-2.6/image-to-video", "first_frame": str(secret)},
        )
        assert result.is_error
        assert "outside the folders" in result.content[0].text  # type: ignore[union-attr]
        assert sandbox.requests == []


async def test_out_of_credits_is_reported_plainly(tmp_path: Path) -> None:
    async with mcp_client(tmp_path, webhooks=False, credits=1) as (_sandbox, client, _inputs):
        result = await client.call_tool("generate_video", {"prompt": "a storm"})
        assert result.is_error
        assert "credits" in result.content[0].text.lower()  # type: ignore[union-attr]
        balance = await client.call_tool("get_credits", {})
        assert balance.structured_content == {"credits": 1, "usd": 0.005}


async def test_list_models_lists_at_least_25_with_allowed_values(tmp_path: Path) -> None:
    async with mcp_client(tmp_path, webhooks=False) as (_sandbox, client, _inputs):
        result = await client.call_tool("list_models", {})
    listing = result.structured_content
    assert listing is not None and listing["count"] >= 25
    kinds = {m["kind"] for m in listing["models"]}
    assert kinds == {"image", "video", "audio"}
    runway = next(m for m in listing["models"] if m["id"] == "runway")
    assert runway["settings"]["quality"]["allowed"] == ["720p", "1080p"]
    assert runway["credits_at_defaults"] == 12


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("generate_video", {"model": "runway", "resolution": "1080p", "duration": 10}),
        ("generate_image", {"model": "gpt-4o-image", "num_images": 3}),
        ("generate_image", {"model": "z-image", "aspect_ratio": "21:9"}),
        ("generate_video", {"model": "hailuo/2-3-image-to-video-pro"}),
    ],
    ids=["runway-1080p-10s", "4o-3-variants", "missing-aspect-ratio", "missing-first-frame"],
)
async def test_invalid_combinations_never_reach_kie(
    tmp_path: Path, tool: str, args: dict[str, Any]
) -> None:
    async with mcp_client(tmp_path, webhooks=False) as (sandbox, client, _inputs):
        result = await client.call_tool(tool, {"prompt": "a lighthouse", **args})
        assert result.is_error
        assert sandbox.requests == []


async def test_finished_market_job_records_kies_credits(tmp_path: Path) -> None:
    async with mcp_client(tmp_path, webhooks=True) as (_sandbox, client, _inputs):
        job = await finished(client, "generate_image", {"prompt": "a pear", "model": "z-image"})
    assert job["expected_credits"] == 0.8
    assert job["credits"] == 0.8
