"""The README works in a clone: every relative link names a file in the repository, and
what a new user needs (sandbox prompt markers, run times) is written down (issue 17)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from mcp_server_kie.sandbox import FAIL_DIRECTIVE, SLOW_DIRECTIVE

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# [text](target) and ![alt](target); <https://...> autolinks are external by construction.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def relative_links(text: str) -> list[str]:
    links = []
    for target in LINK.findall(text):
        parts = urlsplit(target)
        if parts.scheme or target.startswith("#") or target.startswith("//"):
            continue
        links.append(unquote(parts.path))
    return links


def test_every_relative_link_in_the_readme_stays_in_the_repository() -> None:
    links = relative_links(README.read_text())
    assert "docs/gallery.png" in links  # the parser sees image links too
    for link in links:
        target = (ROOT / link).resolve()
        assert target.is_relative_to(ROOT), f"{link} leaves the repository"
        assert target.exists(), f"{link} does not exist in the repository"


def test_the_link_checker_catches_a_link_out_of_the_repository() -> None:
    links = relative_links("See [the map](../shared/ARCHITECTURE.md) and [x](https://kie.ai).")
    assert links == ["../shared/ARCHITECTURE.md"]
    assert not (ROOT / links[0]).resolve().is_relative_to(ROOT)


def test_the_sandbox_prompt_markers_are_documented() -> None:
    text = README.read_text()
    for marker in (FAIL_DIRECTIVE, SLOW_DIRECTIVE):
        assert f"`{marker}`" in text
