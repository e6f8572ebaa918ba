"""The Suno family: create bodies, record-info, callbacks and Suno's own error codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from mcp_server_kie.domain import ApiFamily, TaskState
from mcp_server_kie.kie import parse_callback
from mcp_server_kie.kie.client import KieClient
from mcp_server_kie.kie.errors import (
    KieCreditsError,
    KieError,
    KieProtocolError,
    KieRateLimitError,
    KieValidationError,
)
from mcp_server_kie.kie.suno import UNREACHABLE_CALLBACK_URL, create_body, parse_record

Load = Callable[[str], Any]
KEY = "sk-test-5b2d1e0f9a8b0f4e2a9c7b1d4e3f8a6c"
TASK = "5c79be8e5c79be8e5c79be8e5c79be8e"


def client_answering(body: Any) -> KieClient:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=body)

    return KieClient(httpx2.AsyncClient(transport=httpx2.MockTransport(handler)), api_key=KEY)


def test_without_a_callback_url_the_body_names_an_unreachable_one() -> None:
    body = create_body("suno", {"prompt": "a song", "model": "V5"}, None)
    assert body == {
        "prompt": "a song",
        "model": "V5",
        "customMode": False,
        "instrumental": False,
        "callBackUrl": UNREACHABLE_CALLBACK_URL,
    }
    assert UNREACHABLE_CALLBACK_URL.split("/")[2].endswith(".invalid")


def test_custom_mode_fields_are_mapped_to_camel_case() -> None:
    snake = {
        "prompt": "lyrics",
        "model": "V4_5PLUS",
        "custom_mode": True,
        "instrumental": False,
        "style": "Jazz",
        "title": "T",
        "negative_tags": "Metal",
        "vocal_gender": "f",
        "style_weight": 0.5,
    }
    body = create_body("suno", snake, "https://example.org/cb")
    assert body["customMode"] is True and body["negativeTags"] == "Metal"
    assert (body["vocalGender"], body["styleWeight"]) == ("f", 0.5)
    assert body["callBackUrl"] == "https://example.org/cb"


@pytest.mark.parametrize(
    "snake", [{"prompt": "p"}, {"prompt": "p", "model": "V3_5"}, {"prompt": "p", "seed": 1}]
)
def test_a_body_kie_would_refuse_is_never_built(snake: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="Suno"):
        create_body("suno", snake, None)


def test_a_finished_record_lists_every_song(load_fixture: Load) -> None:
    snapshot = parse_record(load_fixture("suno_record_doc_success.json")["data"])
    assert snapshot.state is TaskState.SUCCESS
    assert snapshot.result_urls == (
        "https://example.cn/8551e4a3.mp3",
        "https://example.cn/bd15e4a3.mp3",
    )


def test_lyrics_written_is_still_generating_with_progress(load_fixture: Load) -> None:
    snapshot = parse_record(load_fixture("suno_record_doc_text.json")["data"])
    assert (snapshot.state, snapshot.result_urls, snapshot.progress) == (
        TaskState.GENERATING,
        (),
        0.3,
    )


def test_a_failed_record_says_why(load_fixture: Load) -> None:
    snapshot = parse_record(load_fixture("suno_record_doc_failed.json")["data"])
    assert snapshot.state is TaskState.FAIL
    assert (snapshot.fail_code, snapshot.fail_message) == (
        "400",
        "The prompt contains sensitive words",
    )


def test_a_callback_exception_with_songs_is_a_success(load_fixture: Load) -> None:
    data = load_fixture("suno_record_doc_success.json")["data"]
    snapshot = parse_record({**data, "status": "CALLBACK_EXCEPTION"})
    assert snapshot.state is TaskState.SUCCESS and len(snapshot.result_urls) == 2
    failed = parse_record({**data, "status": "CALLBACK_EXCEPTION", "response": None})
    assert failed.state is TaskState.FAIL and failed.fail_code == "CALLBACK_EXCEPTION"


def test_success_without_songs_and_unknown_statuses_are_protocol_errors() -> None:
    with pytest.raises(KieProtocolError, match="no songs"):
        parse_record({"taskId": TASK, "status": "SUCCESS", "response": {"sunoData": []}})
    with pytest.raises(KieProtocolError, match="unknown Suno status"):
        parse_record({"taskId": TASK, "status": "DANCING"})


@pytest.mark.parametrize(
    ("fixture", "state"),
    [
        ("suno_callback_complete.json", TaskState.SUCCESS),
        ("suno_callback_text.json", None),
        ("suno_callback_error.json", TaskState.FAIL),
    ],
)
def test_callbacks_claim_only_the_final_stages(
    load_fixture: Load, fixture: str, state: TaskState | None
) -> None:
    notice = parse_callback(load_fixture(fixture))
    assert (notice.task_id, notice.state) == ("2fac9f722fac9f722fac9f722fac9f72", state)


@pytest.mark.parametrize(
    ("code", "error_type", "words"),
    [
        (429, KieCreditsError, "too few credits"),
        (430, KieRateLimitError, "too often"),
        (405, KieRateLimitError, "too often"),
        (413, KieValidationError, "too long"),
    ],
)
async def test_suno_codes_are_read_the_suno_way(
    code: int, error_type: type[KieError], words: str
) -> None:
    client = client_answering({"code": code, "msg": "Suno said no", "data": None})
    snake = {"prompt": "p", "model": "V5"}
    for call in (
        client.create_task(ApiFamily.SUNO, "suno", snake, None),
        client.get_task(ApiFamily.SUNO, TASK),
    ):
        with pytest.raises(error_type, match=words) as caught:
            await call
        assert caught.value.code == code
        assert 'kie.ai said: "Suno said no"' in caught.value.message


async def test_the_same_codes_keep_their_meaning_for_other_families() -> None:
    client = client_answering({"code": 429, "msg": "slow down", "data": None})
    with pytest.raises(KieRateLimitError):
        await client.get_task(ApiFamily.MARKET, TASK)
