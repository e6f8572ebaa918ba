"""The committed catalogue is exactly what the generator makes of kie's shipped documents."""

from __future__ import annotations

import json
from collections import Counter

from mcp_server_kie.catalog.generate import (
    DATA_FILE,
    MARKET_PATH,
    NOT_MEDIA,
    build_catalogue,
    load_snapshot,
    render,
)


def test_the_committed_file_equals_a_fresh_run_over_the_snapshot():
    fresh = render(build_catalogue(load_snapshot()))
    assert DATA_FILE.read_text(encoding="utf-8") == fresh, "run scripts/update-catalog"


def test_every_market_media_model_of_the_snapshot_is_in_the_catalogue():
    snapshot = load_snapshot()
    catalogue = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    ids = {m["id"] for m in catalogue["models"]}
    listed: set[str] = set()
    for endpoint in snapshot["endpoints"]:
        if endpoint["path"] != MARKET_PATH:
            continue
        schema = endpoint["request"]["application/json"]["schema"]
        listed.update(schema["properties"]["model"]["enum"])
    assert listed - set(NOT_MEDIA) <= ids
    kinds = Counter(m["kind"] for m in catalogue["models"])
    assert len(ids) >= 130
    assert kinds["image"] >= 50 and kinds["video"] >= 80 and kinds["audio"] >= 6


def test_the_per_family_apis_are_catalogued_with_snake_case_fields():
    catalogue = {m["id"]: m for m in build_catalogue(load_snapshot())["models"]}
    for model_id in (
        "gpt-4o-image",
        "flux-kontext-pro",
        "veo3_fast",
        "veo3-extend",
        "veo3-1080p",
        "veo3-4k",
        "runway",
        "runway-extend",
        "runway-aleph",
        "suno",
    ):
        assert model_id in catalogue, model_id
    veo = catalogue["veo3_fast"]["input_schema"]["properties"]
    assert "aspect_ratio" in veo and "seeds" not in veo and "call_back_url" not in veo
    assert set(catalogue["gpt-4o-image"]["input_schema"]["properties"]) == {
        "prompt", "files_url", "size", "file_url"
    }  # fmt: skip
    assert catalogue["gpt-4o-image"]["price"]["credits"] == {"": 6}


def test_a_doc_page_whose_enum_repeats_another_model_is_named_by_its_example():
    catalogue = {m["id"]: m for m in build_catalogue(load_snapshot())["models"]}
    assert "kling/v2-5-turbo-image-to-video-pro" in catalogue
    assert catalogue["kling/v2-5-turbo-image-to-video-pro"]["doc_url"].endswith(
        "v25-turbo-image-to-video-pro"
    )
    assert "qwen2/text-to-image" in catalogue


def test_placeholder_defaults_and_editor_metadata_are_left_out():
    text = DATA_FILE.read_text(encoding="utf-8")
    assert "x-apidog" not in text
    catalogue = {m["id"]: m for m in json.loads(text)["models"]}
    assert "image_urls" not in catalogue["happyhorse-1-1/image-to-video"]["defaults"]
    assert catalogue["kling-2.6/text-to-video"]["defaults"]["aspect_ratio"] == "1:1"
