"""Property: verify_signature never raises and never accepts junk, whatever the headers say."""

from __future__ import annotations

import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mcp_server_kie.kie.signing import sign, verify_signature  # noqa: E402

KEY = "whk_test_3f9a1c"
TASK = "ee9c2715375b7837f8bb51d641ff5863"
NOW = 1769670760
GOOD = sign(KEY, TASK, NOW)

header_text = st.one_of(st.none(), st.text(), st.text(alphabet="0123456789+-=/.eE naif "))


@settings(max_examples=400, deadline=None)
@given(
    key=st.text(),
    task_id=st.text(),
    timestamp=header_text,
    signature=header_text,
    now=st.floats(allow_nan=True, allow_infinity=True),
)
def test_never_raises(
    key: str, task_id: str, timestamp: str | None, signature: str | None, now: float
) -> None:
    assert verify_signature(key, task_id, timestamp, signature, now=now) in (True, False)


@settings(max_examples=300, deadline=None)
@given(timestamp=header_text, signature=header_text)
def test_junk_headers_are_rejected(timestamp: str | None, signature: str | None) -> None:
    if timestamp == str(NOW) and signature == GOOD:
        return
    assert verify_signature(KEY, TASK, timestamp, signature, now=NOW) is False
