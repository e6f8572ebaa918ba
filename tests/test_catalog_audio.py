"""The audio part of the catalogue: speech takes the prompt as its text and is priced by its
characters; Suno's custom mode and per-version limits are checked before anything is sent;
a dialogue defaults to the prompt read in one voice."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_server_kie.catalog import DEFAULT_MODEL, get_model, models_of, validate_request
from mcp_server_kie.domain import ApiFamily, MediaKind, UserInputError

TURBO = "elevenlabs/text-to-speech-turbo-2-5"


def request(model: str, prompt: str = "hello", **options: Any) -> dict[str, Any]:
    spec = get_model(model, MediaKind.AUDIO)
    knobs = {k: options.pop(k) for k in ("voice", "instrumental", "style", "title") if k in options}
    return validate_request(spec, prompt, knobs, options).input


def refusal(model: str, prompt: str = "hello", **options: Any) -> str:
    with pytest.raises(UserInputError) as caught:
        request(model, prompt, **options)
    return str(caught.value)


def test_the_default_audio_model_is_text_to_speech() -> None:
    assert DEFAULT_MODEL[MediaKind.AUDIO] == TURBO
    families = {spec.family for spec in models_of(MediaKind.AUDIO)}
    assert families == {ApiFamily.MARKET, ApiFamily.SUNO}


def test_speech_sends_the_prompt_as_text_with_kies_defaults() -> None:
    sent = request(TURBO, "Good evening.")
    assert sent == {
        "text": "Good evening.",
        "voice": "EkK5I93UQWFDigLMpZcX",
        "stability": 0.5,
        "similarity_boost": 0.75,
        "style": 0,
        "speed": 1,
    }


@pytest.mark.parametrize(
    ("model", "characters", "credits"),
    [(TURBO, 1000, 6), (TURBO, 250, 1.5), ("elevenlabs/text-to-speech-multilingual-v2", 500, 6)],
)
def test_speech_costs_per_thousand_characters(model: str, characters: int, credits: float) -> None:
    spec = get_model(model, MediaKind.AUDIO)
    assert validate_request(spec, "x" * characters, {}).expected_credits == credits


def test_speech_refuses_unknown_voices_and_speeds_naming_what_is_allowed() -> None:
    assert "EkK5I93UQWFDigLMpZcX" in refusal(TURBO, voice="Rachel")
    assert "speed" in refusal(TURBO, speed=2)
    assert "does not take 'style'" in refusal(TURBO, style="jazz")
    assert "5000" in refusal(TURBO, "x" * 5001)


def test_suno_sends_its_version_and_defaults_to_simple_mode() -> None:
    sent = request("suno/V5", "a song about tea")
    assert sent == {
        "prompt": "a song about tea",
        "custom_mode": False,
        "instrumental": False,
        "model": "V5",
    }
    spec = get_model("suno/V5", MediaKind.AUDIO)
    assert spec.price({}) == 12


def test_suno_custom_mode_needs_style_and_title_and_they_need_it() -> None:
    assert "custom_mode" in refusal("suno/V5", style="jazz")
    assert "title" in refusal("suno/V5", style="jazz", custom_mode=True)
    sent = request("suno/V5", "la la", style="jazz", title="Tea", custom_mode=True)
    assert (sent["style"], sent["title"], sent["custom_mode"]) == ("jazz", "Tea", True)


@pytest.mark.parametrize(
    ("model", "prompt", "style", "refused"),
    [
        ("suno/V4", "x" * 3001, "jazz", True),
        ("suno/V5", "x" * 3001, "jazz", False),
        ("suno/V4", "la", "s" * 201, True),
        ("suno/V4_5PLUS", "la", "s" * 201, False),
    ],
)
def test_suno_limits_follow_the_version(model: str, prompt: str, style: str, refused: bool) -> None:
    options = {"style": style, "title": "T", "custom_mode": True}
    if refused:
        assert "limited" in refusal(model, prompt, **options)
    else:
        assert request(model, prompt, **options)["model"] == model.split("/")[1]


def test_simple_mode_prompts_stop_at_3000_and_only_v5_5_takes_a_duration() -> None:
    assert "3000" in refusal("suno/V5", "x" * 3001)
    assert "duration" in refusal("suno/V5", duration=30)
    assert request("suno/V5_5", duration=30)["duration"] == 30
    assert "duration" in refusal("suno/V5_5", duration=5)


def test_a_dialogue_reads_the_prompt_unless_lines_are_given() -> None:
    model = "elevenlabs/text-to-dialogue-v3"
    assert request(model, "Ahoy!")["dialogue"] == [
        {"text": "Ahoy!", "voice": "EkK5I93UQWFDigLMpZcX"}
    ]
    lines = [
        {"text": "Ahoy!", "voice": "EkK5I93UQWFDigLMpZcX"},
        {"text": "Hello.", "voice": "Z3R5wn05IrDiVCyEkUrK"},
    ]
    assert request(model, "a greeting", dialogue=lines)["dialogue"] == lines
    assert "stability" in refusal(model, stability=0.3)
    assert "5000" in refusal(model, dialogue=[{**lines[0], "text": "x" * 5001}])
