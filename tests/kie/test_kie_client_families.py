"""KieClient.create_task / get_task / get_veo_1080p_url over httpx2.MockTransport, per family."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from mcp_server_kie.domain import ApiFamily, TaskState
from mcp_server_kie.kie.client import KieClient
from mcp_server_kie.kie.errors import (
    KieAuthError,
    KieError,
    KieGenerationFailedError,
    KieProtocolError,
    KieUnavailableError,
    KieUncertainError,
    KieValidationError,
)

Load = Callable[[str], Any]
Handler = Callable[[httpx2.Request], httpx2.Response]
KEY = "sk-test-0f4e2a9c7b1d4e3f8a6c5b2d1e0f9a8b"
CALLBACK = "https://example.org/webhooks/kie/j1?token=abc"


def client_for(handler: Handler) -> KieClient:
    return KieClient(httpx2.AsyncClient(transport=httpx2.MockTransport(handler)), api_key=KEY)


def reply(body: Any, status: int = 200) -> Handler:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, json=body)

    return handler


def assert_no_key(error: BaseException) -> None:
    for text in (str(error), repr(error), *map(str, error.args)):
        assert KEY not in text
        assert KEY[8:20] not in text


# family, model, snake input, expected path, expected body, create fixture, expected task id
CREATES: list[tuple[ApiFamily, str, dict[str, Any], str, dict[str, Any], str, str]] = [
    (
        ApiFamily.MARKET,
        "z-image",
        {"prompt": "fox", "aspect_ratio": "1:1"},
        "/api/v1/jobs/createTask",
        {
            "model": "z-image",
            "callBackUrl": CALLBACK,
            "input": {"prompt": "fox", "aspect_ratio": "1:1"},
        },
        "create_success.json",
        "e989621f54392584b05867f87b160672",
    ),
    (
        ApiFamily.GPT4O_IMAGE,
        "gpt-4o-image",
        {"prompt": "fox", "size": "3:2", "n_variants": 2, "is_enhance": True},
        "/api/v1/gpt4o-image/generate",
        {
            "prompt": "fox",
            "size": "3:2",
            "nVariants": 2,
            "isEnhance": True,
            "callBackUrl": CALLBACK,
        },
        "gpt4o_create_openapi.json",
        "task12345",
    ),
    (
        ApiFamily.VEO,
        "veo3_fast",
        {"prompt": "fox", "aspect_ratio": "9:16", "duration": 8, "resolution": "1080p"},
        "/api/v1/veo/generate",
        {
            "model": "veo3_fast",
            "prompt": "fox",
            "aspect_ratio": "9:16",
            "duration": 8,
            "resolution": "1080p",
            "callBackUrl": CALLBACK,
        },
        "veo_create_openapi.json",
        "veo_task_abcdef123456",
    ),
    (
        ApiFamily.RUNWAY,
        "runway",
        {
            "prompt": "fox",
            "duration": 5,
            "quality": "720p",
            "aspect_ratio": "4:3",
            "water_mark": "",
        },
        "/api/v1/runway/generate",
        {
            "prompt": "fox",
            "duration": 5,
            "quality": "720p",
            "aspectRatio": "4:3",
            "waterMark": "",
            "callBackUrl": CALLBACK,
        },
        "runway_create_quickstart.json",
        "ee603959-debb-48d1-98c4-a6d1c717eba6",
    ),
    (
        ApiFamily.SUNO,
        "suno",
        {"prompt": "fox", "model": "V5", "custom_mode": False, "instrumental": True},
        "/api/v1/generate",
        {
            "prompt": "fox",
            "model": "V5",
            "customMode": False,
            "instrumental": True,
            "callBackUrl": CALLBACK,
        },
        "suno_create_doc.json",
        "5c79be8e5c79be8e5c79be8e5c79be8e",
    ),
]


@pytest.mark.parametrize(("family", "model", "snake", "path", "body", "fixture", "tid"), CREATES)
async def test_create_task_sends_the_mapped_body(
    load_fixture: Load,
    family: ApiFamily,
    model: str,
    snake: dict[str, Any],
    path: str,
    body: dict[str, Any],
    fixture: str,
    tid: str,
) -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=load_fixture(fixture))

    assert await client_for(handler).create_task(family, model, snake, CALLBACK) == tid
    (request,) = seen
    assert (request.method, request.url.host, request.url.path) == ("POST", "api.kie.ai", path)
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == body


@pytest.mark.parametrize(
    "family", [ApiFamily.GPT4O_IMAGE, ApiFamily.VEO, ApiFamily.RUNWAY, ApiFamily.SUNO]
)
async def test_unknown_snake_key_sends_nothing(family: ApiFamily) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise AssertionError("nothing may be sent")

    with pytest.raises(ValueError, match="callBackUrl"):
        await client_for(handler).create_task(family, "veo3", {"callBackUrl": "x"}, None)


async def test_family_may_be_given_by_value_and_unknown_families_are_refused(
    load_fixture: Load,
) -> None:
    client = client_for(reply(load_fixture("runway_create_quickstart.json")))
    task_id = await client.create_task("runway", "runway", {"prompt": "p"}, None)  # type: ignore[arg-type]
    assert task_id == "ee603959-debb-48d1-98c4-a6d1c717eba6"
    with pytest.raises(ValueError, match="family"):
        await client.create_task("midjourney", "x", {}, None)  # type: ignore[arg-type]


def sample_create(family: ApiFamily) -> tuple[str, dict[str, Any]]:
    """A model and a snake_case input each family's create body accepts."""
    source = {"task_id": "veo_task_abcdef123456"}
    return {
        ApiFamily.VEO: ("veo3", {"prompt": "p"}),
        ApiFamily.SUNO: ("m", {"prompt": "p", "model": "V5"}),
        ApiFamily.FLUX_KONTEXT: ("flux-kontext-pro", {"prompt": "p"}),
        ApiFamily.VEO_EXTEND: ("veo3-extend", {**source, "prompt": "p"}),
        ApiFamily.VEO_1080P: ("veo3-1080p", source),
        ApiFamily.VEO_4K: ("veo3-4k", source),
        ApiFamily.RUNWAY_EXTEND: ("runway-extend", {**source, "prompt": "p", "quality": "720p"}),
        ApiFamily.ALEPH: ("runway-aleph", {"prompt": "p", "video_url": "https://e.com/v.mp4"}),
    }.get(family, ("m", {"prompt": "p"}))


# family, record fixture, expected path, expected state, expected result count
RECORDS: list[tuple[ApiFamily, str, str, TaskState, int]] = [
    (
        ApiFamily.MARKET,
        "recordinfo_live_success.json",
        "/api/v1/jobs/recordInfo",
        TaskState.SUCCESS,
        1,
    ),
    (
        ApiFamily.GPT4O_IMAGE,
        "gpt4o_record_quickstart_generating.json",
        "/api/v1/gpt4o-image/record-info",
        TaskState.GENERATING,
        0,
    ),
    (
        ApiFamily.GPT4O_IMAGE,
        "gpt4o_record_quickstart_success.json",
        "/api/v1/gpt4o-image/record-info",
        TaskState.SUCCESS,
        1,
    ),
    (
        ApiFamily.VEO,
        "veo_record_openapi_success.json",
        "/api/v1/veo/record-info",
        TaskState.SUCCESS,
        1,
    ),
    (
        ApiFamily.RUNWAY,
        "runway_record_derived_queueing.json",
        "/api/v1/runway/record-detail",
        TaskState.QUEUING,
        0,
    ),
    (
        ApiFamily.RUNWAY,
        "runway_record_quickstart_success.json",
        "/api/v1/runway/record-detail",
        TaskState.SUCCESS,
        1,
    ),
    (
        ApiFamily.SUNO,
        "suno_record_doc_text.json",
        "/api/v1/generate/record-info",
        TaskState.GENERATING,
        0,
    ),
    (
        ApiFamily.SUNO,
        "suno_record_doc_success.json",
        "/api/v1/generate/record-info",
        TaskState.SUCCESS,
        2,
    ),
]


@pytest.mark.parametrize(("family", "fixture", "path", "state", "count"), RECORDS)
async def test_get_task_reads_the_family_endpoint(
    load_fixture: Load, family: ApiFamily, fixture: str, path: str, state: TaskState, count: int
) -> None:
    body = load_fixture(fixture)
    task_id = body["data"]["taskId"]
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=body)

    snapshot = await client_for(handler).get_task(family, task_id)
    (request,) = seen
    assert (request.method, request.url.path) == ("GET", path)
    assert dict(request.url.params) == {"taskId": task_id}
    assert (snapshot.task_id, snapshot.state, len(snapshot.result_urls)) == (task_id, state, count)


async def test_get_task_refuses_an_answer_about_another_task(load_fixture: Load) -> None:
    client = client_for(reply(load_fixture("veo_record_openapi_success.json")))
    with pytest.raises(KieProtocolError, match="veo_task_abcdef123456"):
        await client.get_task(ApiFamily.VEO, "veo_task_other")


async def test_get_task_fills_a_missing_task_id() -> None:
    client = client_for(reply({"code": 200, "msg": "success", "data": {"state": "wait"}}))
    snapshot = await client.get_task(ApiFamily.RUNWAY, "ee603959-debb-48d1-98c4-a6d1c717eba6")
    assert snapshot.state is TaskState.WAITING


@pytest.mark.parametrize("family", list(ApiFamily))
@pytest.mark.parametrize(
    ("code", "error_type"),
    [(401, KieAuthError), (422, KieValidationError), (500, KieUnavailableError)],
)
async def test_errors_never_carry_the_key(
    family: ApiFamily, code: int, error_type: type[KieError]
) -> None:
    body = {"code": code, "msg": f"echo Bearer {KEY}", "data": None}
    model, snake = sample_create(family)
    for call in (
        lambda c: c.create_task(family, model, snake, None),
        lambda c: c.get_task(family, "task12345"),
    ):
        with pytest.raises(error_type) as caught:
            await call(client_for(reply(body)))
        assert_no_key(caught.value)
        assert "[redacted]" in caught.value.message
        assert KEY not in caught.value.provider_message


@pytest.mark.parametrize(
    "family", [ApiFamily.GPT4O_IMAGE, ApiFamily.VEO, ApiFamily.RUNWAY, ApiFamily.SUNO]
)
async def test_create_timeouts_are_uncertain(family: ApiFamily) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("simulated", request=request)

    model = "veo3" if family is ApiFamily.VEO else "m"
    snake = {"prompt": "p", "model": "V5"} if family is ApiFamily.SUNO else {"prompt": "p"}
    with pytest.raises(KieUncertainError) as caught:
        await client_for(handler).create_task(family, model, snake, None)
    assert caught.value.retryable is False
    assert_no_key(caught.value)


async def test_veo_1080p_url_and_request(load_fixture: Load) -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=load_fixture("veo_1080p_success.json"))

    link = await client_for(handler).get_veo_1080p_url("veo_task_abcdef123456", index=1)
    assert link == load_fixture("veo_1080p_success.json")["data"]["resultUrl"]
    (request,) = seen
    assert (request.method, request.url.path) == ("GET", "/api/v1/veo/get-1080p-video")
    assert dict(request.url.params) == {"taskId": "veo_task_abcdef123456", "index": "1"}


@pytest.mark.parametrize("status", [200, 400])
async def test_veo_1080p_is_none_while_processing(load_fixture: Load, status: int) -> None:
    client = client_for(reply(load_fixture("veo_1080p_processing.json"), status))
    assert await client.get_veo_1080p_url("veo_task_abcdef123456") is None


async def test_veo_1080p_processing_reported_as_500_is_none_too() -> None:
    client = client_for(reply({"code": 500, "msg": "1080P is processing", "data": None}))
    assert await client.get_veo_1080p_url("veo_task_abcdef123456") is None


async def test_veo_1080p_empty_success_is_none() -> None:
    client = client_for(reply({"code": 200, "msg": "success", "data": {"resultUrl": ""}}))
    assert await client.get_veo_1080p_url("veo_task_abcdef123456") is None


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        ({"code": 422, "msg": "record status is not success"}, KieValidationError),
        ({"code": 400, "msg": "Your prompt was flagged"}, KieValidationError),
        ({"code": 500, "msg": "Internal error, please try again later."}, KieUnavailableError),
        ({"code": 501, "msg": "1080P generation failed"}, KieGenerationFailedError),
        ({"code": 401, "msg": "You do not have access permissions"}, KieAuthError),
        ({"code": 200, "msg": "success", "data": {"resultUrl": "ftp://x/y.mp4"}}, KieProtocolError),
    ],
)
async def test_veo_1080p_errors(body: dict[str, Any], error_type: type[KieError]) -> None:
    with pytest.raises(error_type):
        await client_for(reply(body)).get_veo_1080p_url("veo_task_abcdef123456")


async def test_veo_1080p_network_failure_is_unavailable() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("simulated", request=request)

    with pytest.raises(KieUnavailableError) as caught:
        await client_for(handler).get_veo_1080p_url("veo_task_abcdef123456")
    assert caught.value.retryable is True


@pytest.mark.parametrize(("task_id", "index"), [("../x", 0), ("veo_1", -1), ("veo_1", True)])
async def test_veo_1080p_bad_arguments_send_nothing(task_id: str, index: int) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise AssertionError("nothing may be sent")

    with pytest.raises(ValueError, match=r"task id|index"):
        await client_for(handler).get_veo_1080p_url(task_id, index)
