"""Every client era: old SDK clients read finished results, only what their protocol revision
knows reaches them, errors carry the spec's JSON-RPC codes, and output schemas are strict.

The 2025 clients are the released Python ``mcp`` SDKs of each era (1.9.4 for 2025-03-26,
1.22.0 for 2025-06-18, 1.30.0 for 2025-11-25), each installed into its own venv by
scripts/install-old-client, driving the server as a subprocess over stdio and over HTTP. The
2026-07-28 client is the project's own SDK.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import jsonschema
import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp.types import BlobResourceContents

from mcp_server_kie.server.app import build_server
from support import free_port, sandbox_and_runtime

ROOT = Path(__file__).resolve().parent.parent
DRIVER = Path(__file__).with_name("clients") / "sdk_drive.py"
# The protocol revision each released SDK negotiates, and the venv it lives in.
CLIENT_VENVS = {
    "2025-03-26": ".venv-mcp194",
    "2025-06-18": ".venv-mcp122",
    "2025-11-25": ".venv-mcp130",
}


@pytest.fixture(scope="session")
def old_clients() -> dict[str, Path]:
    """The Python of each era's SDK venv (installed on first use)."""
    subprocess.run(["bash", str(ROOT / "scripts" / "install-old-client")], check=True, timeout=900)
    return {era: ROOT / venv / "bin" / "python" for era, venv in CLIENT_VENVS.items()}


def drive(old_python: Path, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [str(old_python), str(DRIVER), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def stdio_server(data_dir: Path) -> list[str]:
    """The stdio server command line, as a host would start it."""
    command = [sys.executable, "-m", "mcp_server_kie", "serve", "--sandbox"]
    return [*command, "--data-dir", str(data_dir), "--port", "0"]


def assert_read_the_finished_image(report: dict[str, Any], era: str, data_dir: Path) -> None:
    """The client negotiated ``era``, saw only what its revision defines, and read the file."""
    assert report["protocol"] == era
    assert "generate_image" in report["tools"]
    fields = set(report["tool_fields"])
    assert not {"icons", "execution"} & fields or era == "2025-11-25"
    if era == "2025-03-26":
        # Nothing the 2025-03-26 schema lacks: no titles, output schemas, _meta on tools.
        assert not {"title", "outputSchema", "_meta"} & fields
        assert "resource_link" not in report["block_types"]
        assert report["has_structured_content"] is False
    else:
        assert "outputSchema" in fields
        assert report["block_types"][-1] == "resource_link"
        assert report["has_structured_content"] is True
    assert report["block_types"][0] == "text" and "image" in report["block_types"]
    assert report["is_error"] is False
    job = report["job"]
    assert job["status"] == "completed"
    [output] = job["outputs"]
    if era != "2025-03-26":
        assert report["links"] == [output["uri"]]
    path = Path(output["path"])
    assert path.is_relative_to(data_dir)
    assert report["resource_bytes"] == path.stat().st_size == output["bytes"]


@pytest.mark.parametrize("era", list(CLIENT_VENVS))
def test_each_eras_client_reads_a_finished_image_over_stdio(
    old_clients: dict[str, Path], era: str, tmp_path: Path
) -> None:
    report = drive(old_clients[era], "plain", "stdio", *stdio_server(tmp_path))
    assert_read_the_finished_image(report, era, tmp_path)


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mcp_server_kie",
            "serve",
            "--http",
            "--sandbox",
            "--data-dir",
            str(tmp_path),
            "--port",
            str(port),
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc)
        yield f"{base}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        assert proc.stderr is not None
        proc.stderr.close()


def _wait_healthy(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the HTTP server exited"
        try:
            if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("the HTTP server did not become healthy")


@pytest.mark.parametrize("era", list(CLIENT_VENVS))
def test_each_eras_client_reads_a_finished_image_over_http(
    old_clients: dict[str, Path], era: str, http_server: str, tmp_path: Path
) -> None:
    report = drive(old_clients[era], "plain", "http", http_server)
    assert_read_the_finished_image(report, era, tmp_path)


async def modern_client_reads_a_finished_image(client: Client, data_dir: Path) -> None:
    """The project's SDK on 2026-07-28: structured result, link, and the file's bytes."""
    assert client.protocol_version == "2026-07-28"
    result = await client.call_tool("generate_image", {"prompt": "a fox", "wait_seconds": 30})
    assert not result.is_error and result.structured_content is not None
    job = result.structured_content
    assert job["status"] == "completed"
    [output] = job["outputs"]
    assert [b.type for b in result.content][-1] == "resource_link"
    media = await client.read_resource(output["uri"])
    blob = media.contents[0]
    path = Path(output["path"])
    assert path.is_relative_to(data_dir)
    assert isinstance(blob, BlobResourceContents)
    assert len(base64.b64decode(blob.blob)) == path.stat().st_size == output["bytes"]


async def test_the_2026_client_reads_a_finished_image_over_stdio(tmp_path: Path) -> None:
    command, *args = stdio_server(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
    params = StdioServerParameters(command=command, args=args, env=env)
    async with Client(params, mode="2026-07-28") as client:
        await modern_client_reads_a_finished_image(client, tmp_path)


async def test_the_2026_client_reads_a_finished_image_over_http(
    http_server: str, tmp_path: Path
) -> None:
    async with Client(http_server, mode="2026-07-28") as client:
        await modern_client_reads_a_finished_image(client, tmp_path)


async def test_new_clients_keep_structured_results_and_links(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path) as (_sandbox, runtime):
        for mode in ("legacy", "2026-07-28"):
            async with Client(build_server(runtime.tools), mode=mode) as client:
                result = await client.call_tool(
                    "generate_image", {"prompt": "a fox", "wait_seconds": 20}
                )
                assert result.structured_content is not None
                assert result.structured_content["status"] == "completed"
                assert [b.type for b in result.content][-1] == "resource_link", mode


async def test_error_codes_are_the_specs(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path) as (_sandbox, runtime):
        for mode, not_found in (("legacy", -32002), ("2026-07-28", -32602)):
            async with Client(build_server(runtime.tools), mode=mode) as client:
                for uri in (
                    "job://job_000000000000000000000000",
                    "media://asset_000000000000000000000000",
                    "media://asset_000000000000000000000000/thumbnail",
                    "nothing://here",
                ):
                    with pytest.raises(MCPError) as missing:
                        await client.read_resource(uri)
                    assert missing.value.error.code == not_found, (mode, uri)
                bad_prompts: list[tuple[str, dict[str, str], str]] = [
                    ("storyboard", {"idea": "x", "frames": "10"}, "frames"),
                    ("storyboard", {}, "idea"),
                    ("no_such_prompt", {}, "no_such_prompt"),
                ]
                for name, args, named in bad_prompts:
                    with pytest.raises(MCPError) as invalid:
                        await client.get_prompt(name, args)
                    assert invalid.value.error.code == -32602, (mode, name, args)
                    assert named in invalid.value.error.message


def _empty_subschemas(schema: Any, where: str = "#") -> Iterator[str]:
    """Every place a sub-schema accepts anything: ``{}`` or only annotations."""
    annotations = {"title", "description", "default", "examples"}
    if isinstance(schema, dict):
        if not set(schema) - annotations:
            yield where
        for key, value in schema.items():
            if key in {"properties", "$defs", "patternProperties"} and isinstance(value, dict):
                for name, sub in value.items():
                    yield from _empty_subschemas(sub, f"{where}/{key}/{name}")
            elif key in {"items", "additionalProperties", "not", "contains"}:
                if isinstance(value, dict):
                    yield from _empty_subschemas(value, f"{where}/{key}")
            elif key in {"anyOf", "oneOf", "allOf", "prefixItems"} and isinstance(value, list):
                for index, sub in enumerate(value):
                    yield from _empty_subschemas(sub, f"{where}/{key}/{index}")


async def test_every_output_schema_is_strict_draft_2020_12(tmp_path: Path) -> None:
    async with sandbox_and_runtime(tmp_path) as (_sandbox, runtime):
        async with Client(build_server(runtime.tools)) as client:
            tools = (await client.list_tools()).tools
            models = await client.call_tool("list_models", {})
    checked = 0
    for tool in tools:
        if tool.output_schema is None:
            continue
        jsonschema.Draft202012Validator.check_schema(tool.output_schema)
        assert list(_empty_subschemas(tool.output_schema)) == [], tool.name
        checked += 1
    assert checked == len(tools)
    schema = next(t.output_schema for t in tools if t.name == "list_models")
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(models.structured_content)) == []
    assert list(_empty_subschemas({"properties": {"x": {}}})) == ["#/properties/x"]
