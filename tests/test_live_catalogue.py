"""The live catalogue: kie's model list read through the discovery endpoints, merged into the
committed file, cached in the store, and the committed file when kie cannot be asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcp import Client

from mcp_server_kie.catalog import COMMITTED
from mcp_server_kie.catalog.live import kind_of, parse_price
from mcp_server_kie.sandbox import ModelSpec, SandboxConfig, serve_sandbox
from mcp_server_kie.server.app import build_server
from mcp_server_kie.server.runtime import open_runtime
from support import SANDBOX_KEY, call, eventually, sandbox_and_runtime, settings_for

NEW_SCHEMA = {
    "type": "object",
    "properties": {"prompt": {"type": "string", "maxLength": 500}},
    "required": ["prompt"],
}


async def offered(client: Client) -> dict[str, dict[str, Any]]:
    listing = await call(client, "list_models", {"limit": 200})
    return {m["id"]: m for m in listing["models"]}


async def test_next_refresh_reflects_an_added_a_retired_and_a_repriced_model(tmp_path: Path):
    async with sandbox_and_runtime(tmp_path, webhooks=False, live_catalogue=True) as (
        sandbox,
        runtime,
    ):
        assert runtime.catalogue is not None
        await eventually(lambda: runtime.tools.catalogue.source == "live", what="first refresh")
        sandbox.shelf.add(
            ModelSpec("sandbox/new-video", "video", {}, price=9.0, schema=NEW_SCHEMA),
            title="New Video",
        )
        sandbox.shelf.retire("z-image")
        sandbox.shelf.set_price("google/nano-banana", 7.5)
        async with Client(build_server(runtime.tools)) as client:
            before = await offered(client)
            await runtime.catalogue.refresh()
            after = await offered(client)
            described = await call(client, "describe_model", {"model": "sandbox/new-video"})
            made = await client.call_tool(
                "generate_video", {"prompt": "a kite", "model": "sandbox/new-video"}
            )
            gone = await client.call_tool("generate_image", {"prompt": "x", "model": "z-image"})
    assert "z-image" in before and "sandbox/new-video" not in before
    assert before["google/nano-banana"]["credits_at_defaults"] == 4
    assert "z-image" not in after
    assert after["sandbox/new-video"]["kind"] == "video"
    assert after["google/nano-banana"]["credits_at_defaults"] == 7.5
    assert described["settings"]["prompt"]["limits"] == {"maxLength": 500}
    assert described["credits_at_defaults"] == 9
    assert not made.is_error, made.content
    assert gone.is_error and "does not offer it now" in gone.content[0].text  # type: ignore[union-attr]
    assert "veo3_fast" in after and "runway" in after  # per-family APIs are not in the list


async def test_discovery_failing_means_the_committed_file(tmp_path: Path):
    async with sandbox_and_runtime(tmp_path, webhooks=False, live_catalogue=True) as (
        sandbox,
        runtime,
    ):
        assert runtime.catalogue is not None
        await eventually(lambda: runtime.tools.catalogue.source == "live", what="first refresh")
        sandbox.shelf.retire("z-image")
        sandbox.faults.discovery_status = 500
        fallback = await runtime.catalogue.refresh()
    assert fallback is COMMITTED and runtime.tools.catalogue is COMMITTED
    assert fallback.find("z-image") is not None


async def test_a_fresh_cache_is_used_without_asking_kie_again(tmp_path: Path):
    config = SandboxConfig(api_key=SANDBOX_KEY)
    async with serve_sandbox(config) as sandbox:
        settings = settings_for(sandbox, tmp_path, webhooks=False).model_copy(
            update={"live_catalogue": True}
        )
        sandbox.shelf.retire("z-image")
        async with open_runtime(settings) as first:
            await eventually(lambda: first.tools.catalogue.source == "live", what="refresh")
        asked = sandbox.count("/api/v1/models")
        async with open_runtime(settings) as second:
            await eventually(lambda: second.tools.catalogue.source == "live", what="cache")
            assert second.tools.catalogue.find("z-image") is None
        assert sandbox.count("/api/v1/models") == asked == 1


async def test_without_the_setting_a_sandbox_base_url_is_not_asked(tmp_path: Path):
    async with sandbox_and_runtime(tmp_path, webhooks=False) as (sandbox, runtime):
        assert runtime.catalogue is None and runtime.tools.catalogue is COMMITTED
    assert sandbox.count("/api/v1/models") == 0


def test_kies_pricing_sentences_become_credits_per_unit():
    assert parse_price("Nano Banana API costs 4 credits per image (~$0.02)") == {
        "by": [], "per": "task", "credits": {"": 4.0}
    }  # fmt: skip
    assert parse_price("Seedance 2 mini: 2.4 credits/s ($0.012/s)")["per"] == "second"  # type: ignore[index]
    assert parse_price("contact sales") is None
    speech = parse_price("Turbo 2.5 API costs 6 credits per 1000 characters (~$0.03)")
    assert speech == {"by": [], "per": "1000 characters", "credits": {"": 6.0}}
    assert kind_of(["Text to Video", "Image to Video"]) == "video"
    assert kind_of(["Text to Speech"]) == "audio"
    assert kind_of(["Image Edit"]) == "image"
