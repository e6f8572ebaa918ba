"""Small JPEG previews: a thumbnail for an image, a poster frame (the first frame) for a video.

Audio has no preview: a picture of a sound tells a model little, and the gallery plays the file
itself with an audio player. ``preview_jpeg`` answers None for it without decoding anything.

Previews travel inside MCP tool results, so they are bounded twice: the longest side is at most
512 px, and the encoder steps down quality and size until the file is under ``MAX_BYTES``.
Blocking (decoding); call through a thread. The decoders (Pillow, PyAV) load on first use,
not when the server starts.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

MAX_SIDE = 512
MAX_BYTES = 64 * 1024
# (longest side, JPEG quality), tried in order until the result fits in MAX_BYTES.
_STEPS = ((MAX_SIDE, 80), (MAX_SIDE, 65), (384, 55), (256, 45))


def write_preview(source: Path, mime_type: str, dest: Path) -> Path | None:
    """Write the preview of ``source`` to ``dest`` (atomically); None if it cannot be made.

    A missing preview never fails a download, so decoding problems are logged, not raised.
    """
    data = preview_jpeg(source, mime_type)
    if data is None:
        return None
    temp = dest.with_name(f".{dest.name}.part-{secrets.token_hex(4)}")
    try:
        temp.write_bytes(data)
        os.replace(temp, dest)
    finally:
        temp.unlink(missing_ok=True)
    return dest


def preview_jpeg(source: Path, mime_type: str) -> bytes | None:
    """The preview of ``source`` as JPEG bytes; None (logged) if it cannot be made. Audio has
    no picture to show: None, silently."""
    if mime_type.startswith("audio/"):
        return None
    import av
    from PIL import Image

    # What a corrupt or unsupported file makes the decoders raise.
    decode_errors = (OSError, ValueError, Image.DecompressionBombError, av.FFmpegError)
    try:
        picture = _first_frame(source) if mime_type.startswith("video/") else _still(source)
        if picture is None:
            log.warning("no video frame in %s; no poster frame", source.name)
            return None
        return _encode(picture)
    except decode_errors as exc:
        log.warning("no preview for %s: %s", source.name, exc)
        return None


def _still(source: Path) -> Image.Image:
    from PIL import Image, ImageOps

    with Image.open(source) as image:
        image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a reduced scale
        return ImageOps.exif_transpose(image)


def _first_frame(source: Path) -> Image.Image | None:
    import av

    with av.open(str(source)) as container:
        if not container.streams.video:
            return None
        for frame in container.decode(video=0):
            picture: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]
            return picture
    return None


def _encode(picture: Image.Image) -> bytes:
    from PIL import Image

    largest = _flatten(picture)
    largest.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    data = b""
    for side, quality in _STEPS:
        small = largest.copy()
        small.thumbnail((side, side), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        small.save(buffer, "JPEG", quality=quality, optimize=True)
        data = buffer.getvalue()
        if len(data) <= MAX_BYTES:
            break
    return data


def _flatten(picture: Image.Image) -> Image.Image:
    """RGB on white: JPEG has no alpha, and a black background hides dark subjects."""
    from PIL import Image

    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return picture.convert("RGB")
