"""Audio models: the Market's ElevenLabs speech and dialogue, and the Suno music family.

Fields, allowed values and defaults follow kie.ai's own OpenAPI documents (snapshot of
2026-08-19: the Market "Music Models" operations and `POST /api/v1/generate`); prices from kie's
price list (reference/kie-api.md §6). The tools' `prompt` is the text to speak (ElevenLabs
`text`; a dialogue's single line without options.dialogue) or the song idea / lyrics (Suno
`prompt`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mcp_server_kie.catalog.spec import KieInput, ModelSpec, Price, flat
from mcp_server_kie.domain import ApiFamily, MediaKind

# ElevenLabs voice ids kie.ai accepts (the `voice` enum of both text-to-speech schemas).
# fmt: off
Voice = Literal[
    "EkK5I93UQWFDigLMpZcX", "Z3R5wn05IrDiVCyEkUrK", "NNl6r8mD7vthiJatiJt1",
    "YOq2y2Up4RgXP2HyXjE5", "B8gJV1IhpuegLxdpXFOE", "2zRM7PkgwBPiau2jvVXc",
    "1SM7GgM6IMuvQlz2BwM3", "5l5f8iK3YPeGga21rQIX", "scOwDtmlUjD3prqpp97I",
    "NOpBlnGInO9m6vDvFkFC", "BZgkqPqms7Kj9ulSkVzn", "wo6udizrrtpIxWGp2qJk",
    "gU0LNdkMOQCOrPrwtbee", "DGzg6RaUqxGRTHSBjfgF", "x70vRnQBMBu4FAYhjJbO",
    "Sm1seazb4gs7RSlUVw7c", "P1bg08DkjqiVEzOn76yG", "qDuRKMlYmrm8trt5QyBn",
    "qXpMhyvQqiRxWQs4qSSB", "TX3LPaxmHKxFdv7VOQHJ", "N2lVS1w4EtoT3dr4eOWO",
    "FGY2WhTYpPnrIDTdsKH5", "kPzsL2i3teMYv0FxEYQ6", "UgBBYS2sOqTuMpoF3BR0",
    "hpp4J3VqNfWAUOO0d1Us", "nPczCjzI2devNBz1zQrb", "uYXf8XasLslADfZ2MB4u",
    "gs0tAILXbY5DNrJrsM6F", "DTKMou8ccj1ZaWGBiotd", "vBKc2FfBKJfcZNyEt1n6",
    "DYkrAHD8iwork3YSUBbs", "56AoDkrOh6qfVPDXZ7Pt", "eR40ATw9ArzDf9h3v7t7",
    "g6xIsTj2HwM6VR4iXFCw", "lcMyyd2HUfFzxdCaC4Ta", "6aDn1KB0hjpdcocrUkmq",
    "Sq93GQT4X1lKDXsQcixO", "flHkNRp1BlvT73UL6gyz", "9yzdeviXkFddZ4Oz8Mok",
    "pPdl9cQBQq4p6mRkZy2Z", "zYcjlYFOd3taleS0gkk3", "nzeAacJi50IvxcyDnMXa",
    "ruirxsoakN0GWmGNIo04", "TC0Zp7WVFzhA8zpTlRqV", "ljo9gAlSqKOvF6D8sOsX",
    "PPzYpIqttlTYA83688JI", "8JVbfL6oEdmuxKn5DK2C", "iCrDUkL56s3C8sCRl7wb",
    "wJqPPQ618aTW29mptyoc", "EiNlNiXeDU1pqqOPrYMO", "4YYIPFl9wE5c4L2eu2Gb",
    "6F5Zhi321D3Oq7v1oNT4", "YXpFCvM1S3JbWEJhoskW", "LG95yZDEHg6fCZdQjLqj",
    "CeNX9CMwmxDxUF5Q2Inm", "aD6riP1btT197c6dACmy", "mtrellq69YZsNwzUSyXh",
    "dHd5gvgSOzSfduK4CvEg", "eVItLK1UvXctxuaRV2Oq", "esy0r39YPLQjOczyOib8",
    "Tsns2HvNFKfGiNjllgqo", "1U02n4nD6AdIZ9CjF053", "AeRdCCKzvd23BpJoofzx",
    "LruHrtVF6PSyGItzMNHS", "1wGbFxmAM3Fgw63G1zZJ", "hqfrgApggtO1785R4Fsn",
    "MJ0RnG71ty4LH3dvNfSd",
]
DialogueLanguage = Literal[
    "af", "ar", "hy", "as", "az", "be", "bn", "bs", "bg", "ca", "ceb", "ny", "hr", "cs",
    "da", "nl", "en", "et", "fil", "fi", "fr", "gl", "ka", "de", "el", "gu", "ha", "he",
    "hi", "hu", "is", "id", "ga", "it", "ja", "jv", "kn", "kk", "ky", "ko", "lv", "ln",
    "lt", "lb", "mk", "ms", "ml", "zh", "mr", "ne", "no", "ps", "fa", "pl", "pt", "pa",
    "ro", "ru", "sr", "sd", "sk", "sl", "so", "es", "sw", "sv", "ta", "te", "th", "tr",
    "uk", "ur", "vi", "cy",
]
# fmt: on
Unit = Annotated[float, Field(ge=0, le=1)]
LongText = Annotated[str | None, Field(max_length=5000)]


class ElevenLabsSpeech(KieInput):
    text: Annotated[str, Field(min_length=1, max_length=5000, validation_alias="prompt")]
    voice: Voice = "EkK5I93UQWFDigLMpZcX"
    stability: Unit = 0.5
    similarity_boost: Unit = 0.75
    style: Unit = 0
    speed: Annotated[float, Field(ge=0.7, le=1.2)] = 1
    timestamps: bool | None = None
    previous_text: LongText = None
    next_text: LongText = None
    language_code: Annotated[str | None, Field(max_length=500)] = None


class DialogueLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, Field(min_length=1)]
    voice: Annotated[str, Field(min_length=1, description="A voice id or preset name.")]


class ElevenLabsDialogue(KieInput):
    """Several voices in turn. Without `dialogue` in options, the prompt is one line in the
    default voice; with it, the prompt only labels the job."""

    dialogue: Annotated[list[DialogueLine], Field(min_length=1)]
    stability: Annotated[float, Field(description="0, 0.5 or 1")] = 0.5
    language_code: DialogueLanguage | None = None

    @model_validator(mode="before")
    @classmethod
    def _prompt_as_a_line(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        values = dict(values)
        prompt = values.pop("prompt", None)
        if "dialogue" not in values and prompt:
            values["dialogue"] = [{"text": prompt, "voice": "EkK5I93UQWFDigLMpZcX"}]
        return values

    @model_validator(mode="after")
    def _total_length(self) -> Self:
        if self.stability not in (0, 0.5, 1):
            raise ValueError("stability must be one of 0, 0.5, 1")
        total = sum(len(line.text) for line in self.dialogue)
        if total > 5000:
            raise ValueError(f"the dialogue's lines add up to {total} characters (at most 5000)")
        return self


def per_thousand_characters(credits: float) -> Price:
    """kie bills ElevenLabs speech by the 1000 characters of text."""

    def price(values: Mapping[str, Any]) -> float | None:
        text = values.get("text")
        return round(credits * len(text) / 1000, 2) if isinstance(text, str) else None

    return price


class SunoSong(KieInput):
    """`POST /api/v1/generate`. In custom mode the prompt is sung as the exact lyrics (unless
    instrumental) and style and title are required; otherwise the prompt is an idea (at most
    3000 characters) and kie writes the lyrics, ignoring style and title."""

    LYRICS_LIMIT: ClassVar[int] = 5000
    STYLE_LIMIT: ClassVar[int] = 1000

    prompt: Annotated[str, Field(min_length=1, max_length=5000)]
    custom_mode: bool = False
    instrumental: bool = False
    style: str | None = None
    title: Annotated[str | None, Field(max_length=80)] = None
    negative_tags: str | None = None
    vocal_gender: Literal["m", "f"] | None = None
    style_weight: Unit | None = None
    weirdness_constraint: Unit | None = None
    audio_weight: Unit | None = None
    persona_id: str | None = None

    @model_validator(mode="after")
    def _modes(self) -> Self:
        if self.custom_mode:
            missing = [name for name in ("style", "title") if not getattr(self, name)]
            if missing:
                raise ValueError(f"custom_mode needs {' and '.join(missing)}")
            if len(self.prompt) > self.LYRICS_LIMIT:
                raise ValueError(f"lyrics (the prompt) are limited to {self.LYRICS_LIMIT} chars")
            if self.style is not None and len(self.style) > self.STYLE_LIMIT:
                raise ValueError(f"style is limited to {self.STYLE_LIMIT} characters")
            return self
        ignored = [
            name for name in ("style", "title", "vocal_gender", "persona_id") if getattr(self, name)
        ]
        if ignored:
            raise ValueError(
                f"{', '.join(ignored)} only apply in custom mode: pass custom_mode true "
                "(then style and title are both required, and the prompt is sung as lyrics)"
            )
        if len(self.prompt) > 3000:
            raise ValueError("outside custom mode the prompt is limited to 3000 characters")
        return self


class SunoV4(SunoSong):
    LYRICS_LIMIT: ClassVar[int] = 3000
    STYLE_LIMIT: ClassVar[int] = 200
    model: Literal["V4"] = "V4"


class SunoV45(SunoSong):
    model: Literal["V4_5"] = "V4_5"


class SunoV45Plus(SunoSong):
    model: Literal["V4_5PLUS"] = "V4_5PLUS"


class SunoV45All(SunoSong):
    model: Literal["V4_5ALL"] = "V4_5ALL"


class SunoV5(SunoSong):
    model: Literal["V5"] = "V5"
    persona_model: Literal["style_persona", "voice_persona"] | None = None


class SunoV55(SunoSong):
    model: Literal["V5_5"] = "V5_5"
    persona_model: Literal["style_persona", "voice_persona"] | None = None
    duration: Annotated[float | None, Field(ge=10, le=360)] = None


SPEECH_KNOBS = {"voice": "voice"}
SONG_KNOBS = {"instrumental": "instrumental", "style": "style", "title": "title"}
SUNO_PRICE = flat(12)  # 12 credits per generate request (two songs), §6
_SUNO_NOTE = "kie.ai makes two songs per request; Suno music takes 1-3 minutes."


def _suno(version: str, title: str, model: type[SunoSong], description: str) -> ModelSpec:
    return ModelSpec(
        id=f"suno/{version}",
        title=title,
        kind=MediaKind.AUDIO,
        family=ApiFamily.SUNO,
        input_model=model,
        knobs=SONG_KNOBS,
        price=SUNO_PRICE,
        typical_seconds=120,
        description=description,
        note=_SUNO_NOTE,
    )


AUDIO_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        id="elevenlabs/text-to-speech-turbo-2-5",
        title="ElevenLabs Turbo 2.5 (speech)",
        kind=MediaKind.AUDIO,
        family=ApiFamily.MARKET,
        input_model=ElevenLabsSpeech,
        knobs=SPEECH_KNOBS,
        price=per_thousand_characters(6),
        typical_seconds=15,
        description="Fast text-to-speech in 32 languages; the prompt is the text to speak.",
    ),
    ModelSpec(
        id="elevenlabs/text-to-speech-multilingual-v2",
        title="ElevenLabs Multilingual v2 (speech)",
        kind=MediaKind.AUDIO,
        family=ApiFamily.MARKET,
        input_model=ElevenLabsSpeech,
        knobs=SPEECH_KNOBS,
        price=per_thousand_characters(12),
        typical_seconds=20,
        description="The most lifelike ElevenLabs voices; the prompt is the text to speak.",
    ),
    ModelSpec(
        id="elevenlabs/text-to-dialogue-v3",
        title="ElevenLabs v3 dialogue",
        kind=MediaKind.AUDIO,
        family=ApiFamily.MARKET,
        input_model=ElevenLabsDialogue,
        typical_seconds=30,
        description="Expressive speech in several voices: options.dialogue lists the lines "
        '([{"text": ..., "voice": ...}]); otherwise the prompt is read in one voice.',
        note="kie.ai's price list names no price for it.",
    ),
    _suno("V5", "Suno V5 (music)", SunoV5, "Songs with vocals or instrumentals, up to 8 min."),
    _suno("V5_5", "Suno V5.5 (music)", SunoV55, "Suno's newest model; duration in custom mode."),
    _suno("V4_5PLUS", "Suno V4.5+ (music)", SunoV45Plus, "Richer sound, up to 8 minutes."),
    _suno("V4_5", "Suno V4.5 (music)", SunoV45, "Smarter prompts, up to 8 minutes."),
    _suno("V4_5ALL", "Suno V4.5 All (music)", SunoV45All, "V4.5 for every account, up to 8 min."),
    _suno("V4", "Suno V4 (music)", SunoV4, "Improved vocals, up to 4 minutes."),
)
