"""The Claude Desktop bundle (issue 17): scripts/package-mcpb builds mcp-server-kie.mcpb with
the official mcpb CLI (which validates the manifest), its manifest lists what tools/list and
prompts/list publish, and the bundle, unpacked into a clean folder, starts exactly as its
manifest says (uv, from the dev extras, with optional settings left as unsubstituted
placeholders) and lists its tools over stdio."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parents[1]


def require_npm() -> None:
    if shutil.which("npm") is None:
        reason = "npm is not installed: run scripts/install-node"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI must build the bundle: .ci/run installs Node.js)")
        pytest.skip(reason)


def expand(value: str, folder: Path, user_config: dict[str, str]) -> str:
    value = value.replace("${__dirname}", str(folder))
    for key, given in user_config.items():
        value = value.replace(f"${{user_config.{key}}}", given)
    return value  # anything left is what a host passes for a setting left blank


async def run(*command: str, env: dict[str, str] | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 600)
    assert process.returncode == 0, output.decode()[-3000:]
    return output.decode()


@pytest.mark.timeout(900)
async def test_the_bundle_validates_and_its_unpacked_server_lists_its_tools(
    tmp_path: Path,
) -> None:
    require_npm()
    bundle = tmp_path / "mcp-server-kie.mcpb"
    log = await run("bash", "scripts/package-mcpb", str(bundle))
    assert "Manifest schema validation passes" in log

    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(folder)
    manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text())
    assert manifest["server"]["type"] == "uv"
    assert (folder / manifest["server"]["entry_point"]).is_file()
    assert (folder / manifest["icon"]).is_file()
    names = {tool["name"] for tool in manifest["tools"]}
    assert {"generate_image", "generate_video", "get_status"} <= names
    assert {"storyboard", "variations", "find_media"} <= {p["name"] for p in manifest["prompts"]}
    assert manifest["user_config"]["api_key"]["sensitive"] is True
    assert {"public_url", "webhook_hmac_key", "max_credits_per_job", "sandbox"} <= set(
        manifest["user_config"]
    )

    # The runtime the manifest names (uv), alone on PATH besides the system's.
    tools_bin = tmp_path / "bin"
    tools_bin.mkdir()
    (tools_bin / "uv").symlink_to(Path(sys.executable).parent / "uv")
    home = tmp_path / "home"
    home.mkdir()
    config = manifest["server"]["mcp_config"]
    user_config = {"sandbox": "true"}  # the other settings left blank
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIE_", "UV_", "VIRTUAL"))}
    env.update(
        PATH=os.pathsep.join([str(tools_bin), "/usr/local/bin", "/usr/bin", "/bin"]),
        HOME=str(home),
        UV_CACHE_DIR=str(tmp_path / "uv-cache"),
        UV_PYTHON_DOWNLOADS="never",
        UV_PYTHON=str(Path(sys.base_prefix) / "bin" / "python3"),
    )
    env.update({k: expand(v, folder, user_config) for k, v in config["env"].items()})
    assert env["KIE_PUBLIC_URL"] == "${user_config.public_url}"
    command = shutil.which(config["command"], path=env["PATH"])
    assert command is not None
    params = StdioServerParameters(
        command=command,
        args=[expand(arg, folder, user_config) for arg in config["args"]],
        env=env,
        cwd=home,
    )
    async with Client(params) as client:
        listed = [tool.name for tool in (await client.list_tools()).tools]
    assert listed == [tool["name"] for tool in manifest["tools"]]  # generated from tools/list
