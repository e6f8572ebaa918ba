"""The gallery's model filter offers the models offered now: kie's live list (jobs.catalogue)
when it is refreshed, not the committed file. In real headless Chromium, against a runtime
whose live catalogue comes from the sandbox's discovery endpoints."""

from __future__ import annotations

from pathlib import Path

from mcp import Client
from playwright.async_api import Browser, expect

from mcp_server_kie.catalog import COMMITTED
from mcp_server_kie.sandbox import ModelSpec
from mcp_server_kie.server.app import build_server
from support import call, eventually, sandbox_and_runtime
from test_gallery import SECONDS, browser, card, gallery, shown

__all__ = ["browser"]  # the fixture, shared with test_gallery

NEW = "sandbox/filter-video"
SCHEMA = {"type": "object", "properties": {"prompt": {"type": "string"}}, "required": ["prompt"]}


async def test_the_model_filter_lists_the_live_catalogue(tmp_path: Path, browser: Browser) -> None:
    async with sandbox_and_runtime(tmp_path, live_catalogue=True, video_seconds=0.3) as (
        sandbox,
        runtime,
    ):
        assert runtime.catalogue is not None
        await eventually(lambda: runtime.tools.catalogue.source == "live", what="first refresh")
        sandbox.shelf.add(ModelSpec(NEW, "video", {}, price=5.0, schema=SCHEMA), title="Filter")
        sandbox.shelf.retire("z-image")
        await runtime.catalogue.refresh()
        async with Client(build_server(runtime.tools)) as client:
            made = await call(client, "generate_video", {"prompt": "a kite", "model": NEW,
                                                         "wait_seconds": 20})  # fmt: skip
            other = await call(client, "generate_image", {"prompt": "a boat", "wait_seconds": 20})
        async with gallery(browser, runtime) as page:
            select = page.get_by_label("Model")
            offered = await select.locator("option").evaluate_all(
                "options => options.map(o => o.value)"
            )
            videos = await select.locator("optgroup[label='Videos'] option").evaluate_all(
                "options => options.map(o => o.value)"
            )
            await shown(page, [other["job_id"], made["job_id"]])
            await select.select_option(NEW)
            await shown(page, [made["job_id"]])
            await expect(card(page, made["job_id"]).locator(".model")).to_have_text(
                NEW, timeout=5 * SECONDS
            )
    assert NEW in videos
    assert "z-image" not in offered  # retired by kie: no longer offered
    assert "z-image" in {spec.id for spec in COMMITTED.specs}  # (the committed file has it)
    assert "google/nano-banana" in offered and "" in offered  # "All models" stays first
    assert offered[0] == ""
