"""The README's tool reference is what tools/list publishes."""

from __future__ import annotations

from pathlib import Path

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
