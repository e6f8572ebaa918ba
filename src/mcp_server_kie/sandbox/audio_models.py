"""What the sandbox adds to kie's documents for the Market audio models ("Music Models":
ElevenLabs speech, dialogue and voice isolation, Gemini text-to-speech): prices and the limits
kie states only in prose. Fields, allowed values and defaults come from the documents
(`documents.documented_models`).

ElevenLabs speech is billed by the 1000 characters of text (§6: 6 and 12 credits). kie's price
list names no price for the other models, so the sandbox charges nothing for them. Every model
returns one MP3, about a second per 15 characters of text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from mcp_server_kie.sandbox.models import ModelSpec, Rule

# "The total character count of all text fields combined must not exceed 5000 characters."
DIALOGUE_LIMIT = 5000

# Model id -> credits per 1000 characters of `text`.
SPEECH_PRICES: Mapping[str, float] = {
    "elevenlabs/text-to-speech-turbo-2-5": 6.0,
    "elevenlabs/text-to-speech-multilingual-v2": 12.0,
}


def _dialogue_length(value: Callable[[str], object]) -> str | None:
    lines = value("dialogue")
    total = sum(
        len(line["text"])
        for line in (lines if isinstance(lines, list) else [])
        if isinstance(line, dict) and isinstance(line.get("text"), str)
    )
    if total > DIALOGUE_LIMIT:
        return f"input.dialogue: the lines add up to {total} characters (at most {DIALOGUE_LIMIT})"
    return None


RULES: Mapping[str, tuple[Rule, ...]] = {"elevenlabs/text-to-dialogue-v3": (_dialogue_length,)}


def with_audio_facts(models: Mapping[str, ModelSpec]) -> dict[str, ModelSpec]:
    """`models` with the audio prices and prose limits added to the documented audio models."""
    out = dict(models)
    for model_id, spec in models.items():
        if spec.kind != "audio":
            continue
        price = SPEECH_PRICES.get(model_id)
        out[model_id] = dataclasses.replace(
            spec,
            price=spec.price if price is None else price,
            per_thousand_characters="text" if price is not None else None,
            rules=spec.rules + RULES.get(model_id, ()),
        )
    return out
