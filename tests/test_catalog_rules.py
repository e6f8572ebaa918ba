"""The prose rules table: every rule still names real models and fields, and each one refuses
exactly the combination its sentence forbids."""

from __future__ import annotations

import json

import pytest

from mcp_server_kie.catalog.capabilities import properties
from mcp_server_kie.catalog.generate import DATA_FILE
from mcp_server_kie.catalog.rules import PROSE_DEFAULTS, RULES, rules_for

CATALOGUE = {m["id"]: m for m in json.loads(DATA_FILE.read_text(encoding="utf-8"))["models"]}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.models[0]}:{r.message[:30]}")
def test_each_rule_names_models_and_fields_the_generated_data_still_has(rule):
    assert rule.url.startswith("https://docs.kie.ai/")
    assert rule.sentence and rule.message
    for model_id in rule.models:
        assert model_id in CATALOGUE, f"{model_id} vanished from the catalogue"
        fields = set(properties(CATALOGUE[model_id]["input_schema"]))
        assert rule.fields <= fields, f"{model_id} lost {rule.fields - fields}"


def test_each_rule_sentence_is_kies_own_text_in_a_catalogued_description():
    text = DATA_FILE.read_text(encoding="utf-8")
    for rule in RULES:
        quoted = rule.sentence.split(": ", 1)[-1].rstrip(".")
        assert json.dumps(quoted)[1:-1].split(" (")[0][:60] in text, rule.sentence


def test_prose_defaults_name_real_fields():
    for model_id, defaults in PROSE_DEFAULTS.items():
        assert set(defaults) <= set(properties(CATALOGUE[model_id]["input_schema"]))


@pytest.mark.parametrize(
    ("model", "values", "broken"),
    [
        ("gpt-image-2-text-to-image", {"resolution": "2K"}, True),
        ("gpt-image-2-text-to-image", {"aspect_ratio": "auto", "resolution": "4K"}, True),
        ("gpt-image-2-text-to-image", {"aspect_ratio": "16:9", "resolution": "4K"}, False),
        ("gpt-image-2-text-to-image", {"aspect_ratio": "1:1", "resolution": "4K"}, True),
        ("gpt-image-2-text-to-image", {"aspect_ratio": "1:1", "resolution": "2K"}, False),
        ("gpt-image-2-text-to-image", {"aspect_ratio": "9:21", "resolution": "2K"}, True),
        ("gpt-image-2-text-to-image", {"aspect_ratio": "9:21", "resolution": "1K"}, False),
        ("hailuo/2-3-image-to-video-pro", {"duration": "10", "resolution": "1080P"}, True),
        ("hailuo/2-3-image-to-video-pro", {"duration": "6", "resolution": "1080P"}, False),
        ("bytedance/seedance-2", {"last_frame_url": "https://x/l.png"}, True),
        (
            "bytedance/seedance-2",
            {"first_frame_url": "https://x/f.png", "reference_image_urls": ["https://x/r.png"]},
            True,
        ),
        (
            "bytedance/seedance-2",
            {"first_frame_url": "https://x/f.png", "last_frame_url": "https://x/l.png"},
            False,
        ),
        ("veo3", {"generation_type": "REFERENCE_2_VIDEO", "duration": 8}, True),
        ("veo3_fast", {"generation_type": "REFERENCE_2_VIDEO", "duration": 6}, True),
        ("veo3_fast", {"generation_type": "REFERENCE_2_VIDEO", "duration": 8}, False),
        ("runway", {"duration": 10, "quality": "1080p"}, True),
        ("runway", {"duration": 7, "quality": "720p"}, True),
        ("runway", {"duration": 10, "quality": "720p"}, False),
    ],
)
def test_rules_refuse_what_kie_refuses(model, values, broken):
    assert any(rule.breaks(values) for rule in rules_for(model)) is broken
