"""The audio part of the generated catalogue: speech takes the prompt as its text and is priced
by its characters; Suno (one entry, its version in `model`) has its custom mode and per-version
limits checked from the rule table before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_server_kie.catalog import DEFAULT_MODEL, get_model, models_of, validate_request
from mcp_server_kie.domain import ApiFamily, MediaKind, UserInputError

TURBO = "elevenlabs/text-to-speech-turbo-2-5"
MULTILINGUAL = "elevenlabs/text-to-speech-multilingual-v2"


def request(model_id: str, prompt: str = "hello", /, **options: Any) -> dict[str, Any]:
    spec = get_model(model_id, MediaKind.AUDIO)
    knobs = {k: options.pop(k) for k in ("voice", "instrumental", "style", "title") if k in options}
    return validate_request(spec, prompt, knobs, options).input


def refusal(model_id: str, prompt: str = "hello", /, **options: Any) -> str:
    with pytest.raises(UserInputError) as caught:
        request(model_id, prompt, **options)
    return str(caught.value)


def test_every_documented_audio_model_is_offered_and_speech_is_the_default() -> None:
    assert DEFAULT_MODEL[MediaKind.AUDIO] == TURBO
    offered = {spec.id: spec.family for spec in models_of(MediaKind.AUDIO)}
    assert offered == {
        TURBO: ApiFamily.MARKET,
        MULTILINGUAL: ApiFamily.MARKET,
        "elevenlabs/text-to-dialogue-v3": ApiFamily.MARKET,
        "elevenlabs/audio-isolation": ApiFamily.MARKET,
        "google/gemini-2-5-pro-tts": ApiFamily.MARKET,
        "google/gemini-3-1-flash-tts": ApiFamily.MARKET,
        "suno": ApiFamily.SUNO,
    }
    assert get_model("suno", MediaKind.AUDIO).typical_seconds == 120


def test_speech_sends_the_prompt_as_text() -> None:
    assert request(TURBO, "Good evening.") == {"text": "Good evening."}
    assert request(TURBO, "Hi.", voice="Z3R5wn05IrDiVCyEkUrK")["voice"] == "Z3R5wn05IrDiVCyEkUrK"


@pytest.mark.parametrize(
    ("model", "characters", "credits"),
    [(TURBO, 1000, 6), (TURBO, 250, 6), (TURBO, 1001, 12), (MULTILINGUAL, 500, 12)],
)
def test_speech_is_budgeted_per_started_thousand_characters(
    model: str, characters: int, credits: float
) -> None:
    spec = get_model(model, MediaKind.AUDIO)
    assert validate_request(spec, "x" * characters, {}).expected_credits == credits


def test_speech_refuses_unknown_voices_and_speeds_naming_what_is_allowed() -> None:
    assert "EkK5I93UQWFDigLMpZcX" in refusal(TURBO, voice="Rachel")
    assert "speed" in refusal(TURBO, speed=2)
    assert "does not take 'style'" in refusal(TURBO, style="jazz")  # its style is a number
    assert "5000" in refusal(TURBO, "x" * 5001)


def test_suno_sends_v5_and_simple_mode_unless_told() -> None:
    sent = request("suno", "a song about tea")
    assert sent == {
        "prompt": "a song about tea",
        "custom_mode": False,
        "instrumental": False,
        "model": "V5",
    }
    assert request("suno", "a song", model="V4_5")["model"] == "V4_5"
    assert get_model("suno", MediaKind.AUDIO).price({}) == 12
    assert "'V4', 'V4_5'" in refusal("suno", model="V6")


def test_suno_custom_mode_needs_style_and_title_and_they_need_it() -> None:
    assert "custom_mode" in refusal("suno", style="jazz")
    assert "custom_mode" in refusal("suno", vocal_gender="f")
    assert "title" in refusal("suno", style="jazz", custom_mode=True)
    assert "style" in refusal("suno", title="Tea", custom_mode=True)
    sent = request("suno", "la la", style="jazz", title="Tea", custom_mode=True)
    assert (sent["style"], sent["title"], sent["custom_mode"]) == ("jazz", "Tea", True)
    assert "80" in refusal("suno", style="jazz", title="t" * 81, custom_mode=True)


@pytest.mark.parametrize(
    ("version", "prompt", "style", "refused"),
    [
        ("V4", "x" * 3001, "jazz", "3000"),
        ("V5", "x" * 3001, "jazz", ""),
        ("V5", "x" * 5001, "jazz", "5000"),
        ("V4", "la", "s" * 201, "200"),
        ("V4_5PLUS", "la", "s" * 201, ""),
        ("V4_5PLUS", "la", "s" * 1001, "1000"),
    ],
)
def test_suno_limits_follow_the_version(
    version: str, prompt: str, style: str, refused: str
) -> None:
    options = {"style": style, "title": "T", "custom_mode": True, "model": version}
    if refused:
        assert refused in refusal("suno", prompt, **options)
    else:
        assert request("suno", prompt, **options)["model"] == version


def test_simple_mode_prompts_stop_at_3000_and_only_v5_5_takes_a_duration() -> None:
    assert "3000" in refusal("suno", "x" * 3001)
    custom = {"style": "jazz", "title": "T", "custom_mode": True}
    assert "duration" in refusal("suno", duration=30, **custom)
    assert "duration" in refusal("suno", duration=30, model="V5_5")
    assert request("suno", duration=30, model="V5_5", **custom)["duration"] == 30
    assert "duration" in refusal("suno", duration=5, model="V5_5", **custom)
    assert "persona_model" in refusal("suno", persona_model="style_persona", model="V4_5")


def test_a_dialogue_takes_its_lines_by_kies_names() -> None:
    model = "elevenlabs/text-to-dialogue-v3"
    lines = [
        {"text": "Ahoy!", "voice": "EkK5I93UQWFDigLMpZcX"},
        {"text": "Hello.", "voice": "Z3R5wn05IrDiVCyEkUrK"},
    ]
    assert request(model, "a greeting", dialogue=lines)["dialogue"] == lines
    assert "dialogue is required" in refusal(model, "Ahoy!")
    assert "stability" in refusal(model, dialogue=lines, stability=0.3)
    long = [{"text": "x" * 2500, "voice": "EkK5I93UQWFDigLMpZcX"}] * 2
    assert request(model, dialogue=long)["dialogue"] == long
    assert "5000" in refusal(model, dialogue=[*long, lines[0]])
