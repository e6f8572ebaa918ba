"""Which operations of kie's per-family APIs become catalogue entries, and which Market
"models" are not media models. Hand-kept facts the generator combines with kie's documents."""

from __future__ import annotations

# Market "models" whose result is text about the input (resultObject), not a media file.
NOT_MEDIA: dict[str, str] = {
    "omnihuman-1-5/human-identification": "returns an analysis object, not a media file",
    "omnihuman-1-5/subject-detection": "returns an analysis object, not a media file",
}
# One entry per operation of the per-family APIs: (id, path, family, kind, title,
# capabilities, fixed body fields, wire fields left out of the schema).
FAMILY_MODELS: tuple[tuple[str, str, str, str, str, tuple[str, ...], dict[str, str]], ...] = (
    ("gpt-4o-image", "/api/v1/gpt4o-image/generate", "4o-image", "image", "GPT-4o Image",
     ("text-to-image", "image-edit"), {}),
    ("flux-kontext-pro", "/api/v1/flux/kontext/generate", "flux-kontext", "image",
     "Flux Kontext Pro", ("text-to-image", "image-edit"), {"model": "flux-kontext-pro"}),
    ("flux-kontext-max", "/api/v1/flux/kontext/generate", "flux-kontext", "image",
     "Flux Kontext Max", ("text-to-image", "image-edit"), {"model": "flux-kontext-max"}),
    ("veo3_fast", "/api/v1/veo/generate", "veo", "video", "Veo 3.1 Fast",
     ("text-to-video", "image-to-video", "reference-to-video"), {"model": "veo3_fast"}),
    ("veo3", "/api/v1/veo/generate", "veo", "video", "Veo 3.1 Quality",
     ("text-to-video", "image-to-video"), {"model": "veo3"}),
    ("veo3_lite", "/api/v1/veo/generate", "veo", "video", "Veo 3.1 Lite",
     ("text-to-video", "image-to-video", "reference-to-video"), {"model": "veo3_lite"}),
    ("veo3-extend", "/api/v1/veo/extend", "veo-extend", "video", "Veo 3.1 Extend",
     ("extend",), {}),
    ("veo3-1080p", "/api/v1/veo/get-1080p-video", "veo-1080p", "video", "Veo 3.1 1080p",
     ("upscale",), {}),
    ("veo3-4k", "/api/v1/veo/get-4k-video", "veo-4k", "video", "Veo 3.1 4K",
     ("upscale",), {}),
    ("runway", "/api/v1/runway/generate", "runway", "video", "Runway (Gen-4 Turbo)",
     ("text-to-video", "image-to-video"), {}),
    ("runway-extend", "/api/v1/runway/extend", "runway-extend", "video", "Runway Extend",
     ("extend",), {}),
    ("runway-aleph", "/api/v1/aleph/generate", "aleph", "video", "Runway Aleph",
     ("video-to-video",), {}),
    ("suno", "/api/v1/generate", "suno", "audio", "Suno music", ("music",), {}),
)  # fmt: skip
