"""KieClient over httpx2.MockTransport: requests on the wire, envelopes, errors, network faults."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from mcp_server_kie.domain import TaskState
from mcp_server_kie.kie.client import KieClient
from mcp_server_kie.kie.errors import (
    KieAuthError,
    KieCreditsError,
    KieError,
    KieFeatureDisabledError,
    KieGenerationFailedError,
    KieNotFoundError,
    KieProtocolError,
    KieRateLimitError,
    KieUnavailableError,
    KieUncertainError,
    KieValidationError,
)

Load = Callable[[str], Any]
Handler = Callable[[httpx2.Request], httpx2.Response]
KEY = "sk-test-7c1e4b9f0a2d4e6b8c3f5a7d9e1b2c4d"
TID = "e931f4f24b0f6d5bc4744c719d3f67f3"
CODES: list[tuple[int, type[KieError]]] = [
    (400, KieValidationError),
    (401, KieAuthError),
    (402, KieCreditsError),
    (404, KieNotFoundError),
    (422, KieValidationError),
    (429, KieRateLimitError),
    (433, KieAuthError),
    (451, KieValidationError),
    (455, KieUnavailableError),
    (500, KieUnavailableError),
    (501, KieGenerationFailedError),
    (505, KieFeatureDisabledError),
    (550, KieUnavailableError),
    (599, KieUnavailableError),
    (418, KieProtocolError),
]


def client_for(handler: Handler, base_url: str = "https://api.kie.ai") -> KieClient:
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    return KieClient(http, api_key=KEY, base_url=base_url)


def reply(body: Any, status: int = 200, **headers: str) -> Handler:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, json=body, headers=headers)

    return handler


def raising(exc_type: type[httpx2.TransportError]) -> Handler:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise exc_type("simulated", request=request)

    return handler


async def create(client: KieClient) -> str:
    return await client.create_market_task("z-image", {"prompt": "fox"}, None)


def assert_no_key(error: BaseException) -> None:
    for text in (str(error), repr(error), *map(str, error.args)):
        assert KEY not in text
        assert KEY[3:15] not in text


async def test_create_sends_documented_request(load_fixture: Load) -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=load_fixture("create_success.json"))

    client = client_for(handler)
    callback = "https://example.org/webhooks/kie/j1?token=abc"
    task_id = await client.create_market_task("z-image", {"prompt": "fox"}, callback)
    assert task_id == "e989621f54392584b05867f87b160672"
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "https://api.kie.ai/api/v1/jobs/createTask"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "model": "z-image",
        "callBackUrl": callback,
        "input": {"prompt": "fox"},
    }


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api.kie.ai/", "https://api.kie.ai/api/v1/jobs/recordInfo?taskId=" + TID),
        (
            "http://127.0.0.1:8123/kie/",
            "http://127.0.0.1:8123/kie/api/v1/jobs/recordInfo?taskId=" + TID,
        ),
    ],
)
async def test_get_task_url_honours_base_url(
    load_fixture: Load, base_url: str, expected: str
) -> None:
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(str(request.url))
        assert request.method == "GET"
        assert request.headers["authorization"] == f"Bearer {KEY}"
        return httpx2.Response(200, json=load_fixture("recordinfo_live_success.json"))

    snapshot = await client_for(handler, base_url).get_market_task(TID)
    assert seen == [expected]
    assert snapshot.state is TaskState.SUCCESS
    assert snapshot.credits == 0.8
    assert len(snapshot.result_urls) == 1


async def test_get_task_fills_a_missing_task_id() -> None:
    client = client_for(reply({"code": 200, "msg": "success", "data": {"state": "queuing"}}))
    snapshot = await client.get_market_task(TID)
    assert (snapshot.task_id, snapshot.state) == (TID, TaskState.QUEUING)


async def test_get_task_rejects_an_answer_about_another_task(load_fixture: Load) -> None:
    body = load_fixture("recordinfo_doc_generating.json")  # taskId task_12345678
    with pytest.raises(KieProtocolError, match="task_12345678"):
        await client_for(reply(body)).get_market_task(TID)


async def test_get_task_rejects_a_malformed_id_without_sending() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise AssertionError("no request expected")

    with pytest.raises(ValueError, match="task id"):
        await client_for(handler).get_market_task("../credit")


async def test_credits_and_download_url(load_fixture: Load) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/api/v1/chat/credit":
            assert request.method == "GET"
            return httpx2.Response(200, json=load_fixture("credits_success.json"))
        assert request.url.path == "/api/v1/common/download-url"
        assert json.loads(request.content) == {"url": "https://tempfile.aiquickdraw.com/h/a.png"}
        return httpx2.Response(200, json=load_fixture("download_url_success.json"))

    client = client_for(handler)
    assert await client.get_credits() == 120.59
    link = await client.get_download_url("https://tempfile.aiquickdraw.com/h/a.png")
    assert link.startswith("https://tempfile.redpandaai.co/")


@pytest.mark.parametrize("link", [None, 5, "", "ftp://x/y", "http://[bad", "https://a b/c"])
async def test_download_url_of_the_wrong_shape(link: Any) -> None:
    client = client_for(reply({"code": 200, "msg": "success", "data": link}))
    with pytest.raises(KieProtocolError, match="no usable link"):
        await client.get_download_url("https://tempfile.aiquickdraw.com/h/a.png")


@pytest.mark.parametrize("data", [None, "lots", True, {"credits": 5}])
async def test_credits_of_the_wrong_shape(data: Any) -> None:
    with pytest.raises(KieProtocolError):
        await client_for(reply({"code": 200, "msg": "success", "data": data})).get_credits()


@pytest.mark.parametrize(("code", "error_type"), CODES)
@pytest.mark.parametrize("form", ["body-code", "http-status"])
async def test_codes_map_to_error_classes(code: int, error_type: type[KieError], form: str) -> None:
    status = 200 if form == "body-code" else code
    body = {"code": code, "msg": f"kie says {code}", "data": None}
    for call in (create, lambda c: c.get_market_task(TID), lambda c: c.get_credits()):
        with pytest.raises(error_type) as caught:
            await call(client_for(reply(body, status)))
        assert type(caught.value) is error_type
        assert caught.value.code == code
        assert f"kie says {code}" in caught.value.message
        assert f"({code})" in caught.value.message
        assert_no_key(caught.value)


def test_feature_disabled_is_a_validation_error() -> None:
    assert issubclass(KieFeatureDisabledError, KieValidationError)


async def test_auth_message_is_actionable(load_fixture: Load) -> None:
    with pytest.raises(KieAuthError) as caught:
        await client_for(reply(load_fixture("error_401.json"))).get_credits()
    assert "API key" in caught.value.message
    assert "KIE_API_KEY" in caught.value.message
    assert "You do not have access permissions" in caught.value.message
    assert caught.value.retryable is False


async def test_credits_message_names_pricing() -> None:
    with pytest.raises(KieCreditsError) as caught:
        await create(client_for(reply({"code": 402, "msg": "Credits insufficient"})))
    assert "https://kie.ai/pricing" in caught.value.message


async def test_playground_message_key_is_read() -> None:
    with pytest.raises(KieValidationError, match="prompt is required"):
        await create(client_for(reply({"code": 422, "message": "prompt is required"})))


@pytest.mark.parametrize(("status", "header"), [(200, "3"), (429, "7.5")])
async def test_rate_limit_reads_retry_after(status: int, header: str) -> None:
    client = client_for(
        reply({"code": 429, "msg": "rate limited"}, status, **{"Retry-After": header})
    )
    with pytest.raises(KieRateLimitError) as caught:
        await create(client)
    assert caught.value.retry_after == float(header)
    assert caught.value.retryable is True


async def test_rate_limit_without_retry_after() -> None:
    with pytest.raises(KieRateLimitError) as caught:
        await create(client_for(reply({"code": 429, "msg": "rate limited"})))
    assert caught.value.retry_after is None


def html(status: int) -> Handler:
    def handler(request: httpx2.Request) -> httpx2.Response:
        page = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
        return httpx2.Response(status, content=page, headers={"content-type": "text/html"})

    return handler


@pytest.mark.parametrize(
    ("handler", "error_type"),
    [
        (html(200), KieProtocolError),
        (html(404), KieProtocolError),
        (reply({"detail": "Not Found"}, 404), KieProtocolError),
        (reply({"message": "no code here"}), KieProtocolError),
        (reply(["not", "an", "envelope"]), KieProtocolError),
        (reply({"code": 404, "msg": "task not found"}, 404), KieNotFoundError),
        (html(502), KieUnavailableError),
        (html(503), KieUnavailableError),
        (html(401), KieAuthError),
        (html(429), KieRateLimitError),
    ],
)
async def test_replies_without_an_envelope_on_reads(
    handler: Handler, error_type: type[KieError]
) -> None:
    with pytest.raises(error_type) as caught:
        await client_for(handler).get_market_task(TID)
    assert type(caught.value) is error_type


async def test_non_json_reply_points_at_the_base_url() -> None:
    with pytest.raises(KieProtocolError) as caught:
        await client_for(html(200)).get_credits()
    assert "not JSON" in caught.value.message
    assert "base URL" in caught.value.message


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (502, KieUncertainError),
        (504, KieUncertainError),
        (503, KieUnavailableError),
        (200, KieProtocolError),
    ],
)
async def test_gateway_pages_on_create(status: int, error_type: type[KieError]) -> None:
    with pytest.raises(error_type) as caught:
        await create(client_for(html(status)))
    assert type(caught.value) is error_type


@pytest.mark.parametrize(
    "exc_type",
    [
        httpx2.ReadTimeout,
        httpx2.WriteTimeout,
        httpx2.RemoteProtocolError,
        httpx2.ReadError,
        httpx2.WriteError,
    ],
)
async def test_create_failing_after_send_is_uncertain(
    exc_type: type[httpx2.TransportError],
) -> None:
    with pytest.raises(KieUncertainError) as caught:
        await create(client_for(raising(exc_type)))
    assert caught.value.retryable is False
    assert "Do not resubmit" in caught.value.message
    assert_no_key(caught.value)


@pytest.mark.parametrize(
    "exc_type", [httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout]
)
async def test_create_that_never_connected_is_plainly_unavailable(
    exc_type: type[httpx2.TransportError],
) -> None:
    with pytest.raises(KieUnavailableError) as caught:
        await create(client_for(raising(exc_type)))
    assert not isinstance(caught.value, KieUncertainError)
    assert caught.value.retryable is True


@pytest.mark.parametrize(
    "exc_type",
    [httpx2.ReadTimeout, httpx2.RemoteProtocolError, httpx2.ReadError, httpx2.ConnectError],
)
async def test_read_failures_on_gets_are_unavailable(exc_type: type[httpx2.TransportError]) -> None:
    with pytest.raises(KieUnavailableError) as caught:
        await client_for(raising(exc_type)).get_market_task(TID)
    assert not isinstance(caught.value, KieUncertainError)
    assert caught.value.retryable is True
    with pytest.raises(KieUnavailableError) as caught:
        await client_for(raising(exc_type)).get_credits()
    assert not isinstance(caught.value, KieUncertainError)


async def test_create_accepted_without_task_id_is_uncertain() -> None:
    with pytest.raises(KieUncertainError, match="no usable task id"):
        await create(client_for(reply({"code": 200, "msg": "success", "data": {"recordId": 1}})))


async def test_redirects_are_not_followed() -> None:
    hosts: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        hosts.append(request.url.host)
        return httpx2.Response(302, headers={"location": "https://evil.example/steal"})

    with pytest.raises(KieProtocolError):
        await client_for(handler).get_credits()
    assert hosts == ["api.kie.ai"]


@pytest.mark.parametrize(
    ("creates", "error_type"), [(False, KieProtocolError), (True, KieUncertainError)]
)
async def test_oversized_reply(creates: bool, error_type: type[KieError]) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=b" " * (3 * 1024 * 1024))

    client = client_for(handler)
    with pytest.raises(error_type):
        await (create(client) if creates else client.get_credits())


async def test_provider_message_is_cleaned_capped_and_never_leaks_the_key() -> None:
    hostile = f"bad key {KEY} \u202egnp.exe\u200b \x1b[2J" + "y" * 5000
    with pytest.raises(KieAuthError) as caught:
        await create(client_for(reply({"code": 401, "msg": hostile})))
    message = caught.value.message
    assert_no_key(caught.value)
    assert "[redacted]" in message
    assert not any(ch in message for ch in "\u202e\u200b\x1b")
    assert len(message) < 600


async def test_key_split_by_invisible_characters_is_still_redacted() -> None:
    sneaky = "\u200b".join(KEY)
    with pytest.raises(KieValidationError) as caught:
        await create(client_for(reply({"code": 422, "msg": f"echo {sneaky}"})))
    assert_no_key(caught.value)


@pytest.mark.parametrize("key", ["", "   ", "key with space", "k\ney", "ключ"])
def test_constructor_rejects_unusable_keys(key: str) -> None:
    with pytest.raises(ValueError, match="API key") as caught:
        KieClient(httpx2.AsyncClient(), api_key=key)
    assert key.strip() == "" or key not in str(caught.value)


@pytest.mark.parametrize("base_url", ["api.kie.ai", "ftp://api.kie.ai", "https://api.kie.ai/?x=1"])
def test_constructor_rejects_bad_base_urls(base_url: str) -> None:
    with pytest.raises(ValueError, match="base URL"):
        KieClient(httpx2.AsyncClient(), api_key=KEY, base_url=base_url)


def test_repr_hides_the_key() -> None:
    assert KEY not in repr(KieClient(httpx2.AsyncClient(), api_key=KEY))
