"""Gallery cards show the whole picture and the whole model name, in real headless Chromium
(issue 17, item 8): a 16:9 thumbnail is not centre-cropped into the square frame, and a long
model id is not cut with an ellipsis, at desktop and phone widths."""

from __future__ import annotations

from pathlib import Path

from mcp import Client
from playwright.async_api import Browser

from mcp_server_kie.server.app import build_server
from support import call, sandbox_and_runtime
from test_gallery import PREVIEWS_LOADED, browser, card, gallery

__all__ = ["browser"]  # the fixture, shared with test_gallery

LONG_MODEL = "seedream/5-lite-text-to-image"

# How much of the image's own pixels the element shows, for its object-fit (1: all of it),
# and whether it is stretched out of shape.
SHOWN = """img => {
    const r = img.getBoundingClientRect(), w = r.width, h = r.height;
    const nw = img.naturalWidth, nh = img.naturalHeight;
    const fit = getComputedStyle(img).objectFit;
    let visible = 1, stretched = false;
    if (fit === "cover") {
        const scale = Math.max(w / nw, h / nh);
        visible = (Math.min(w, nw * scale) * Math.min(h, nh * scale)) / (nw * nh * scale * scale);
    } else if (fit === "none") {
        visible = (Math.min(w, nw) * Math.min(h, nh)) / (nw * nh);
    } else if (fit === "fill") {
        stretched = Math.abs(w / h - nw / nh) > 0.02;
    }
    return {visible, stretched, ratio: nw / nh};
}"""

# The name's box holds all of its text and lies inside its card.
NAME_WHOLE = """el => {
    const box = el.getBoundingClientRect();
    const cardBox = el.closest("li").getBoundingClientRect();
    return el.scrollWidth <= el.clientWidth + 1 && box.right <= cardBox.right + 1;
}"""


async def test_cards_show_the_whole_thumbnail_and_the_whole_model_name(
    tmp_path: Path, browser: Browser
) -> None:
    async with sandbox_and_runtime(tmp_path) as (_sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            wide = await call(
                client,
                "generate_image",
                {
                    "prompt": "A wide harbour panorama at dusk",
                    "model": LONG_MODEL,
                    "aspect_ratio": "16:9",
                    "wait_seconds": 20,
                },
            )
        assert wide["status"] == "completed"
        async with gallery(browser, runtime) as page:
            for width, height in ((1280, 860), (390, 844)):
                await page.set_viewport_size({"width": width, "height": height})
                await page.wait_for_function(PREVIEWS_LOADED)
                item = card(page, wide["job_id"])
                shown = await item.locator("img").evaluate(SHOWN)
                assert abs(shown["ratio"] - 16 / 9) < 0.05, shown
                assert shown["visible"] > 0.99 and not shown["stretched"], (width, shown)
                name = item.locator(".model")
                assert await name.inner_text() == LONG_MODEL
                assert await name.get_attribute("title") == LONG_MODEL
                assert await name.evaluate(NAME_WHOLE), f"model name cut at width {width}"
