"""The README's promises: the demo command works, and a non-Python MCP client sees the tools."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import av
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
    env.update(extra)
    return env


def test_demo_prints_two_finished_media_that_exist(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mcp_server_kie", "demo", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
        env=clean_env(),
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    image_paths = re.findall(r"^IMAGE\s+(\S+)$", done.stdout, re.MULTILINE)
    video_paths = re.findall(r"^VIDEO\s+(\S+)$", done.stdout, re.MULTILINE)
    assert len(image_paths) == 1 and len(video_paths) == 1, done.stdout
    with Image.open(image_paths[0]) as image:
        image.verify()
    with av.open(video_paths[0]) as container:
        assert next(container.decode(video=0)).height > 0
    for path in (*image_paths, *video_paths):
        assert Path(path).is_relative_to(tmp_path)
    # It ends by saying what to do next: the gallery, doctor, installing into a host.
    after = done.stdout.split("What next:", 1)[1]
    assert "--http" in after and "http://127.0.0.1:8787/" in after
    assert f"--data-dir {tmp_path}" in after
    assert " doctor" in after and "install claude-desktop --sandbox --dry-run" in after


@pytest.mark.skipif(shutil.which("npx") is None, reason="Node.js (npx) is not installed")
def test_inspector_cli_lists_the_tools_with_schemas(tmp_path: Path) -> None:
    command = [
        "npx",
        "-y",
        "@modelcontextprotocol/inspector@2.12.0",
        "--cli",
        "-e",
        f"KIE_DATA_DIR={tmp_path}",
        "-e",
        "KIE_WEBHOOK_PORT=0",
        "--method",
        "tools/list",
        "--format",
        "json",
        "-q",
        "--",
        sys.executable,
        "-m",
        "mcp_server_kie",
        "serve",
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        env=clean_env(),
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    tools = {tool["name"]: tool for tool in json.loads(done.stdout)["result"]["tools"]}
    assert {"generate_image", "generate_video", "get_status", "list_media"} <= set(tools)
    for name in ("generate_image", "generate_video", "get_status", "list_media"):
        assert tools[name]["inputSchema"]["type"] == "object"
        assert "job_id" in json.dumps(tools[name]["outputSchema"])
