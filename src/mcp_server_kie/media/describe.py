"""Read dimensions and duration from a stored file (blocking; call through a thread). The
decoders (Pillow, PyAV) load on first use, not when the server starts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MediaInfo:
    width: int | None = None
    height: int | None = None
    duration: float | None = None


def describe(path: Path, mime_type: str) -> MediaInfo:
    """What the file's own headers say; empty (and logged) when they cannot be read."""
    if mime_type.startswith("image/"):
        from PIL import Image

        try:
            with Image.open(path) as image:
                return MediaInfo(width=image.width, height=image.height)
        except (OSError, Image.DecompressionBombError) as exc:
            log.warning("could not read image details of %s: %s", path.name, exc)
            return MediaInfo()
    if mime_type.startswith("audio/"):
        return _describe_audio(path)
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            duration = None
            if container.duration is not None:
                duration = round(container.duration / 1_000_000, 3)
            return MediaInfo(
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                duration=duration,
            )
    except (av.FFmpegError, IndexError) as exc:
        log.warning("could not read video details of %s: %s", path.name, exc)
        return MediaInfo()


def _describe_audio(path: Path) -> MediaInfo:
    """An audio file's duration: the container's, else its first audio stream's."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            if container.duration is not None:
                return MediaInfo(duration=round(container.duration / 1_000_000, 3))
            if stream.duration is not None and stream.time_base is not None:
                return MediaInfo(duration=round(float(stream.duration * stream.time_base), 3))
            return MediaInfo()
    except (av.FFmpegError, IndexError) as exc:
        log.warning("could not read audio details of %s: %s", path.name, exc)
        return MediaInfo()
