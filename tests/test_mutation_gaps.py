"""Tests written for mutants that survived scripts/mutation: each pins a behaviour of the
access policy, the /mcp guard, webhook rejections, cursors, filters, signing, the resolver
and redaction that no other test held."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
from starlette.requests import HTTPConnection

from mcp_server_kie.domain import UserInputError
from mcp_server_kie.jobs.budget import Budget
from mcp_server_kie.jobs.callbacks import (
    MAX_CALLBACK_BYTES,
    MAX_DEPTH,
    MAX_NUMBER_DIGITS,
    CallbackRejected,
    decode_callback,
)
from mcp_server_kie.kie.signing import sign, verify_signature
from mcp_server_kie.media.ssrf import SsrfPolicy, parse_allow_hosts, system_resolver
from mcp_server_kie.redaction import REDACTED, redact_text
from mcp_server_kie.server.access import LocalAccess, bearer_token, is_direct, is_local
from mcp_server_kie.storage import BadCursor, MediaQuery, Store, decode_cursor
from mcp_server_kie.storage.library import prompt_words
from test_access_mutants import TOKEN, http_runtime
from test_http_transport import INIT, MCP_HEADERS
from test_webhook_security import open_job


def connection(
    client: str | None = "127.0.0.1", headers: dict[str, str] | None = None, query: str = ""
) -> HTTPConnection:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "headers": raw,
        "client": (client, 50000) if client else None,
        "query_string": query.encode(),
        "path": "/",
    }
    return HTTPConnection(scope)


@pytest.mark.parametrize(
    ("client", "direct"),
    [("127.0.0.1", True), ("::1", True), ("::ffff:127.0.0.1", True), ("192.0.2.7", False),
     ("10.0.0.1", False), (None, False), ("not-an-address", False)],
)  # fmt: skip
def test_only_a_loopback_peer_is_direct(client: str | None, direct: bool) -> None:
    assert is_direct(connection(client, {"host": "localhost"})) is direct
    assert is_local(connection(client, {"host": "localhost"})) is direct


@pytest.mark.parametrize(
    ("host", "local"),
    [("localhost", True), ("127.0.0.1:8080", True), ("[::1]:9", True), ("LOCALHOST", True),
     ("evil.example", False), ("", False), ("[::1", False), ("localhost.evil.example", False)],
)  # fmt: skip
def test_only_a_loopback_host_header_is_local(host: str, local: bool) -> None:
    assert is_local(connection("127.0.0.1", {"host": host})) is local
    assert not is_local(connection("127.0.0.1", {}))  # no Host header at all


@pytest.mark.parametrize("scheme", ["Basic", "Token", "Bearer:", "Digest"])
def test_only_the_bearer_scheme_carries_a_token(scheme: str) -> None:
    conn = connection(headers={"authorization": f"{scheme} {TOKEN}"})
    assert bearer_token(conn) == ""
    assert LocalAccess(TOKEN).refusal(conn) == 401
    assert bearer_token(connection(headers={"authorization": f"bearer {TOKEN}"})) == TOKEN
    assert bearer_token(connection()) == ""  # no Authorization header
    # RFC 6750: one or more spaces after the scheme.
    assert bearer_token(connection(headers={"authorization": f"Bearer  {TOKEN}"})) == TOKEN


def test_without_a_token_configured_nothing_is_a_token() -> None:
    access = LocalAccess(None)
    assert not access.is_token("") and not access.is_token("anything")
    assert not access.token_required
    assert LocalAccess("").token_required is False


async def test_mcp_guard_answers_with_reasons_and_keeps_dns_rebinding_defence(
    tmp_path: Path,
) -> None:
    async with http_runtime(tmp_path / "t", TOKEN) as rt:
        base = rt.sidecar_url or ""
        async with httpx2.AsyncClient(base_url=base) as http:
            missing = await http.post("/mcp", json=INIT, headers=MCP_HEADERS)
            assert missing.status_code == 401
            assert missing.json() == {"error": "a bearer token is required (KIE_HTTP_TOKEN)"}
            assert missing.headers["www-authenticate"] == 'Bearer realm="mcp-server-kie"'
    async with http_runtime(tmp_path / "o", None) as rt:
        base = rt.sidecar_url or ""
        port = httpx2.URL(base).port
        async with httpx2.AsyncClient(base_url=base) as http:
            proxied = await http.post("/mcp", json=INIT, headers={**MCP_HEADERS, "X-Real-IP": "1"})
            assert proxied.json() == {"error": "not found"}
            for origin in (f"http://127.0.0.1:{port}", "https://localhost", "http://[::1]:1"):
                ok = await http.post("/mcp", json=INIT, headers={**MCP_HEADERS, "Origin": origin})
                assert ok.status_code == 200, origin
            foreign = {**MCP_HEADERS, "Origin": "http://evil.example"}
            assert (await http.post("/mcp", json=INIT, headers=foreign)).status_code == 403
            rebound = {**MCP_HEADERS, "Host": "evil.example"}
            assert (await http.post("/mcp", json=INIT, headers=rebound)).status_code == 421


async def test_webhook_rejections_say_why(tmp_path: Path) -> None:
    async with http_runtime(tmp_path, None) as rt:
        base = rt.sidecar_url or ""
        async with httpx2.AsyncClient(base_url=base) as http:
            unknown = await http.post("/webhooks/kie/not-a-job", json={})
            assert unknown.status_code == 404 and unknown.json() == {"error": "unknown job"}
            job = "job_" + "e" * 24
            bad_type = await http.post(f"/webhooks/kie/{job}", content=b"{}")
            assert bad_type.json() == {"error": "expected application/json"}
            no_job = await http.post(f"/webhooks/kie/{job}?token=x", json={})
            assert no_job.status_code == 404 and no_job.json() == {"error": "unknown job"}


@pytest.mark.parametrize(
    "payload",
    [["1.5", "job_x", "newest"], [1.5, 7, "newest"], ["a", 7, "newest"], [1.5, "job_x"]],
)
def test_cursors_with_fields_of_the_wrong_type_are_refused(payload: list[object]) -> None:
    cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    with pytest.raises(BadCursor, match="not one this server handed out"):
        decode_cursor(cursor, True)


def test_a_cursor_for_the_other_order_is_refused_with_advice() -> None:
    cursor = base64.urlsafe_b64encode(b'[1.5, "job_x", "oldest"]').decode().rstrip("=")
    with pytest.raises(BadCursor, match="other sort order"):
        decode_cursor(cursor, True)
    assert decode_cursor(cursor, False) == (1.5, "job_x")


def test_a_search_uses_at_most_twenty_words() -> None:
    words = [f"w{i}" for i in range(25)]
    assert prompt_words(" ".join(words)) == words[:20]


async def test_since_and_until_bound_the_listing(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "kie.sqlite3")
    try:
        await open_job(store, "job_" + "1" * 24, None)
        job = await store.get_job("job_" + "1" * 24)
        assert job is not None
        at = job.created_at
        assert len((await store.list_jobs(MediaQuery(since=at))).jobs) == 1
        assert len((await store.list_jobs(MediaQuery(since=at + 1))).jobs) == 0
        assert len((await store.list_jobs(MediaQuery(until=at + 1))).jobs) == 1
        assert len((await store.list_jobs(MediaQuery(until=at))).jobs) == 0
        assert len((await store.list_jobs(MediaQuery())).jobs) == 1
    finally:
        await store.close()


def test_signatures_need_a_key_and_a_task_id_that_are_non_empty_strings() -> None:
    ts = 1_700_000_000
    good = sign("key", "task1", ts)
    assert verify_signature("key", "task1", str(ts), good, now=ts)
    assert not verify_signature("", "task1", str(ts), sign("", "task1", ts), now=ts)
    assert not verify_signature("key", "", str(ts), sign("key", "", ts), now=ts)
    assert not verify_signature("key", 123, str(ts), good, now=ts)  # type: ignore[arg-type]
    assert not verify_signature(None, "task1", str(ts), good, now=ts)  # type: ignore[arg-type]


async def test_the_system_resolver_resolves_the_host_it_is_given() -> None:
    assert await system_resolver("127.0.0.2", 443) == ["127.0.0.2"]


def test_redaction_covers_the_fully_percent_encoded_form_of_a_secret() -> None:
    secret = "a/b c+d"
    text = "x=a%2Fb%20c%2Bd and a/b c+d"
    assert redact_text(text, secret) == f"x={REDACTED} and {REDACTED}"


@pytest.mark.parametrize(
    ("now", "tolerance"),
    [(None, 300), ("1700000000", 300), (1_700_000_000, None), (1_700_000_000, "300")],
)
def test_signatures_are_refused_when_the_clock_or_window_is_not_a_number(
    now: object, tolerance: object
) -> None:
    ts = 1_700_000_000
    good = sign("key", "task1", ts)
    assert not verify_signature(
        "key",
        "task1",
        str(ts),
        good,
        now=now,  # type: ignore[arg-type]
        tolerance=tolerance,  # type: ignore[arg-type]
    )


def test_float_length_limit_is_inclusive() -> None:
    at_limit = "1." + "5" * (MAX_NUMBER_DIGITS - 2)
    assert len(at_limit) == MAX_NUMBER_DIGITS
    assert decode_callback(f'{{"x": {at_limit}}}'.encode())["x"] == float(at_limit)
    with pytest.raises(CallbackRejected):
        decode_callback(f'{{"x": {at_limit}5}}'.encode())


async def test_a_chunked_body_is_counted_across_chunks_and_capped_at_the_limit(
    tmp_path: Path,
) -> None:
    """No Content-Length (chunked): the sidecar counts what arrives; exactly the limit is
    read (the token check then answers), one byte more is a 413."""

    def body(size: int, pieces: int) -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            data = b'{"p": "' + b"x" * (size - 9) + b'"}'
            assert len(data) == size
            step = -(-size // pieces)
            for start in range(0, size, step):
                yield data[start : start + step]

        return chunks()

    async with http_runtime(tmp_path, None) as rt:
        url = f"{rt.sidecar_url}/webhooks/kie/job_{'f' * 24}?token=t"
        headers = {"content-type": "application/json"}
        async with httpx2.AsyncClient() as http:
            for pieces in (1, 4):
                over = await http.post(
                    url, content=body(MAX_CALLBACK_BYTES + 1, pieces), headers=headers
                )
                assert over.status_code == 413 and over.json() == {"error": "body too large"}
                at = await http.post(url, content=body(MAX_CALLBACK_BYTES, pieces), headers=headers)
                assert at.status_code == 404, at.text  # read whole; then: no such job


def test_callback_limits_are_inclusive_and_rejections_name_the_reason() -> None:
    assert decode_callback(f'{{"n": {"9" * MAX_NUMBER_DIGITS}}}'.encode())["n"] > 0
    with pytest.raises(CallbackRejected):
        decode_callback(f'{{"n": {"9" * (MAX_NUMBER_DIGITS + 1)}}}'.encode())
    deepest = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert decode_callback(f'{{"d": {deepest}}}'.encode())  # the object is depth 1
    with pytest.raises(CallbackRejected):
        decode_callback(f'{{"d": [{deepest}]}}'.encode())
    exact = b'{"p": "' + b"x" * (MAX_CALLBACK_BYTES - 9) + b'"}'
    assert len(exact) == MAX_CALLBACK_BYTES and decode_callback(exact)
    for body, status, reason in [
        (exact + b" ", 413, "body too large"),
        (b"{not json", 400, "body is not valid JSON"),
        (b"[1, 2]", 400, "body is not a JSON object"),
    ]:
        with pytest.raises(CallbackRejected) as refused:
            decode_callback(body)
        assert (refused.value.status, refused.value.reason) == (status, reason)
        assert str(refused.value) == reason


def test_budget_refusals_state_the_cost_in_dollars_and_the_limit() -> None:
    with pytest.raises(UserInputError, match=r"cost 40 credits \(\$0\.20\).* 10 credits"):
        Budget(per_job=10.0, per_day=None).check("m", 40.0)
    message = Budget(per_job=None, per_day=30.0).over_daily_limit("m", 40.0, 0.0)
    assert "limit of 30 credits per day" in message and "40 credits" in message
    unknown = Budget(per_job=None, per_day=30.0).over_daily_limit("m", None, 31.0)
    assert unknown.startswith("This m request is expected to cost 0 credits, and 31 have been")


async def test_the_allow_list_ignores_case_and_literal_addresses_are_not_resolved() -> None:
    asked: list[tuple[str, int]] = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["93.184.215.14"]

    policy = SsrfPolicy(allow_hosts=parse_allow_hosts(["cdn.example"]), resolver=resolver)
    assert policy.allows("CDN.Example", 443)
    assert await policy.addresses("93.184.215.14", 443) == ["93.184.215.14"]
    assert asked == []
    assert await policy.addresses("files.example", 8443) == ["93.184.215.14"]
    assert asked == [("files.example", 8443)]
