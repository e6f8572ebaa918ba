"""The package as a user installs it (issue 17): the wheel and sdist carry every file of the
package folder (gallery assets and whatever data other modules add), and the wheel, installed
with `uv tool install` into a clean tool folder under a temporary HOME, serves tools/list in
sandbox mode over stdio."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

import mcp_server_kie

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "mcp_server_kie"


def package_files() -> set[str]:
    return {
        path.relative_to(PACKAGE.parent).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    return out


def test_wheel_and_sdist_carry_every_file_of_the_package(dist: Path) -> None:
    expected = package_files()
    assert "mcp_server_kie/server/gallery/index.html" in expected
    [wheel] = dist.glob("*.whl")
    assert f"-{mcp_server_kie.__version__}-" in wheel.name
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = {name for name in archive.namelist() if name.startswith("mcp_server_kie/")}
    assert expected - in_wheel == set()
    [sdist] = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        top = sdist.name.removesuffix(".tar.gz") + "/"
        in_sdist = {m.name.removeprefix(top) for m in archive.getmembers() if m.isfile()}
    assert {f"src/{name}" for name in expected} - in_sdist == set()
    assert {"README.md", "CHANGELOG.md", "pyproject.toml"} <= in_sdist


async def test_the_wheel_installed_with_uv_serves_tools_list_in_sandbox(
    dist: Path, tmp_path: Path
) -> None:
    [wheel] = dist.glob("*.whl")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIE_", "UV_", "VIRTUAL"))}
    env.update(
        HOME=str(home),
        UV_TOOL_DIR=str(tmp_path / "tools"),
        UV_TOOL_BIN_DIR=str(tmp_path / "bin"),
        UV_CACHE_DIR=str(tmp_path / "cache"),
        UV_PYTHON_DOWNLOADS="never",
    )
    uv = Path(sys.executable).parent / "uv"  # from the dev extras
    installing = await asyncio.create_subprocess_exec(
        str(uv),
        *("tool", "install", "--python", sys.executable, str(wheel)),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(installing.communicate(), 600)
    assert installing.returncode == 0, output.decode()
    command = tmp_path / "bin" / "mcp-server-kie"
    assert command.is_file()
    env.update(KIE_WEBHOOK_PORT="0", KIE_LOG_LEVEL="WARNING")
    params = StdioServerParameters(command=str(command), args=["--sandbox"], env=env, cwd=home)
    async with Client(params) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
    assert {"generate_image", "generate_video", "get_status", "list_media"} <= tools
    # Its library went to the temporary HOME's data folder, not the checkout.
    assert any(home.rglob("kie.sqlite3"))
