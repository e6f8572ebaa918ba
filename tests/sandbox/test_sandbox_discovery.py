"""kie's model discovery endpoints on the sandbox, and its shelf changed at run time."""

from __future__ import annotations

from jsonschema import Draft202012Validator

from mcp_server_kie.sandbox import ModelSpec, Sandbox, SandboxConfig

CREATE = "/api/v1/jobs/createTask"


def make(clock) -> Sandbox:
    return Sandbox(SandboxConfig(clock=clock))


async def data(http, path: str, **params: str):
    answer = (await http.get(path, params=params)).json()
    assert answer["code"] == 200, answer
    return answer["data"]


async def test_models_lists_every_documented_market_model_and_filters(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        everything = await data(http, "/api/v1/models")
        kling = await data(http, "/api/v1/models", q="kling")
        videos = await data(http, "/api/v1/models", taskType="Text to Video")
        refused = (await http.get("/api/v1/models", headers={"Authorization": "Bearer x"})).json()
    ids = {m["model"] for m in everything["models"]}
    assert everything["total"] == len(ids) >= 130
    assert {"z-image", "bytedance/seedance-2", "gpt-image-2-text-to-image"} <= ids
    row = next(m for m in everything["models"] if m["model"] == "z-image")
    assert set(row) == {"model", "slug", "title", "provider", "taskType", "description",
                        "pricingDesc"}  # fmt: skip
    assert "0.8 credits" in row["pricingDesc"]
    assert kling["models"] and all("kling" in m["model"] for m in kling["models"])
    assert videos["models"] and all(m["taskType"] == ["Text to Video"] for m in videos["models"])
    assert refused["code"] == 401


async def test_schema_price_and_success_rate_of_one_model_keep_slashes(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        schema = await data(http, "/api/v1/models/bytedance/seedance-2/schema")
        price = await data(http, "/api/v1/models/bytedance/seedance-2/price")
        rate = await data(http, "/api/v1/models/bytedance/seedance-2/success-rate")
        unknown = (await http.get("/api/v1/models/no-such-model/schema")).json()
    body = schema["openapi"]["paths"]["/api/v1/jobs/createTask"]["post"]["requestBody"]
    input_schema = body["content"]["application/json"]["schema"]["properties"]["input"]
    Draft202012Validator.check_schema(input_schema)
    assert "first_frame_url" in input_schema["properties"]
    assert schema["model"] == price["model"] == rate["model"] == "bytedance/seedance-2"
    assert "credits per second" in price["pricingDesc"]
    assert len(rate["points"]) == 144
    assert unknown["code"] == 404


async def test_a_documented_model_is_validated_against_kies_schema(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        good = await http.post(
            CREATE,
            json={
                "model": "happyhorse/text-to-video",
                "input": {"prompt": "a horse", "duration": 5},
            },
        )
        bad = await http.post(
            CREATE,
            json={
                "model": "happyhorse/text-to-video",
                "input": {"prompt": "x", "resolution": "8k"},
            },
        )
    assert good.json()["code"] == 200
    answer = bad.json()
    assert answer["code"] == 422 and "input.resolution must be one of" in answer["msg"]
    assert sandbox.tasks and len(sandbox.tasks) == 1


async def test_add_retire_and_reprice_at_run_time(clock, client):
    sandbox = make(clock)
    sandbox.shelf.add(ModelSpec("sandbox/new-image", "image", {}, price=3.0), title="New Image")
    sandbox.shelf.retire("z-image")
    sandbox.shelf.set_price("google/nano-banana", 7.5)
    async with client(sandbox) as http:
        ids = {m["model"] for m in (await data(http, "/api/v1/models"))["models"]}
        created = await http.post(CREATE, json={"model": "sandbox/new-image", "input": {}})
        retired = await http.post(CREATE, json={"model": "z-image", "input": {"prompt": "x"}})
        price = await data(http, "/api/v1/models/google/nano-banana/price")
    assert "sandbox/new-image" in ids and "z-image" not in ids
    assert created.json()["code"] == 200
    assert retired.json()["code"] == 422
    assert "7.5 credits" in price["pricingDesc"]


async def test_audio_models_are_listed_with_their_price_per_thousand_characters(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        audio = await data(http, "/api/v1/models", taskType="Text to Audio")
        price = await data(http, "/api/v1/models/elevenlabs/text-to-speech-turbo-2-5/price")
    ids = {m["model"] for m in audio["models"]}
    assert ids == {
        "elevenlabs/text-to-speech-turbo-2-5",
        "elevenlabs/text-to-speech-multilingual-v2",
        "elevenlabs/text-to-dialogue-v3",
        "elevenlabs/audio-isolation",
        "google/gemini-2-5-pro-tts",
        "google/gemini-3-1-flash-tts",
    }
    assert "6 credits per 1000 characters" in price["pricingDesc"]
