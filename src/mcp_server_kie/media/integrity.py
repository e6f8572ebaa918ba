"""Whether a downloaded file ends where its own format says it ends.

HTTP framing can lie: a server that declares a ``Content-Length`` shorter than the file it
sends gets its body cut at the declared length, and a chunked body can end early. Every
supported container has an unambiguous end (a final chunk, a trailer byte, a declared size, boxes
that tile the file), so a cheap look at a few bytes tells a whole file from a truncated one.
Reads at most a few bytes per MP4 box; call through a thread for very large files.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_MAX_BOXES = 100_000  # a real MP4, even fragmented, has far fewer top-level boxes


def is_complete(path: Path, mime_type: str) -> bool:
    with path.open("rb") as file:
        size = file.seek(0, 2)
        if mime_type == "image/png":
            return _tail(file, size, len(_PNG_END)) == _PNG_END
        if mime_type == "image/jpeg":
            return _tail(file, size, 64).rstrip(b"\x00").endswith(b"\xff\xd9")
        if mime_type == "image/gif":
            return _tail(file, size, 1) == b"\x3b"
        if mime_type == "image/webp":
            file.seek(4)
            return int.from_bytes(file.read(4), "little") + 8 == size
        if mime_type == "audio/wav":
            file.seek(4)
            declared = int.from_bytes(file.read(4), "little")
            # A streamed WAV may not know its length: 0 or 0xFFFFFFFF, the decoder judges it.
            return declared in (0, 0xFFFFFFFF) or declared + 8 <= size
        if mime_type in ("video/mp4", "video/quicktime", "audio/mp4"):
            return _boxes_tile(file, size)
        # WebM may legally declare an unknown size; MP3, Ogg and FLAC are streams of frames
        # with no total length in their headers: the decoder judges them (describe).
        return True


def _tail(file: BinaryIO, size: int, count: int) -> bytes:
    file.seek(max(0, size - count))
    return file.read(count)


def _boxes_tile(file: BinaryIO, size: int) -> bool:
    """ISO base media files are a sequence of boxes; their sizes must add up to the file."""
    offset = 0
    for _ in range(_MAX_BOXES):
        if offset == size:
            return True
        file.seek(offset)
        header = file.read(16)
        if len(header) < 8:
            return False
        box = int.from_bytes(header[:4], "big")
        if box == 0:  # the last box runs to the end of the file
            return True
        if box == 1:  # 64-bit size follows the type
            if len(header) < 16:
                return False
            box = int.from_bytes(header[8:16], "big")
        if box < 8:
            return False
        offset += box
    return False
