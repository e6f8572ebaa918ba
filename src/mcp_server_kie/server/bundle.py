"""The Claude Desktop bundle's manifest and icon, generated from the running server.

`python -m mcp_server_kie.server.bundle STAGE` starts this server in sandbox mode over stdio
(a throw-away data folder), asks it for tools/list and prompts/list, and writes
``STAGE/manifest.json`` (MCPB manifest 0.4) and ``STAGE/icon.png``. scripts/package-mcpb
stages the package beside them and packs the bundle with the official `mcpb` CLI.

Server type: ``uv`` (manifest 0.4, the type the MCPB spec recommends for Python with compiled
dependencies such as Pillow, av and pydantic): the bundle carries the source and
pyproject.toml, and the host's uv installs Python and the dependencies on the user's machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError
from PIL import Image, ImageDraw

from mcp_server_kie import __version__

ENTRY_POINT = "server/main.py"
LAUNCHER = '"""Entry point of the MCPB bundle: the mcp-server-kie command."""\n\n' + (
    "from mcp_server_kie.server.cli import main\n\nmain()\n"
)

USER_CONFIG: dict[str, dict[str, Any]] = {
    "api_key": {
        "type": "string",
        "title": "kie.ai API key",
        "description": "From https://kie.ai/api-key. Leave blank with the sandbox switched on.",
        "sensitive": True,
        "required": False,
    },
    "sandbox": {
        "type": "boolean",
        "title": "Sandbox (no account)",
        "description": "Use the embedded kie.ai simulator: real files, no key, no cost.",
        "default": False,
        "required": False,
    },
    "public_url": {
        "type": "string",
        "title": "Public webhook URL",
        "description": "Optional: a tunnel or proxy address that reaches the webhook port, so "
        "kie.ai can call back. Blank: jobs finish by polling.",
        "required": False,
    },
    "webhook_hmac_key": {
        "type": "string",
        "title": "Webhook HMAC key",
        "description": "Optional: kie.ai's webhook HMAC key (https://kie.ai/settings), to "
        "refuse forged callbacks.",
        "sensitive": True,
        "required": False,
    },
    "max_credits_per_job": {
        "type": "number",
        "title": "Spend limit per job (credits)",
        "description": "Optional: refuse a job expected to cost more (1 credit = US$0.005).",
        "min": 0,
        "required": False,
    },
    "max_credits_per_day": {
        "type": "number",
        "title": "Spend limit per day (credits)",
        "description": "Optional: refuse a job that takes the last 24 hours over this.",
        "min": 0,
        "required": False,
    },
}
ENV = {
    "KIE_API_KEY": "api_key",
    "KIE_SANDBOX": "sandbox",
    "KIE_PUBLIC_URL": "public_url",
    "KIE_WEBHOOK_HMAC_KEY": "webhook_hmac_key",
    "KIE_MAX_CREDITS_PER_JOB": "max_credits_per_job",
    "KIE_MAX_CREDITS_PER_DAY": "max_credits_per_day",
}


async def published_surface() -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """Tools and prompts as this server publishes them (names, descriptions, prompt text
    with ``${arguments.x}`` for each required argument)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIE_")}
    with tempfile.TemporaryDirectory(prefix="kie-bundle-") as scratch:
        env.update(KIE_DATA_DIR=scratch, KIE_WEBHOOK_PORT="0", KIE_LOG_LEVEL="WARNING")
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "mcp_server_kie", "--sandbox"], env=env
        )
        async with Client(params) as client:
            tools = [
                {"name": tool.name, "description": _first_paragraph(tool.description)}
                for tool in (await client.list_tools()).tools
            ]
            prompts = []
            for prompt in (await client.list_prompts()).prompts:
                arguments = prompt.arguments or []
                values = {a.name: f"${{arguments.{a.name}}}" for a in arguments if a.required}
                try:
                    result = await client.get_prompt(prompt.name, values)
                    text = "\n\n".join(
                        getattr(message.content, "text", "") for message in result.messages
                    ).strip()
                except MCPError:
                    text = ""
                prompts.append(
                    {
                        "name": prompt.name,
                        "description": prompt.description or "",
                        "arguments": [argument.name for argument in arguments],
                        "text": text or prompt.description or prompt.name,
                    }
                )
    return tools, prompts


def _first_paragraph(text: str | None) -> str:
    return (text or "").strip().split("\n\n", 1)[0].replace("\n", " ")


def manifest(tools: list[dict[str, str]], prompts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "manifest_version": "0.4",
        "name": "mcp-server-kie",
        "display_name": "kie.ai images, videos and audio",
        "version": __version__,
        "description": "Generate images and videos with kie.ai models; every result is kept "
        "in a local media library with a gallery.",
        "long_description": "Durable generation jobs (webhooks or polling), spend limits, a "
        "local library of every file, and a sandbox mode that needs no account.",
        "author": {"name": "mcp-server-kie contributors"},
        "icon": "icon.png",
        "server": {
            "type": "uv",
            "entry_point": ENTRY_POINT,
            "mcp_config": {
                "command": "uv",
                "args": ["run", "--directory", "${__dirname}", "--no-dev", ENTRY_POINT],
                "env": {name: f"${{user_config.{key}}}" for name, key in ENV.items()},
            },
        },
        "tools": tools,
        "tools_generated": False,
        "prompts": prompts,
        "prompts_generated": False,
        "user_config": USER_CONFIG,
        "compatibility": {
            "platforms": ["darwin", "win32", "linux"],
            "runtimes": {"python": ">=3.11"},
        },
        "keywords": ["image", "video", "generation", "kie.ai", "media"],
        "license": "MIT",
    }


def draw_icon(path: Path, size: int = 512) -> None:
    """A picture frame with a play mark: images and videos (PNG, square)."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    unit = size / 16
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=int(3 * unit), fill="#4f46e5")
    frame = (3 * unit, 4 * unit, 13 * unit, 12 * unit)
    draw.rounded_rectangle(frame, radius=int(unit), outline="white", width=int(unit * 0.8))
    draw.polygon(
        [(6.8 * unit, 6 * unit), (6.8 * unit, 10 * unit), (10.2 * unit, 8 * unit)], fill="white"
    )
    image.save(path, format="PNG")


def write_stage(stage: Path) -> dict[str, Any]:
    """manifest.json, icon.png and the launcher in ``stage``; the manifest."""
    tools, prompts = asyncio.run(published_surface())
    document = manifest(tools, prompts)
    (stage / "manifest.json").write_text(json.dumps(document, indent=2) + "\n")
    draw_icon(stage / "icon.png")
    launcher = stage / ENTRY_POINT
    launcher.parent.mkdir(parents=True, exist_ok=True)
    launcher.write_text(LAUNCHER)
    return document


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m mcp_server_kie.server.bundle STAGE_DIR")
    written = write_stage(Path(sys.argv[1]))
    sys.stderr.write(
        f"manifest: {len(written['tools'])} tools, {len(written['prompts'])} prompts\n"
    )
