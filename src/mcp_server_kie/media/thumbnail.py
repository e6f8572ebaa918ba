"""Small JPEG previews: a thumbnail for an image, a poster frame (the first frame) for a video.

Audio has no preview: a picture of a sound tells a model little, and the gallery plays the file
itself with an audio player. ``preview_jpeg`` answers None for it without decoding anything.

Previews travel inside MCP tool results, so they are bounded twice: the longest side is at most
512 px, and the encoder steps down quality and size until the file is under ``MAX_BYTES``.
Blocking (decoding); call through a thread. The decoding and encoding live in
``media.jpeg_preview``, loaded (with Pillow and PyAV) on the first preview, not at start-up.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

MAX_SIDE = 512
MAX_BYTES = 64 * 1024


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
    from mcp_server_kie.media.jpeg_preview import render

    return render(source, mime_type)
