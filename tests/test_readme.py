"""The README's tool reference is what tools/list publishes."""

from __future__ import annotations

import json
from pathlib import Path

from mcp_server_kie.catalog import summary
from mcp_server_kie.catalog.generate import DATA_FILE
from mcp_server_kie.server.reference import replace_section, tool_reference

README = Path(__file__).resolve().parent.parent / "README.md"


async def test_readme_tool_reference_matches_tools_list() -> None:
    readme = README.read_text()
    expected = replace_section(readme, await tool_reference())
    assert readme == expected, (
        "README.md's tool reference is out of date: run "
        "`python -m mcp_server_kie.server.reference README.md`"
    )


async def test_reference_names_every_argument_of_every_tool() -> None:
    reference = await tool_reference()
    for needle in ("### `generate_video`", "| `wait_seconds` |", "| `client_ref` |", "destructive"):
        assert needle in reference


def test_readme_models_section_matches_the_catalogue() -> None:
    readme = README.read_text()
    catalogue = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    section = summary.models_section(catalogue)
    assert readme == summary.replace_section(readme, section), (
        "README.md's models section is out of date: run scripts/update-catalog"
    )
    assert f"**{len(catalogue['models'])} models" in section and "scripts/update-catalog" in section
