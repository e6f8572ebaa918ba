"""The Suno family and the Market's audio models on the sandbox: Suno's statuses, its two
songs, its callback shape and codes; speech priced by characters; real MP3s that decode."""

from __future__ import annotations

import io

import av
import httpx2
import pytest
from sandbox_checks import signed_by

from mcp_server_kie.sandbox import FAIL_MESSAGE, Sandbox, SandboxConfig, serve_sandbox

GENERATE = "/api/v1/generate"
RECORD = "/api/v1/generate/record-info"
AUTH = {"Authorization": "Bearer sandbox-key"}
BODY = {
    "prompt": "a calm piano song",
    "customMode": False,
    "instrumental": False,
    "model": "V5",
    "callBackUrl": "https://example.org/hook",
}


def make(clock, **overrides) -> Sandbox:
    return Sandbox(SandboxConfig(clock=clock, **overrides))


def audio_seconds(content: bytes) -> float:
    with av.open(io.BytesIO(content)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.codec_context.sample_rate


async def test_statuses_progress_to_two_songs_that_decode(clock, client):
    sandbox = make(clock, video_seconds=10.0, initial_credits=100)
    async with client(sandbox) as http:
        answer = (await http.post(GENERATE, json=BODY)).json()
        task_id = answer["data"]["taskId"]
        created = clock.now
        statuses = []
        for at in (0.0, 4.0, 7.0, 10.0):
            clock.now = created + at
            data = (await http.get(RECORD, params={"taskId": task_id})).json()["data"]
            statuses.append(data["status"])
            if at < 10.0:
                assert data["response"] is None
        songs = data["response"]["sunoData"]
        files = [(await http.get(song["audioUrl"])).content for song in songs]
        balance = (await http.get("/api/v1/chat/credit")).json()["data"]
    assert answer == {"code": 200, "msg": "success", "data": {"taskId": task_id}}
    assert statuses == ["PENDING", "TEXT_SUCCESS", "FIRST_SUCCESS", "SUCCESS"]
    assert data["taskId"] == task_id and data["errorCode"] is None
    assert len(songs) == 2 and all(song["audioUrl"].endswith(".mp3") for song in songs)
    for song, content in zip(songs, files, strict=True):
        assert content[:3] == b"ID3"
        assert audio_seconds(content) == pytest.approx(song["duration"], rel=0.1)
    assert balance == 100 - 12


@pytest.mark.parametrize(
    ("change", "code", "needle"),
    [
        ({"callBackUrl": None}, 400, "callBackUrl"),
        ({"customMode": None}, 400, "customMode"),
        ({"model": "V3_5"}, 400, "model"),
        ({"customMode": True}, 400, "style and title"),
        ({"prompt": "x" * 3001}, 413, "too long"),
        ({"customMode": True, "style": "s" * 201, "title": "t", "model": "V4"}, 413, "too long"),
        ({"styleWeight": 1.5}, 400, "styleWeight"),
    ],
)
async def test_bad_bodies_get_sunos_codes_and_no_task(clock, client, change, code, needle):
    sandbox = make(clock)
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    async with client(sandbox) as http:
        answer = (await http.post(GENERATE, json=body)).json()
    assert answer["code"] == code and needle in answer["msg"], answer
    assert sandbox.tasks == {}


async def test_custom_mode_sings_the_lyrics_with_style_and_title(clock, client):
    sandbox = make(clock, video_seconds=1.0)
    body = {**BODY, "customMode": True, "style": "Jazz", "title": "Harbour", "model": "V4"}
    async with client(sandbox) as http:
        task_id = (await http.post(GENERATE, json=body)).json()["data"]["taskId"]
        clock.advance(1.0)
        data = (await http.get(RECORD, params={"taskId": task_id})).json()["data"]
    assert {(s["title"], s["tags"]) for s in data["response"]["sunoData"]} == {("Harbour", "Jazz")}


async def test_an_unknown_task_is_a_null_record(clock, client):
    async with client(make(clock)) as http:
        answer = (await http.get(RECORD, params={"taskId": "0" * 32})).json()
    assert (answer["code"], answer["data"]) == (422, None)


async def test_callbacks_come_once_at_the_end_in_sunos_shape(clock, receiver, wait):
    key = "whk-suno-key"
    config = SandboxConfig(clock=clock, video_seconds=5.0, hmac_key=key)
    async with receiver() as hook, serve_sandbox(config) as sandbox:
        async with httpx2.AsyncClient(base_url=sandbox.base_url, headers=AUTH) as http:
            good = await http.post(GENERATE, json={**BODY, "callBackUrl": hook.url("ok")})
            failing = {**BODY, "prompt": "[sandbox:fail]", "callBackUrl": hook.url("bad")}
            bad = await http.post(GENERATE, json=failing)
            nowhere = {**BODY, "callBackUrl": "https://callback.invalid/kie-suno"}
            await http.post(GENERATE, json=nowhere)
            clock.advance(5.0)
            await wait(lambda: len(hook.received) == 2, what="two callbacks")
            good_id, bad_id = good.json()["data"]["taskId"], bad.json()["data"]["taskId"]
            record = (await http.get(RECORD, params={"taskId": bad_id})).json()["data"]
    by_path = {delivery["path"]: delivery for delivery in hook.received}
    complete = by_path["/ok"]["json"]
    assert complete["code"] == 200
    assert complete["data"]["callbackType"] == "complete"
    assert complete["data"]["task_id"] == good_id
    assert [
        set(song) >= {"id", "audio_url", "stream_audio_url", "duration", "title"}
        for song in complete["data"]["data"]
    ] == [True, True]
    assert by_path["/bad"]["json"] == {
        "code": 500,
        "msg": FAIL_MESSAGE,
        "data": {"callbackType": "error", "task_id": bad_id, "data": None},
    }
    assert signed_by(by_path["/ok"]["headers"], key, good_id)
    assert (record["status"], record["errorMessage"]) == ("GENERATE_AUDIO_FAILED", FAIL_MESSAGE)
    assert [attempt.url for attempt in sandbox.callbacks if "invalid" in attempt.url] == []


@pytest.mark.parametrize(
    ("model", "text", "price"),
    [
        ("elevenlabs/text-to-speech-turbo-2-5", "x" * 150, 0.9),
        ("elevenlabs/text-to-speech-multilingual-v2", "x" * 2000, 24.0),
    ],
)
async def test_speech_is_priced_by_characters_and_serves_an_mp3(clock, client, model, text, price):
    sandbox = make(clock, image_seconds=1.0, video_seconds=1.0, initial_credits=100)
    body = {"model": model, "input": {"text": text, "voice": "EkK5I93UQWFDigLMpZcX"}}
    async with client(sandbox) as http:
        task_id = (await http.post("/api/v1/jobs/createTask", json=body)).json()["data"]["taskId"]
        clock.advance(1.0)
        data = (await http.get("/api/v1/jobs/recordInfo", params={"taskId": task_id})).json()
        [url] = data["data"]["response"]["resultUrls"]
        content = (await http.get(url)).content
    assert data["data"]["creditsConsumed"] == price
    # About a second per 15 characters; the sandbox's stand-in is at most 30 s long.
    assert audio_seconds(content) == pytest.approx(min(len(text) // 15 + 1, 30), rel=0.1)


@pytest.mark.parametrize(
    ("model", "inputs", "needle"),
    [
        ("elevenlabs/text-to-speech-turbo-2-5", {"text": "hi", "voice": "Rachel"}, "voice"),
        ("elevenlabs/text-to-speech-multilingual-v2", {"text": "hi"}, "'voice' is a required"),
        ("elevenlabs/text-to-speech-turbo-2-5", {"text": "hi", "speed": 2}, "speed"),
        ("elevenlabs/text-to-dialogue-v3", {"stability": 0.5}, "'dialogue' is a required"),
        (
            "google/gemini-3-1-flash-tts",
            {"speakers": [{"speaker_id": "Speaker 1", "voice_name": "Puck"}]},
            "'dialogue_turns' is a required",
        ),
        (
            "google/gemini-2-5-pro-tts",
            {
                "speakers": [
                    {"speaker_id": "Speaker 1", "voice_name": "Robot", "accent": "Neutral"}
                ],
                "dialogue_turns": [{"speaker_id": "Speaker 1", "text": "hi"}],
            },
            "speakers.0.voice_name must be one of: Achernar",
        ),
        ("elevenlabs/text-to-dialogue-v3", {"dialogue": [{"text": "hi"}]}, "'voice' is a required"),
        (
            "elevenlabs/text-to-dialogue-v3",
            {"dialogue": [{"text": "x" * 2501, "voice": "EkK5I93UQWFDigLMpZcX"}] * 2},
            "add up to 5002 characters (at most 5000)",
        ),
    ],
)
async def test_audio_models_validate_like_kie(clock, client, model, inputs, needle):
    sandbox = make(clock)
    async with client(sandbox) as http:
        answer = (
            await http.post("/api/v1/jobs/createTask", json={"model": model, "input": inputs})
        ).json()
    assert answer["code"] == 422 and needle in answer["msg"], answer


async def test_too_few_credits_is_sunos_429(clock, client):
    sandbox = make(clock, initial_credits=11)
    async with client(sandbox) as http:
        answer = (await http.post(GENERATE, json=BODY)).json()
    assert (answer["code"], answer["msg"]) == (429, "insufficient credits")
    assert sandbox.tasks == {}
