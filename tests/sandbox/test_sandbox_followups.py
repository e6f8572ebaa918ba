"""Flux Kontext, Aleph, Veo extend and 4K, and Runway extend on the sandbox (reference §3.2-3.4):
create, validation in kie's words, records, outputs that decode, prices and callbacks."""

from __future__ import annotations

import httpx2
from sandbox_checks import image_facts, signed_by, video_facts

from mcp_server_kie.sandbox import Sandbox, SandboxConfig, serve_sandbox

FLUX = "/api/v1/flux/kontext/generate"
FLUX_RECORD = "/api/v1/flux/kontext/record-info"
ALEPH = "/api/v1/aleph/generate"
ALEPH_RECORD = "/api/v1/aleph/record-info"
VEO, VEO_RECORD = "/api/v1/veo/generate", "/api/v1/veo/record-info"
EXTEND, UHD, HD = "/api/v1/veo/extend", "/api/v1/veo/get-4k-video", "/api/v1/veo/get-1080p-video"
RUNWAY, RUNWAY_EXTEND = "/api/v1/runway/generate", "/api/v1/runway/extend"
RUNWAY_RECORD = "/api/v1/runway/record-detail"
AUTH = {"Authorization": "Bearer sandbox-key"}
CLIP = "https://example.com/clip.mp4"


def make(clock) -> Sandbox:
    return Sandbox(SandboxConfig(clock=clock, image_seconds=1.0, video_seconds=1.0))


async def post(http, path: str, body: dict) -> dict:
    return (await http.post(path, json=body)).json()


async def get(http, path: str, task_id: str) -> dict:
    return (await http.get(path, params={"taskId": task_id})).json()["data"]


async def test_flux_kontext_makes_png_or_jpeg_and_charges_per_model(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        png = await post(
            http, FLUX, {"prompt": "a fox", "outputFormat": "png", "aspectRatio": "1:1"}
        )
        jpeg = await post(http, FLUX, {"prompt": "a fox", "model": "flux-kontext-max"})
        running = await get(http, FLUX_RECORD, png["data"]["taskId"])
        clock.advance(1.0)
        records = [await get(http, FLUX_RECORD, a["data"]["taskId"]) for a in (png, jpeg)]
        files = [(await http.get(r["response"]["resultImageUrl"])).content for r in records]
    assert (running["successFlag"], running["response"]) == (0, None)
    assert [r["successFlag"] for r in records] == [1, 1]
    assert records[0]["createTime"].endswith("Z")  # ISO times, as in kie's examples
    assert set(records[0]["response"]) == {"originImageUrl", "resultImageUrl"}
    (png_format, (width, height)), (jpeg_format, (w2, h2)) = map(image_facts, files)
    assert (png_format, width == height) == ("PNG", True)
    assert (jpeg_format, w2 > h2) == ("JPEG", True)  # 16:9 by default
    assert sandbox.credits == 10_000 - 5 - 10


async def test_flux_kontext_refuses_in_kies_words(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        no_prompt = await post(http, FLUX, {"aspectRatio": "1:1"})
        bad_ratio = await post(http, FLUX, {"prompt": "p", "aspectRatio": "2:1"})
        edit = {"prompt": "p", "inputImage": "https://example.com/i.png", "safetyTolerance": 5}
        too_loose = await post(http, FLUX, edit)
        loose_generation = await post(http, FLUX, {"prompt": "p", "safetyTolerance": 5})
    assert (no_prompt["code"], no_prompt["msg"]) == (422, "prompt is required")
    assert bad_ratio["code"] == 422
    assert bad_ratio["msg"] == "aspectRatio must be one of: 21:9, 16:9, 4:3, 1:1, 3:4, 9:16"
    assert too_loose["code"] == 500 and "between 0 and 2" in too_loose["msg"]
    assert loose_generation["code"] == 200


async def test_aleph_needs_a_video_and_makes_one(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        missing = await post(http, ALEPH, {"prompt": "noir"})
        answer = await post(
            http, ALEPH, {"prompt": "noir", "videoUrl": CLIP, "aspectRatio": "9:16"}
        )
        clock.advance(1.0)
        data = await get(http, ALEPH_RECORD, answer["data"]["taskId"])
        video = (await http.get(data["response"]["resultVideoUrl"])).content
        cover = (await http.get(data["response"]["resultImageUrl"])).content
    assert (missing["code"], missing["msg"]) == (422, "videoUrl is required")
    assert data["successFlag"] == 1
    facts = video_facts(video)
    assert facts.codec == "h264" and facts.size[0] < facts.size[1]
    assert image_facts(cover)[0] == "JPEG"
    assert sandbox.credits == 10_000 - 110


async def test_veo_extend_and_4k_need_a_finished_veo_task(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        veo = (await post(http, VEO, {"prompt": "waves"}))["data"]["taskId"]
        runway = await post(
            http, RUNWAY, {"prompt": "w", "duration": 5, "quality": "720p", "aspectRatio": "1:1"}
        )
        early = await post(http, EXTEND, {"taskId": veo, "prompt": "on"})
        clock.advance(1.0)
        unknown = await post(http, EXTEND, {"taskId": "veo_task_nope", "prompt": "on"})
        not_veo = await post(http, UHD, {"taskId": runway["data"]["taskId"]})
        no_prompt = await post(http, EXTEND, {"taskId": veo})
        extended = await post(http, EXTEND, {"taskId": veo, "prompt": "on", "model": "lite"})
        uhd = await post(http, UHD, {"taskId": veo, "index": 0})
        clock.advance(1.0)
        ext_record = await get(http, VEO_RECORD, extended["data"]["taskId"])
        uhd_record = await get(http, VEO_RECORD, uhd["data"]["taskId"])
        long_video = (await http.get(ext_record["response"]["resultUrls"][0])).content
        uhd_video = (await http.get(uhd_record["response"]["resultUrls"][0])).content
    assert (early["code"], early["msg"]) == (422, "record status is not success")
    assert (unknown["code"], unknown["msg"]) == (422, "record is null")
    assert (not_veo["code"], not_veo["msg"]) == (422, "record is null")
    assert (no_prompt["code"], no_prompt["msg"]) == (422, "prompt is required")
    assert uhd["data"]["resultUrls"] == []
    assert ext_record["successFlag"] == uhd_record["successFlag"] == 1
    assert uhd_record["response"]["resolution"] == "4k"
    assert video_facts(long_video).frames > video_facts(uhd_video).frames  # 8 s + 7 s vs 8 s
    assert sandbox.credits == 10_000 - 60 - 12 - 30 - 120  # veo3_fast, runway, lite, 4K


async def test_a_video_fetched_in_1080p_cannot_be_extended(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        veo = (await post(http, VEO, {"prompt": "waves"}))["data"]["taskId"]
        clock.advance(1.0)
        await http.get(HD, params={"taskId": veo})  # "1080P is processing"
        clock.advance(1.0)
        ready = (await http.get(HD, params={"taskId": veo})).json()
        refused = await post(http, EXTEND, {"taskId": veo, "prompt": "on"})
    assert ready["code"] == 200
    assert (refused["code"], refused["msg"]) == (
        422,
        "Videos generated after 1080P generation cannot be extended",
    )


async def test_runway_extend_continues_a_runway_task(clock, client):
    sandbox = make(clock)
    async with client(sandbox) as http:
        body = {"prompt": "a boat", "duration": 5, "quality": "720p", "aspectRatio": "1:1"}
        source = (await post(http, RUNWAY, body))["data"]["taskId"]
        veo = (await post(http, VEO, {"prompt": "waves"}))["data"]["taskId"]
        clock.advance(1.0)
        no_quality = await post(http, RUNWAY_EXTEND, {"taskId": source, "prompt": "on"})
        of_veo = await post(http, RUNWAY_EXTEND, {"taskId": veo, "prompt": "on", "quality": "720p"})
        answer = await post(
            http, RUNWAY_EXTEND, {"taskId": source, "prompt": "on", "quality": "1080p"}
        )
        clock.advance(1.0)
        data = await get(http, RUNWAY_RECORD, answer["data"]["taskId"])
        video = (await http.get(data["videoInfo"]["videoUrl"])).content
    assert (no_quality["code"], no_quality["msg"]) == (422, "quality is required")
    assert (of_veo["code"], of_veo["msg"]) == (422, "record is null")
    assert (data["state"], data["parentTaskId"]) == ("success", source)
    facts = video_facts(video)
    assert facts.size[0] == facts.size[1]  # the source's 1:1
    assert sandbox.credits == 10_000 - 12 - 60 - 30


async def test_callbacks_of_flux_aleph_and_4k(clock, receiver, wait):
    key = "whk-followups"
    config = SandboxConfig(clock=clock, image_seconds=1.0, video_seconds=1.0, hmac_key=key)
    async with receiver() as hook, serve_sandbox(config) as sandbox:
        async with httpx2.AsyncClient(base_url=sandbox.base_url, headers=AUTH) as http:
            veo = (await post(http, VEO, {"prompt": "w"}))["data"]["taskId"]
            clock.advance(1.0)
            flux = await post(http, FLUX, {"prompt": "p", "callBackUrl": hook.url("flux")})
            aleph = {"prompt": "[sandbox:fail]", "videoUrl": CLIP, "callBackUrl": hook.url("aleph")}
            failed = await post(http, ALEPH, aleph)
            uhd = await post(http, UHD, {"taskId": veo, "callBackUrl": hook.url("uhd")})
            clock.advance(1.0)
            await wait(lambda: len(hook.received) == 3, what="three callbacks")
    by_path = {d["path"]: d for d in hook.received}
    flux_body = by_path["/flux"]["json"]
    assert (flux_body["code"], flux_body["data"]["taskId"]) == (200, flux["data"]["taskId"])
    assert flux_body["data"]["info"]["resultImageUrl"].endswith(".jpg")
    aleph_id = failed["data"]["taskId"]
    assert by_path["/aleph"]["json"]["taskId"] == aleph_id  # at the top level
    assert by_path["/aleph"]["json"]["data"] == {"result_video_url": "", "result_image_url": ""}
    assert by_path["/aleph"]["json"]["code"] != 200
    uhd_body = by_path["/uhd"]["json"]
    assert uhd_body["msg"] == "4K Video generated successfully."
    assert uhd_body["data"]["taskId"] == uhd["data"]["taskId"]
    assert signed_by(by_path["/aleph"]["headers"], key, aleph_id)
