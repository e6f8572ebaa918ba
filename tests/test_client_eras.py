"""Every client era: old SDK clients read finished results, only what their protocol revision
knows reaches them, errors carry the spec's JSON-RPC codes, and output schemas are strict.

The 2025-03-26 client is the real Python ``mcp`` 1.9.4, installed into its own venv by
scripts/install-old-client, driving the server as a subprocess over stdio and over HTTP.
"""

from __future__ import annotations

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
from mcp import Client
from mcp.shared.exceptions import MCPError

from mcp_server_kie.server.app import build_server
from support import free_port, sandbox_and_runtime

ROOT = Path(__file__).resolve().parent.parent
OLD_PYTHON = ROOT / ".venv-mcp194" / "bin" / "python"
DRIVER = Path(__file__).with_name("clients") / "mcp194_drive.py"


@pytest.fixture(scope="session")
def old_client() -> Path:
    """The Python of a venv holding mcp 1.9.4 (installed on first use)."""
    subprocess.run(["bash", str(ROOT / "scripts" / "install-old-client")], check=True, timeout=600)
    return OLD_PYTHON


def drive(old_python: Path, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [str(old_python), str(DRIVER), *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def assert_old_client_read_the_result(report: dict[str, Any], data_dir: Path) -> None:
    assert report["protocol"] == "2025-03-26"
    assert "generate_image" in report["tools"]
    # Nothing the 2025-03-26 schema lacks: no titles, output schemas, _meta on tools.
    assert not {"title", "outputSchema", "_meta", "icons"} & set(report["tool_fields"])
    assert "resource_link" not in report["block_types"]
    assert report["block_types"][0] == "text" and "image" in report["block_types"]
    assert "structuredContent" not in report["extra_result_fields"]
    assert report["is_error"] is False
    job = report["job"]
    assert job["status"] == "completed"
    [output] = job["outputs"]
    path = Path(output["path"])
    assert path.is_relative_to(data_dir)
    assert report["resource_bytes"] == path.stat().st_size == output["bytes"]


def test_mcp_1_9_client_reads_a_finished_image_over_stdio(old_client: Path, tmp_path: Path) -> None:
    server = [sys.executable, "-m", "mcp_server_kie", "serve", "--sandbox"]
    report = drive(old_client, "stdio", *server, "--data-dir", str(tmp_path), "--port", "0")
    assert_old_client_read_the_result(report, tmp_path)


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


def test_mcp_1_9_client_reads_a_finished_image_over_http(
    old_client: Path, http_server: str, tmp_path: Path
) -> None:
    report = drive(old_client, "http", http_server)
    assert_old_client_read_the_result(report, tmp_path)


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
