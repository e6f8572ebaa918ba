"""Provider text loses whole terminal escape sequences, and the fragments (`[31m`) that an
earlier, character-by-character stripping of ESC leaves behind; ordinary brackets stay."""

from __future__ import annotations

import pytest

from mcp_server_kie.domain import clean_provider_text as clean_for_job
from mcp_server_kie.kie.wire import clean_provider_text as clean_from_wire

CASES = [
    ("\x1b[31mred\x1b[0m text", "red text"),  # CSI (SGR)
    ("[31mred[0m text", "red text"),  # SGR remnants: ESC already gone
    ("a [1;32mgreen[0m b [2K", "a green b"),
    ("failed: [1m[31mcontent policy[0m[39m", "failed: content policy"),
    ("\x1b]0;evil title\x07ok", "ok"),  # OSC ended by BEL
    ("\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ end", "link end"),  # hyperlink
    ("]0;title\x07 rest", "rest"),  # an OSC remnant
    ("\x9b31mx\x9b0m", "x"),  # 8-bit CSI
    ("\x1bPq#0;2;0;0;0\x1b\\sixel gone", "sixel gone"),  # DCS string
    ("\x1b(Bplain\x1b=", "plain"),  # two-character escapes
    ("trailing escape \x1b[", "trailing escape"),
    ("keep [5s] and [1m] and list[0] and [beta]", "keep [5s] and [1m] and list[0] and [beta]"),
]


@pytest.mark.parametrize(("raw", "clean"), CASES)
@pytest.mark.parametrize("cleaner", [clean_for_job, clean_from_wire])
def test_escape_sequences_and_their_fragments_are_removed(
    cleaner: object, raw: str, clean: str
) -> None:
    assert cleaner(raw) == clean  # type: ignore[operator]
