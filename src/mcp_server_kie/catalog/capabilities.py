"""What a model can do, read from its id and the fields of its input schema. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def properties(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Every property a schema names, through oneOf/anyOf/allOf branches too."""
    found: dict[str, Any] = dict(schema.get("properties", {}))
    for key in ("oneOf", "anyOf", "allOf"):
        for branch in schema.get(key, []) or []:
            if isinstance(branch, Mapping):
                for name, spec in properties(branch).items():
                    found.setdefault(name, spec)
    return found


_IMAGE_INPUTS = ("image", "input_urls", "image_input", "first_frame", "reference_image")
_VIDEO_INPUTS = ("video",)


def capabilities(model_id: str, kind: str, schema: Mapping[str, Any]) -> list[str]:
    names = set(properties(schema))
    required = set(schema.get("required", []))
    takes_image = any(n.startswith(_IMAGE_INPUTS) or "image_url" in n for n in names)
    needs_image = any(n.startswith(_IMAGE_INPUTS) or "image_url" in n for n in required)
    takes_video = any(n.startswith(_VIDEO_INPUTS) or "video_url" in n for n in names)
    takes_audio = any("audio_url" in n for n in names)
    low = model_id.lower()
    found: set[str] = set()
    if "upscale" in low:
        found.add("upscale")
    if "remove-background" in low:
        found.add("background-removal")
    if "lip-sync" in low or "avatar" in low or "infinitalk" in low or "omnihuman" in low:
        found.add("lip-sync")
    if "extend" in low:
        found.add("extend")
    if kind == "image" and ("edit" in low or "remix" in low):
        found.add("image-edit")
    if kind == "image" and not found:
        if not needs_image:
            found.add("text-to-image")
        if takes_image:
            found.add("image-edit")
    elif kind == "video" and not found:
        if takes_video:
            found.add("video-to-video")
        if not needs_image and not takes_video:
            found.add("text-to-video")
        if takes_image:
            found.add("image-to-video")
        if takes_audio and "speech" in low:
            found.add("lip-sync")
    elif kind == "audio":
        if "dialogue" in low:
            found.add("dialogue")
        elif "isolation" in low:
            found.add("audio-isolation")
        else:
            found.add("text-to-speech")
    return sorted(found)
