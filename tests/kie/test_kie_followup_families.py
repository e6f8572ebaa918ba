"""Flux Kontext, Veo extend / 1080p / 4K, Runway extend and Aleph on the wire: the create body
in kie's names at kie's path, the status query, records, callbacks and their error codes (over
httpx2.MockTransport, with kie's documented shapes)."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from mcp_server_kie.domain import ApiFamily, TaskState
from mcp_server_kie.kie import parse_callback
from mcp_server_kie.kie.client import KieClient
from mcp_server_kie.kie.errors import KieUnavailableError, KieValidationError
from mcp_server_kie.kie.families import calls_back

KEY = "sk-test-0f4e2a9c7b1d4e3f8a6c5b2d1e0f9a8b"
HOOK = "https://example.org/webhooks/kie/j1?token=abc"
VEO_TASK = "veo_task_abcdef123456"
RUNWAY_TASK = "ee603959-debb-48d1-98c4-a6d1c717eba6"


class Kie:
    """A MockTransport that answers each request with the next canned body and keeps them."""

    def __init__(self, *bodies: dict[str, Any]) -> None:
        self.bodies = list(bodies)
        self.seen: list[httpx2.Request] = []
        transport = httpx2.MockTransport(self._answer)
        self.client = KieClient(httpx2.AsyncClient(transport=transport), api_key=KEY)

    def _answer(self, request: httpx2.Request) -> httpx2.Response:
        self.seen.append(request)
        return httpx2.Response(200, json=self.bodies.pop(0))

    def sent(self, index: int = -1) -> tuple[str, str, dict[str, Any]]:
        request = self.seen[index]
        body = json.loads(request.content) if request.content else dict(request.url.params)
        return request.method, request.url.path, body


def ok(data: Any) -> dict[str, Any]:
    return {"code": 200, "msg": "success", "data": data}


CREATES = [
    (
        ApiFamily.FLUX_KONTEXT,
        "flux-kontext-max",
        {"prompt": "a fox", "input_image": "https://e.com/f.png", "safety_tolerance": 1},
        "/api/v1/flux/kontext/generate",
        {"model": "flux-kontext-max", "prompt": "a fox", "inputImage": "https://e.com/f.png"}
        | {"safetyTolerance": 1, "callBackUrl": HOOK},
    ),
    (
        ApiFamily.VEO_EXTEND,
        "veo3-extend",
        {"task_id": VEO_TASK, "prompt": "on", "model": "lite", "seeds": 12345},
        "/api/v1/veo/extend",
        {"taskId": VEO_TASK, "prompt": "on", "model": "lite", "seeds": 12345, "callBackUrl": HOOK},
    ),
    (
        ApiFamily.VEO_4K,
        "veo3-4k",
        {"task_id": VEO_TASK},
        "/api/v1/veo/get-4k-video",
        {"taskId": VEO_TASK, "index": 0, "callBackUrl": HOOK},
    ),
    (
        ApiFamily.RUNWAY_EXTEND,
        "runway-extend",
        {"task_id": RUNWAY_TASK, "prompt": "on", "quality": "720p", "water_mark": ""},
        "/api/v1/runway/extend",
        {"taskId": RUNWAY_TASK, "prompt": "on", "quality": "720p", "waterMark": ""}
        | {"callBackUrl": HOOK},
    ),
    (
        ApiFamily.ALEPH,
        "runway-aleph",
        {
            "prompt": "noir",
            "video_url": "https://e.com/v.mp4",
            "reference_image": "https://e.com/r.png",
        },
        "/api/v1/aleph/generate",
        {
            "prompt": "noir",
            "videoUrl": "https://e.com/v.mp4",
            "referenceImage": "https://e.com/r.png",
        }
        | {"callBackUrl": HOOK},
    ),
]


@pytest.mark.parametrize(("family", "model", "snake", "path", "wire"), CREATES)
async def test_create_sends_kies_names_to_kies_path(
    family: ApiFamily, model: str, snake: dict[str, Any], path: str, wire: dict[str, Any]
) -> None:
    kie = Kie(ok({"taskId": "task_new_1", "resultUrls": []}))
    assert await kie.client.create_task(family, model, snake, HOOK) == "task_new_1"
    assert kie.sent() == ("POST", path, wire)


@pytest.mark.parametrize(
    ("family", "snake"),
    [
        (ApiFamily.VEO_EXTEND, {"prompt": "on"}),
        (ApiFamily.VEO_4K, {"task_id": "not a task id!"}),
        (ApiFamily.RUNWAY_EXTEND, {"prompt": "on", "quality": "720p"}),
        (ApiFamily.VEO_1080P, {"task_id": VEO_TASK, "index": -1}),
    ],
)
async def test_an_operation_without_a_usable_source_sends_nothing(
    family: ApiFamily, snake: dict[str, Any]
) -> None:
    kie = Kie()
    with pytest.raises(ValueError, match=r"task_id|index"):
        await kie.client.create_task(family, "m", snake, None)
    assert kie.seen == []


async def test_veo_1080p_is_asked_until_ready_under_a_handle_of_its_own(
    load_fixture: Any,
) -> None:
    processing = load_fixture("veo_1080p_processing.json")
    ready = load_fixture("veo_1080p_success.json")
    kie = Kie(processing, processing, processing, ready)
    handle = await kie.client.create_task(
        ApiFamily.VEO_1080P, "veo3-1080p", {"task_id": VEO_TASK, "index": 1}, None
    )
    again = await kie.client.create_task(
        ApiFamily.VEO_1080P, "veo3-1080p", {"task_id": VEO_TASK, "index": 1}, None
    )
    assert handle.startswith(f"{VEO_TASK}:1080p:1:")
    assert len({handle, again, VEO_TASK}) == 3  # task ids are unique: each request its own
    waiting = await kie.client.get_task(ApiFamily.VEO_1080P, handle)
    done = await kie.client.get_task(ApiFamily.VEO_1080P, handle)
    assert waiting.state is TaskState.GENERATING and waiting.result_urls == ()
    assert done.state is TaskState.SUCCESS
    assert done.result_urls == (ready["data"]["resultUrl"],)
    query = {"taskId": VEO_TASK, "index": "1"}
    assert [kie.sent(i) for i in range(4)] == [("GET", "/api/v1/veo/get-1080p-video", query)] * 4
    assert not calls_back(ApiFamily.VEO_1080P) and calls_back(ApiFamily.VEO_4K)


async def test_veo_1080p_of_a_task_that_is_not_done_is_an_error() -> None:
    kie = Kie({"code": 422, "msg": "record status is not success", "data": None})
    with pytest.raises(KieValidationError, match="record status is not success"):
        await kie.client.create_task(ApiFamily.VEO_1080P, "veo3-1080p", {"task_id": VEO_TASK}, None)


RECORDS = [
    (
        ApiFamily.FLUX_KONTEXT,
        "/api/v1/flux/kontext/record-info",
        {
            "successFlag": 1,
            "response": {
                "originImageUrl": "https://bfl.example/o.jpg",
                "resultImageUrl": "https://tempfile.aiquickdraw.com/r.jpg",
            },
            "createTime": "2024-03-20T10:30:00Z",
        },
        TaskState.SUCCESS,
        ("https://tempfile.aiquickdraw.com/r.jpg",),
    ),
    (
        ApiFamily.FLUX_KONTEXT,
        "/api/v1/flux/kontext/record-info",
        {"successFlag": 3, "errorCode": 501, "errorMessage": "generation failed"},
        TaskState.FAIL,
        (),
    ),
    (
        ApiFamily.ALEPH,
        "/api/v1/aleph/record-info",
        {
            "successFlag": 1,
            "response": {
                "resultVideoUrl": "https://file.aiquickdraw.com/a.mp4",
                "resultImageUrl": "https://file.aiquickdraw.com/a.jpg",
            },
        },
        TaskState.SUCCESS,
        ("https://file.aiquickdraw.com/a.mp4",),
    ),
    (
        ApiFamily.VEO_EXTEND,
        "/api/v1/veo/record-info",
        {"successFlag": 1, "response": {"fullResultUrls": ["https://file.aiquickdraw.com/x.mp4"]}},
        TaskState.SUCCESS,
        ("https://file.aiquickdraw.com/x.mp4",),
    ),
    (
        ApiFamily.VEO_4K,
        "/api/v1/veo/record-info",
        {"successFlag": 0, "response": None},
        TaskState.GENERATING,
        (),
    ),
    (
        ApiFamily.RUNWAY_EXTEND,
        "/api/v1/runway/record-detail",
        {
            "state": "success",
            "parentTaskId": RUNWAY_TASK,
            "videoInfo": {"videoUrl": "https://f.example/e.mp4"},
        },
        TaskState.SUCCESS,
        ("https://f.example/e.mp4",),
    ),
]


@pytest.mark.parametrize(("family", "path", "record", "state", "urls"), RECORDS)
async def test_status_is_read_from_the_familys_record(
    family: ApiFamily,
    path: str,
    record: dict[str, Any],
    state: TaskState,
    urls: tuple[str, ...],
) -> None:
    kie = Kie(ok({"taskId": "task_77", **record}))
    snapshot = await kie.client.get_task(family, "task_77")
    assert kie.sent() == ("GET", path, {"taskId": "task_77"})
    assert (snapshot.state, snapshot.result_urls) == (state, urls)
    if state is TaskState.FAIL:
        assert (snapshot.fail_code, snapshot.fail_message) == ("501", "generation failed")


async def test_flux_safety_tolerance_500_is_a_refusal_other_500s_are_not() -> None:
    kie = Kie(
        {"code": 500, "msg": "safetyTolerance must be between 0 and 2", "data": None},
        {"code": 500, "msg": "internal error", "data": None},
    )
    body = {"prompt": "p", "input_image": "https://e.com/i.png", "safety_tolerance": 5}
    with pytest.raises(KieValidationError, match="safety_tolerance") as refused:
        await kie.client.create_task(ApiFamily.FLUX_KONTEXT, "flux-kontext-pro", body, None)
    assert refused.value.retryable is False
    with pytest.raises(KieUnavailableError):
        await kie.client.create_task(ApiFamily.FLUX_KONTEXT, "flux-kontext-pro", body, None)


@pytest.mark.parametrize(
    ("body", "state"),
    [
        (
            {"code": 200, "msg": "success", "taskId": "ee603959-debb-48d1-98c4-a6d1c717eba6"}
            | {"data": {"result_video_url": "https://f/v.mp4", "result_image_url": "https://f/i"}},
            TaskState.SUCCESS,
        ),
        (
            {"code": 200, "msg": "BFL image generated successfully."}
            | {"data": {"taskId": "flux_1", "info": {"resultImageUrl": "https://f/r.jpg"}}},
            TaskState.SUCCESS,
        ),
        (
            {"code": 501, "msg": "failed"}
            | {"data": {"taskId": "flux_1", "info": {"resultImageUrl": ""}}},
            TaskState.FAIL,
        ),
        (
            {"code": 200, "msg": "4K Video generated successfully."}
            | {"data": {"taskId": "veo_4k_1", "info": {"resultUrls": ["https://f/4k.mp4"]}}},
            TaskState.SUCCESS,
        ),
    ],
    ids=["aleph", "flux", "flux-failed", "veo-4k"],
)
def test_callbacks_of_the_new_families(body: dict[str, Any], state: TaskState) -> None:
    notice = parse_callback(body)
    assert notice.state is state
    assert notice.task_id == (body.get("taskId") or body["data"]["taskId"])
