"""Which of a model's fields each common tool argument (a "knob") sets.

The tools offer the same arguments for every model (aspect_ratio, resolution, duration,
num_images, seed, sound, reference_images, first_frame, last_frame; voice, instrumental, style,
title for audio); kie's models name the matching field differently (`aspect_ratio`, `ratio`,
`size`, `image_size`; `image_urls`, `image_input`, `input_urls`, ...). The first candidate
the model's schema has wins. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_RESOLUTION_WORDS = ("1k", "2k", "4k", "480p", "720p", "1080p", "768p", "512p")

# knob -> candidate field names, most specific first (per media kind where they differ).
_COMMON: dict[str, tuple[str, ...]] = {
    "aspect_ratio": ("aspect_ratio", "ratio", "size", "image_size"),
    "resolution": ("resolution", "image_resolution", "quality"),
    "quality": ("quality",),
    "duration": ("duration", "n_frames"),
    "num_images": ("num_images", "max_images", "n"),
    "negative_prompt": ("negative_prompt",),
    "seed": ("seed", "seeds"),
    "output_format": ("output_format",),
    "sound": ("sound", "generate_audio", "audio", "generate_audio_switch"),
}
_IMAGE_REFERENCES = (
    "image_urls",
    "image_input",
    "input_urls",
    "files_url",
    "reference_image_urls",
    "image_url",
    "input_image",
    "image",
)
_VIDEO_FRAMES: dict[str, tuple[str, ...]] = {
    "first_frame": (
        "first_frame_url",
        "first_frame_image_url",
        "first_frame",
        "image_url",
        "image_urls",
        "input_urls",
    ),
    "last_frame": ("last_frame_url", "last_frame_image_url", "tail_image_url", "end_image_url"),
    "reference_images": ("reference_image_urls", "reference_image", "image_references"),
}


# generate_audio's arguments: same-named fields (Suno's style is text; ElevenLabs' is a number).
_AUDIO = ("voice", "instrumental", "style", "title")


def knob_fields(kind: str, family: str, fields: Mapping[str, Any]) -> dict[str, str]:
    """knob -> field for a model with these schema properties."""
    found: dict[str, str] = {}
    for knob, candidates in _COMMON.items():
        name = next((c for c in candidates if c in fields and _fits(knob, fields[c])), None)
        if name is not None and name not in found.values():
            found[knob] = name
    if family == "veo":  # one image list; the mode is chosen by generation_type
        found.update(first_frame="image_urls", last_frame="image_urls")
        found["reference_images"] = "image_urls"
    elif kind == "audio":
        for knob in _AUDIO:
            if knob in fields and _fits(knob, fields[knob]):
                found[knob] = knob
    elif kind == "video":
        for knob, candidates in _VIDEO_FRAMES.items():
            usable = [c for c in candidates if c in fields and _holds_urls(fields[c])]
            name = next((c for c in usable if c not in found.values()), None)
            if name is not None:
                found[knob] = name
    else:
        name = next((c for c in _IMAGE_REFERENCES if c in fields), None)
        if name is not None:
            found["reference_images"] = name
    return found


def _holds_urls(spec: Any) -> bool:
    """A URL string or a list of them (not a list of objects such as PixVerse's references)."""
    if not isinstance(spec, dict):
        return False
    items = spec.get("items")
    return not (isinstance(items, dict) and items.get("type") == "object")


def _fits(knob: str, spec: Any) -> bool:
    """A candidate that only sometimes means the knob: check its allowed values."""
    allowed = [str(v).lower() for v in (spec.get("enum") or [])] if isinstance(spec, dict) else []
    if knob == "aspect_ratio":
        return not allowed or any(":" in v or v in ("auto", "adaptive") for v in allowed)
    if knob == "resolution":
        return not allowed or any(v in _RESOLUTION_WORDS for v in allowed)
    if knob == "style":
        return isinstance(spec, dict) and spec.get("type") == "string"
    if knob == "quality":
        return not any(v in _RESOLUTION_WORDS for v in allowed)
    return True
