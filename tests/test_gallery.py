"""The gallery page, driven in real headless Chromium (Debian's ``chromium``, installed by
scripts/install-browser) against a runtime pointed at the sandbox, with jobs started through
the MCP tools.

Without Chromium these tests skip locally and fail on CI (``CI=true``). Screenshots go to
``$KIE_GALLERY_SCREENSHOTS`` when set, else to the test's own temporary folder; docs/gallery.png
is the desktop light one.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from mcp import Client
from PIL import Image
from pydantic import SecretStr

from mcp_server_kie.server.app import build_server
from mcp_server_kie.server.runtime import Runtime
from mcp_server_kie.storage import NewJob
from support import eventually, sandbox_and_runtime
from test_library import call, new_job

try:
    from playwright.async_api import Browser, Page, async_playwright, expect
except ImportError:  # reported by the browser fixture: a skip locally, a failure on CI
    async_playwright = None  # type: ignore[assignment]

SECONDS = 1000  # Playwright counts in milliseconds


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must run the gallery tests: .ci/run installs Chromium)")
    pytest.skip(reason)


def chromium_executable() -> str:
    """Debian's chromium (or another Chromium named by KIE_CHROMIUM)."""
    for candidate in (os.environ.get("KIE_CHROMIUM"), "chromium", "chromium-browser"):
        found = candidate and shutil.which(candidate)
        if found:
            return found
    unavailable("Debian's chromium is not installed: run scripts/install-browser")
    raise AssertionError("unreachable")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_executable()
    if async_playwright is None:
        unavailable("the playwright package is missing: pip install -e '.[dev]'")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable,
            args=["--autoplay-policy=no-user-gesture-required", "--disable-gpu"],
        )
        try:
            yield launched
        finally:
            await launched.close()


@asynccontextmanager
async def gallery(browser: Browser, runtime: Runtime, **context: Any) -> AsyncIterator[Page]:
    """The gallery in a fresh browser context, loaded and listening to /events; closed on the
    way out, so its event stream ends before the runtime does."""
    opened = await browser.new_context(**context)
    try:
        page = await opened.new_page()
        await page.goto(f"{runtime.sidecar_url}/")
        await expect(page.locator("body[data-live='on'][data-ready]")).to_be_attached(
            timeout=10 * SECONDS
        )
        yield page
    finally:
        await opened.close()


async def shown(page: Page, ids: list[str]) -> None:
    """Wait until the grid shows exactly ``ids``, in this order."""
    try:
        await page.wait_for_function(
            """expected => {
                   const ids = [...document.querySelectorAll('#grid > li')]
                       .map(li => li.dataset.jobId);
                   return ids.join() === expected.join();
               }""",
            arg=ids,
            timeout=10 * SECONDS,
        )
    except Exception:
        actual = await page.locator("#grid > li").evaluate_all(
            "items => items.map(li => li.dataset.jobId)"
        )
        raise AssertionError(f"grid shows {actual}, expected {ids}") from None


def card(page: Page, job_id: str) -> Any:
    return page.locator(f"#grid > li[data-job-id='{job_id}']")


async def generate(client: Client, tool: str, prompt: str, **args: Any) -> dict[str, Any]:
    return await call(client, tool, {"prompt": prompt, "wait_seconds": 20, **args})


async def test_a_job_started_through_mcp_appears_at_once_and_completes_live(
    tmp_path: Path, browser: Browser
) -> None:
    async with sandbox_and_runtime(tmp_path, image_seconds=0.4) as (_sandbox, runtime):
        async with gallery(browser, runtime) as page:
            await expect(page.locator("#empty")).to_be_visible()
            await page.evaluate("window.notReloaded = true")
            async with Client(build_server(runtime.tools)) as client:
                # Ten times as slow in the sandbox: long enough to be seen processing.
                job = await call(
                    client,
                    "generate_image",
                    {"prompt": "owl at dusk [sandbox:slow]", "wait_seconds": 0},
                )
                failing = await call(
                    client, "generate_image", {"prompt": "broken [sandbox:fail]", "wait_seconds": 0}
                )
            item = card(page, job["job_id"])
            await expect(item).to_have_attribute("data-status", "processing", timeout=3 * SECONDS)
            await expect(item.locator(".badge")).to_have_text("processing")
            await expect(item.locator("img")).to_be_hidden()

            await expect(item).to_have_attribute("data-status", "completed", timeout=15 * SECONDS)
            image = item.locator("img")
            await expect(image).to_have_attribute("alt", "owl at dusk [sandbox:slow]")
            await expect(image).to_have_attribute("loading", "lazy")
            await page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=await image.element_handle()
            )

            failed = card(page, failing["job_id"])
            await expect(failed).to_have_attribute("data-status", "failed", timeout=10 * SECONDS)
            await expect(failed.locator(".error-text")).to_be_visible()
            assert await failed.locator(".error-text").inner_text()
            colours = {
                status: await card(page, job_id)
                .locator(".badge")
                .evaluate("badge => getComputedStyle(badge).backgroundColor")
                for status, job_id in (("completed", job["job_id"]), ("failed", failing["job_id"]))
            }
            assert colours["completed"] != colours["failed"]
            assert await page.evaluate("window.notReloaded") is True
            await shown(page, [failing["job_id"], job["job_id"]])


async def test_tabs_filter_search_sort_and_paging_change_what_is_shown(
    tmp_path: Path, browser: Browser
) -> None:
    async with sandbox_and_runtime(tmp_path) as (_sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            fox = await generate(client, "generate_image", "a red fox in the snow")
            tower = await generate(client, "generate_image", "lighthouse at night", model="z-image")
            river = await generate(client, "generate_video", "a river in spring", duration="5")
            broken = await call(
                client, "generate_image", {"prompt": "lost [sandbox:fail]", "wait_seconds": 20}
            )
        assert broken["status"] == "failed"
        ids = [broken["job_id"], river["job_id"], tower["job_id"], fox["job_id"]]
        async with gallery(browser, runtime) as page:
            await shown(page, ids)

            await page.get_by_role("tab", name="Images").click()
            await shown(page, [broken["job_id"], tower["job_id"], fox["job_id"]])
            await page.get_by_role("tab", name="Videos").click()
            await shown(page, [river["job_id"]])
            await expect(card(page, river["job_id"]).locator(".play")).to_be_visible()
            await page.get_by_role("tab", name="Videos").press("ArrowRight")
            await expect(page.get_by_role("tab", name="Audio")).to_be_focused()
            await shown(page, [])
            await expect(page.locator("#empty")).to_be_visible()
            await page.get_by_role("tab", name="Audio").press("ArrowRight")  # wraps to All
            await expect(page.get_by_role("tab", name="All")).to_be_focused()
            await shown(page, ids)

            await page.get_by_label("Model").select_option("z-image")
            await shown(page, [tower["job_id"]])
            await page.get_by_label("Model").select_option("")
            await page.get_by_label("Status").select_option("failed")
            await shown(page, [broken["job_id"]])
            await page.get_by_label("Status").select_option("")

            await page.get_by_label("Search prompts").fill("light")
            await shown(page, [tower["job_id"]])
            await page.get_by_label("Search prompts").fill("snow RED")
            await shown(page, [fox["job_id"]])
            await page.get_by_label("Search prompts").fill("")
            await shown(page, ids)

            await page.get_by_label("Order").select_option("oldest")
            await shown(page, ids[::-1])

            # Paging: 24 a page, "Load more" continues from list_media's cursor.
            store = runtime.engine.store
            extra = [f"job_{i:024x}" for i in range(50)]
            for job_id in extra:
                await store.create_job(_quiet_job(job_id))
            await page.get_by_label("Order").select_option("newest")
            newest = extra[::-1] + ids
            await shown(page, newest[:24])
            more = page.get_by_role("button", name="Load more")
            await more.click()
            await shown(page, newest[:48])
            await more.click()
            await shown(page, newest)
            await expect(more).to_be_hidden()


def _quiet_job(job_id: str) -> NewJob:
    """A job row that stays pending (never sent to kie), for paging through many."""
    return new_job(job_id, f"filler {job_id[-4:]}")


async def test_a_video_plays_and_seeks_through_range_requests(
    tmp_path: Path, browser: Browser, media_url: str | None
) -> None:
    """Over the local folder and over a bucket (streamed through /media with Range)."""
    async with sandbox_and_runtime(tmp_path, media_url=media_url) as (_sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            river = await generate(client, "generate_video", "a river in spring", duration="5")
        output = river["outputs"][0]
        async with gallery(browser, runtime) as page:
            ranged: list[tuple[int, str | None]] = []

            async def record(response: Any) -> None:
                if urlsplit(response.url).path == f"/media/{output['asset_id']}":
                    ranged.append((response.status, await response.request.header_value("range")))

            page.on("response", record)
            await card(page, river["job_id"]).locator(".open").click()
            dialog = page.locator("#detail")
            await expect(dialog).to_be_visible()
            await expect(dialog.locator("#detail-title")).to_have_text("a river in spring")
            await expect(dialog.locator(".facts")).to_contain_text("kling-2.6/text-to-video")
            # kling-2.6 text-to-video defaults to 1:1 in kie's own schema (issue 12)
            await expect(dialog.locator(".facts")).to_contain_text("1:1")
            history = dialog.locator(".history li")
            await expect(history).to_have_count(3)  # pending, processing, completed
            download = dialog.get_by_role("link", name="Download")
            assert await download.get_attribute("href") == f"/media/{output['asset_id']}?download=1"

            video = dialog.locator("video")
            await video.evaluate("v => v.play()")
            await page.wait_for_function(
                "v => v.currentTime > 0.3 && !v.paused", arg=await video.element_handle()
            )
            position = await video.evaluate(
                """v => new Promise(resolve => {
                       v.pause();
                       v.addEventListener('seeked', () => resolve(v.currentTime), {once: true});
                       v.currentTime = 3.5;
                   })"""
            )
            assert abs(position - 3.5) < 0.1
            await eventually(lambda: any(status == 206 for status, _ in ranged), what="a 206")
            assert all(header and header.startswith("bytes=") for _, header in ranged), ranged

            await page.keyboard.press("Escape")
            await expect(dialog).to_be_hidden()
            await expect(card(page, river["job_id"]).locator(".open")).to_be_focused()
            async with httpx2.AsyncClient() as http:
                saved = await http.get(
                    f"{runtime.sidecar_url}/media/{output['asset_id']}?download=1"
                )
            assert saved.headers["content-disposition"].startswith("attachment")


async def test_delete_and_clear_all_remove_items_from_page_and_disk(
    tmp_path: Path, browser: Browser
) -> None:
    async with sandbox_and_runtime(tmp_path) as (_sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            jobs = [await generate(client, "generate_image", f"cat {i}") for i in range(3)]
        files = [Path(job["outputs"][0]["path"]) for job in jobs]
        assert all(path.is_file() for path in files)
        async with gallery(browser, runtime) as page:
            await shown(page, [job["job_id"] for job in reversed(jobs)])

            # By keyboard: focus the first card, arrow to the next, open it, delete it.
            first = card(page, jobs[2]["job_id"]).locator(".open")
            await first.focus()
            await page.keyboard.press("ArrowRight")
            await expect(card(page, jobs[1]["job_id"]).locator(".open")).to_be_focused()
            await page.keyboard.press("Enter")
            await expect(page.locator("#detail")).to_be_visible()
            await page.get_by_role("button", name="Delete…").click()
            confirm = page.locator("#confirm")
            await expect(confirm).to_be_visible()
            await confirm.get_by_role("button", name="Cancel").click()
            assert files[1].is_file()
            await page.get_by_role("button", name="Delete…").click()
            await confirm.get_by_role("button", name="Delete", exact=True).click()
            await shown(page, [jobs[2]["job_id"], jobs[0]["job_id"]])
            await expect(page.locator("#detail")).to_be_hidden()
            assert not files[1].exists()
            assert await runtime.engine.store.get_job(jobs[1]["job_id"]) is None

            # A page on another origin (localhost is not 127.0.0.1) cannot change anything.
            port = urlsplit(runtime.sidecar_url or "").port
            elsewhere = await browser.new_context()
            try:
                other = await elsewhere.new_page()
                await other.goto(f"http://localhost:{port}/static/icon.svg")
                outcome = await other.evaluate(CROSS_SITE_ATTEMPTS, port)
            finally:
                await elsewhere.close()
            assert outcome == ["opaque", "blocked"]
            assert files[0].is_file() and files[2].is_file()

            await page.get_by_role("button", name="Clear all…").click()
            ok = confirm.get_by_role("button", name="Delete everything")
            await expect(ok).to_be_disabled()
            await confirm.get_by_role("textbox").fill("delete all")
            await expect(ok).to_be_disabled()
            await confirm.get_by_role("textbox").fill("delete everything")
            await ok.click()
            await shown(page, [])
            await expect(page.locator("#message")).to_contain_text("Deleted 2 job(s)")
            assert not files[0].exists() and not files[2].exists()


# From another origin: a "simple" request (no preflight) reaches the server, which must refuse
# it; one with a JSON content type needs a CORS preflight, which the server never grants.
CROSS_SITE_ATTEMPTS = """async port => {
    const target = `http://127.0.0.1:${port}/api/clear`;
    const body = '{"confirm": "delete everything"}';
    const simple = await fetch(target, {method: 'POST', mode: 'no-cors', body});
    let json = 'sent';
    try {
        await fetch(target, {method: 'POST', headers: {'Content-Type': 'application/json'}, body});
    } catch (error) {
        json = 'blocked';
    }
    return [simple.type, json];
}"""


async def test_requests_that_are_not_ids_or_not_from_the_page_are_refused(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path) as (_sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            job = await generate(client, "generate_image", "kept")
        base = runtime.sidecar_url
        assert base
        url = urlsplit(base)
        for path in [
            "/media/../kie.sqlite3",
            "/static/../../etc/passwd",
            "/static/..%2f..%2fetc%2fpasswd",
            "/static/gallery.py",
            "/static/index.html",
            "/api/jobs/..%2f",
            "/api/jobs/../../kie.sqlite3",
            "/api/jobs/job_nope",
            "/api/jobs/" + "job_" + "0" * 24,
            "/api/assets/x",
            "/api/media/extra",
            "/index.html",
            "/gallery/gallery.js",
        ]:
            assert await raw_get(url.hostname, url.port, path) == 404, path

        own = {"Origin": base, "X-Requested-With": "kie-gallery"}
        target = f"{base}/api/jobs/{job['job_id']}"
        async with httpx2.AsyncClient() as http:
            page = await http.get(f"{base}/")
            assert page.status_code == 200
            assert "default-src 'none'" in page.headers["content-security-policy"]
            listed = await http.get(f"{base}/api/media", params={"kind": "image", "limit": 1})
            assert [item["job_id"] for item in listed.json()["items"]] == [job["job_id"]]
            for params, hint in [
                ({"kind": "sound"}, "kind"),
                ({"limit": "0"}, "limit"),
                ({"cursor": "garbage"}, "cursor"),
                ({"since": "yesterday"}, "since"),
                ({"colour": "red"}, "colour"),
            ]:
                bad = await http.get(f"{base}/api/media", params=params)
                assert bad.status_code == 400 and hint in bad.json()["error"], params
            for headers in [
                {},
                {"X-Requested-With": "kie-gallery"},
                {**own, "Origin": "http://evil.example"},
                {**own, "Origin": "null"},
                {"Origin": base},  # a plain form could send this much
            ]:
                refused = await http.delete(target, headers=headers)
                assert refused.status_code == 403, headers
            proxied = await http.delete(target, headers={**own, "X-Forwarded-For": "203.0.113.9"})
            assert proxied.status_code == 404
            unconfirmed = await http.post(f"{base}/api/clear", headers=own, json={"confirm": "yes"})
            assert unconfirmed.status_code == 400 and "delete everything" in unconfirmed.text
            assert Path(job["outputs"][0]["path"]).is_file()
            detail = (await http.get(target)).json()
            assert [event["to"] for event in detail["events"]] == [
                "pending",
                "processing",
                "completed",
            ]
            deleted = await http.delete(target, headers=own)
            assert deleted.status_code == 200 and deleted.json()["jobs_deleted"] == 1
            assert (await http.get(target)).status_code == 404


async def raw_get(host: str | None, port: int | None, path: str) -> int:
    """GET ``path`` exactly as written (an HTTP client would normalise the dots away)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        status_line = await reader.readline()
        return int(status_line.split()[1])
    finally:
        writer.close()
        await writer.wait_closed()


async def test_shutting_down_ends_open_event_streams_cleanly(tmp_path: Path) -> None:
    """An open gallery tab must not hold the server up: its /events stream ends properly."""
    async with httpx2.AsyncClient(timeout=10) as http:
        async with sandbox_and_runtime(tmp_path) as (_sandbox, runtime):
            request = http.build_request("GET", f"{runtime.sidecar_url}/events")
            stream = await http.send(request, stream=True)
            assert stream.status_code == 200
        try:
            lines = [line async for line in stream.aiter_lines()]  # a cut-off stream raises
        finally:
            await stream.aclose()
    assert "event: resync" in lines


async def test_with_a_token_the_link_sets_a_strict_cookie_and_everything_needs_it(
    tmp_path: Path, browser: Browser
) -> None:
    token = "gallery-test-token"
    async with sandbox_and_runtime(tmp_path, http_token=SecretStr(token)) as (_sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            job = await generate(client, "generate_image", "a secret garden")
        base = runtime.sidecar_url
        async with httpx2.AsyncClient() as http:
            for path in ["/", "/api/media", "/static/gallery.js", f"/api/jobs/{job['job_id']}"]:
                assert (await http.get(f"{base}{path}")).status_code == 401, path
            assert (await http.get(f"{base}/?token=wrong")).status_code == 401
            link = await http.get(f"{base}/?token={token}")
            assert link.status_code == 303 and link.headers["location"] == "/"
            cookie = link.headers["set-cookie"].lower()
            assert "kie_token=" in cookie and "httponly" in cookie and "samesite=strict" in cookie

        context = await browser.new_context()
        try:
            page = await context.new_page()
            await page.goto(f"{base}/?token={token}")
            assert page.url == f"{base}/"  # the token left the address bar
            await expect(page.locator("body[data-live='on'][data-ready]")).to_be_attached()
            await shown(page, [job["job_id"]])
            image = card(page, job["job_id"]).locator("img")
            await page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=await image.element_handle()
            )
        finally:
            await context.close()


async def test_screenshots_at_desktop_and_phone_widths_in_light_and_dark(
    tmp_path: Path, browser: Browser
) -> None:
    folder = Path(os.environ.get("KIE_GALLERY_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    async with sandbox_and_runtime(tmp_path, video_seconds=0.8) as (_sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            for prompt, tool, args in SHOWCASE:
                await generate(client, tool, prompt, **args)
            await call(client, "generate_image", {"prompt": "Broken dream [sandbox:fail]"})
            running = await call(
                client,
                "generate_video",
                {"prompt": "A slow sunrise over mountains [sandbox:slow]", "wait_seconds": 0},
            )
        async with gallery(browser, runtime, reduced_motion="reduce") as page:
            await expect(page.locator("#grid > li")).to_have_count(len(SHOWCASE) + 2)
            written = []
            for device, width, height in [("desktop", 1280, 860), ("phone", 390, 844)]:
                await page.set_viewport_size({"width": width, "height": height})
                for scheme in ("light", "dark"):
                    await page.emulate_media(color_scheme=scheme)
                    await page.wait_for_function(PREVIEWS_LOADED)
                    path = folder / f"gallery-{device}-{scheme}.png"
                    await page.screenshot(path=path)
                    written.append((path, width))
            await expect(card(page, running["job_id"])).to_have_attribute(
                "data-status", "processing"
            )  # so every shot shows one job still running
        for path, width in written:
            with Image.open(path) as shot:
                assert shot.format == "PNG" and shot.width == width


SHOWCASE = [
    ("A lighthouse on a cliff at sunset, oil painting", "generate_image", {}),
    ("Portrait of a red fox in fresh snow", "generate_image", {"aspect_ratio": "9:16"}),
    ("Waves rolling onto a quiet beach", "generate_video", {"duration": "5"}),
    ("A cosy reading nook with plants", "generate_image", {"aspect_ratio": "4:3"}),
    ("Neon city street in the rain", "generate_image", {"aspect_ratio": "16:9"}),
    ("Hot air balloons over a valley", "generate_video", {"duration": "5"}),
    ("A bowl of ramen, studio photo", "generate_image", {}),
]

# Every preview inside the window has loaded (lazy ones further down have not started).
PREVIEWS_LOADED = """() => [...document.querySelectorAll('#grid img, #grid video.still')]
    .filter(el => !el.hidden && el.getBoundingClientRect().top < innerHeight)
    .every(el => el.tagName === 'IMG' ? el.complete && el.naturalWidth > 0 : el.readyState >= 2)"""


async def test_audio_has_its_tab_and_plays_in_the_card_and_the_full_view(
    tmp_path: Path, browser: Browser
) -> None:
    async with sandbox_and_runtime(tmp_path) as (_sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            speech = await generate(client, "generate_audio", "Good morning, harbour.")
            song = await generate(client, "generate_audio", "a sea shanty", model="suno")
            picture = await generate(client, "generate_image", "a gull")
        assert speech["status"] == song["status"] == "completed"
        async with gallery(browser, runtime) as page:
            await shown(page, [picture["job_id"], song["job_id"], speech["job_id"]])
            await page.locator("#tab-audio").click()
            await shown(page, [song["job_id"], speech["job_id"]])
            assert await card(page, picture["job_id"]).count() == 0

            player = card(page, speech["job_id"]).locator("audio.listen")
            await expect(player).to_be_visible()
            await expect(player).to_have_attribute("controls", "")
            output = speech["outputs"][0]
            assert await player.get_attribute("src") == f"/media/{output['asset_id']}"
            await player.evaluate("a => a.play()")
            await page.wait_for_function(
                "a => a.readyState >= 2 && a.duration > 0 && a.currentTime > 0.2 && !a.paused",
                arg=await player.element_handle(),
                timeout=10 * SECONDS,
            )
            duration = await player.evaluate("a => { a.pause(); return a.duration; }")
            assert duration == pytest.approx(output["duration_seconds"], rel=0.1)
            folder = Path(os.environ.get("KIE_GALLERY_SCREENSHOTS") or tmp_path)
            await page.screenshot(path=str(folder / "gallery-audio.png"))

            await card(page, song["job_id"]).locator(".open").click()
            dialog = page.locator("#detail")
            await expect(dialog).to_be_visible()
            players = dialog.locator("#viewer audio")
            await expect(players).to_have_count(2)  # Suno's two songs
            second = players.nth(1)
            await second.evaluate("a => a.play()")
            await page.wait_for_function(
                "a => a.duration > 0 && a.currentTime > 0.2 && !a.paused",
                arg=await second.element_handle(),
                timeout=10 * SECONDS,
            )
            await page.keyboard.press("Escape")
            await expect(dialog).to_be_hidden()
            assert await second.evaluate("a => a.paused") is True
