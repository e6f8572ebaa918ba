"""Webhook authenticity and hostile input (reliability-security.md §6, cases 1-4 and 22).

With KIE_WEBHOOK_HMAC_KEY set, a callback must carry kie's signature over `taskId.timestamp`,
fresh within 300 s, for the task the body names and the job owns. Anything forged, replayed,
stale, tampered or malformed gets a 4xx, leaves every table as it was, makes no request to
kie, and logs no error. Signatures here come from the sandbox's own signer, an independent
implementation of kie's algorithm.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import string
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_server_kie.config import Settings
from mcp_server_kie.domain import ApiFamily, JobStatus, MediaKind
from mcp_server_kie.jobs import CallbackRejected, Engine, OutputStore, token_hash
from mcp_server_kie.kie.signing import verify_signature
from mcp_server_kie.media import Fetcher
from mcp_server_kie.media.local import LocalMediaStore
from mcp_server_kie.sandbox import Sandbox, SimTask, sign
from mcp_server_kie.server.runtime import Runtime, open_runtime
from mcp_server_kie.storage import NewJob, Store
from support import eventually, free_port, sandbox_and_runtime
from test_webhook_sidecar import callback_body, snapshot, start_job

KEY = "whk_security_test_key"
JSON = "application/json"


def signed(task_id: str, timestamp: int | None = None, key: str = KEY) -> dict[str, str]:
    """Headers exactly as kie sends them with the HMAC feature on."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "content-type": JSON,
        "X-Webhook-Timestamp": str(ts),
        "X-Webhook-Signature": sign(key, task_id, ts),
    }


def task_of(sandbox: Sandbox, job_id: str) -> SimTask:
    return next(
        t for t in sandbox.tasks.values() if t.callback_url and f"/{job_id}?" in t.callback_url
    )


def local_url(task: SimTask) -> str:
    """The callback URL's path and query, for a client whose base URL is the sidecar."""
    assert task.callback_url is not None
    parts = urlsplit(task.callback_url)
    return f"{parts.path}?{parts.query}"


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def our_log_text(caplog: pytest.LogCaptureFixture) -> str:
    """What the server itself logged (the test's own HTTP client logs the URLs it calls)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("mcp_server_kie"))


async def completed(runtime: Runtime, job_id: str) -> bool:
    job = await runtime.engine.get(job_id)
    return job is not None and job.status is JobStatus.COMPLETED


# --------------------------------------------------------------------------- case 1


async def test_forged_and_replayed_signatures_are_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with sandbox_and_runtime(tmp_path, image_seconds=30, hmac_key=KEY) as (sandbox, rt):
        sandbox.faults.drop_callbacks = True
        job_a = await start_job(rt, "job a [sandbox:slow]")
        job_b = await start_job(rt, "job b [sandbox:slow]")
        task_a, task_b = task_of(sandbox, job_a), task_of(sandbox, job_b)
        url_a, url_b = local_url(task_a), local_url(task_b)
        token_a = url_a.split("token=")[1]
        a_at_b = f"{url_b.split('?')[0]}?token={token_a}"
        a_at_nowhere = f"/webhooks/kie/job_{'0' * 24}?token={token_a}"
        body_a = json.dumps(callback_body(task_a.task_id)).encode()
        body_a_says_b = json.dumps(callback_body(task_b.task_id)).encode()
        good = signed(task_a.task_id)
        now = int(time.time())
        before = await snapshot(rt.engine.store)
        requests_before = len(sandbox.requests)

        cases: list[tuple[str, str, bytes, Mapping[str, str] | list[tuple[str, str]], int]] = [
            ("no signature headers", url_a, body_a, {"content-type": JSON}, 401),
            (
                "timestamp only",
                url_a,
                body_a,
                {"content-type": JSON, "X-Webhook-Timestamp": good["X-Webhook-Timestamp"]},
                401,
            ),
            (
                "signature only",
                url_a,
                body_a,
                {"content-type": JSON, "X-Webhook-Signature": good["X-Webhook-Signature"]},
                401,
            ),
            ("wrong key", url_a, body_a, signed(task_a.task_id, key="not-" + KEY), 401),
            ("signed for another task", url_a, body_a, signed(task_b.task_id), 401),
            ("another second", url_a, body_a, {**good, "X-Webhook-Timestamp": str(now - 1)}, 401),
            ("an hour old", url_a, body_a, signed(task_a.task_id, now - 3600), 401),
            ("body swapped to job b", url_a, body_a_says_b, good, 401),
            ("a's delivery replayed at b's url and token", url_b, body_a, good, 401),
            ("a's delivery at b's url with a's token", a_at_b, body_a, good, 403),
            ("a's delivery at an unknown job", a_at_nowhere, body_a, good, 404),
            (
                "signature header sent twice",
                url_a,
                body_a,
                [
                    ("content-type", JSON),
                    ("X-Webhook-Timestamp", good["X-Webhook-Timestamp"]),
                    ("X-Webhook-Signature", good["X-Webhook-Signature"]),
                    ("X-Webhook-Signature", sign("other", task_a.task_id, now)),
                ],
                401,
            ),
        ]  # fmt: skip
        async with httpx2.AsyncClient(base_url=rt.sidecar_url or "") as client:
            for name, url, content, headers, expected in cases:
                response = await client.post(url, content=content, headers=headers)
                assert response.status_code == expected, (name, response.text)
                assert await snapshot(rt.engine.store) == before, name
                assert len(sandbox.requests) == requests_before, name
            # The control: the same delivery, correctly signed and addressed, is accepted.
            response = await client.post(url_a, content=body_a, headers=signed(task_a.task_id))
            assert response.status_code == 200
        assert await rt.engine.store.count("webhook_inbox") == 1
    assert errors(caplog) == []
    logged = our_log_text(caplog)
    assert "rejected" in logged
    assert KEY not in logged and token_a not in logged


# --------------------------------------------------------------------------- case 2

NOW = 1_769_670_760.0
TOKEN = "callback-token-for-the-window-test"
TASK_ID = "e989621f54392584b05867f87b160672"


async def open_job(store: Store, job_id: str, task_id: str | None) -> None:
    await store.create_job(
        NewJob(
            id=job_id,
            kind=MediaKind.IMAGE,
            family=ApiFamily.MARKET,
            model="google/nano-banana",
            prompt="a lighthouse",
            params={},
            callback_token_hash=token_hash(TOKEN),
            callback_expected=True,
            idempotency_key=None,
            expected_credits=None,
        )
    )
    if task_id is not None:
        await store.mark_submitted(job_id, task_id)


def bare_engine(store: Store, fetcher: Fetcher, media: Path, now: float) -> Engine:
    """An engine in HMAC mode whose clock stands still at ``now`` (no kie client: accepting
    a delivery never talks to kie)."""
    return Engine(
        store,
        None,
        OutputStore(fetcher, LocalMediaStore(media)),
        webhook_hmac_key=KEY,
        clock=lambda: now,
    )


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(-301, False), (301, False), (-299, True), (299, True), (-300, True), (300, True)],
)
async def test_signature_window_is_300_seconds_either_way(
    tmp_path: Path, offset: int, accepted: bool
) -> None:
    """The engine's clock is frozen at NOW; a signature made at NOW+offset is judged."""
    store = await Store.open(tmp_path / "kie.sqlite3")
    try:
        async with Fetcher() as fetcher:
            engine = bare_engine(store, fetcher, tmp_path / "media", NOW)
            job_id = "job_" + "a" * 24
            await open_job(store, job_id, TASK_ID)
            before = await snapshot(store)
            ts = int(NOW) + offset
            body = json.dumps(callback_body(TASK_ID)).encode()
            deliver = engine.accept_callback(
                job_id, TOKEN, body, timestamp=str(ts), signature=sign(KEY, TASK_ID, ts)
            )
            if accepted:
                await deliver
                assert await store.count("webhook_inbox") == 1
            else:
                with pytest.raises(CallbackRejected) as rejected:
                    await deliver
                assert rejected.value.status == 401
                assert await snapshot(store) == before
    finally:
        await store.close()


# --------------------------------------------------------------------------- case 3

VERIFIER_TS = 1_769_670_760
VERIFIER_GOOD = sign(KEY, TASK_ID, VERIFIER_TS)

hostile_header = st.one_of(
    st.none(),
    st.just(""),
    st.just("v1"),
    st.just("v1," + VERIFIER_GOOD),
    st.just("!!!not-base64!!!"),
    st.just(" ".join(VERIFIER_GOOD)),  # base64 with spaces: a lenient decoder would accept it
    st.just(VERIFIER_GOOD.rstrip("=")),
    st.just(VERIFIER_GOOD + VERIFIER_GOOD),
    st.just(base64.b64encode(b"\x00" * 32).decode()),
    st.just("é" * 44),
    st.just("\ud800" * 44),
    st.sampled_from(["nan", "NaN", "inf", "1e10", "9" * 20, "-1", f"-{VERIFIER_TS}", "0"]),
    st.just(f"{VERIFIER_TS}.0"),
    st.just(f" {VERIFIER_TS}"),
    st.just(f"0{VERIFIER_TS}"),
    st.text(max_size=80),
    st.text(alphabet=string.ascii_letters + string.digits + "+/= ", max_size=60),
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(timestamp=hostile_header, signature=hostile_header, task_id=st.text(max_size=40))
def test_verifier_never_raises_and_accepts_only_the_real_signature(
    timestamp: str | None, signature: str | None, task_id: str
) -> None:
    result = verify_signature(KEY, task_id, timestamp, signature, now=VERIFIER_TS)
    genuine = task_id == TASK_ID and timestamp == str(VERIFIER_TS) and signature == VERIFIER_GOOD
    assert result is genuine


def test_verifier_accepts_the_real_signature_and_no_single_byte_change() -> None:
    assert verify_signature(KEY, TASK_ID, str(VERIFIER_TS), VERIFIER_GOOD, now=VERIFIER_TS)
    raw = bytearray(base64.b64decode(VERIFIER_GOOD))
    for index in range(len(raw)):
        flipped = raw.copy()
        flipped[index] ^= 0x01
        forged = base64.b64encode(bytes(flipped)).decode()
        assert not verify_signature(KEY, TASK_ID, str(VERIFIER_TS), forged, now=VERIFIER_TS)


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=12,
    )


GOOD_BODY = json.dumps(callback_body(TASK_ID)).encode()
hostile_body = st.one_of(
    st.binary(max_size=300),
    json_values().map(lambda v: json.dumps(v).encode()),
    json_values().map(lambda v: json.dumps({"data": {"taskId": TASK_ID, "x": v}}).encode()),
    st.tuples(st.integers(0, len(GOOD_BODY)), st.binary(min_size=1, max_size=8)).map(
        lambda cut: GOOD_BODY[: cut[0]] + cut[1] + GOOD_BODY[cut[0] :]
    ),
)


def test_engine_answers_fuzzed_headers_and_bodies_with_4xx_only(tmp_path: Path) -> None:
    """The whole accept path, not only the verifier: any header text is a 401 and any body
    a 400/413 (401 if it names another task than the signed one; 200 if it happens to be a
    well-formed callback for the task), never another exception; only accepted deliveries
    are written."""
    with asyncio.Runner() as runner:
        store = runner.run(Store.open(tmp_path / "kie.sqlite3"))
        fetcher = Fetcher()
        engine = bare_engine(store, fetcher, tmp_path / "media", float(VERIFIER_TS))
        job_id = "job_" + "b" * 24
        runner.run(open_job(store, job_id, TASK_ID))
        before = runner.run(snapshot(store))
        accepted = 0

        async def status(body: bytes, timestamp: str | None, signature: str | None) -> int:
            try:
                await engine.accept_callback(
                    job_id, TOKEN, body, timestamp=timestamp, signature=signature
                )
            except CallbackRejected as exc:
                return exc.status
            return 200

        @settings(max_examples=150, deadline=None)
        @given(timestamp=hostile_header, signature=hostile_header)
        def headers(timestamp: str | None, signature: str | None) -> None:
            if timestamp == str(VERIFIER_TS) and signature == VERIFIER_GOOD:
                return
            assert runner.run(status(GOOD_BODY, timestamp, signature)) == 401

        @settings(max_examples=300, deadline=None)
        @given(body=hostile_body)
        def bodies(body: bytes) -> None:
            nonlocal accepted
            code = runner.run(status(body, str(VERIFIER_TS), VERIFIER_GOOD))
            assert code in (200, 400, 401, 413)  # 401: the body names another task
            accepted += code == 200

        try:
            headers()
            assert runner.run(snapshot(store)) == before
            bodies()
            assert runner.run(store.count("webhook_inbox")) == accepted
            assert runner.run(store.count("job_events")) == len(before["job_events"])
        finally:
            runner.run(fetcher.aclose())
            runner.run(store.close())


HTTP_HEADER_CASES: list[tuple[str, dict[str, str | bytes]]] = [
    ("empty", {"X-Webhook-Timestamp": "", "X-Webhook-Signature": ""}),
    ("v1", {"X-Webhook-Signature": "v1"}),
    ("non-base64", {"X-Webhook-Signature": "%%%%not*base64%%%%"}),
    ("base64 with spaces", {"X-Webhook-Signature": "SPACED"}),
    ("non-ascii", {"X-Webhook-Signature": "é".encode("latin-1") * 44}),
    ("timestamp nan", {"X-Webhook-Timestamp": "nan"}),
    ("timestamp 1e10", {"X-Webhook-Timestamp": "1e10"}),
    ("timestamp 20 digits", {"X-Webhook-Timestamp": "9" * 20}),
    ("timestamp negative", {"X-Webhook-Timestamp": "-1"}),
    ("timestamp with decimals", {"X-Webhook-Timestamp": "NOW.0"}),
    ("random text", {"X-Webhook-Timestamp": "tomorrow", "X-Webhook-Signature": "trust me"}),
]


async def test_fuzzed_auth_headers_over_http_get_401(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with sandbox_and_runtime(tmp_path, image_seconds=30, hmac_key=KEY) as (sandbox, rt):
        sandbox.faults.drop_callbacks = True
        job_id = await start_job(rt)
        task = task_of(sandbox, job_id)
        body = json.dumps(callback_body(task.task_id)).encode()
        before = await snapshot(rt.engine.store)
        async with httpx2.AsyncClient(base_url=rt.sidecar_url or "") as client:
            for name, overrides in HTTP_HEADER_CASES:
                headers: dict[str, str | bytes] = dict(signed(task.task_id))
                for header, value in overrides.items():
                    if value == "SPACED":
                        value = " ".join(str(headers["X-Webhook-Signature"]))
                    elif value == "NOW.0":
                        value = f"{headers['X-Webhook-Timestamp']}.0"
                    headers[header] = value
                response = await client.post(local_url(task), content=body, headers=headers)
                assert response.status_code in (400, 401), (name, response.status_code)
                assert await snapshot(rt.engine.store) == before, name
    assert errors(caplog) == []


# --------------------------------------------------------------------------- case 4


@pytest.mark.parametrize(
    "target",
    ["canary", "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd"],
)
async def test_tampered_body_with_valid_signature_downloads_only_what_kie_reports(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, target: str
) -> None:
    hits: list[object] = []

    async def canary(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hits.append(writer.get_extra_info("peername"))
        writer.close()

    server = await asyncio.start_server(canary, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}/steal.png" if target == "canary" else target
    try:
        async with sandbox_and_runtime(tmp_path, image_seconds=0.2, hmac_key=KEY) as (sb, rt):
            sb.faults.drop_callbacks = True
            job_id = await start_job(rt, "a harbour at night")
            task = task_of(sb, job_id)
            await eventually(lambda: sb.clock() >= task.completed_at, what="task done")
            body = task.callback_body(sb.clock())
            forged = json.dumps({"resultUrls": [url], "resultUrl": url})
            body["data"]["resultJson"] = forged
            body["data"]["resultUrls"] = [url]
            body["data"]["info"] = {"resultUrls": [url], "result_urls": [url]}
            async with httpx2.AsyncClient() as client:
                assert task.callback_url is not None
                response = await client.post(
                    task.callback_url, json=body, headers=signed(task.task_id)
                )
            assert response.status_code == 200
            await eventually(lambda: completed(rt, job_id), what="job completed")
            job = await rt.engine.get(job_id)
            assert job is not None
            [asset] = job.assets
            assert asset.source_url == task.result_urls[0]
            assert asset.sha256 == sb.served_sha256(task.result_urls[0])
            assert Path(asset.path).read_bytes()[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0")
    finally:
        server.close()
        await server.wait_closed()
    assert hits == []
    assert errors(caplog) == []


# --------------------------------------------------------------------------- case 22


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def hostile_bodies(task_id: str) -> list[tuple[str, bytes, int]]:
    """Bodies that name the signed task id somewhere, so only the body's shape is at fault."""
    t = json.dumps(task_id)
    other = json.dumps("f" * 32)
    pair = f'"taskId": {t}'
    other_pair = f'"taskId": {other}'
    deep_object = '{"a": ' * 40 + "1" + "}" * 40
    return [
        ("arrays nested 1000 deep", f'{{"data": {{"taskId": {t}, "x": {nested(1000)}}}}}', 400),
        ("objects nested 40 deep", f'{{"data": {{"taskId": {t}, "x": {deep_object}}}}}', 400),
        ("arrays nested 20000 deep", f'{{"data": {{"taskId": {t}, "x": {nested(20_000)}}}}}', 400),
        ("5000-digit integer", f'{{"code": {"7" * 5000}, "data": {{"taskId": {t}}}}}', 400),
        ("40-digit integer", f'{{"code": {"7" * 40}, "data": {{"taskId": {t}}}}}', 400),
        ("NaN", f'{{"code": NaN, "data": {{"taskId": {t}}}}}', 400),
        ("Infinity", f'{{"code": 200, "data": {{"taskId": {t}, "costTime": -Infinity}}}}', 400),
        ("1e999, which is inf", f'{{"code": 200, "data": {{{pair}, "costTime": 1e999}}}}', 400),
        ("duplicate taskId, signed one last", f'{{"data": {{{other_pair}, {pair}}}}}', 400),
        ("duplicate taskId, signed one first", f'{{"data": {{{pair}, {other_pair}}}}}', 400),
        ("duplicate data", f'{{"data": {{"taskId": {t}}}, "data": {{"taskId": {other}}}}}', 400),
        ("lone surrogate in a value", f'{{"data": {{"taskId": {t}, "state": "\\ud800"}}}}', 400),
        ("lone surrogate in a key", f'{{"data": {{"taskId": {t}, "\\udfff": 1}}}}', 400),
        ("no task id at all", '{"code": 200, "data": {}}', 400),
        ("a JSON array", f"[{t}]", 400),
        ("empty", "", 400),
    ]  # fmt: skip


async def test_hostile_bodies_get_4xx_and_change_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with sandbox_and_runtime(tmp_path, image_seconds=30, hmac_key=KEY) as (sandbox, rt):
        sandbox.faults.drop_callbacks = True
        job_id = await start_job(rt)
        task = task_of(sandbox, job_id)
        url = local_url(task)
        good = json.dumps(callback_body(task.task_id)).encode()
        form = {**signed(task.task_id), "content-type": "application/x-www-form-urlencoded"}
        untyped = {k: v for k, v in signed(task.task_id).items() if k != "content-type"}
        before = await snapshot(rt.engine.store)
        requests_before = len(sandbox.requests)
        cases: list[tuple[str, bytes, dict[str, str], int]] = [
            (name, text.encode("utf-8"), signed(task.task_id), status)
            for name, text, status in hostile_bodies(task.task_id)
        ]
        cases += [
            ("invalid UTF-8", good.replace(b"success", b"succ\xffess"), signed(task.task_id), 400),
            ("UTF-8 BOM", b"\xef\xbb\xbf" + good, signed(task.task_id), 400),
            ("text/plain", good, {**signed(task.task_id), "content-type": "text/plain"}, 415),
            ("form", good, form, 415),
            ("no content type", good, untyped, 415),
            ("just over 64 KiB", good + b" " * (64 * 1024), signed(task.task_id), 413),
            ("10 MB", b" " * 10_000_000 + good, signed(task.task_id), 413),
        ]  # fmt: skip
        async with httpx2.AsyncClient(base_url=rt.sidecar_url or "") as client:
            for name, content, headers, expected in cases:
                response = await client.post(url, content=content, headers=headers)
                assert response.status_code == expected, (name, response.text)
                assert await snapshot(rt.engine.store) == before, name

            async def chunks() -> Any:
                for _ in range(160):  # 10 MB with no Content-Length: counted while streaming
                    yield b" " * 65_536

            response = await client.post(url, content=chunks(), headers=signed(task.task_id))
            assert response.status_code == 413
            assert await snapshot(rt.engine.store) == before
            assert len(sandbox.requests) == requests_before
            response = await client.post(url, content=good, headers=signed(task.task_id))
            assert response.status_code == 200
    assert errors(caplog) == []
    assert "Traceback" not in caplog.text


async def test_oversized_body_is_refused_before_it_is_sent(tmp_path: Path) -> None:
    """A declared 10 MB body is answered 413 after its headers alone: the sidecar does not
    wait for (or read) the body."""
    async with sandbox_and_runtime(tmp_path, image_seconds=30, hmac_key=KEY) as (sandbox, rt):
        sandbox.faults.drop_callbacks = True
        job_id = await start_job(rt)
        task = task_of(sandbox, job_id)
        sidecar = urlsplit(rt.sidecar_url or "")
        reader, writer = await asyncio.open_connection(sidecar.hostname, sidecar.port)
        head = [f"POST {local_url(task)} HTTP/1.1", f"Host: {sidecar.netloc}"]
        head += [f"{k}: {v}" for k, v in signed(task.task_id).items()]
        head += ["Content-Length: 10000000", "", ""]
        writer.write("\r\n".join(head).encode() + b"{")
        await writer.drain()
        async with asyncio.timeout(5):
            status_line = await reader.readline()
        writer.close()
        assert status_line.split()[1] == b"413"
        assert await rt.engine.store.count("webhook_inbox") == 0


# --------------------------------------------------------------------------- configuration


async def test_sandbox_mode_signs_with_the_configured_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """KIE_SANDBOX with KIE_WEBHOOK_HMAC_KEY: the simulator signs, the sidecar checks, and the
    job finishes through the callback (the poller would not look for 30 s)."""
    settings = Settings(
        sandbox=True,
        webhook_hmac_key=KEY,  # type: ignore[arg-type]
        data_dir=tmp_path,
        webhook_port=free_port(),
        sandbox_image_seconds=0.2,
    )
    async with open_runtime(settings) as rt:
        job_id = await start_job(rt, "a lighthouse")
        await eventually(lambda: completed(rt, job_id), what="job completed")
        assert await rt.engine.store.count("webhook_inbox") == 1
    assert "rejected" not in our_log_text(caplog)
    assert KEY not in our_log_text(caplog)


@pytest.mark.parametrize(("key", "warned"), [(None, True), (KEY, False)])
async def test_public_webhooks_without_a_key_are_flagged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, key: str | None, warned: bool
) -> None:
    async with sandbox_and_runtime(tmp_path, hmac_key=key):
        pass
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("KIE_WEBHOOK_HMAC_KEY" in r.getMessage() for r in warnings) is warned
