"""4o Image family: snake_case -> wire bodies, and every documented record-info variant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mcp_server_kie.domain import TaskSnapshot, TaskState
from mcp_server_kie.kie.errors import KieProtocolError
from mcp_server_kie.kie.gpt4o import FIELDS, create_body, parse_record
from mcp_server_kie.kie.wire import created_task_id

Load = Callable[[str], Any]
CALLBACK = "https://your-callback-url.com/callback"

# Each documented request body, and the snake_case input the catalogue would hand us for it.
SNAKE_INPUTS: dict[str, dict[str, Any]] = {
    "openapi_example": {
        "files_url": ["https://example.com/image1.png", "https://example.com/image2.png"],
        "prompt": "A beautiful sunset over the mountains",
        "size": "1:1",
        "is_enhance": False,
        "enable_fallback": False,
        "fallback_model": "FLUX_MAX",
    },
    "quickstart_first_image": {
        "prompt": "一幅宁静的山景，日落时湖泊倒映着橙色天空，风格写实",
        "size": "1:1",
        "n_variants": 1,
    },
    "quickstart_text_to_image": {
        "prompt": "一只可爱的橙色小猫坐在彩虹上，卡通风格，明亮的色彩",
        "size": "1:1",
        "n_variants": 2,
        "is_enhance": False,
    },
    "quickstart_edit": {
        "files_url": ["https://example.com/original-image.jpg"],
        "mask_url": "https://example.com/mask-image.png",
        "prompt": "将天空替换成星空夜景",
        "size": "3:2",
    },
    "quickstart_variants": {
        "files_url": ["https://example.com/base-image.jpg"],
        "prompt": "保持主要元素，改变为水彩画风格",
        "size": "2:3",
        "n_variants": 4,
    },
}


@pytest.mark.parametrize("name", sorted(SNAKE_INPUTS))
def test_documented_request_bodies(load_fixture: Load, name: str) -> None:
    documented = dict(load_fixture("gpt4o_requests_doc.json")[name])
    documented.pop("uploadCn", None)  # a documented field we deliberately do not map
    callback = documented.get("callBackUrl")
    assert create_body("gpt-4o-image", SNAKE_INPUTS[name], callback) == documented


def test_every_mapped_key_reaches_the_wire_under_its_wire_name() -> None:
    values = {key: f"v-{key}" for key in FIELDS if key != "files_url"}
    body = create_body("gpt-4o-image", {**values, "files_url": ["https://a/b.png"]}, None)
    assert set(body) == set(FIELDS.values())
    assert body["filesUrl"] == ["https://a/b.png"]
    for key, wire in FIELDS.items():
        if key != "files_url":
            assert body[wire] == f"v-{key}"
    assert "model" not in body
    assert "callBackUrl" not in body


@pytest.mark.parametrize("key", ["nVariants", "aspect_ratio", "model", "upload_cn", "filesUrl"])
def test_unknown_snake_key_is_a_value_error(key: str) -> None:
    with pytest.raises(ValueError, match=key):
        create_body("gpt-4o-image", {"prompt": "p", "size": "1:1", key: 1}, None)


def test_none_values_are_left_out() -> None:
    body = create_body("gpt-4o-image", {"prompt": "p", "size": "1:1", "mask_url": None}, None)
    assert body == {"prompt": "p", "size": "1:1"}


@pytest.mark.parametrize(
    "files", ["https://a/b.png", [f"https://a/{i}.png" for i in range(6)], [1], {"a": 1}]
)
def test_files_url_must_be_a_short_list_of_strings(files: object) -> None:
    with pytest.raises(ValueError, match="files_url"):
        create_body("gpt-4o-image", {"size": "1:1", "files_url": files}, None)


def test_files_url_tuple_becomes_a_list_and_bad_callback_is_refused() -> None:
    body = create_body("m", {"size": "1:1", "files_url": ("https://a/b.png",)}, None)
    assert body["filesUrl"] == ["https://a/b.png"]
    with pytest.raises(ValueError, match="callback_url"):
        create_body("m", {"size": "1:1"}, "javascript:alert(1)")


def test_input_must_be_a_mapping() -> None:
    with pytest.raises(TypeError):
        create_body("m", [("prompt", "p")], None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "gpt4o_record_openapi_success.json",
            TaskSnapshot(
                task_id="task12345",
                state=TaskState.SUCCESS,
                result_urls=("https://example.com/result/image1.png",),
                progress=1.0,
            ),
        ),
        (
            "gpt4o_record_quickstart_generating.json",
            TaskSnapshot(
                task_id="d231a99a9a9f1dd8f895be1b97be8065",
                state=TaskState.GENERATING,
                progress=0.48,
            ),
        ),
        (
            "gpt4o_record_quickstart_success.json",
            TaskSnapshot(
                task_id="task_4o_abc123",
                state=TaskState.SUCCESS,
                result_urls=("https://example.com/generated-image.png",),
                progress=1.0,
            ),
        ),
        (
            "gpt4o_record_quickstart_failed.json",
            TaskSnapshot(
                task_id="task_4o_abc123",
                state=TaskState.FAIL,
                fail_code="400",
                fail_message="图像内容违反了内容政策，请修改提示词后重试",
                progress=0.0,
            ),
        ),
    ],
)
def test_fixture_parses_to_snapshot(load_fixture: Load, name: str, expected: TaskSnapshot) -> None:
    assert parse_record(load_fixture(name)["data"]) == expected


def record(**fields: Any) -> dict[str, Any]:
    return {"taskId": "task12345", **fields}


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        ({"status": "GENERATING", "successFlag": 0}, TaskState.GENERATING),
        ({"status": "SUCCESS", "successFlag": 1}, TaskState.SUCCESS),
        ({"status": "CREATE_TASK_FAILED", "successFlag": 2}, TaskState.FAIL),
        ({"status": "GENERATE_FAILED", "successFlag": 3}, TaskState.FAIL),
        ({"status": " success "}, TaskState.SUCCESS),
        ({"successFlag": 0}, TaskState.GENERATING),
        ({"successFlag": "1"}, TaskState.SUCCESS),
        ({"successFlag": 2}, TaskState.FAIL),
        ({"successFlag": 3}, TaskState.FAIL),
        ({"status": "MYSTERY", "successFlag": 1}, TaskState.SUCCESS),
        ({"status": "GENERATING", "successFlag": 1}, TaskState.GENERATING),
    ],
)
def test_status_and_success_flag(fields: dict[str, Any], state: TaskState) -> None:
    assert parse_record(record(**fields)).state is state


@pytest.mark.parametrize("fields", [{}, {"status": "MYSTERY"}, {"successFlag": 7}, {"status": 1}])
def test_unknown_status_is_a_protocol_error(fields: dict[str, Any]) -> None:
    with pytest.raises(KieProtocolError, match="4o Image status"):
        parse_record(record(**fields))


@pytest.mark.parametrize("key", ["resultUrls", "result_urls"])
def test_both_result_list_spellings(key: str) -> None:
    urls = ["https://tempfile.aiquickdraw.com/a.png", "https://tempfile.aiquickdraw.com/b.png"]
    snapshot = parse_record(record(status="SUCCESS", response={key: urls}))
    assert snapshot.result_urls == tuple(urls)


def test_fail_fields_only_on_failure() -> None:
    snapshot = parse_record(record(status="SUCCESS", errorCode=200, errorMessage="ok"))
    assert (snapshot.fail_code, snapshot.fail_message) == (None, None)
    failed = parse_record(
        record(status="CREATE_TASK_FAILED", errorCode=451, errorMessage="bad\u202e\x1b url")
    )
    assert (failed.fail_code, failed.fail_message) == ("451", "bad url")


def test_no_credits_are_reported(load_fixture: Load) -> None:
    assert parse_record(load_fixture("gpt4o_record_openapi_success.json")["data"]).credits is None


@pytest.mark.parametrize("data", [None, [], "x", {"status": "SUCCESS"}, {"taskId": "a b"}])
def test_wrong_shapes_are_protocol_errors(data: Any) -> None:
    with pytest.raises(KieProtocolError):
        parse_record(data)


@pytest.mark.parametrize(
    ("name", "task_id"),
    [
        ("gpt4o_create_openapi.json", "task12345"),
        ("gpt4o_create_quickstart.json", "task_4o_abc123"),
    ],
)
def test_created_task_id(load_fixture: Load, name: str, task_id: str) -> None:
    assert created_task_id(load_fixture(name)["data"]) == task_id
