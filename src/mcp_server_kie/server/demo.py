"""`mcp-server-kie demo`: the whole product, end to end, with no kie.ai account.

Starts the server in sandbox mode as a subprocess, talks to it over stdio with the MCP SDK
client exactly as a desktop host would, generates an image and a video, waits for both,
lists the library, and checks each file really is what it claims.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import av
from mcp import Client, StdioServerParameters
from PIL import Image

from mcp_server_kie.config import settings_or_exit
from mcp_server_kie.server.hosts import this_installation

IMAGE_PROMPT = "A lighthouse on a cliff at dawn, soft pastel sky, watercolor"
VIDEO_PROMPT = "Waves rolling onto a quiet beach at sunset, slow dolly shot"


async def run_demo(data_dir: Path | None = None) -> int:
    env = dict(os.environ)
    env.update({"KIE_SANDBOX": "1", "KIE_WEBHOOK_PORT": env.get("KIE_WEBHOOK_PORT", "0")})
    if data_dir is not None:
        env["KIE_DATA_DIR"] = str(data_dir)
    library = settings_or_exit(sandbox=True, data_dir=data_dir).resolved_data_dir
    env.setdefault("KIE_LOG_LEVEL", "WARNING")
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_server_kie", "serve"], env=env
    )
    print(f"Starting mcp-server-kie in sandbox mode (library: {library}) ...")
    started = time.monotonic()
    async with Client(params) as client:
        tools = sorted(tool.name for tool in (await client.list_tools()).tools)
        print(f"Connected over stdio. Tools: {', '.join(tools)}")

        print(f"\ngenerate_image: {IMAGE_PROMPT!r}")
        image = await _call(
            client,
            "generate_image",
            {"prompt": IMAGE_PROMPT, "aspect_ratio": "16:9", "wait_seconds": 40},
        )
        print(f"  -> {image['status']} ({image['job_id']})")

        print(f"generate_video: {VIDEO_PROMPT!r}")
        video = await _call(
            client,
            "generate_video",
            {"prompt": VIDEO_PROMPT, "aspect_ratio": "16:9", "wait_seconds": 2},
        )
        print(f"  -> {video['status']}; waiting with get_status ...")
        deadline = time.monotonic() + 120
        while video["status"] not in ("completed", "failed") and time.monotonic() < deadline:
            video = await _call(
                client, "get_status", {"job_id": video["job_id"], "wait_seconds": 30}
            )
            print(f"  -> {video['status']} (kie.ai state: {video['provider_state']})")

        listing = await _call(client, "list_media", {"limit": 5})
        print(f"\nlist_media: {listing['count']} recent job(s) in the library")

    ok = _report(image) & _report(video)
    print(f"\n{'Done' if ok else 'FAILED'} in {time.monotonic() - started:.1f} s.")
    if ok:
        print(next_steps(data_dir))
    return 0 if ok else 1


def next_steps(data_dir: Path | None) -> str:
    """What a new user does after the demo, with this installation's command."""
    launch = this_installation(sandbox=True)
    command = " ".join([launch.command, *launch.args])
    where = f" --data-dir {data_dir}" if data_dir is not None else ""
    return "\n".join(
        [
            "",
            "What next:",
            f"  1. See these files in the gallery: {command}{where} --http",
            "     then open http://127.0.0.1:8787/ in a browser (Ctrl+C stops it).",
            f"  2. Check your set-up (API key, data folder, port): {launch.command} doctor",
            f"  3. Add it to your assistant: {launch.command} install claude-desktop --sandbox "
            "--dry-run",
            "     (or claude-code, cursor, vscode, windsurf; drop --dry-run to write it, and",
            "     drop --sandbox after `export KIE_API_KEY=...` to use your kie.ai account).",
        ]
    )


async def _call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    if result.is_error or result.structured_content is None:
        text = " ".join(getattr(block, "text", "") for block in result.content)
        raise SystemExit(f"{tool} failed: {text}")
    return dict(result.structured_content)


def _report(job: dict[str, Any]) -> bool:
    if job["status"] != "completed" or not job["outputs"]:
        print(f"\n{job['kind']} job {job['job_id']} did not complete: {job.get('error')}")
        return False
    for output in job["outputs"]:
        path = Path(output["path"])
        check = _check_file(path, job["kind"])
        print(f"\n{job['kind'].upper()}  {path}")
        print(f"  {job['model']}, {output['bytes']:,} bytes, {output['mime_type']}; {check}")
    return all(_check_file(Path(o["path"]), job["kind"]).startswith("ok") for o in job["outputs"])


def _check_file(path: Path, kind: str) -> str:
    if not path.is_file():
        return "MISSING"
    if kind == "image":
        with Image.open(path) as image:
            image.verify()
            return f"ok: a valid {image.format} image, {image.width}x{image.height}"
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return f"ok: a valid MP4, first frame decodes at {frame.width}x{frame.height}"
