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

from mcp_server_kie.catalog import CATALOG, IMAGE_KNOBS, ModelSpec
from mcp_server_kie.config import Settings
from mcp_server_kie.jobs.source_task import takes_source_job
from mcp_server_kie.sandbox import Sandbox, SandboxConfig, serve_sandbox
from mcp_server_kie.server.app import build_server
from mcp_server_kie.server.runtime import open_runtime
from support import SANDBOX_KEY, free_port

FAMILY_MODELS = {
    "market": ("generate_image", "google/nano-banana"),
    "4o-image": ("generate_image", "gpt-4o-image"),
    "veo": ("generate_video", "veo3_fast"),
    "runway": ("generate_video", "runway"),
    "suno": ("generate_audio", "suno"),
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


URL_WORDS = ("url", "image", "video", "audio", "mask")


def must_send(schema: dict[str, Any]) -> list[str]:
    """Fields a request must carry: the schema's required ones, every allOf branch's, and the
    first oneOf/anyOf branch's."""
    names = list(schema.get("required", []))
    for branch in schema.get("allOf", []):
        names += branch.get("required", [])
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            names += schema[key][0].get("required", [])
    return list(dict.fromkeys(names))


def sample_value(name: str, field: dict[str, Any]) -> Any:
    """A value a required field without a default accepts (media as URLs)."""
    kind = field.get("type")
    items = field.get("items") or {}
    if field.get("enum"):
        return field["enum"][0]
    if kind in ("integer", "number"):
        return field.get("minimum", 5)
    if kind == "boolean":
        return False
    if kind == "array" and items.get("type") == "object":
        return [{key: sample_value(key, items["properties"][key]) for key in items["required"]}]
    media = any(word in name for word in URL_WORDS)
    url = f"https://media.example/{name}.{'mp4' if 'video' in name else 'png'}"
    if kind == "array":
        return [url] if media else []
    return url if media else ("f" * 32 if "id" in name.lower() else "sample")


def defaults_args(spec: ModelSpec, image: str) -> dict[str, Any]:
    """A generate_* call for `spec` with its defaults: required images as a local file (so the
    upload path runs), other required fields (media as URLs) in options."""
    args: dict[str, Any] = {"prompt": "a quiet harbour at dawn", "model": spec.id}
    options: dict[str, Any] = {}
    branch = dict(spec.schema)
    for key in ("oneOf", "anyOf"):
        if branch.get(key):
            branch = {**branch, "properties": {**spec.fields}, key: branch[key]}
    for name in must_send(branch):
        knob = next((k for k, f in spec.knobs.items() if f == name), None)
        field = spec.fields.get(name, {})
        if knob in IMAGE_KNOBS:
            args[knob] = [image] if knob == "reference_images" else image
        elif name not in ("prompt", "text") and name not in spec.defaults:
            options[name] = sample_value(name, field)
    if options:
        args["options"] = options
    return args


# One job per catalogue model on one sandbox: a sample by webhook, the rest by polling. The
# operations on an earlier job (Veo extend/1080p/4K, Runway extend) need a finished source job:
# test_operations_on_earlier_jobs runs them.
ON_A_SOURCE = [spec for spec in CATALOG if takes_source_job(spec.family)]
STANDALONE = [spec for spec in CATALOG if not takes_source_job(spec.family)]
WEBHOOK_SAMPLE = {spec.id for spec in STANDALONE[::12]}


@asynccontextmanager
async def runtime_client(
    tmp_path: Path, sandbox: Sandbox, name: str, *, webhooks: bool
) -> AsyncIterator[Client]:
    port = free_port()
    settings = Settings(
        api_key=SANDBOX_KEY,  # type: ignore[arg-type]
        base_url=sandbox.base_url,
        upload_base_url=sandbox.base_url,
        data_dir=tmp_path / name,
        webhook_port=port,
        public_url=f"http://127.0.0.1:{port}" if webhooks else None,
        input_dirs=str(tmp_path / "inputs"),
        create_limit=1000,
        status_limit=200,
    )
    async with open_runtime(settings) as runtime, Client(build_server(runtime.tools)) as c:
        yield c


async def test_every_catalogue_model_runs_with_its_defaults(tmp_path: Path) -> None:
    (tmp_path / "inputs").mkdir()
    image = str(write_png(tmp_path / "inputs"))
    config = SandboxConfig(
        api_key=SANDBOX_KEY,
        image_seconds=0.2,
        video_seconds=0.4,
        initial_credits=10_000_000,
        create_rate_limit=1000,
    )
    async with serve_sandbox(config) as sandbox:
        async with (
            runtime_client(tmp_path, sandbox, "hooks", webhooks=True) as hooked,
            runtime_client(tmp_path, sandbox, "polls", webhooks=False) as polled,
        ):

            async def run(spec: ModelSpec) -> tuple[ModelSpec, dict[str, Any]]:
                client = hooked if spec.id in WEBHOOK_SAMPLE else polled
                tool = f"generate_{spec.kind.value}"
                result = await client.call_tool(tool, {**defaults_args(spec, image)})
                job = dict(result.structured_content or {})
                if result.is_error:
                    job = {"error": result.content[0].text}  # type: ignore[union-attr]
                for _ in range(20):
                    if job.get("status") not in ("pending", "processing"):
                        break
                    status = await client.call_tool(
                        "get_status", {"job_id": job["job_id"], "wait_seconds": 5}
                    )
                    job = dict(status.structured_content or {})
                return spec, job

            results = await asyncio.gather(*(run(spec) for spec in STANDALONE))
            failed = {s.id: j for s, j in results if j.get("status") != "completed"}
            assert not failed, "\n".join(f"{k}: {v}" for k, v in failed.items())
        delivered = {c.task_id for c in sandbox.callbacks if c.status == 200}
        uploads = len(sandbox.uploads)
    needs_upload = 0
    for spec, job in results:
        assert job["model"] == spec.id
        assert_stored_as_served(sandbox, job)
        assert all(o["mime_type"].startswith(f"{spec.kind.value}/") for o in job["outputs"]), job
        needs_upload += bool(set(must_send(dict(spec.schema))) & spec.image_fields)
    assert len(delivered) == len(WEBHOOK_SAMPLE)  # only the sample's runtime had a webhook
    assert len(results) == len(STANDALONE) >= 127
    assert {"flux-kontext-pro", "flux-kontext-max", "runway-aleph"} <= {s.id for s, _ in results}
    assert {s.id for s in ON_A_SOURCE} == {"veo3-extend", "veo3-1080p", "veo3-4k", "runway-extend"}
    assert uploads >= needs_upload > 20, "required images were not uploaded from local files"


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


async def test_list_models_pages_and_filters_and_describe_model_details(tmp_path: Path) -> None:
    async with mcp_client(tmp_path, webhooks=False) as (_sandbox, client, _inputs):
        first = (await client.call_tool("list_models", {"limit": 50})).structured_content
        assert first is not None and first["count"] >= 147 and len(first["models"]) == 50
        assert first["next_offset"] == 50
        rest = await client.call_tool("list_models", {"offset": 50, "limit": 200})
        videos = await client.call_tool("list_models", {"kind": "video", "query": "kling"})
        upscalers = await client.call_tool("list_models", {"capability": "upscale"})
        bad = await client.call_tool("list_models", {"kind": "hologram"})
        runway = (await client.call_tool("describe_model", {"model": "runway"})).structured_content
        sora = await client.call_tool("describe_model", {"model": "sora-2-text-to-video"})
    listed = first["models"] + (rest.structured_content or {})["models"]
    assert len({m["id"] for m in listed}) == first["count"]
    assert {m["kind"] for m in listed} >= {"image", "video"}
    assert "sora-2-text-to-video" not in {m["id"] for m in listed}
    kling = (videos.structured_content or {})["models"]
    assert kling and all("kling" in m["id"] and m["kind"] == "video" for m in kling)
    ups = (upscalers.structured_content or {})["models"]
    assert {"recraft/crisp-upscale", "topaz/image-upscale"} <= {m["id"] for m in ups}
    assert bad.is_error and "image, video" in bad.content[0].text  # type: ignore[union-attr]
    assert runway is not None and runway["credits_at_defaults"] == 12
    assert runway["settings"]["aspect_ratio"]["allowed"] == ["16:9", "4:3", "1:1", "3:4", "9:16"]
    assert runway["doc_url"] == "https://docs.kie.ai/runway-api/generate-ai-video"
    assert sora.is_error and "Sora" in sora.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("generate_video", {"model": "runway", "resolution": "1080p", "duration": 10}),
        ("generate_image", {"model": "gpt-4o-image", "num_images": 3}),
        ("generate_image", {"model": "z-image", "aspect_ratio": "21:9"}),
        ("generate_video", {"model": "hailuo/2-3-image-to-video-pro"}),
        ("generate_image", {"model": "gpt-image-2-text-to-image", "resolution": "2K"}),
        (
            "generate_video",
            {
                "model": "hailuo/2-3-image-to-video-pro",
                "first_frame": "https://example.com/a.png",
                "duration": 10,
                "resolution": "1080P",
            },
        ),
        ("generate_video", {"model": "bytedance/seedance-2", "last_frame": "https://e.com/l.png"}),
        ("generate_video", {"model": "veo3", "reference_images": ["https://e.com/r.png"]}),
        ("generate_video", {"model": "veo3_fast", "seed": 12345}),
        ("generate_video", {"model": "sora-2-text-to-video"}),
    ],
    ids=[
        "runway-1080p-10s",
        "4o-variants",
        "missing-aspect-ratio",
        "missing-first-frame",
        "gpt-image-2-auto-2k",
        "hailuo-10s-1080p",
        "seedance-last-frame-alone",
        "veo3-references",
        "veo-seeds",
        "sora-retired",
    ],
)
async def test_invalid_combinations_never_reach_kie(
    tmp_path: Path, tool: str, args: dict[str, Any]
) -> None:
    async with mcp_client(tmp_path, webhooks=False) as (sandbox, client, _inputs):
        result = await client.call_tool(tool, {"prompt": "a lighthouse", **args})
        assert result.is_error
        assert sandbox.requests == []
    text = result.content[0].text  # type: ignore[union-attr]
    assert "Traceback" not in text and args["model"] in text


async def test_finished_market_job_records_kies_credits(tmp_path: Path) -> None:
    async with mcp_client(tmp_path, webhooks=True) as (_sandbox, client, _inputs):
        job = await finished(client, "generate_image", {"prompt": "a pear", "model": "z-image"})
    assert job["expected_credits"] == 0.8
    assert job["credits"] == 0.8
