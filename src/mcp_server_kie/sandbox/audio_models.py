"""Market audio models (the "Music Models" operations of kie's OpenAPI documents, 2026-08-19):
ElevenLabs speech, dialogue and voice isolation, Gemini text-to-speech.

ElevenLabs speech is billed by the 1000 characters of text (§6: 6 and 12 credits). kie's price
list names no price for the other four, so the sandbox charges nothing for them. Every model
returns one MP3, about a second per 15 characters of text.
"""

from __future__ import annotations

from collections.abc import Callable

from mcp_server_kie.sandbox.models import FieldSpec, ModelSpec, Rule, flag

_ELEVENLABS_VOICES = tuple(  # the `voice` enum of both speech schemas
    """
    EkK5I93UQWFDigLMpZcX Z3R5wn05IrDiVCyEkUrK NNl6r8mD7vthiJatiJt1 YOq2y2Up4RgXP2HyXjE5
    B8gJV1IhpuegLxdpXFOE 2zRM7PkgwBPiau2jvVXc 1SM7GgM6IMuvQlz2BwM3 5l5f8iK3YPeGga21rQIX
    scOwDtmlUjD3prqpp97I NOpBlnGInO9m6vDvFkFC BZgkqPqms7Kj9ulSkVzn wo6udizrrtpIxWGp2qJk
    gU0LNdkMOQCOrPrwtbee DGzg6RaUqxGRTHSBjfgF x70vRnQBMBu4FAYhjJbO Sm1seazb4gs7RSlUVw7c
    P1bg08DkjqiVEzOn76yG qDuRKMlYmrm8trt5QyBn qXpMhyvQqiRxWQs4qSSB TX3LPaxmHKxFdv7VOQHJ
    N2lVS1w4EtoT3dr4eOWO FGY2WhTYpPnrIDTdsKH5 kPzsL2i3teMYv0FxEYQ6 UgBBYS2sOqTuMpoF3BR0
    hpp4J3VqNfWAUOO0d1Us nPczCjzI2devNBz1zQrb uYXf8XasLslADfZ2MB4u gs0tAILXbY5DNrJrsM6F
    DTKMou8ccj1ZaWGBiotd vBKc2FfBKJfcZNyEt1n6 DYkrAHD8iwork3YSUBbs 56AoDkrOh6qfVPDXZ7Pt
    eR40ATw9ArzDf9h3v7t7 g6xIsTj2HwM6VR4iXFCw lcMyyd2HUfFzxdCaC4Ta 6aDn1KB0hjpdcocrUkmq
    Sq93GQT4X1lKDXsQcixO flHkNRp1BlvT73UL6gyz 9yzdeviXkFddZ4Oz8Mok pPdl9cQBQq4p6mRkZy2Z
    zYcjlYFOd3taleS0gkk3 nzeAacJi50IvxcyDnMXa ruirxsoakN0GWmGNIo04 TC0Zp7WVFzhA8zpTlRqV
    ljo9gAlSqKOvF6D8sOsX PPzYpIqttlTYA83688JI 8JVbfL6oEdmuxKn5DK2C iCrDUkL56s3C8sCRl7wb
    wJqPPQ618aTW29mptyoc EiNlNiXeDU1pqqOPrYMO 4YYIPFl9wE5c4L2eu2Gb 6F5Zhi321D3Oq7v1oNT4
    YXpFCvM1S3JbWEJhoskW LG95yZDEHg6fCZdQjLqj CeNX9CMwmxDxUF5Q2Inm aD6riP1btT197c6dACmy
    mtrellq69YZsNwzUSyXh dHd5gvgSOzSfduK4CvEg eVItLK1UvXctxuaRV2Oq esy0r39YPLQjOczyOib8
    Tsns2HvNFKfGiNjllgqo 1U02n4nD6AdIZ9CjF053 AeRdCCKzvd23BpJoofzx LruHrtVF6PSyGItzMNHS
    1wGbFxmAM3Fgw63G1zZJ hqfrgApggtO1785R4Fsn MJ0RnG71ty4LH3dvNfSd
    """.split()  # noqa: SIM905 - long enums read better as a block than one per line
)

_DIALOGUE_LANGUAGES = tuple(  # text-to-dialogue-v3's `language_code` enum
    """
    af ar hy as az be bn bs bg ca ceb ny hr cs da nl en et fil fi fr gl ka de el gu ha he hi
    hu is id ga it ja jv kn kk ky ko lv ln lt lb mk ms ml zh mr ne no ps fa pl pt pa ro ru
    sr sd sk sl so es sw sv ta te th tr uk ur vi cy
    """.split()  # noqa: SIM905 - long enums read better as a block than one per line
)

_GEMINI_VOICES = tuple(  # the Gemini speakers' `voice_name` enum
    """
    Achernar Achird Algenib Algieba Alnilam Aoede Autonoe Callirrhoe Charon Despina
    Enceladus Erinome Fenrir Gacrux Iapetus Kore Laomedeia Leda Orus Puck Pulcherrima
    Rasalgethi Sadachbia Sadaltager Schedar Sulafat Umbriel Vindemiatrix Zephyr
    Zubenelgenubi
    """.split()  # noqa: SIM905 - long enums read better as a block than one per line
)


def _unit(default: float) -> FieldSpec:
    return FieldSpec(type="number", minimum=0, maximum=1, default=default)


def _speech(voice_required: bool) -> dict[str, FieldSpec]:
    return {
        "text": FieldSpec(required=True, max_length=5000),
        "voice": FieldSpec(
            allowed=_ELEVENLABS_VOICES, default=_ELEVENLABS_VOICES[0], required=voice_required
        ),
        "stability": _unit(0.5),
        "similarity_boost": _unit(0.75),
        "style": _unit(0),
        "speed": FieldSpec(type="number", minimum=0.7, maximum=1.2, default=1),
        "timestamps": flag(),
        "previous_text": FieldSpec(max_length=5000),
        "next_text": FieldSpec(max_length=5000),
        "language_code": FieldSpec(max_length=500),
    }


def _items(field: str, key: str, allowed: tuple[str, ...] | None = None) -> Rule:
    """Every object in the list `field` has a string `key` (one of `allowed`, when given)."""

    def rule(value: Callable[[str], object]) -> str | None:
        items = value(field)
        for index, item in enumerate(items if isinstance(items, list) else []):
            found = item.get(key) if isinstance(item, dict) else None
            if not isinstance(found, str) or not found:
                return f"input.{field}[{index}].{key} is required"
            if allowed is not None and found not in allowed:
                return f"input.{field}[{index}].{key} must be one of: {', '.join(allowed)}"
        return None

    return rule


_GEMINI_RULES = (
    _items("speakers", "speaker_id"),
    _items("speakers", "voice_name", _GEMINI_VOICES),
    _items("dialogue_turns", "speaker_id"),
    _items("dialogue_turns", "text"),
)
_GEMINI_TTS = {
    "speakers": FieldSpec(type="list", required=True),
    "dialogue_turns": FieldSpec(type="list", required=True),
    "scene": FieldSpec(default=""),
    "sample_context": FieldSpec(default=""),
    "temperature": FieldSpec(type="number", minimum=0, maximum=2, default=1),
}

AUDIO_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        "elevenlabs/text-to-speech-turbo-2-5",
        "audio",
        _speech(voice_required=False),
        price=6.0,
        per_thousand_characters="text",
    ),
    ModelSpec(
        "elevenlabs/text-to-speech-multilingual-v2",
        "audio",
        _speech(voice_required=True),
        price=12.0,
        per_thousand_characters="text",
    ),
    ModelSpec(
        "elevenlabs/text-to-dialogue-v3",
        "audio",
        {
            "dialogue": FieldSpec(type="list", required=True),
            "stability": FieldSpec(type="number", allowed=(0, 0.5, 1), default=0.5),
            "language_code": FieldSpec(allowed=_DIALOGUE_LANGUAGES),
        },
        rules=(_items("dialogue", "text"), _items("dialogue", "voice")),
    ),
    ModelSpec(
        "elevenlabs/audio-isolation", "audio", {"audio_url": FieldSpec(type="url", required=True)}
    ),
    ModelSpec("google/gemini-2-5-pro-tts", "audio", _GEMINI_TTS, rules=_GEMINI_RULES),
    ModelSpec("google/gemini-3-1-flash-tts", "audio", _GEMINI_TTS, rules=_GEMINI_RULES),
)
