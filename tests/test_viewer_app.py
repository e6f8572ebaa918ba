"""The MCP Apps media viewer in a real host: headless Chromium running the official host-side
bridge (AppBridge from @modelcontextprotocol/ext-apps, bundled by scripts/install-apps-host)
with an MCP client connected to the real server over streamable HTTP.

The host page lives on its own origin (listed in KIE_HTTP_CORS_ORIGINS), reads the tool's
``ui://`` resource, renders it in a sandboxed iframe under a CSP with no network, calls the
tool and forwards the input and result to the view. Screenshots (light and dark) go to the
test's folder, and docs/viewer.png is refreshed from the light one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from PIL import Image
from playwright.async_api import Browser, FrameLocator, Page, expect

from mcp_server_kie.server.viewer import viewer_html
from mcp_server_kie.tools import VIEWER_URI
from support import sandbox_and_runtime
from test_gallery import browser, unavailable  # noqa: F401 - the Chromium fixture
from test_http_transport import http_server

ROOT = Path(__file__).resolve().parent.parent
HOST_DIR = Path(__file__).with_name("apps_host")
SECONDS = 1000
HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>host</title>
<style>body{margin:0;background:#888}</style></head>
<body><div id="frame"></div><script src="host.bundle.js"></script></body></html>"""


@pytest.fixture(scope="session")
def host_bundle() -> Path:
    if shutil.which("npm") is None:
        unavailable("npm is not installed: the apps host harness needs it")
    subprocess.run(["bash", str(ROOT / "scripts" / "install-apps-host")], check=True, timeout=600)
    return HOST_DIR / "host.bundle.js"


@contextmanager
def host_origin(bundle: Path) -> Iterator[str]:
    """Serve the host page and its bundle from a folder of their own, on a port of their own."""
    folder = bundle.parent / ".served"
    folder.mkdir(exist_ok=True)
    (folder / "index.html").write_text(HOST_PAGE)
    shutil.copyfile(bundle, folder / "host.bundle.js")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def open_host(
    chromium: Browser, origin: str, base: str, tool: str, args: dict[str, Any], theme: str
) -> tuple[Page, FrameLocator, Any]:
    context = await chromium.new_context(viewport={"width": 760, "height": 680})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{origin}/index.html")
    started = await page.evaluate(
        "options => window.startHost(options)",
        {"mcpUrl": f"{base}/mcp", "tool": tool, "args": args, "theme": theme},
    )
    assert not errors, errors
    return page, page.frame_locator("#view"), started


async def test_viewer_shows_a_finished_image_in_light_and_dark(
    tmp_path: Path,
    browser: Browser,  # noqa: F811
    host_bundle: Path,
) -> None:
    data = tmp_path / "data"
    with host_origin(host_bundle) as origin:
        with http_server(data, KIE_HTTP_CORS_ORIGINS=origin) as base:
            args = {"prompt": "a lighthouse at dawn", "aspect_ratio": "16:9", "wait_seconds": 20}
            page, view, job = await open_host(
                browser, origin, base, "generate_image", args, "light"
            )
            assert job["status"] == "completed"
            [output] = job["outputs"]
            image = view.locator(f"img[data-asset-id='{output['asset_id']}']")
            await expect(image).to_be_visible(timeout=10 * SECONDS)
            await image.evaluate("img => img.decode()")
            natural = await image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
            with Image.open(output["path"]) as stored:
                assert tuple(natural) == stored.size == (output["width"], output["height"])
            await expect(view.locator("#prompt")).to_have_text(args["prompt"])
            await expect(view.locator("#facts")).to_contain_text(job["model"])
            await expect(view.locator("#facts")).to_contain_text("credits")
            await expect(view.locator("#status")).to_have_text("Image ready.")
            await expect(view.locator("#download")).to_be_visible()
            await page.screenshot(path=tmp_path / "viewer-light.png")
            shutil.copyfile(tmp_path / "viewer-light.png", ROOT / "docs" / "viewer.png")

            await view.locator("#download").click()
            await page.wait_for_function("window.hostLog.some(e => e.download)")
            log = await page.evaluate("window.hostLog.find(e => e.download).download")
            assert log[0]["uri"] == output["uri"] and log[0]["type"] == "resource_link"

            dark_before = await view.locator("body").evaluate(
                "b => getComputedStyle(b).backgroundColor"
            )
            await page.evaluate("window.setTheme('dark')")
            await expect(view.locator("html")).to_have_attribute("data-theme", "dark")
            dark_after = await view.locator("body").evaluate(
                "b => getComputedStyle(b).backgroundColor"
            )
            assert dark_before != dark_after
            await page.screenshot(path=tmp_path / "viewer-dark.png")
            await page.context.close()
    assert (tmp_path / "viewer-dark.png").stat().st_size > 0


async def test_viewer_follows_a_video_job_then_plays_it(
    tmp_path: Path,
    browser: Browser,  # noqa: F811
    host_bundle: Path,
) -> None:
    data = tmp_path / "data"
    with host_origin(host_bundle) as origin:
        with http_server(data, KIE_HTTP_CORS_ORIGINS=origin, KIE_SANDBOX_VIDEO_SECONDS="4") as base:
            args = {"prompt": "waves on a pier", "wait_seconds": 0}
            page, view, job = await open_host(browser, origin, base, "generate_video", args, "dark")
            assert job["status"] in {"pending", "processing"}
            element = await page.query_selector("#view")
            assert element is not None
            frame = await element.content_frame()
            assert frame is not None
            await frame.evaluate(
                """() => {
                    const line = document.getElementById("status");
                    window.statuses = [line.textContent];
                    new MutationObserver(() => {
                        if (window.statuses.at(-1) !== line.textContent) {
                            window.statuses.push(line.textContent);
                        }
                    }).observe(line, {childList: true, characterData: true, subtree: true});
                }"""
            )
            video = view.locator("video")
            await expect(video).to_be_attached(timeout=30 * SECONDS)
            await expect(view.locator("#status")).to_have_text("Video ready.")
            await video.evaluate(
                """v => new Promise((resolve, reject) => {
                    const ready = () => v.duration > 0 ? resolve() : null;
                    if (v.readyState >= 1) ready(); else v.onloadedmetadata = ready;
                    v.onerror = () => reject(new Error("video error"));
                })"""
            )
            seeked = await video.evaluate(
                """v => new Promise(resolve => {
                    v.onseeked = () => resolve(v.currentTime);
                    v.currentTime = v.duration / 2;
                })"""
            )
            assert seeked > 0
            statuses: list[str] = await frame.evaluate("window.statuses")
            assert statuses[-1] == "Video ready.", statuses
            running = [s for s in statuses[:-1] if s.startswith("Video p")]
            assert running, f"no running status shown before the end: {statuses}"
            print("status line:", statuses)
            await page.screenshot(path=tmp_path / "viewer-video-dark.png")
            await page.context.close()


async def test_viewer_shows_why_a_job_failed(
    tmp_path: Path,
    browser: Browser,  # noqa: F811
    host_bundle: Path,
) -> None:
    data = tmp_path / "data"
    with host_origin(host_bundle) as origin:
        with http_server(data, KIE_HTTP_CORS_ORIGINS=origin) as base:
            args = {"prompt": "a broken dream [sandbox:fail]", "wait_seconds": 20}
            page, view, job = await open_host(
                browser, origin, base, "generate_image", args, "light"
            )
            assert job["status"] == "failed"
            await expect(view.locator("#error")).to_be_visible(timeout=10 * SECONDS)
            await expect(view.locator("#error")).to_contain_text(job["error"]["message"])
            await expect(view.locator("#status")).to_have_text("Image failed.")
            await expect(view.locator("#actions")).to_be_hidden()
            await page.context.close()


async def test_hosts_without_apps_see_tools_as_before(tmp_path: Path) -> None:
    from mcp_server_kie.server.app import build_server

    async with sandbox_and_runtime(tmp_path) as (_sandbox, runtime):
        async with Client(build_server(runtime.tools)) as plain:
            tools = (await plain.list_tools()).tools
            resource = await plain.read_resource(VIEWER_URI)
    assert all(not (tool.meta or {}).get("ui") for tool in tools)
    [contents] = resource.contents
    assert contents.mime_type == "text/html;profile=mcp-app"
    assert getattr(contents, "text", None) == viewer_html()
    assert "http://" not in viewer_html() and "https://" not in viewer_html()
    assert os.path.basename(VIEWER_URI) == "viewer.html"


async def test_viewer_actions_and_library_go_through_the_servers_tools(
    tmp_path: Path,
    browser: Browser,  # noqa: F811
    host_bundle: Path,
) -> None:
    data = tmp_path / "data"
    with host_origin(host_bundle) as origin:
        with http_server(data, KIE_HTTP_CORS_ORIGINS=origin) as base:
            args = {"prompt": "a red kite", "wait_seconds": 20}
            page, view, job = await open_host(
                browser, origin, base, "generate_image", args, "light"
            )
            first = job["outputs"][0]["asset_id"]
            await expect(view.locator(f"img[data-asset-id='{first}']")).to_be_visible(
                timeout=10 * SECONDS
            )
            await view.locator("#open-gallery").click()
            await page.wait_for_function("window.hostLog.some(e => e.openLink)")
            link = await page.evaluate("window.hostLog.find(e => e.openLink).openLink")
            assert link == f"{base}/"

            await view.locator("#variations").click()  # a new paid job, through the host
            variation = view.locator("#media img")
            await expect(variation).not_to_have_attribute("data-asset-id", first, timeout=20_000)
            await expect(view.locator("#status")).to_have_text("Image ready.")
            await page.context.close()

            page, view, listing = await open_host(browser, origin, base, "list_media", {}, "dark")
            assert listing["count"] == 2
            entries = view.locator("#grid > li button")
            await expect(entries).to_have_count(2)
            await expect(view.locator("#library-title")).to_have_text("Library (2)")
            await entries.last.click()  # the oldest: the first image
            await expect(view.locator(f"img[data-asset-id='{first}']")).to_be_visible()
            await expect(view.locator("#prompt")).to_have_text("a red kite")
            await page.context.close()


async def test_viewer_extends_a_video_through_transform_media(
    tmp_path: Path,
    browser: Browser,  # noqa: F811
    host_bundle: Path,
) -> None:
    data = tmp_path / "data"
    with host_origin(host_bundle) as origin:
        with http_server(data, KIE_HTTP_CORS_ORIGINS=origin, KIE_SANDBOX_VIDEO_SECONDS="1") as base:
            args = {
                "prompt": "a paper boat drifting",
                "model": "grok-imagine/text-to-video",
                "wait_seconds": 20,
            }
            page, view, job = await open_host(
                browser, origin, base, "generate_video", args, "light"
            )
            first = job["outputs"][0]["asset_id"]
            await expect(view.locator(f"video[data-asset-id='{first}']")).to_be_attached(
                timeout=30 * SECONDS
            )
            await expect(view.locator("#variations")).to_be_hidden()
            await expect(view.locator("#upscale")).to_be_visible()
            await view.locator("#extend").click()  # a new paid job, through the host
            await expect(view.locator("#facts")).to_contain_text(
                "grok-imagine/extend", timeout=10 * SECONDS
            )
            extended = view.locator("#media video")
            await expect(extended).not_to_have_attribute("data-asset-id", first, timeout=30_000)
            await expect(view.locator("#status")).to_have_text("Video ready.")
            await expect(view.locator("#prompt")).to_have_text("a paper boat drifting")
            await page.context.close()

            # transform_media and generate_audio render in the viewer too (startHost fails for
            # a tool without _meta.ui.resourceUri).
            args = {"source": job["job_id"], "operation": "upscale", "wait_seconds": 20}
            page, view, upscaled = await open_host(
                browser, origin, base, "transform_media", args, "dark"
            )
            assert upscaled["model"] == "grok-imagine/upscale"
            shown = upscaled["outputs"][0]["asset_id"]
            await expect(view.locator(f"video[data-asset-id='{shown}']")).to_be_attached(
                timeout=10 * SECONDS
            )
            await page.context.close()
            args = {"prompt": "Hello from the viewer.", "wait_seconds": 20}
            page, view, spoken = await open_host(
                browser, origin, base, "generate_audio", args, "light"
            )
            shown = spoken["outputs"][0]["asset_id"]
            await expect(view.locator(f"audio[data-asset-id='{shown}']")).to_be_attached(
                timeout=10 * SECONDS
            )
            await expect(view.locator("#upscale")).to_be_hidden()
            await page.context.close()
